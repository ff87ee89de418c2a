package keyrotate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestSecretRedacts(t *testing.T) {
	const raw = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	k := keyrotate.AccessKey{UserName: "alice", AccessKeyID: "AKIAEXAMPLE", Secret: awsguard.NewSecret(raw)}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k, "secret", k.Secret)
	js, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x", k, k, k, k.Secret, k.Secret, k.Secret),
		fmt.Errorf("wrapped: %v", k).Error(), string(js), logged.String(),
	} {
		if strings.Contains(s, raw) || strings.Contains(s, fmt.Sprintf("%x", raw)) {
			t.Errorf("secret leaked in %q", s)
		}
		if !strings.Contains(s, awsguard.Redacted) {
			t.Errorf("no redaction marker in %q", s)
		}
	}
	if k.Secret.Reveal() != raw {
		t.Error("Reveal does not return the secret")
	}
}

func TestIsBadCredentials(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&smithy.GenericAPIError{Code: "InvalidClientTokenId"}, true},
		{&smithy.GenericAPIError{Code: "SignatureDoesNotMatch"}, true},
		{&smithy.GenericAPIError{Code: "InvalidAccessKeyId"}, true},
		{&smithy.GenericAPIError{Code: "AuthFailure"}, true},
		{fmt.Errorf("wrapped: %w", &smithy.GenericAPIError{Code: "UnrecognizedClientException"}), true},
		{&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{&smithy.GenericAPIError{Code: "Throttling"}, false},
		{errors.New("plain"), false},
	} {
		if got := keyrotate.IsBadCredentials(tt.err); got != tt.want {
			t.Errorf("IsBadCredentials(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// With authentication enforced, a fresh key verifies as its user, and a
// deleted key is classified as bad credentials until the wait gives up.
func TestWaitForKeyAgainstMoto(t *testing.T) {
	env := awstest.New(t)
	admin := env.EnforceAuth()
	ctx := context.Background()
	api := iam.NewFromConfig(admin)
	u, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	key := keyrotate.AccessKey{UserName: "app", AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
	// Success returns at once: a long bound only keeps a loaded machine
	// from failing it.
	fast := keyrotate.VerifyOptions{MaxWait: 30 * time.Second, MinDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond}
	newSTS := keyrotate.STSFromConfig(admin)

	polls, err := keyrotate.WaitForKey(ctx, newSTS, key, aws.ToString(u.User.Arn), func(o *keyrotate.VerifyOptions) { *o = fast })
	if err != nil || polls < 1 {
		t.Fatalf("WaitForKey(new key) = %d, %v; want at least 1 poll, nil", polls, err)
	}
	if _, err := keyrotate.WaitForKey(ctx, newSTS, key, "arn:aws:iam::123456789012:user/other", func(o *keyrotate.VerifyOptions) { *o = fast }); !errors.Is(err, keyrotate.ErrWrongIdentity) {
		t.Errorf("wrong identity: err = %v", err)
	}

	if _, err := api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("app"), AccessKeyId: out.AccessKey.AccessKeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = newSTS(key).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if !keyrotate.IsBadCredentials(err) {
		t.Fatalf("deleted key: err = %v, want bad credentials", err)
	}
	polls, err = keyrotate.WaitForKey(ctx, newSTS, key, "", func(o *keyrotate.VerifyOptions) {
		*o = keyrotate.VerifyOptions{MaxWait: time.Second, MinDelay: 20 * time.Millisecond}
	})
	if !errors.Is(err, keyrotate.ErrKeyNotValid) || polls < 2 {
		t.Errorf("deleted key: polls %d, err %v; want several polls and ErrKeyNotValid", polls, err)
	}
	if strings.Contains(err.Error(), key.Secret.Reveal()) {
		t.Error("error leaks the secret")
	}
}
