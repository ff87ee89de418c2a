package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// smMotoRotation is the real moto Secrets Manager client plus the one
// thing moto's RotateSecret cannot do without running a Lambda: when a
// rotation starts, Secrets Manager creates the version named by the
// ClientRequestToken, staged AWSPENDING and without a value, and turns
// rotation on. DescribeSecret shows that version while Token is set and
// moto has no version of that ID yet; every other call goes to moto as is.
type smMotoRotation struct {
	c        *secretsmanager.Client
	Token    string
	Disabled bool
}

func (s *smMotoRotation) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := s.c.DescribeSecret(ctx, in, o...)
	if err != nil {
		return out, err
	}
	out.RotationEnabled = aws.Bool(!s.Disabled)
	if _, ok := out.VersionIdsToStages[s.Token]; s.Token != "" && !ok {
		for v, st := range out.VersionIdsToStages {
			out.VersionIdsToStages[v] = slices.DeleteFunc(slices.Clone(st), func(x string) bool { return x == keyrotate.StagePending })
		}
		out.VersionIdsToStages[s.Token] = []string{keyrotate.StagePending}
	}
	return out, nil
}

func (s *smMotoRotation) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return s.c.GetSecretValue(ctx, in, o...)
}

func (s *smMotoRotation) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return s.c.PutSecretValue(ctx, in, o...)
}

func (s *smMotoRotation) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, o ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	return s.c.UpdateSecretVersionStage(ctx, in, o...)
}

const (
	smSecretName = "app/access-key"
	smUser       = "app"
)

func smToken(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

// smFastVerify polls fast; its MaxWait is long because the tests that use
// it expect the key to verify, which returns at once, and a loaded machine
// (the fault sweep beside other packages) must not turn that into a
// failure.
var smFastVerify = keyrotate.VerifyOptions{MaxWait: 30 * time.Second, MinDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// smWorld is a moto account with authentication enforced.
type smWorld struct {
	env   *awstest.Env
	admin aws.Config
}

func newSMWorld(t testing.TB) *smWorld {
	t.Helper()
	env := awstest.New(t)
	admin := env.EnforceAuth()
	// moto's development server now and then resets a connection under
	// load; the harness's retryer (awstest.Retryer) retries exactly that,
	// never an API error or an injected fault.
	return &smWorld{env: env, admin: admin}
}

// smFixture is one user with one key and a secret holding that key, in a
// smWorld.
type smFixture struct {
	t            testing.TB
	admin        aws.Config
	iam          *iam.Client
	sm           *secretsmanager.Client
	user, secret string
	first        keyrotate.AccessKey
}

// smShared is the emulator state TestHandlerOnMoto's cases share (a
// reset and the enforcement of authentication cost seconds each); each
// case gets a user and a secret of its own.
var smShared struct {
	w *smWorld
	n int
}

func newSMFixture(t *testing.T) *smFixture {
	if w := smShared.w; w != nil {
		smShared.n++
		return w.newCase(t, fmt.Sprintf("%s%d", smUser, smShared.n), fmt.Sprintf("%s%d", smSecretName, smShared.n))
	}
	return newSMWorld(t).newCase(t, smUser, smSecretName)
}

// TestHandlerOnMoto runs the rotation handler's moto tests on one
// emulator state, one after another.
func TestHandlerOnMoto(t *testing.T) {
	smShared.w = newSMWorld(t)
	t.Cleanup(func() { smShared.w = nil })
	for _, c := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"FinishSecretRefusesUnusablePendingKey", testFinishSecretRefusesUnusablePendingKey},
		{"CreateSecretRefusesWhenCurrentKeyMissing", testCreateSecretRefusesWhenCurrentKeyMissing},
		{"TestSecretRefusesAnotherUsersKey", testTestSecretRefusesAnotherUsersKey},
		{"FinishSecretVerifiesPendingKey", testFinishSecretVerifiesPendingKey},
		{"RotationAgainstMoto", testRotationAgainstMoto},
		{"CreateSecretRetryDeletesOrphan", testCreateSecretRetryDeletesOrphan},
		{"RotationRefusals", testRotationRefusals},
		{"CreateSecretRollsBackOnRejectedPut", testCreateSecretRollsBackOnRejectedPut},
		{"RepairPending", testRepairPending},
	} {
		t.Run(c.name, c.run)
	}
}

