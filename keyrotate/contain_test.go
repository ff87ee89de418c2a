package keyrotate_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

const adminPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"

// leakWorld is moto with authentication enforced and a user whose first
// key leaked: the user is an administrator with a second key and a
// console password; a bystander administrator beside it.
type leakWorld struct {
	t      *testing.T
	env    *awstest.Env
	admin  aws.Config
	iam    *iam.Client
	user   string
	leaked keyrotate.AccessKey
	other  keyrotate.AccessKey
}

func newLeakWorld(t *testing.T) *leakWorld {
	t.Helper()
	env := awstest.New(t)
	admin := env.EnforceAuth()
	w := &leakWorld{t: t, env: env, admin: admin, iam: iam.NewFromConfig(admin)}
	return w
}

// with returns the world for subtest t: the same emulator and users.
func (w *leakWorld) with(t *testing.T) *leakWorld {
	c := *w
	c.t = t
	return &c
}

// TestLeakedKeysOnMoto runs the leaked-key tests on one emulator state
// (a reset and the enforcement of authentication cost seconds each): each
// case works on users of its own. Not in parallel: moto_server's IAM
// answers 500 now and then to concurrent writes.
func TestLeakedKeysOnMoto(t *testing.T) {
	base := newLeakWorld(t)
	for _, c := range []struct {
		name string
		run  func(*testing.T, *leakWorld)
	}{
		{"ContainLeakedKey", containLeakedKeyCase},
		{"ReleaseKeepsWhatWasThere", releaseKeepsWhatWasThereCase},
		{"ContainRefusals", containRefusalsCase},
		{"ContainFaultSweep", containFaultSweepCase},
		{"ReleaseFaultSweep", releaseFaultSweepCase},
		{"ReplaceLeakedKey", replaceLeakedKeyCase},
		{"ReplaceNeedsSlot", replaceNeedsSlotCase},
		{"ReplaceFaultSweep", replaceFaultSweepCase},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.run(t, base.with(t))
		})
	}
}

// seed creates user with an administrator policy, two keys (the first is
// the leaked one) and a console password.
func (w *leakWorld) seed(user string) *leakWorld {
	w.t.Helper()
	ctx := context.Background()
	s := *w
	s.user = user
	must := func(_ any, err error) {
		if err != nil {
			w.t.Fatal(err)
		}
	}
	must(w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}))
	must(w.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(adminPolicy)}))
	must(w.iam.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String("Correct-Horse-9")}))
	for _, k := range []*keyrotate.AccessKey{&s.leaked, &s.other} {
		out, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			w.t.Fatal(err)
		}
		*k = keyrotate.AccessKey{UserName: user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
	}
	return &s
}

// signedWith returns an IAM client signed with key.
func (w *leakWorld) signedWith(k keyrotate.AccessKey) *iam.Client {
	cfg := w.env.ConfigWith(credentials.NewStaticCredentialsProvider(k.AccessKeyID, k.Secret.Reveal(), ""))
	return iam.NewFromConfig(cfg)
}

// userState is what containment may change on a user.
type userState struct {
	Keys     map[string]types.StatusType
	Attached []string
	Inline   []string
	Tags     map[string]string
	Login    bool
}

func (w *leakWorld) state() userState {
	w.t.Helper()
	ctx := context.Background()
	u := aws.String(w.user)
	s := userState{Keys: map[string]types.StatusType{}, Tags: map[string]string{}}
	ks, err := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: u})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, k := range ks.AccessKeyMetadata {
		s.Keys[*k.AccessKeyId] = k.Status
	}
	ap, err := w.iam.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: u})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range ap.AttachedPolicies {
		s.Attached = append(s.Attached, *p.PolicyArn)
	}
	slices.Sort(s.Attached)
	ip, err := w.iam.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: u})
	if err != nil {
		w.t.Fatal(err)
	}
	s.Inline = ip.PolicyNames
	tg, err := w.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: u})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, tag := range tg.Tags {
		s.Tags[*tag.Key] = *tag.Value
	}
	_, err = w.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: u})
	s.Login = err == nil
	return s
}

