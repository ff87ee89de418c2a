package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// setup starts moto with authentication enforced, creates user app with
// one key, and points the standard AWS configuration chain at moto with
// the given credentials (the admin's unless asUser).
func setup(t *testing.T, asUser bool) (api *iam.Client, admin aws.Config, oldKey types.AccessKey) {
	t.Helper()
	env := awstest.New(t)
	admin = env.EnforceAuth()
	api = iam.NewFromConfig(admin)
	ctx := context.Background()
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	// The user may manage its own keys (moto matches actions only).
	if _, err := api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMFullAccess")}); err != nil {
		t.Fatal(err)
	}
	out, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	oldKey = *out.AccessKey
	creds, err := admin.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id, secret := creds.AccessKeyID, creds.SecretAccessKey
	if asUser {
		id, secret = *oldKey.AccessKeyId, *oldKey.SecretAccessKey
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none-credentials"))
	t.Setenv("AWS_ENDPOINT_URL", env.Server.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", id)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", awstest.DefaultRegion)
	t.Setenv("AWS_PROFILE", "")
	return api, admin, oldKey
}

func keyStatus(t *testing.T, api *iam.Client) map[string]types.StatusType {
	t.Helper()
	out, err := api.ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]types.StatusType{}
	for _, k := range out.AccessKeyMetadata {
		m[*k.AccessKeyId] = k.Status
	}
	return m
}

// readCredentials parses the file the command wrote.
func readCredentials(t *testing.T, path string) keyrotate.AccessKey {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("credentials file mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	var k keyrotate.AccessKey
	for _, line := range strings.Split(string(b), "\n") {
		name, val, _ := strings.Cut(line, " = ")
		switch name {
		case "aws_access_key_id":
			k.AccessKeyID = val
		case "aws_secret_access_key":
			k.Secret = keyrotate.Secret(val)
		}
	}
	return k
}

func authenticates(t *testing.T, admin aws.Config, k keyrotate.AccessKey) bool {
	_, err := keyrotate.STSFromConfig(admin)(k).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil && !keyrotate.IsBadCredentials(err) {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	return err == nil
}

func TestRotateKeyCommand(t *testing.T) {
	api, admin, old := setup(t, false)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "app.credentials")
	if err := os.WriteFile(out, []byte("previous"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Without a destination it refuses, unless it is a dry run.
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"-user", "app"}, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "-credentials-out") {
		t.Fatalf("no destination: err = %v", err)
	}
	if err := run(ctx, []string{"-user", "app", "-dry-run", "-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	var plan output
	if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil || plan.Rotation == nil || plan.Rotation.Applied || len(plan.Rotation.Plan) == 0 {
		t.Fatalf("dry run output %s: %v", stdout.String(), err)
	}
	if got := keyStatus(t, api); len(got) != 1 {
		t.Fatalf("dry run changed keys: %v", got)
	}

	stdout.Reset()
	if err := run(ctx, []string{"-user", "app", "-credentials-out", out, "-in-use", *old.AccessKeyId, "-delete-old", "-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("rotate: %v (stderr %s)", err, stderr.String())
	}
	nk := readCredentials(t, out)
	if !authenticates(t, admin, nk) {
		t.Error("the written key does not authenticate")
	}
	if authenticates(t, admin, keyrotate.AccessKey{AccessKeyID: *old.AccessKeyId, Secret: keyrotate.Secret(*old.SecretAccessKey)}) {
		t.Error("the old key still authenticates after -delete-old")
	}
	if got := keyStatus(t, api); len(got) != 1 || got[nk.AccessKeyID] != types.StatusTypeActive {
		t.Errorf("keys: %v", got)
	}
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(s, nk.Secret.Reveal()) {
			t.Fatalf("secret printed: %s", s)
		}
	}
	var res output
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || !res.Rotation.Applied || res.Rotation.NewKey.AccessKeyID != nk.AccessKeyID {
		t.Errorf("output %s: %v", stdout.String(), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

// A user rotating their own key: the old key is deactivated and the later
// steps are signed with the new one; -finish with -grace 0 deletes it.
func TestRotateKeyCommandSelf(t *testing.T) {
	api, admin, old := setup(t, true)
	ctx := context.Background()
	out := filepath.Join(t.TempDir(), "creds")
	var stdout, stderr bytes.Buffer
	if err := run(ctx, []string{"-user", "app", "-credentials-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	t.Logf("output:\n%s", stdout.String())
	nk := readCredentials(t, out)
	if got := keyStatus(t, api); got[*old.AccessKeyId] != types.StatusTypeInactive || got[nk.AccessKeyID] != types.StatusTypeActive {
		t.Fatalf("keys: %v", got)
	}
	if !strings.Contains(stdout.String(), "kept-in-grace, deletable after") {
		t.Errorf("output does not report the grace period:\n%s", stdout.String())
	}
	// The command now runs with the new key, as the user's software would.
	t.Setenv("AWS_ACCESS_KEY_ID", nk.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", nk.Secret.Reveal())
	stdout.Reset()
	if err := run(ctx, []string{"-user", "app", "-finish", "-grace", "0s"}, &stdout, &stderr); err != nil {
		t.Fatalf("finish: %v", err)
	}
	if got := keyStatus(t, api); len(got) != 1 {
		t.Errorf("keys after -finish: %v\n%s", got, stdout.String())
	}
	if authenticates(t, admin, keyrotate.AccessKey{AccessKeyID: *old.AccessKeyId, Secret: keyrotate.Secret(*old.SecretAccessKey)}) {
		t.Error("the old key still authenticates")
	}
}

func TestRotateKeyCommandRejects(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-user", "app", "-format", "xml", "-dry-run"},
		{"-user", "app", "-grace", "-1h", "-dry-run"},
		{"-user", "app", "-finish", "-credentials-out", "x"},
		{"-user", "app", "-dry-run", "extra"},
		{"-user", "bad name", "-dry-run"},
	} {
		if _, err := parse(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
}
