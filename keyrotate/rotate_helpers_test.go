package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// rotFast keeps verification polls in milliseconds. Its MaxWait is
// generous: it is used where verification must succeed, and success
// returns at once, so a slow shared machine does not make a test flaky.
var rotFast = keyrotate.VerifyOptions{MaxWait: 60 * time.Second, MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond}

// rotWorld is one integration test's moto with authentication enforced, a
// user, and everything known about the user's keys.
type rotWorld struct {
	t     *testing.T
	env   *awstest.Env
	admin aws.Config // signed with the admin key, no fault injection
	iam   *iam.Client
	user  string

	mu      sync.Mutex
	secrets map[string]keyrotate.AccessKey // every key whose secret we hold
	store   []keyrotate.AccessKey          // deliveries, in order
}

// rotShared is the emulator state TestRotateOnMoto's cases share (a
// reset and the enforcement of authentication cost seconds each): while
// it is set, newRotWorld gives each case a new user of its own on it.
var rotShared struct {
	w *rotWorld
	n int
}

// TestRotateOnMoto runs direct rotation's moto tests on one emulator
// state, one after another.
func TestRotateOnMoto(t *testing.T) {
	rotShared.w = newRotWorld(t, "rot-base")
	t.Cleanup(func() { rotShared.w = nil })
	for _, c := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"RotateAccessKeyAgainstMoto", testRotateAccessKeyAgainstMoto},
		{"RotateRollsBack", testRotateRollsBack},
		{"FinishRotationAgainstMoto", testFinishRotationAgainstMoto},
		{"RotateCreateRefusedClearsRecord", testRotateCreateRefusedClearsRecord},
		{"RotateStaleRecordOnMoto", testRotateStaleRecordOnMoto},
		{"RotateDeliverInterruptedKeepsNewKey", testRotateDeliverInterruptedKeepsNewKey},
		{"RotateRollbackFailsThenReRun", testRotateRollbackFailsThenReRun},
	} {
		t.Run(c.name, c.run)
	}
}

func newRotWorld(t *testing.T, user string) *rotWorld {
	t.Helper()
	if b := rotShared.w; b != nil {
		rotShared.n++
		s := b.sibling(fmt.Sprintf("%s%d", user, rotShared.n))
		s.t = t
		return s
	}
	env := awstest.New(t)
	admin := env.EnforceAuth()
	w := &rotWorld{t: t, env: env, admin: admin, iam: iam.NewFromConfig(admin), user: user, secrets: map[string]keyrotate.AccessKey{}}
	if _, err := w.iam.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	return w
}

// sibling returns a world for another, new user on the same emulator,
// without the cost of a reset.
func (w *rotWorld) sibling(user string) *rotWorld {
	w.t.Helper()
	s := &rotWorld{t: w.t, env: w.env, admin: w.admin, iam: w.iam, user: user, secrets: map[string]keyrotate.AccessKey{}}
	if _, err := w.iam.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// addKey creates a key for the user the way an operator would, and
// remembers its secret.
func (w *rotWorld) addKey(status types.StatusType) keyrotate.AccessKey {
	w.t.Helper()
	ctx := context.Background()
	out, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(w.user)})
	if err != nil {
		w.t.Fatal(err)
	}
	k := keyrotate.AccessKey{UserName: w.user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey), CreateDate: aws.ToTime(out.AccessKey.CreateDate)}
	if status == types.StatusTypeInactive {
		if _, err := w.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(w.user), AccessKeyId: out.AccessKey.AccessKeyId, Status: status}); err != nil {
			w.t.Fatal(err)
		}
	}
	w.secrets[k.AccessKeyID] = k
	return k
}

// clients returns Clients signed with the admin key, with inj (may be nil)
// on every IAM and STS call.
func (w *rotWorld) clients(inj *fault.Injector, extra ...func(*aws.Config)) keyrotate.Clients {
	cfg := w.admin.Copy()
	if inj != nil {
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	}
	for _, f := range extra {
		f(&cfg)
	}
	return keyrotate.ClientsFromConfig(cfg)
}

// deliver is a Deliver function that stores the key.
func (w *rotWorld) deliver(_ context.Context, k keyrotate.AccessKey) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets[k.AccessKeyID] = k
	w.store = append(w.store, k)
	return nil
}

func (w *rotWorld) lastDelivered() (keyrotate.AccessKey, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.store) == 0 {
		return keyrotate.AccessKey{}, false
	}
	return w.store[len(w.store)-1], true
}

type rotKeyState struct {
	ID     string
	Status types.StatusType
}

// keys lists the user's keys as IAM has them, sorted by ID.
func (w *rotWorld) keys() []rotKeyState {
	w.t.Helper()
	out, err := w.iam.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(w.user)})
	if err != nil {
		w.t.Fatal(err)
	}
	var ks []rotKeyState
	for _, k := range out.AccessKeyMetadata {
		ks = append(ks, rotKeyState{ID: *k.AccessKeyId, Status: k.Status})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].ID < ks[j].ID })
	return ks
}

func (w *rotWorld) status(id string) types.StatusType {
	for _, k := range w.keys() {
		if k.ID == id {
			return k.Status
		}
	}
	return ""
}

