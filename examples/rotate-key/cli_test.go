package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func runKey(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "rotate-key", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runKey(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: rotate-key -user NAME -credentials-out FILE [flags]", "-credentials-profile", "-profile profile",
			"-endpoint-url", "-timeout", "-dry-run", "-format", "-print-policy", "Exit codes"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2, prints usage, names the flag, and calls
// nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	ok := []string{"-user", "app", "-dry-run"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{}, "-user is required"},
		{append(ok, "extra"), `unexpected argument "extra"`},
		{[]string{"-user", "bad name", "-dry-run"}, `-user "bad name"`},
		{[]string{"-user", "app"}, "-credentials-out is required"},
		{[]string{"-user", "app", "-finish", "-credentials-out", "x"}, "-credentials-out"},
		{[]string{"-user", "app", "-finish", "-in-use", "AKIAAAAAAAAAAAAAAAAA"}, "-in-use"},
		{append(ok, "-credentials-profile", "a]b"), `-credentials-profile "a]b"`},
		{append(ok, "-credentials-profile", ""), `-credentials-profile ""`},
		{append(ok, "-in-use", "akia-lower"), `-in-use "akia-lower"`},
		{append(ok, "-grace", "-1h"), "-grace -1h0m0s"},
		{append(ok, "-grace", "a week"), "-grace"},
		{append(ok, "-max-age", "-24h"), "-max-age -24h0m0s"},
		{append(ok, "-max-age", "old"), "-max-age"},
		{append(ok, "-delete-old=maybe"), "-delete-old"},
		{append(ok, "-delete-old-active=maybe"), "-delete-old-active"},
		{append(ok, "-finish=maybe"), "-finish"},
		{[]string{"-user", "app", "-dry-run=maybe"}, "-dry-run"},
		{append(ok, "-format", "xml"), `-format "xml"`},
		{append(ok, "-format", "csv"), `-format "csv"`},
		{append(ok, "-region", "Seoul"), `-region "Seoul"`},
		{append(ok, "-endpoint-url", "localhost:4566"), "-endpoint-url"},
		{append(ok, "-timeout", "0s"), "-timeout 0s"},
		{append(ok, "-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{append(ok, "-print-policy=maybe"), "-print-policy"},
		{append(ok, "-profile", "nosuch"), `-profile "nosuch"`},
	} {
		r := runKey(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		last := lines[len(lines)-1]
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "rotate-key: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: rotate-key") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	rotate := []string{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:GetUser",
		"iam:ListAccessKeys", "iam:ListUserTags", "iam:TagUser", "iam:UntagUser", "iam:UpdateAccessKey"}
	finish := slices.DeleteFunc(slices.Clone(rotate), func(a string) bool { return a == "iam:CreateAccessKey" || a == "iam:UpdateAccessKey" })
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, rotate},
		{[]string{"-user", "app", "-credentials-out", "x"}, rotate},
		{[]string{"-finish"}, finish},
	} {
		if got := clitest.Actions(clitest.PrintPolicy(t, "rotate-key", run, tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// An operator holding exactly the printed policy rotates another user's
// key; without any one of its actions the rotation fails. (moto checks
// actions, not resources.)
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	admin := iam.NewFromConfig(env.EnforceAuth())
	ctx := context.Background()
	const operator = "key-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	n := 0
	// Each try rotates a user of its own with -delete-old, which makes
	// every call of a rotation and of the finish after it. Without
	// iam:UntagUser the rotation succeeds but warns that its records stay
	// on the user (the next run allowed to removes them): failed too.
	failed := func(r clitest.Result) bool {
		var out output
		if r.Code != 0 {
			return r.Code == 1
		}
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
		}
		return len(out.Rotation.Warnings)+len(out.Finish.Warnings) > 0
	}
	clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "rotate-key", run), failed, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		n++
		user := fmt.Sprintf("app%d", n)
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		clitest.PutUserPolicy(t, admin, operator, "rotate-key", doc)
		out := filepath.Join(t.TempDir(), "creds")
		return []clitest.Result{runKey(t, "-user", user, "-credentials-out", out, "-delete-old", "-format", "json")}
	})
}

// -profile is the AWS profile to call with; -credentials-profile the
// section written.
func TestProfiles(t *testing.T) {
	api, _, _ := setup(t, false)
	ctx := context.Background()
	creds, err := api.Options().Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	if err := os.WriteFile(shared, []byte(fmt.Sprintf("[ops]\naws_access_key_id = %s\naws_secret_access_key = %s\n", creds.AccessKeyID, creds.SecretAccessKey)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", shared)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	out := filepath.Join(dir, "app.credentials")
	if r := runKey(t, "-user", "app", "-credentials-out", out); r.Code != 1 {
		t.Errorf("without -profile (no credentials): code %d, %s", r.Code, r.Stderr)
	}
	r := runKey(t, "-profile", "ops", "-user", "app", "-credentials-out", out, "-credentials-profile", "app")
	if r.Code != 0 {
		t.Fatalf("-profile ops: code %d, %s", r.Code, r.Stderr)
	}
	b, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(b), "[app]\naws_access_key_id = ") || strings.Contains(string(b), "[default]") {
		t.Errorf("credentials file:\n%s", strings.Split(string(b), "\n")[0])
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runKey(t, "-user", "app", "-dry-run", "-timeout", "30s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env := awstest.New(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	r := runKey(t, "-user", "app", "-credentials-out", filepath.Join(t.TempDir(), "c"), "-format", "json")
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, cli.CredentialsRefused) || !strings.Contains(r.Stderr, "GetCallerIdentity") {
		t.Errorf("code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}