func (w *smWorld) newCase(t testing.TB, user, secret string) *smFixture {
	t.Helper()
	f := &smFixture{t: t, admin: w.admin, iam: iam.NewFromConfig(w.admin), sm: secretsmanager.NewFromConfig(w.admin), user: user, secret: secret}
	ctx := context.Background()
	if _, err := f.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	out, err := f.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	f.first = keyrotate.AccessKey{UserName: user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
	doc, err := keyrotate.EncodeSecretValue(f.first, `{"Note":"kept"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret), SecretString: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// handler returns a handler whose clients (and STS clients) carry the
// given API options, plus the rotation simulator it reads through.
func (f *smFixture) handler(token string, apiOptions ...func(*middleware.Stack) error) (*keyrotate.Handler, *smMotoRotation) {
	cfg := f.admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, apiOptions...)
	sm := &smMotoRotation{c: secretsmanager.NewFromConfig(cfg), Token: token}
	h := keyrotate.NewHandler(sm, iam.NewFromConfig(cfg), keyrotate.STSFromConfig(cfg), func(o *keyrotate.HandlerOptions) { o.Verify = smFastVerify })
	return h, sm
}

func (f *smFixture) step(h *keyrotate.Handler, step keyrotate.Step, token string) (*keyrotate.StepResult, error) {
	return h.Rotate(context.Background(), keyrotate.RotationEvent{Step: step, SecretID: f.secret, ClientRequestToken: token})
}

func (f *smFixture) mustRotate(token string) {
	f.t.Helper()
	h, _ := f.handler(token)
	for _, s := range keyrotate.Steps {
		if _, err := f.step(h, s, token); err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
	}
}

// staged reads the key of a stage; ok is false if no version has it.
func (f *smFixture) staged(stage string) (keyrotate.AccessKey, bool) {
	f.t.Helper()
	out, err := f.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secret), VersionStage: aws.String(stage)})
	if err != nil {
		return keyrotate.AccessKey{}, false
	}
	k, err := keyrotate.DecodeSecretValue(aws.ToString(out.SecretString))
	if err != nil {
		f.t.Fatalf("%s: %v", stage, err)
	}
	return k, true
}

func (f *smFixture) stages() map[string][]string {
	f.t.Helper()
	out, err := f.sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String(f.secret)})
	if err != nil {
		f.t.Fatal(err)
	}
	return out.VersionIdsToStages
}

// keys returns the user's keys: ID -> status.
func (f *smFixture) keys() map[string]iamtypes.StatusType {
	f.t.Helper()
	out, err := f.iam.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(f.user)})
	if err != nil {
		f.t.Fatal(err)
	}
	m := map[string]iamtypes.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		m[*k.AccessKeyId] = k.Status
	}
	return m
}

// authenticates makes a real signed sts:GetCallerIdentity call with key.
func (f *smFixture) authenticates(key keyrotate.AccessKey) error {
	out, err := keyrotate.STSFromConfig(f.admin)(key).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return err
	}
	if !strings.HasSuffix(aws.ToString(out.Arn), ":user/"+f.user) {
		return fmt.Errorf("key %s is %s", key.AccessKeyID, aws.ToString(out.Arn))
	}
	return nil
}

// orphans lists the user's keys that no staged version holds.
func (f *smFixture) orphans() []string {
	f.t.Helper()
	held := map[string]bool{}
	for _, st := range []string{keyrotate.StageCurrent, keyrotate.StagePrevious, keyrotate.StagePending} {
		if k, ok := f.staged(st); ok {
			held[k.AccessKeyID] = true
		}
	}
	var out []string
	for id := range f.keys() {
		if !held[id] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func testRotationAgainstMoto(t *testing.T) {
	f := newSMFixture(t)
	tok := smToken(1)
	h, _ := f.handler(tok)
	var results []*keyrotate.StepResult
	for _, s := range keyrotate.Steps {
		res, err := f.step(h, s, tok)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		results = append(results, res)
	}
	cur, _ := f.staged(keyrotate.StageCurrent)
	prev, _ := f.staged(keyrotate.StagePrevious)
	if prev.AccessKeyID != f.first.AccessKeyID || cur.AccessKeyID == f.first.AccessKeyID || cur.UserName != f.user {
		t.Fatalf("after rotation: AWSCURRENT %s, AWSPREVIOUS %s; first key %s", cur.AccessKeyID, prev.AccessKeyID, f.first.AccessKeyID)
	}
	arn := results[0].SecretARN
	if results[2].Polls < 1 {
		t.Errorf("testSecret polls = %d, want at least 1", results[2].Polls)
	}
	want := []*keyrotate.StepResult{
		{Step: keyrotate.StepCreateSecret, SecretARN: arn, Token: tok, Changed: true, CreatedKeyID: cur.AccessKeyID},
		{Step: keyrotate.StepSetSecret, SecretARN: arn, Token: tok},
		{Step: keyrotate.StepTestSecret, SecretARN: arn, Token: tok, Polls: results[2].Polls},
		{Step: keyrotate.StepFinishSecret, SecretARN: arn, Token: tok, Changed: true, Promoted: true, Polls: results[3].Polls, DeactivatedKeyID: f.first.AccessKeyID},
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("step results (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{tok: {keyrotate.StageCurrent}, versionOf(t, f, f.first.AccessKeyID): {keyrotate.StagePrevious}}, f.stages()); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]iamtypes.StatusType{f.first.AccessKeyID: iamtypes.StatusTypeInactive, cur.AccessKeyID: iamtypes.StatusTypeActive}, f.keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if err := f.authenticates(cur); err != nil {
		t.Errorf("new key does not authenticate: %v", err)
	}
	raw, _ := f.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secret), VersionStage: aws.String(keyrotate.StageCurrent)})
	if !strings.Contains(aws.ToString(raw.SecretString), `"Note":"kept"`) {
		t.Errorf("other members of the document were not kept")
	}

	// Secrets Manager may run any step again: nothing changes.
	for _, s := range keyrotate.Steps {
		res, err := f.step(h, s, tok)
		if err != nil || res.Changed {
			t.Errorf("%s again: changed %v, err %v", s, res.Changed, err)
		}
	}

	// The second rotation must delete the AWSPREVIOUS key to make room; it
	// then no longer authenticates, the new one does.
	f.mustRotate(smToken(2))
	cur2, _ := f.staged(keyrotate.StageCurrent)
	prev2, _ := f.staged(keyrotate.StagePrevious)
	if prev2.AccessKeyID != cur.AccessKeyID {
		t.Errorf("AWSPREVIOUS = %s, want %s", prev2.AccessKeyID, cur.AccessKeyID)
	}
	if err := f.authenticates(cur2); err != nil {
		t.Errorf("second new key does not authenticate: %v", err)
	}
	if err := f.authenticates(f.first); !keyrotate.IsBadCredentials(err) {
		t.Errorf("deleted first key: err = %v, want bad credentials", err)
	}
	if diff := cmp.Diff(map[string]iamtypes.StatusType{cur.AccessKeyID: iamtypes.StatusTypeInactive, cur2.AccessKeyID: iamtypes.StatusTypeActive}, f.keys()); diff != "" {
		t.Errorf("keys after second rotation (-want +got):\n%s", diff)
	}
}

func versionOf(t *testing.T, f *smFixture, keyID string) string {
	t.Helper()
	for v := range f.stages() {
		out, err := f.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(f.secret), VersionId: aws.String(v)})
		if err != nil {
			t.Fatal(err)
		}
		if k, err := keyrotate.DecodeSecretValue(aws.ToString(out.SecretString)); err == nil && k.AccessKeyID == keyID {
			return v
		}
	}
	t.Fatalf("no version holds %s", keyID)
	return ""
}

// A createSecret that deleted the AWSPREVIOUS key to make room, created a
// key and crashed before storing it left an orphan beside AWSCURRENT's
// key. The retry deletes the orphan before it creates the new key, and the
// user never holds more than two.
func testCreateSecretRetryDeletesOrphan(t *testing.T) {
	f := newSMFixture(t)
	f.mustRotate(smToken(1))
	tok := smToken(2)
	prev, _ := f.staged(keyrotate.StagePrevious)
	if _, err := f.iam.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(prev.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	orphan, err := f.iam.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(f.user)})
	if err != nil {
		t.Fatal(err)
	}
	orphanKey := keyrotate.AccessKey{UserName: f.user, AccessKeyID: *orphan.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*orphan.AccessKey.SecretAccessKey)}
	cur, _ := f.staged(keyrotate.StageCurrent)
	if n := len(f.keys()); n != 2 {
		t.Fatalf("setup: %d keys", n)
	}
	h, _ := f.handler(tok)
	res, err := f.step(h, keyrotate.StepCreateSecret, tok)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{orphanKey.AccessKeyID}, res.DeletedKeyIDs); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	pend, _ := f.staged(keyrotate.StagePending)
	if diff := cmp.Diff(map[string]iamtypes.StatusType{cur.AccessKeyID: iamtypes.StatusTypeActive, pend.AccessKeyID: iamtypes.StatusTypeActive}, f.keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if err := f.authenticates(orphanKey); !keyrotate.IsBadCredentials(err) {
		t.Errorf("orphan key: err = %v, want bad credentials", err)
	}
	if o := f.orphans(); len(o) != 0 {
		t.Errorf("orphans left: %v", o)
	}
}

// Refusals change nothing and make no call past the check.
func testRotationRefusals(t *testing.T) {
	f := newSMFixture(t)
	f.mustRotate(smToken(1))
	oldVersion := versionOf(t, f, f.first.AccessKeyID)
	before := f.keys()
	beforeStages := f.stages()
	ctx := context.Background()

	tests := []struct {
		name     string
		step     string
		token    string
		disabled bool
		want     error
		calls    int
	}{
		{"unknown step", "deleteSecret", smToken(2), false, keyrotate.ErrUnknownStep, 0},
		{"rotation disabled", "createSecret", smToken(2), true, keyrotate.ErrRotationDisabled, 1},
		{"version not staged AWSPENDING", "finishSecret", oldVersion, false, keyrotate.ErrNotPending, 1},
		{"no such version", "setSecret", smToken(9), false, keyrotate.ErrNotPending, 1},
		{"no AWSPENDING value yet", "testSecret", smToken(2), false, keyrotate.ErrNoPendingValue, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := apicalls.New()
			h, sm := f.handler(smToken(2), c.APIOption)
			sm.Disabled = tt.disabled
			if tt.name == "no such version" {
				sm.Token = ""
			}
			_, err := h.HandleEvent(ctx, tt.step, f.secret, tt.token, "")
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var re *awsguard.StepError
			if tt.calls > 0 && (!errors.As(err, &re) || re.Step != tt.step) {
				t.Errorf("err %v is not a RotationError of step %s", err, tt.step)
			}
			if got := c.Total(); got != tt.calls {
				t.Errorf("calls = %d (%s), want %d", got, c, tt.calls)
			}
		})
	}
	if diff := cmp.Diff(before, f.keys()); diff != "" {
		t.Errorf("keys changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeStages, f.stages()); diff != "" {
		t.Errorf("stages changed (-before +after):\n%s", diff)
	}

	var ie *awsguard.InputError
	h, _ := f.handler("")
	if _, err := f.step(h, keyrotate.StepCreateSecret, "short"); !errors.As(err, &ie) || ie.Field != "ClientRequestToken" {
		t.Errorf("short token: err = %v", err)
	}
	if _, err := h.Rotate(ctx, keyrotate.RotationEvent{Step: keyrotate.StepCreateSecret, ClientRequestToken: smToken(1)}); !errors.As(err, &ie) || ie.Field != "SecretID" {
		t.Errorf("empty secret: err = %v", err)
	}
}

// A throttled PutSecretValue surely stored nothing: the new key is deleted
// again at once.
func testCreateSecretRollsBackOnRejectedPut(t *testing.T) {
	f := newSMFixture(t)
	inj := fault.New(fault.Rule{Service: "Secrets Manager", Operation: "PutSecretValue", Kind: fault.Throttle})
	h, _ := f.handler(smToken(1), inj.APIOption)
	_, err := f.step(h, keyrotate.StepCreateSecret, smToken(1))
	var re *awsguard.StepError
	if !errors.As(err, &re) || re.ToDo != keyrotate.RemedyRetry || !strings.Contains(re.Error(), "deleted again") {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(map[string]iamtypes.StatusType{f.first.AccessKeyID: iamtypes.StatusTypeActive}, f.keys()); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

func testRepairPending(t *testing.T) {
	f := newSMFixture(t)
	f.mustRotate(smToken(1))
	tok := smToken(2)
	h, _ := f.handler(tok)
	res, err := f.step(h, keyrotate.StepCreateSecret, tok)
	if err != nil {
		t.Fatal(err)
	}
	// The rotation is abandoned: AWSPENDING stays on the new version.
	ctx := context.Background()
	iamAPI := iam.NewFromConfig(f.admin)
	before := f.keys()
	dry, err := keyrotate.RepairPending(ctx, f.sm, iamAPI, f.secret, func(o *keyrotate.RepairOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	want := &keyrotate.Repair{SecretARN: res.SecretARN, VersionID: tok, KeyID: res.CreatedKeyID, KeyDeleted: true, LabelRemoved: true, DryRun: true}
	if diff := cmp.Diff(want, dry); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, f.keys()); diff != "" {
		t.Errorf("dry run changed keys:\n%s", diff)
	}
	got, err := keyrotate.RepairPending(ctx, f.sm, iamAPI, f.secret)
	if err != nil {
		t.Fatal(err)
	}
	want.DryRun = false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("repair (-want +got):\n%s", diff)
	}
	if _, ok := f.staged(keyrotate.StagePending); ok {
		t.Error("AWSPENDING still staged")
	}
	if _, ok := f.keys()[res.CreatedKeyID]; ok {
		t.Error("pending key not deleted")
	}
	cur, _ := f.staged(keyrotate.StageCurrent)
	if err := f.authenticates(cur); err != nil {
		t.Errorf("AWSCURRENT after repair: %v", err)
	}
	again, err := keyrotate.RepairPending(ctx, f.sm, iamAPI, f.secret)
	if err != nil || again.LabelRemoved || again.Reason == "" {
		t.Errorf("second repair = %+v, %v; want nothing to do", again, err)
	}
	// A new rotation can run to the end.
	f.mustRotate(smToken(3))
}

func TestSecretValueDocument(t *testing.T) {
	key := keyrotate.AccessKey{UserName: "app", AccessKeyID: "AKIAEXAMPLE", Secret: awsguard.NewSecret("s3cr3t/value")}
	doc, err := keyrotate.EncodeSecretValue(key, `{"Region":"eu-west-1","AccessKeyId":"OLD"}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"AccessKeyId":"AKIAEXAMPLE","Region":"eu-west-1","SecretAccessKey":"s3cr3t/value","UserName":"app"}`; doc != want {
		t.Errorf("doc = %s, want %s", doc, want)
	}
	got, err := keyrotate.DecodeSecretValue(doc)
	if err != nil || !cmp.Equal(got, key) {
		t.Errorf("decode = %+v, %v", got, err)
	}
	for _, bad := range []string{`{"UserName":"app","AccessKeyId":"A","SecretAccessKey":`, `{"UserName":"app","SecretAccessKey":"s3cr3t"}`, `"s3cr3t"`, `{"UserName":1,"SecretAccessKey":"s3cr3t"}`} {
		_, err := keyrotate.DecodeSecretValue(bad)
		if !errors.Is(err, keyrotate.ErrSecretValue) || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("decode(%q) err = %v", bad, err)
		}
	}
}

func FuzzDecodeSecretValue(f *testing.F) {
	f.Add(`{"UserName":"app","AccessKeyId":"AKIA","SecretAccessKey":"x"}`)
	f.Add(`{"UserName":""}`)
	f.Fuzz(func(t *testing.T, s string) {
		k, err := keyrotate.DecodeSecretValue(s)
		if err != nil {
			if !errors.Is(err, keyrotate.ErrSecretValue) {
				t.Fatalf("err %v is not ErrSecretValue", err)
			}
			return
		}
		doc, err := keyrotate.EncodeSecretValue(k, s)
		if err != nil {
			t.Fatal(err)
		}
		if k2, err := keyrotate.DecodeSecretValue(doc); err != nil || !cmp.Equal(k2, k) {
			t.Fatalf("round trip: %+v, %v", k2, err)
		}
	})
}

func TestParseStep(t *testing.T) {
	for _, s := range keyrotate.Steps {
		if got, err := keyrotate.ParseStep(string(s)); err != nil || got != s {
			t.Errorf("ParseStep(%s) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "CreateSecret", "create", "deleteSecret"} {
		if _, err := keyrotate.ParseStep(s); !errors.Is(err, keyrotate.ErrUnknownStep) {
			t.Errorf("ParseStep(%q) err = %v", s, err)
		}
	}
}