// denied reports whether err is an authorization failure (moto's denials
// do not decode into typed errors: MOTO.md).
func denied(err error) bool {
	var re *awshttp.ResponseError
	return errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusForbidden || strings.Contains(err.Error(), "AccessDenied"))
}

// mutating counts the calls that are neither Get nor List.
func mutating(c *apicalls.Counter) int {
	n := 0
	for k, v := range c.Counts() {
		if !strings.HasPrefix(k.Operation, "Get") && !strings.HasPrefix(k.Operation, "List") {
			n += v
		}
	}
	return n
}

var leakAll = func(o *keyrotate.ContainOptions) { o.RevokeSessions, o.DisableConsole = true, true }

// Containment on moto: the leaked key can no longer create users or keys,
// the other key and other users are untouched, a re-run makes no mutating
// call, and a release restores the user exactly (but the password).
func containLeakedKeyCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	w := base.seed("leaky")
	by := base.seed("bystander")
	before, byBefore := w.state(), by.state()

	dry, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, leakAll, func(o *keyrotate.ContainOptions) { o.DryRun = true })
	if err != nil || dry.Reason != awsguard.ReasonDryRun || len(dry.Actions) != 5 || dry.User != "leaky" {
		t.Fatalf("dry run: %+v, %v", dry, err)
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Fatalf("dry run changed the user (-before +after):\n%s", diff)
	}

	c, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, leakAll)
	if err != nil {
		t.Fatalf("contain: %v", err)
	}
	if c.State != keyrotate.ContainNone || c.Reason != awsguard.ReasonApplied || c.KeyStatus != "Active" || !slices.Equal(c.OtherKeys, []string{w.other.AccessKeyID}) {
		t.Errorf("containment: %+v", c)
	}
	if c.Actions[0].Kind != keyrotate.ActionContainDeactivate {
		t.Errorf("first action %s, want the deactivation", c.Actions[0].Kind)
	}
	after := w.state()
	want := userState{
		Keys:     map[string]types.StatusType{w.leaked.AccessKeyID: types.StatusTypeInactive, w.other.AccessKeyID: types.StatusTypeActive},
		Attached: []string{"arn:aws:iam::aws:policy/" + keyrotate.QuarantinePolicyName, adminPolicy},
		Inline:   []string{keyrotate.SessionsPolicyName},
	}
	if diff := cmp.Diff(want, after, cmp.FilterPath(func(p cmp.Path) bool { f := p.Last().String(); return f == ".Tags" || f == ".Login" }, cmp.Ignore())); diff != "" {
		t.Errorf("contained user (-want +got):\n%s", diff)
	}
	if after.Login || len(after.Tags) != 4 || !strings.HasPrefix(after.Tags[keyrotate.TagContainKey], w.leaked.AccessKeyID+" deactivated at=") {
		t.Errorf("login %v, records %v", after.Login, after.Tags)
	}

	// The leaked key (Inactive keys still authenticate on moto) is denied.
	lk := w.signedWith(w.leaked)
	if _, err := lk.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("attacker")}); !denied(err) {
		t.Errorf("leaked key CreateUser: %v, want denied", err)
	}
	if _, err := lk.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bystander")}); !denied(err) {
		t.Errorf("leaked key CreateAccessKey: %v, want denied", err)
	}
	// Other users are untouched and keep their rights.
	if diff := cmp.Diff(byBefore, by.state()); diff != "" {
		t.Errorf("bystander changed (-before +after):\n%s", diff)
	}
	if _, err := by.signedWith(by.leaked).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("newcomer")}); err != nil {
		t.Errorf("bystander CreateUser: %v", err)
	}

	// A re-run makes no mutating call.
	counter := apicalls.New()
	cfg := w.admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, counter.APIOption)
	again, err := keyrotate.ContainLeakedKey(ctx, iam.NewFromConfig(cfg), w.leaked.AccessKeyID, leakAll)
	if err != nil || again.State != keyrotate.ContainComplete || again.Reason != awsguard.ReasonAlreadyCompliant || again.Applied || len(again.Actions) != 0 {
		t.Errorf("re-run: %+v, %v", again, err)
	}
	if n := mutating(counter); n != 0 {
		t.Errorf("re-run made %d mutating calls: %v", n, counter)
	}

	// Release: refused without AllowWeaken, then restores exactly.
	if _, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID); !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("release without AllowWeaken: %v", err)
	}
	if diff := cmp.Diff(after, w.state()); diff != "" {
		t.Fatalf("refused release changed the user:\n%s", diff)
	}
	rel, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID, func(o *keyrotate.ReleaseOptions) { o.AllowWeaken = true })
	if err != nil || rel.Reason != awsguard.ReasonApplied || len(rel.Warnings) != 1 {
		t.Fatalf("release: %+v, %v", rel, err)
	}
	restored := before
	restored.Login = false // a deleted password cannot be restored
	if diff := cmp.Diff(restored, w.state()); diff != "" {
		t.Errorf("released user (-before +after):\n%s", diff)
	}
	if _, err := lk.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("released")}); err != nil {
		t.Errorf("released key CreateUser: %v", err)
	}
	again, err = keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID)
	if err != nil || again.Reason != awsguard.ReasonNothingToRemove || len(again.Actions) != 0 {
		t.Errorf("second release: %+v, %v", again, err)
	}
}

