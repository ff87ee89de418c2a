package awstest_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/internal/motoserver"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func users(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	out, err := iam.NewFromConfig(cfg).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range out.Users {
		names = append(names, aws.ToString(u.UserName))
	}
	return names
}

func TestResetAndAccounts(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	if _, err := iam.NewFromConfig(env.Config()).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("in-default")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iam.NewFromConfig(env.ConfigFor("111122223333")).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("in-other")}); err != nil {
		t.Fatal(err)
	}
	if got := users(t, env.Config()); len(got) != 1 || got[0] != "in-default" {
		t.Errorf("default account users = %v", got)
	}
	if got := users(t, env.ConfigFor("111122223333")); len(got) != 1 || got[0] != "in-other" {
		t.Errorf("other account users = %v", got)
	}
	id, err := sts.NewFromConfig(env.ConfigFor("111122223333")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "111122223333" {
		t.Errorf("caller identity = %v, %v", id, err)
	}

	awstest.New(t) // resets
	if got := users(t, env.Config()); len(got) != 0 {
		t.Errorf("after reset: users = %v", got)
	}
}

func TestEnforceAuth(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	admin := env.EnforceAuth()
	if _, err := sts.NewFromConfig(admin).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("admin key rejected: %v", err)
	}
	_, err := sts.NewFromConfig(env.Config()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Fatalf("dummy key with enforcement on: err = %v, want HTTP 403", err)
	}
	// The next test starts with enforcement off.
	awstest.New(t)
	if _, err := sts.NewFromConfig(env.Config()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("enforcement still on after New: %v", err)
	}
}

// The behaviours below run this test binary again as a child, so that
// its exit, panic and environment are the child's.

const childEnv = "AWSTEST_CHILD"

func TestChildBehaviour(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "":
		t.Skip("runs only as a child of the tests below")
	case "panic":
		env := awstest.New(t)
		if err := os.WriteFile(os.Getenv("AWSTEST_PIDFILE"), []byte(strconv.Itoa(env.Server.Pid())), 0o600); err != nil {
			t.Fatal(err)
		}
		panic("a test that panics with moto running")
	case "plain":
		awstest.New(t)
		t.Log("moto reached")
	}
}

func child(t *testing.T, mode string, env ...string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildBehaviour$", "-test.v", "-test.count=1")
	cmd.Env = append(append(os.Environ(), childEnv+"="+mode), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestNoServerOutlivesAPanic(t *testing.T) {
	awstest.New(t) // skips or fails here the same way when moto is missing
	pidfile := filepath.Join(t.TempDir(), "pid")
	out, err := child(t, "panic", "AWSTEST_PIDFILE="+pidfile)
	if err == nil || !strings.Contains(out, "a test that panics") {
		t.Fatalf("child did not panic: %v\n%s", err, out)
	}
	b, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("child wrote no pid: %v\n%s", err, out)
	}
	pid, _ := strconv.Atoi(string(b))
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("moto_server (pid %d) outlived the panicking test binary", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether pid is a live process (a zombie counts as dead).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	f := strings.Fields(string(b))
	return len(f) > 2 && f[2] != "Z"
}

func TestMissingMotoSkipsOrFails(t *testing.T) {
	missing := "MOTO_SERVER=" + filepath.Join(t.TempDir(), "no-such-moto_server")

	out, err := child(t, "plain", missing, awstest.RequireEnv+"=")
	if err != nil {
		t.Fatalf("without moto and without %s the child failed: %v\n%s", awstest.RequireEnv, err, out)
	}
	if !strings.Contains(out, "--- SKIP") || !strings.Contains(out, "pip install 'moto[server]'") {
		t.Errorf("skip message lacks the install hint:\n%s", out)
	}

	out, err = child(t, "plain", missing, awstest.RequireEnv+"=1")
	if err == nil {
		t.Fatalf("with %s=1 and no moto the child passed:\n%s", awstest.RequireEnv, out)
	}
	if !strings.Contains(out, "--- FAIL") || !strings.Contains(out, motoserver.InstallHint) {
		t.Errorf("failure message lacks the install hint:\n%s", out)
	}
}

// The harness retries a dropped connection, never an API error or an
// injected fault.
func TestRetryerClassification(t *testing.T) {
	r := awstest.Retryer()
	dropped := &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://127.0.0.1", Err: &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"dropped connection", dropped, true},
		{"closed mid-response", &smithy.DeserializationError{Err: errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection")}, true},
		{"injected cut", &fault.InjectedError{Kind: fault.ConnectionReset, Err: dropped}, false},
		{"API error", &smithy.GenericAPIError{Code: "InternalFailure"}, false},
		{"throttle", &smithy.GenericAPIError{Code: "Throttling"}, false},
		{"cancelled", &smithy.CanceledError{Err: context.Canceled}, false},
	} {
		if got := r.IsErrorRetryable(tt.err); got != tt.want {
			t.Errorf("%s: retryable = %v, want %v", tt.name, got, tt.want)
		}
	}
	if r.MaxAttempts() != 3 {
		t.Errorf("MaxAttempts = %d", r.MaxAttempts())
	}
}
