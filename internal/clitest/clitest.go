// Package clitest holds what the example programs' tests share: running a
// program's run function as its main would end it, an offline endpoint that
// counts the calls it gets, an endpoint that never answers, and the
// least-privilege proof of a printed policy.
package clitest

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

// RunFunc is a program's run function, as cli.Main calls it.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Result is one run of a program as its main would end it.
type Result struct {
	Stdout, Stderr string
	Code           int
	Err            error
}

// LastLine is the last line of stderr: the one Fail writes.
func (r Result) LastLine() string {
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	return lines[len(lines)-1]
}

// Run runs the program name with args and returns what it printed and the
// exit code cli.Fail gives its error.
func Run(t testing.TB, name string, run RunFunc, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := cli.Fail(&errOut, name, err)
	return Result{out.String(), errOut.String(), code, err}
}

// Offline points the standard configuration chain at a local server that
// counts the requests it gets and fails each one.
func Offline(t testing.TB) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	SetEnv(t, srv.URL)
	return &calls
}

// SetEnv points the standard configuration chain at endpoint, with the
// emulator's dummy credentials, no profile and no shared files.
func SetEnv(t testing.TB, endpoint string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": awstest.DefaultRegion,
		"AWS_ACCESS_KEY_ID": awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awstest.SecretAccessKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_MAX_ATTEMPTS": "1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
	} {
		t.Setenv(k, v)
	}
}

// BlackHole returns the URL of a local listener that accepts connections
// and never answers.
func BlackHole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// PrintPolicy runs the program with -print-policy and args and returns the
// policy it printed, failing the test unless it is a valid one.
func PrintPolicy(t testing.TB, name string, run RunFunc, args ...string) *awsguard.PolicyDocument {
	t.Helper()
	r := Run(t, name, run, append([]string{"-print-policy"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("-print-policy %v: code %d, %s", args, r.Code, r.Stderr)
	}
	doc, err := awsguard.ParsePolicyDocument(r.Stdout)
	if err != nil {
		t.Fatalf("-print-policy printed no policy: %v\n%s", err, r.Stdout)
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement.List) != 1 {
		t.Fatalf("-print-policy: %d statements, want 1", len(doc.Statement.List))
	}
	return doc
}

// Actions returns the actions of the policy's one statement.
func Actions(doc *awsguard.PolicyDocument) []string {
	return slices.Clone(doc.Statement.List[0].Action.Values)
}

// Without returns doc with the action drop removed from its one statement.
func Without(doc *awsguard.PolicyDocument, drop string) *awsguard.PolicyDocument {
	less := *doc
	st := less.Statement.List[0]
	st.Action = awsguard.StringList(slices.DeleteFunc(slices.Clone(Actions(doc)), func(a string) bool { return a == drop })...)
	less.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
	return &less
}

// PutUserPolicy gives user the inline policy name holding doc, through
// admin.
func PutUserPolicy(t testing.TB, admin *iam.Client, user, name string, doc *awsguard.PolicyDocument) {
	t.Helper()
	s, err := doc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutUserPolicy(context.Background(), &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name), PolicyDocument: aws.String(s)}); err != nil {
		t.Fatal(err)
	}
}

// LeastPrivilege proves that the actions of doc are enough and each is
// needed: try runs the program (once or several times, on state of its
// own) under the policy it is given and returns the results. With doc
// every run must exit 0 and none be failed; without any one action some
// run must be failed. failed is nil for "exited 1"; a program whose runs
// can succeed with a warning passes its own. (moto checks actions, not
// resources.)
func LeastPrivilege(t *testing.T, doc *awsguard.PolicyDocument, failed func(Result) bool, try func(t *testing.T, doc *awsguard.PolicyDocument) []Result) {
	t.Helper()
	if failed == nil {
		failed = func(r Result) bool { return r.Code == 1 }
	}
	for _, r := range try(t, doc) {
		if r.Code != 0 || failed(r) {
			t.Fatalf("with the printed policy: code %d, %s\n%s", r.Code, r.Stderr, r.Stdout)
		}
	}
	for _, drop := range Actions(doc) {
		rs := try(t, Without(doc, drop))
		if i := slices.IndexFunc(rs, failed); i >= 0 {
			t.Logf("without %s: run %d: %s", drop, i+1, strings.TrimSpace(rs[i].Stderr))
		} else {
			var codes []int
			for _, r := range rs {
				codes = append(codes, r.Code)
			}
			t.Errorf("without %s: codes %v, want a 1", drop, codes)
		}
	}
}

// LeastPrivilegeAsUser proves a printed policy on the emulator: it creates the
// IAM user user, enforces authentication, points the configuration chain
// at the emulator with the user's key, puts doc on the user and calls
// check, which runs the program and reports whether it succeeded (and
// leaves the emulator's state so that the next run does the same work, or
// restores it); then, for each action of doc, it puts the policy without
// that action and calls check again, which must fail. admin is signed
// with an administrator's key, for check to set up or restore state.
//
// env must be fresh (awstest.New) with the program's state seeded.
func LeastPrivilegeAsUser(t *testing.T, env *awstest.Env, user string, doc *awsguard.PolicyDocument, check func(t *testing.T, admin *iam.Client, allowed bool) bool) {
	t.Helper()
	ctx := context.Background()
	api := iam.NewFromConfig(env.Config())
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	admin := iam.NewFromConfig(env.EnforceAuth())
	put := func(d *awsguard.PolicyDocument) {
		t.Helper()
		s, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("least-privilege"), PolicyDocument: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")

	put(doc)
	if !check(t, admin, true) {
		t.Fatalf("the program failed with the printed policy %v", Actions(doc))
	}
	actions := Actions(doc)
	for _, drop := range actions {
		less := *doc
		st := less.Statement.List[0]
		rest := slices.DeleteFunc(slices.Clone(actions), func(a string) bool { return a == drop })
		if len(rest) == 0 {
			// A statement needs an action: no policy at all is the policy
			// without the one action.
			if _, err := admin.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("least-privilege")}); err != nil {
				t.Fatal(err)
			}
		} else {
			st.Action = awsguard.StringList(rest...)
			less.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
			put(&less)
		}
		if check(t, admin, false) {
			t.Errorf("without %s the program still succeeded", drop)
		}
	}
}
