package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
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
	env.SetEnv(id, secret)
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
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "[") {
			in = line == "[default]"
		}
		name, val, _ := strings.Cut(line, " = ")
		switch {
		case !in:
		case name == "aws_access_key_id":
			k.AccessKeyID = val
		case name == "aws_secret_access_key":
			k.Secret = awsguard.NewSecret(val)
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
	if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil || plan.Rotation == nil || plan.Rotation.Applied || len(plan.Rotation.Actions) == 0 {
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
	if authenticates(t, admin, keyrotate.AccessKey{AccessKeyID: *old.AccessKeyId, Secret: awsguard.NewSecret(*old.SecretAccessKey)}) {
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
	// The text output names the new key but never shows its secret.
	if !strings.Contains(stdout.String(), nk.AccessKeyID) {
		t.Errorf("text output does not name the new key:\n%s", stdout.String())
	}
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(s, nk.Secret.Reveal()) {
			t.Fatalf("secret printed in text output: %s", s)
		}
	}
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
	if authenticates(t, admin, keyrotate.AccessKey{AccessKeyID: *old.AccessKeyId, Secret: awsguard.NewSecret(*old.SecretAccessKey)}) {
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

// Writing into an existing credentials file replaces only the profile's
// section; the other profiles (and comments, spacing, a missing final
// newline) stay byte for byte; the file ends up 0600, replaced through a
// temporary file that does not stay behind.
func TestWriteCredentialsKeepsOtherProfiles(t *testing.T) {
	k := keyrotate.AccessKey{AccessKeyID: "AKIANEWNEWNEWNEWNEW1", Secret: awsguard.NewSecret("new/secret+value")}
	section := "[app]\naws_access_key_id = AKIANEWNEWNEWNEWNEW1\naws_secret_access_key = new/secret+value\n"
	head := "# my credentials\n[default]\naws_access_key_id = AKIADEFAULT000000001\naws_secret_access_key = keep-me\n\n"
	tail := "[ prod ]\r\naws_access_key_id=AKIAPROD000000000001\r\naws_secret_access_key=prod-secret\r\nregion = eu-west-1"
	for _, tt := range []struct {
		name, before, want string
	}{
		{"no file", "", section},
		{"profile in the middle", head + "[app]\naws_access_key_id = AKIAOLD\naws_secret_access_key = old\n; note\n\n" + tail, head + section + tail},
		{"profile absent, no final newline", head + tail, head + tail + "\n" + section},
		// A section runs to the next header: the comment above [default]
		// belongs to the replaced [ app ] section.
		{"profile repeated", "[ app ]\nx = 1\n" + head + "[app]\ny = 2\n", section + strings.TrimPrefix(head, "# my credentials\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "credentials")
			if tt.before != "" {
				if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := writeCredentials(path, "app", k); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("file:\n%q\nwant\n%q", got, tt.want)
			}
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v, want 0600", st.Mode().Perm())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("files left: %v", entries)
			}
			if rk, ok := credentialsKey(path, "app"); !ok || rk.AccessKeyID != k.AccessKeyID || !rk.Secret.Equal(k.Secret) {
				t.Errorf("read back %+v, %v", rk, ok)
			}
		})
	}
	// Through a symbolic link, the file it points to is replaced and the
	// link stays.
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	if err := os.WriteFile(real, []byte(head), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := writeCredentials(link, "app", k); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(real); string(got) != head+section {
		t.Errorf("linked file: %q", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
}

// A self-rotation interrupted after the new key was written to the file
// but before the delivery was recorded: the re-run, signed with the old
// key, neither deletes the written key nor guesses; told with -in-use that
// the written key is in use, it finishes, signing with that key (read back
// from the file), and prints no secret.
func TestRotateKeyCommandSelfResume(t *testing.T) {
	api, admin, old := setup(t, true)
	ctx := context.Background()
	// The state the interrupted run leaves: key B created and written,
	// the record naming it pending.
	b, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	nk := keyrotate.AccessKey{UserName: "app", AccessKeyID: *b.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*b.AccessKey.SecretAccessKey)}
	out := filepath.Join(t.TempDir(), "creds")
	if err := writeCredentials(out, "default", nk); err != nil {
		t.Fatal(err)
	}
	if _, err := api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("app"), Tags: []types.Tag{{
		Key: aws.String(keyrotate.TagRotation), Value: aws.String("old=" + *old.AccessKeyId + " new=" + nk.AccessKeyID + " pending"),
	}}}); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	err = run(ctx, []string{"-user", "app", "-credentials-out", out}, &stdout, &stderr)
	if !errors.Is(err, keyrotate.ErrRotationInProgress) || !strings.Contains(err.Error(), "-in-use") {
		t.Fatalf("re-run without -in-use: err = %v", err)
	}
	if got := keyStatus(t, api); len(got) != 2 || got[nk.AccessKeyID] != types.StatusTypeActive || got[*old.AccessKeyId] != types.StatusTypeActive {
		t.Fatalf("the refused re-run changed keys: %v", got)
	}

	stdout.Reset()
	if err := run(ctx, []string{"-user", "app", "-credentials-out", out, "-in-use", nk.AccessKeyID}, &stdout, &stderr); err != nil {
		t.Fatalf("re-run with -in-use: %v", err)
	}
	t.Logf("output:\n%s", stdout.String())
	if got := keyStatus(t, api); got[nk.AccessKeyID] != types.StatusTypeActive || got[*old.AccessKeyId] != types.StatusTypeInactive {
		t.Errorf("keys: %v", got)
	}
	if got := readCredentials(t, out); got.AccessKeyID != nk.AccessKeyID || !authenticates(t, admin, got) {
		t.Errorf("credentials file holds %s", got.AccessKeyID)
	}
	if !strings.Contains(stdout.String(), "finished the interrupted rotation to "+nk.AccessKeyID) {
		t.Errorf("output does not say it finished:\n%s", stdout.String())
	}
	for _, s := range []string{stdout.String(), stderr.String()} {
		if strings.Contains(s, nk.Secret.Reveal()) || strings.Contains(s, *old.SecretAccessKey) {
			t.Fatalf("secret printed: %s", s)
		}
	}
}
