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

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func runKey(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "contain-key", run, args...)
}

const someKey = "AKIAAAAAAAAAAAAAAAAA"

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	r := runKey(t, "-h")
	if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
		t.Errorf("code %d, err %v, stdout %q", r.Code, r.Err, r.Stdout)
	}
	for _, want := range []string{"Usage: contain-key -key AKIA... [flags]", "-window", "-regions", "-revoke-sessions", "-replace", "-credentials-out",
		"-release", "-dry-run", "-format", "-print-policy", "Exit codes"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2 with usage, names the flag, calls nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	ok := []string{"-key", someKey}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "-key is required"},
		{[]string{"-key", "ASIAAAAAAAAAAAAAAAAA"}, `-key "ASIAAAAAAAAAAAAAAAAA"`},
		{[]string{"-key", "akia"}, `-key "akia"`},
		{append(ok, "-user", "bad name"), `-user "bad name"`},
		{append(ok, "-window", "30m"), "-window 30m0s"},
		{append(ok, "-window", "2161h"), "-window 2161h0m0s"},
		{append(ok, "-window", "soon"), "-window"},
		{append(ok, "-regions", "us-east-1,Seoul"), `"Seoul" is not a region`},
		{append(ok, "-regions", ","), "-regions"},
		{append(ok, "-replace"), "-credentials-out is required"},
		{append(ok, "-credentials-out", "x"), "-credentials-out applies to -replace"},
		{append(ok, "-keep-quarantine"), "-keep-quarantine"},
		{append(ok, "-reactivate"), "-reactivate"},
		{append(ok, "-release", "-replace"), "-release"},
		{append(ok, "-revoke-sessions=maybe"), "-revoke-sessions"},
		{append(ok, "-format", "csv"), `-format "csv"`},
		{append(ok, "-region", "Seoul"), `-region "Seoul"`},
		{append(ok, "extra"), `unexpected argument "extra"`},
	} {
		r := runKey(t, tc.args...)
		if last := r.LastLine(); r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "contain-key: ") || !strings.Contains(last, tc.want) ||
			!strings.Contains(r.Stderr, "Usage: contain-key") {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	contain := clitest.Actions(clitest.PrintPolicy(t, "contain-key", run))
	replace := clitest.Actions(clitest.PrintPolicy(t, "contain-key", run, "-replace"))
	release := clitest.Actions(clitest.PrintPolicy(t, "contain-key", run, "-release"))
	if !slices.Contains(contain, "cloudtrail:LookupEvents") || slices.Contains(contain, "iam:CreateAccessKey") ||
		!slices.Contains(replace, "iam:CreateAccessKey") || slices.Contains(replace, "sts:GetCallerIdentity") ||
		!slices.Contains(release, "iam:UntagUser") || slices.Contains(release, "cloudtrail:LookupEvents") {
		t.Errorf("contain %v\nreplace %v\nrelease %v", contain, replace, release)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// world is moto with authentication enforced and an operator whose key
// the configuration chain uses.
type world struct {
	env   *awstest.Env
	admin *iam.Client
}

func newWorld(t *testing.T) *world {
	env := awstest.New(t)
	w := &world{env: env, admin: iam.NewFromConfig(env.EnforceAuth())}
	ctx := context.Background()
	if _, err := w.admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("operator")}); err != nil {
		t.Fatal(err)
	}
	k, err := w.admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("operator")})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	return w
}

// leak seeds user with an administrator policy, a console password and
// one key, its ID returned.
func (w *world) leak(t *testing.T, user string) string {
	ctx := context.Background()
	if _, err := w.admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.admin.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.admin.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(user), Password: aws.String("Correct-Horse-9")}); err != nil {
		t.Fatal(err)
	}
	k, err := w.admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(k.AccessKey.AccessKeyId)
}

// decoded is the part of -format json the tests read.
type decoded struct {
	Activity *struct {
		RegionErrors map[string]string `json:"region_errors"`
	} `json:"activity"`
	Report      *awsguard.Report `json:"report"`
	Replacement *struct {
		Applied bool                          `json:"applied"`
		NewKey  *struct{ AccessKeyID string } `json:"new_key"`
	} `json:"replacement"`
}

func decode(t *testing.T, r clitest.Result) decoded {
	t.Helper()
	var out decoded
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
	}
	return out
}