func (w *rotWorld) tags() map[string]string {
	w.t.Helper()
	out, err := w.iam.ListUserTags(context.Background(), &iam.ListUserTagsInput{UserName: aws.String(w.user)})
	if err != nil {
		w.t.Fatal(err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[*t.Key] = *t.Value
	}
	return m
}

// authenticates makes a real signed sts:GetCallerIdentity call with the key
// and reports whether moto accepted it as this user.
func (w *rotWorld) authenticates(k keyrotate.AccessKey) bool {
	w.t.Helper()
	out, err := keyrotate.STSFromConfig(w.admin)(k).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		if !keyrotate.IsBadCredentials(err) {
			w.t.Fatalf("GetCallerIdentity with %s: unexpected error %v", k.AccessKeyID, err)
		}
		return false
	}
	return strings.HasSuffix(aws.ToString(out.Arn), ":user/"+w.user)
}

// workingActiveKeys returns the Active keys whose secrets we hold and that
// authenticate with a real signed call. (moto lets Inactive keys
// authenticate too; AWS does not, so only Active ones count.)
func (w *rotWorld) workingActiveKeys() []string {
	var ids []string
	for _, k := range w.keys() {
		if k.Status != types.StatusTypeActive {
			continue
		}
		w.mu.Lock()
		s, ok := w.secrets[k.ID]
		w.mu.Unlock()
		if ok && w.authenticates(s) {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// rotFakeIAM is a hand-written IAM fake for unit tests: a function field
// per method; an unset one fails the test when called.
type rotFakeIAM struct {
	t     *testing.T
	calls []string

	getUser              func(*iam.GetUserInput) (*iam.GetUserOutput, error)
	listAccessKeys       func(*iam.ListAccessKeysInput) (*iam.ListAccessKeysOutput, error)
	createAccessKey      func(*iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error)
	updateAccessKey      func(*iam.UpdateAccessKeyInput) (*iam.UpdateAccessKeyOutput, error)
	deleteAccessKey      func(*iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error)
	getAccessKeyLastUsed func(*iam.GetAccessKeyLastUsedInput) (*iam.GetAccessKeyLastUsedOutput, error)
	listUserTags         func(*iam.ListUserTagsInput) (*iam.ListUserTagsOutput, error)
	tagUser              func(*iam.TagUserInput) (*iam.TagUserOutput, error)
	untagUser            func(*iam.UntagUserInput) (*iam.UntagUserOutput, error)
}

var errRotFakeUnset = errors.New("rotFakeIAM: unexpected call")

func rotCall[I, O any](f *rotFakeIAM, ctx context.Context, name string, fn func(I) (O, error), in I) (O, error) {
	f.calls = append(f.calls, name)
	var zero O
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if fn == nil {
		if f.t != nil {
			f.t.Errorf("unexpected call %s", name)
		}
		return zero, errRotFakeUnset
	}
	return fn(in)
}

func (f *rotFakeIAM) GetUser(ctx context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return rotCall(f, ctx, "GetUser", f.getUser, in)
}
func (f *rotFakeIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return rotCall(f, ctx, "ListAccessKeys", f.listAccessKeys, in)
}
func (f *rotFakeIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, _ ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	return rotCall(f, ctx, "CreateAccessKey", f.createAccessKey, in)
}
func (f *rotFakeIAM) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	return rotCall(f, ctx, "UpdateAccessKey", f.updateAccessKey, in)
}
func (f *rotFakeIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	return rotCall(f, ctx, "DeleteAccessKey", f.deleteAccessKey, in)
}
func (f *rotFakeIAM) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	return rotCall(f, ctx, "GetAccessKeyLastUsed", f.getAccessKeyLastUsed, in)
}
func (f *rotFakeIAM) ListUserTags(ctx context.Context, in *iam.ListUserTagsInput, _ ...func(*iam.Options)) (*iam.ListUserTagsOutput, error) {
	return rotCall(f, ctx, "ListUserTags", f.listUserTags, in)
}
func (f *rotFakeIAM) TagUser(ctx context.Context, in *iam.TagUserInput, _ ...func(*iam.Options)) (*iam.TagUserOutput, error) {
	return rotCall(f, ctx, "TagUser", f.tagUser, in)
}
func (f *rotFakeIAM) UntagUser(ctx context.Context, in *iam.UntagUserInput, _ ...func(*iam.Options)) (*iam.UntagUserOutput, error) {
	return rotCall(f, ctx, "UntagUser", f.untagUser, in)
}

var _ keyrotate.RotateAPI = (*rotFakeIAM)(nil)

// rotFakeState returns a fake that reads the given keys and tags.
func rotFakeState(t *testing.T, user string, keys []types.AccessKeyMetadata, tags []types.Tag) *rotFakeIAM {
	return &rotFakeIAM{
		t: t,
		getUser: func(*iam.GetUserInput) (*iam.GetUserOutput, error) {
			return &iam.GetUserOutput{User: &types.User{UserName: aws.String(user), Arn: aws.String("arn:aws:iam::123456789012:user/" + user)}}, nil
		},
		listAccessKeys: func(*iam.ListAccessKeysInput) (*iam.ListAccessKeysOutput, error) {
			return &iam.ListAccessKeysOutput{AccessKeyMetadata: keys}, nil
		},
		listUserTags: func(*iam.ListUserTagsInput) (*iam.ListUserTagsOutput, error) {
			return &iam.ListUserTagsOutput{Tags: tags}, nil
		},
	}
}

func rotMeta(id string, status types.StatusType, created time.Time) types.AccessKeyMetadata {
	return types.AccessKeyMetadata{AccessKeyId: aws.String(id), Status: status, CreateDate: aws.Time(created)}
}
