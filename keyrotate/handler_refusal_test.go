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
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

// A late or retried finishSecret whose AWSPENDING key was deleted (or
// deactivated) after testSecret must not promote it: AWSCURRENT would hold
// a dead key and the previous, working key would be deactivated.
func testFinishSecretRefusesUnusablePendingKey(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(f *smFixture, keyID string) error
		want  error
	}{
		{"deleted", func(f *smFixture, id string) error {
			_, err := f.iam.DeleteAccessKey(context.Background(), &iam.DeleteAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(id)})
			return err
		}, keyrotate.ErrPendingKeyMissing},
		{"inactive", func(f *smFixture, id string) error {
			_, err := f.iam.UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(id), Status: iamtypes.StatusTypeInactive})
			return err
		}, keyrotate.ErrPendingKeyInactive},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSMFixture(t)
			tok := smToken(1)
			h, _ := f.handler(tok)
			for _, s := range keyrotate.Steps[:3] {
				if _, err := f.step(h, s, tok); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			pend, _ := f.staged(keyrotate.StagePending)
			if err := tt.spoil(f, pend.AccessKeyID); err != nil {
				t.Fatal(err)
			}
			beforeKeys, beforeStages := f.keys(), f.stages()
			res, err := f.step(h, keyrotate.StepFinishSecret, tok)
			var re *awsguard.StepError
			if !errors.Is(err, tt.want) || !errors.As(err, &re) || re.ToDo != keyrotate.RemedyRepair {
				t.Fatalf("err = %v, want %v with remedy repair", err, tt.want)
			}
			if res.Changed || res.Promoted || res.DeactivatedKeyID != "" {
				t.Errorf("result = %+v, want nothing changed", res)
			}
			if diff := cmp.Diff(beforeKeys, f.keys()); diff != "" {
				t.Errorf("keys changed (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(beforeStages, f.stages()); diff != "" {
				t.Errorf("stages changed (-before +after):\n%s", diff)
			}
			cur, _ := f.staged(keyrotate.StageCurrent)
			if cur.AccessKeyID != f.first.AccessKeyID {
				t.Errorf("AWSCURRENT = %s, want the first key %s", cur.AccessKeyID, f.first.AccessKeyID)
			}
			if err := f.authenticates(cur); err != nil {
				t.Errorf("AWSCURRENT does not authenticate: %v", err)
			}
		})
	}
}

// A secret whose AWSCURRENT key is no longer on the user (a stale or
// broken secret): createSecret must not take the user's other keys for
// orphans and delete the one really in use.
func testCreateSecretRefusesWhenCurrentKeyMissing(t *testing.T) {
	f := newSMFixture(t)
	ctx := context.Background()
	if _, err := f.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(f.first.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(f.user)}); err != nil {
		t.Fatal(err)
	}
	before := f.keys()
	tok := smToken(1)
	h, _ := f.handler(tok)
	res, err := f.step(h, keyrotate.StepCreateSecret, tok)
	var re *awsguard.StepError
	if !errors.Is(err, keyrotate.ErrCurrentKeyMissing) || !errors.As(err, &re) || re.ToDo == keyrotate.RemedyRetry {
		t.Fatalf("err = %v, want ErrCurrentKeyMissing needing repair", err)
	}
	if res.Changed || len(res.DeletedKeyIDs) != 0 || res.CreatedKeyID != "" {
		t.Errorf("result = %+v, want nothing changed", res)
	}
	if diff := cmp.Diff(before, f.keys()); diff != "" {
		t.Errorf("keys changed (-before +after):\n%s", diff)
	}
	if _, ok := f.staged(keyrotate.StagePending); ok {
		t.Error("AWSPENDING stored")
	}
}