// The whole response on moto: contain (the measurement says plainly that
// CloudTrail could not be read), replace (the secret only in the 0600
// file, never on stdout), a re-run that changes nothing, and the leaked
// key gone. The operator holds only the printed policy of -replace
// -delete-leaked -revoke-sessions -disable-console: without any one of its
// actions some run fails (moto checks actions, not resources).
func TestLeastPrivilegeAndReplace(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	n := 0
	args := []string{"-revoke-sessions", "-disable-console", "-replace", "-delete-leaked", "-format", "json"}
	doc := clitest.PrintPolicy(t, "contain-key", run, args...)
	// A run fails when it exits 1, or when the history was unread for a
	// reason other than the emulator's missing LookupEvents (denied).
	failed := func(r clitest.Result) bool {
		if r.Code != 0 {
			return r.Code == 1
		}
		out := decode(t, r)
		for _, msg := range out.Activity.RegionErrors {
			if strings.Contains(msg, "AccessDenied") || strings.Contains(msg, "403") {
				return true
			}
		}
		return false
	}
	var last clitest.Result
	var lastKey, lastUser, lastOut string
	clitest.LeastPrivilege(t, doc, failed, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		n++
		lastUser = fmt.Sprintf("leaky%d", n)
		lastKey = w.leak(t, lastUser)
		clitest.PutUserPolicy(t, w.admin, "operator", "contain-key", doc)
		lastOut = filepath.Join(t.TempDir(), "creds")
		last = runKey(t, append([]string{"-key", lastKey, "-credentials-out", lastOut}, args...)...)
		return []clitest.Result{last}
	})
	// The proof's last try ran without one action: run once more under
	// the full policy and check what the run did.
	clitest.PutUserPolicy(t, w.admin, "operator", "contain-key", doc)
	lastUser = "leaky-final"
	lastKey = w.leak(t, lastUser)
	lastOut = filepath.Join(t.TempDir(), "creds")
	last = runKey(t, append([]string{"-key", lastKey, "-credentials-out", lastOut}, args...)...)
	if last.Code != 0 {
		t.Fatalf("full policy: %s", last.Stderr)
	}
	out := decode(t, last)
	if out.Report == nil || out.Report.Findings[0].Status != awsguard.StatusError || out.Replacement == nil || out.Replacement.NewKey == nil {
		t.Fatalf("output: %s", last.Stdout)
	}
	b, err := os.ReadFile(lastOut)
	st, _ := os.Stat(lastOut)
	if err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(string(b), out.Replacement.NewKey.AccessKeyID) {
		t.Fatalf("credentials file: %v, %v", st, err)
	}
	secret := strings.TrimSpace(strings.SplitN(string(b), "aws_secret_access_key = ", 2)[1])
	if strings.Contains(last.Stdout, secret) || strings.Contains(last.Stderr, secret) {
		t.Error("the new secret reached stdout or stderr")
	}
	keys, err := w.admin.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(lastUser)})
	if err != nil || len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != out.Replacement.NewKey.AccessKeyID ||
		keys.AccessKeyMetadata[0].Status != types.StatusTypeActive {
		t.Errorf("keys after replace: %+v, %v", keys, err)
	}
	// A re-run (the leaked key is gone: -user names its user) changes nothing.
	again := runKey(t, append([]string{"-key", lastKey, "-user", lastUser, "-credentials-out", lastOut}, args...)...)
	if again.Code != 0 || decode(t, again).Replacement == nil || decode(t, again).Replacement.Applied {
		t.Errorf("re-run: code %d, %s %s", again.Code, again.Stderr, again.Stdout)
	}
	if r := runKey(t, "-key", lastKey); r.Code != 1 || !strings.Contains(r.LastLine(), "does not exist") {
		t.Errorf("contain a deleted key: code %d, %q", r.Code, r.LastLine())
	}
}

// A false alarm on moto: contain, then -release (refused without
// -reactivate, exit 1 naming the flag), then -release -reactivate; the
// table output names the steps.
func TestContainAndRelease(t *testing.T) {
	w := newWorld(t)
	clitest.PutUserPolicy(t, w.admin, "operator", "admin", &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012,
		Statement: awsguard.Statements{List: []awsguard.Statement{{Effect: "Allow", Action: awsguard.StringValue("*"), Resource: awsguard.StringValue("*")}}}})
	key := w.leak(t, "alarm")
	dry := runKey(t, "-key", key, "-dry-run")
	if dry.Code != 0 || !strings.Contains(dry.Stdout, "contain-deactivate-key") || !strings.Contains(dry.Stdout, "dry run") {
		t.Fatalf("dry run: %d %s %s", dry.Code, dry.Stderr, dry.Stdout)
	}
	r := runKey(t, "-key", key, "-regions", "us-east-1")
	if r.Code != 0 || !strings.Contains(r.Stdout, "ERROR") || !strings.Contains(r.Stdout, "could not be read") {
		t.Fatalf("contain: %d %s %s", r.Code, r.Stderr, r.Stdout)
	}
	if r := runKey(t, "-key", key, "-release"); r.Code != 1 || !strings.Contains(r.LastLine(), "-reactivate") {
		t.Errorf("release without -reactivate: %d %q", r.Code, r.LastLine())
	}
	if r := runKey(t, "-key", key, "-release", "-reactivate"); r.Code != 0 || !strings.Contains(r.Stdout, "release-reactivate-key") {
		t.Errorf("release: %d %s %s", r.Code, r.Stderr, r.Stdout)
	}
}
