package keyrotate_test

import (
	"context"
	"errors"
	"testing"

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
func TestFinishSecretRefusesUnusablePendingKey(t *testing.T) {
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
func TestCreateSecretRefusesWhenCurrentKeyMissing(t *testing.T) {
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
func TestTestSecretRefusesAnotherUsersKey(t *testing.T) {
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