// testSecret must prove the AWSPENDING key is this user's: a valid key of
// another user in the pending value fails the step.
func testTestSecretRefusesAnotherUsersKey(t *testing.T) {
	f := newSMFixture(t)
	ctx := context.Background()
	if _, err := f.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	out, err := f.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	foreign := keyrotate.AccessKey{UserName: f.user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
	doc, err := keyrotate.EncodeSecretValue(foreign, "")
	if err != nil {
		t.Fatal(err)
	}
	tok := smToken(1)
	if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(f.secret), ClientRequestToken: aws.String(tok), SecretString: aws.String(doc), VersionStages: []string{keyrotate.StagePending}}); err != nil {
		t.Fatal(err)
	}
	h, _ := f.handler(tok)
	_, err = f.step(h, keyrotate.StepTestSecret, tok)
	if !errors.Is(err, keyrotate.ErrWrongIdentity) {
		t.Fatalf("err = %v, want ErrWrongIdentity", err)
	}
}

func TestIsUserARN(t *testing.T) {
	for _, tt := range []struct {
		arn, user string
		want      bool
	}{
		{"arn:aws:iam::123456789012:user/app", "app", true},
		{"arn:aws:iam::123456789012:user/team/ops/app", "app", true},
		{"arn:aws-cn:iam::123456789012:user/app", "app", true},
		{"arn:aws:iam::123456789012:user/other", "app", false},
		{"arn:aws:iam::123456789012:user/xapp", "app", false},
		{"arn:aws:iam::123456789012:user/app/other", "app", false},
		{"arn:aws:iam::123456789012:role/app", "app", false},
		{"arn:aws:sts::123456789012:assumed-role/app/app", "app", false},
		{"arn:aws:iam::123456789012:user/", "", false},
		{"not an arn", "app", false},
	} {
		if got := keyrotate.IsUserARN(tt.arn, tt.user); got != tt.want {
			t.Errorf("IsUserARN(%q, %q) = %v, want %v", tt.arn, tt.user, got, tt.want)
		}
	}
}

// handlerWith is f.handler with more options.
func (f *smFixture) handlerWith(token string, opt func(*keyrotate.HandlerOptions)) *keyrotate.Handler {
	sm := &smMotoRotation{c: secretsmanager.NewFromConfig(f.admin), Token: token}
	return keyrotate.NewHandler(sm, iam.NewFromConfig(f.admin), keyrotate.STSFromConfig(f.admin), func(o *keyrotate.HandlerOptions) {
		o.Verify = smFastVerify
		opt(o)
	})
}

// createSecret leaves alone a key no staged version holds when someone may
// depend on it (it was used, or it is older than the rotation window), and
// fails naming it; it removes an Inactive one, and an unused one created
// within the window (TestCreateSecretRetryDeletesOrphan). On moto with
// authentication enforced: a key "used" has signed a real call.
func TestCreateSecretLeavesForeignKeys(t *testing.T) {
	w := newSMWorld(t)
	n := 0
	for _, tt := range []struct {
		name    string
		use     bool // sign a call with the extra key
		status  iamtypes.StatusType
		later   time.Duration // the handler's clock runs this much ahead
		removed bool
	}{
		{name: "active and used", use: true, status: iamtypes.StatusTypeActive},
		{name: "active, never used, created before the window", status: iamtypes.StatusTypeActive, later: 48 * time.Hour},
		{name: "inactive, used", use: true, status: iamtypes.StatusTypeInactive, removed: true},
		{name: "active, never used, created within the window", status: iamtypes.StatusTypeActive, removed: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n++
			f := w.newCase(t, fmt.Sprintf("fk%d", n), fmt.Sprintf("fk%d/access-key", n))
			ctx := context.Background()
			out, err := f.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(f.user)})
			if err != nil {
				t.Fatal(err)
			}
			extra := keyrotate.AccessKey{UserName: f.user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
			if tt.use {
				if err := f.authenticates(extra); err != nil {
					t.Fatal(err)
				}
			}
			if tt.status == iamtypes.StatusTypeInactive {
				if _, err := f.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(f.user), AccessKeyId: aws.String(extra.AccessKeyID), Status: tt.status}); err != nil {
					t.Fatal(err)
				}
			}
			tok := smToken(1)
			h := f.handlerWith(tok, func(o *keyrotate.HandlerOptions) { o.Now = func() time.Time { return time.Now().Add(tt.later) } })
			before := f.keys()
			res, err := f.step(h, keyrotate.StepCreateSecret, tok)
			if tt.removed {
				if err != nil || !slices.Contains(res.DeletedKeyIDs, extra.AccessKeyID) || res.CreatedKeyID == "" {
					t.Fatalf("createSecret = %+v, %v; want %s deleted and a new key", res, err, extra.AccessKeyID)
				}
				return
			}
			var se *awsguard.StepError
			if !errors.Is(err, keyrotate.ErrForeignKey) || !errors.As(err, &se) || !strings.Contains(err.Error(), extra.AccessKeyID) || se.ToDo == keyrotate.RemedyRetry {
				t.Fatalf("err = %v, want ErrForeignKey naming %s", err, extra.AccessKeyID)
			}
			if res.Changed || len(res.DeletedKeyIDs) != 0 || res.CreatedKeyID != "" {
				t.Errorf("result = %+v, want nothing changed", res)
			}
			if diff := cmp.Diff(before, f.keys()); diff != "" {
				t.Errorf("keys changed (-before +after):\n%s", diff)
			}
			if _, ok := f.staged(keyrotate.StagePending); ok {
				t.Error("AWSPENDING stored")
			}
			if err := f.authenticates(extra); err != nil {
				t.Errorf("the foreign key no longer authenticates: %v", err)
			}
		})
	}
}