// A key that was Inactive before containment stays Inactive after release,
// and a quarantine policy attached before containment stays attached.
func releaseKeepsWhatWasThereCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	w := base.seed("leaky-kept")
	q := "arn:aws:iam::aws:policy/" + keyrotate.QuarantinePolicyName
	if _, err := w.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: aws.String(w.leaked.AccessKeyID), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(w.user), PolicyArn: aws.String(q)}); err != nil {
		t.Fatal(err)
	}
	before := w.state()
	c, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID)
	if err != nil || len(c.Actions) != 1 || c.Actions[0].Kind != keyrotate.ActionContainRecordKey {
		t.Fatalf("contain: %+v, %v", c, err)
	}
	rel, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID) // no weakening needed
	if err != nil || len(rel.Weakening()) != 0 {
		t.Fatalf("release: %+v, %v", rel, err)
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Errorf("released user (-before +after):\n%s", diff)
	}
}

// Refusals: bad input, unknown key, nothing changed.
func containRefusalsCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	w := base.seed("leaky-refused")
	before := w.state()
	for _, id := range []string{"", "ASIAAAAAAAAAAAAAAAAA", "akiaaaaaaaaaaaaaaaaa", "AKIA123"} {
		if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, id); !errors.Is(err, keyrotate.ErrInvalidInput) {
			t.Errorf("%q: %v, want invalid input", id, err)
		}
	}
	if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, func(o *keyrotate.ContainOptions) { o.QuarantinePolicyARN = "Quarantine" }); !errors.Is(err, keyrotate.ErrInvalidInput) {
		t.Errorf("bad policy ARN: %v", err)
	}
	c, err := keyrotate.ContainLeakedKey(ctx, w.iam, "AKIAZZZZZZZZZZZZZZZZ")
	if !errors.Is(err, keyrotate.ErrKeyNotFound) || c.Reason != awsguard.ReasonRefused || !strings.Contains(err.Error(), "another account") {
		t.Errorf("unknown key: %+v, %v", c, err)
	}
	if _, err := keyrotate.ReleaseContainment(ctx, w.iam, "AKIAZZZZZZZZZZZZZZZZ"); !errors.Is(err, keyrotate.ErrKeyNotFound) {
		t.Errorf("release unknown key: %v", err)
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Errorf("refusals changed the user:\n%s", diff)
	}
}