// A finishSecret called after a failed testSecret must not promote a
// pending key that exists and is Active but does not authenticate (here
// the pending value holds a wrong secret): it verifies the key first and
// changes nothing. On moto with authentication enforced.
func testFinishSecretVerifiesPendingKey(t *testing.T) {
	f := newSMFixture(t)
	ctx := context.Background()
	tok := smToken(1)
	h, _ := f.handler(tok)
	for _, s := range keyrotate.Steps[:2] {
		if _, err := f.step(h, s, tok); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	pend, _ := f.staged(keyrotate.StagePending)
	dead := pend
	dead.Secret = awsguard.NewSecret("not-the-secret-of-" + pend.AccessKeyID)
	doc, err := keyrotate.EncodeSecretValue(dead, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(f.secret), ClientRequestToken: aws.String(tok), SecretString: aws.String(doc), VersionStages: []string{keyrotate.StagePending}}); err != nil {
		t.Fatal(err)
	}
	if f.authenticates(dead) == nil {
		t.Fatal("moto accepted the wrong secret")
	}
	short := f.handlerWith(tok, func(o *keyrotate.HandlerOptions) {
		o.Verify = keyrotate.VerifyOptions{MaxWait: 300 * time.Millisecond, MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
	})
	if _, err := f.step(short, keyrotate.StepTestSecret, tok); !errors.Is(err, keyrotate.ErrKeyNotValid) {
		t.Fatalf("testSecret: err = %v, want ErrKeyNotValid", err)
	}
	beforeKeys, beforeStages := f.keys(), f.stages()
	res, err := f.step(short, keyrotate.StepFinishSecret, tok)
	if !errors.Is(err, keyrotate.ErrKeyNotValid) {
		t.Fatalf("finishSecret: err = %v, want ErrKeyNotValid", err)
	}
	if res.Changed || res.Promoted || res.DeactivatedKeyID != "" || res.Polls < 1 {
		t.Errorf("result = %+v, want nothing changed after at least one poll", res)
	}
	if diff := cmp.Diff(beforeKeys, f.keys()); diff != "" {
		t.Errorf("keys changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(beforeStages, f.stages()); diff != "" {
		t.Errorf("stages changed (-before +after):\n%s", diff)
	}
	cur, _ := f.staged(keyrotate.StageCurrent)
	if cur.AccessKeyID != f.first.AccessKeyID {
		t.Errorf("AWSCURRENT = %s, want the first key %s", cur.AccessKeyID, f.first.AccessKeyID)
	}
	if err := f.authenticates(cur); err != nil {
		t.Errorf("AWSCURRENT does not authenticate: %v", err)
	}
}
