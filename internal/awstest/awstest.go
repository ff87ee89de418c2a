// Package awstest runs integration tests against moto_server, the AWS
// emulator.
//
// A test package that uses it declares
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
//
// and each integration test begins with
//
//	env := awstest.New(t)
//	client := iam.NewFromConfig(env.Config())
//
// Main starts no server by itself: the first New starts one moto_server for
// the whole test binary on a free loopback port, and Main stops it when the
// tests end. The kernel kills it too if the test binary dies (a panic, a
// timeout, a signal), so no server outlives go test. New resets all state,
// so integration tests of one package must not run in parallel with each
// other.
//
// Without moto_server, New skips the test with an install hint; with
// AWSGUARD_REQUIRE_MOTO=1 in the environment (CI sets it) it fails instead.
package awstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/internal/motoserver"
)

// The emulator's defaults.
const (
	DefaultAccount = "123456789012"
	DefaultRegion  = "us-east-1"
	// AccessKeyID and SecretAccessKey are the dummy credentials of
	// Config. They are valid only while authentication is not enforced.
	AccessKeyID     = "AKIAAWSTESTDUMMY0001"
	SecretAccessKey = "awstest-dummy-secret"
)

// RequireEnv is the variable that turns a missing moto_server from a skip
// into a failure.
const RequireEnv = "AWSGUARD_REQUIRE_MOTO"

var (
	mainRan atomic.Bool
	once    sync.Once
	server  *motoserver.Server
	initErr error
)

// Main runs the tests of m and stops the server afterwards. Call it from
// TestMain; it does not return.
func Main(m *testing.M) {
	mainRan.Store(true)
	code := m.Run()
	if server != nil {
		server.Stop()
	}
	os.Exit(code)
}

func startServer() (*motoserver.Server, error) {
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		server, initErr = motoserver.Start(ctx)
	})
	return server, initErr
}

// Env is one test's view of the emulator.
type Env struct {
	// Server is the running emulator.
	Server *motoserver.Server
	t      testing.TB
}

// New returns an emulator with all state wiped and authentication off. It
// skips the test when moto_server is missing, or fails it when
// AWSGUARD_REQUIRE_MOTO=1.
func New(t testing.TB) *Env {
	t.Helper()
	if !mainRan.Load() {
		t.Fatal("awstest: the package's TestMain must call awstest.Main(m) so that the server is stopped")
	}
	s, err := startServer()
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("awstest: %v (%s=1 makes this a failure)", err, RequireEnv)
		}
		t.Skipf("awstest: skipping integration test: %v", err)
	}
	ctx := context.Background()
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("awstest: reset: %v", err)
	}
	if err := s.EnforceAuth(ctx, false); err != nil {
		t.Fatalf("awstest: auth off: %v", err)
	}
	return &Env{Server: s, t: t}
}

// Config returns a configuration for the default account and region, signed
// with the dummy credentials, that sends every service to the emulator.
// Its retryer (see Retryer) retries only the emulator's own transport
// hiccups, never an API error or an injected fault.
func (e *Env) Config() aws.Config {
	return e.ConfigWith(credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""))
}

// ConfigWith is Config signed with creds.
func (e *Env) ConfigWith(creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:       DefaultRegion,
		Credentials:  creds,
		BaseEndpoint: aws.String(e.Server.URL),
		Retryer:      Retryer,
	}
}

// Retryer is the test clients' retryer. An API error (a 500 from the
// emulator, a throttle, any error code) is never retried, so a test sees
// exactly what the emulator or an injected fault answered. A connection the
// emulator's development web server dropped or cut mid-response is retried
// twice, at once: on a loaded machine it does so now and then, and a real
// client's retryer would retry it too. Faults made by internal/fault are
// never retried (fault.IsInjected).
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 5 * time.Millisecond, nil })
		o.Retryables = []retry.IsErrorRetryable{retry.NoRetryCanceledError{}, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if fault.IsInjected(err) {
				return aws.FalseTernary
			}
			var ae smithy.APIError
			if errors.As(err, &ae) {
				return aws.FalseTernary
			}
			return retry.RetryableConnectionError{}.IsErrorRetryable(err)
		})}
	})
}

// ConfigFor returns Config with every request sent to the given account's
// state (the emulator's x-moto-account-id header).
func (e *Env) ConfigFor(account string) aws.Config {
	cfg := e.Config()
	cfg.APIOptions = append(cfg.APIOptions, WithAccount(account))
	return cfg
}

// WithAccount is an APIOptions entry that sends requests to the given
// emulated account.
func WithAccount(account string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("awstestAccount",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set("x-moto-account-id", account)
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
}

// EnforceAuth creates an administrator user with an access key in the
// default account, turns authentication enforcement on (unknown and deleted
// keys are then rejected) and returns a configuration signed with the
// administrator's key. Enforcement is turned off when the test ends.
func (e *Env) EnforceAuth() aws.Config {
	e.t.Helper()
	ctx := context.Background()
	api := iam.NewFromConfig(e.Config())
	const user = "awstest-admin"
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		e.t.Fatalf("awstest: create admin user: %v", err)
	}
	if _, err := api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
		UserName: aws.String(user), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"),
	}); err != nil {
		e.t.Fatalf("awstest: attach admin policy: %v", err)
	}
	key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		e.t.Fatalf("awstest: create admin key: %v", err)
	}
	if err := e.Server.EnforceAuth(ctx, true); err != nil {
		e.t.Fatalf("awstest: enforce auth: %v", err)
	}
	e.t.Cleanup(func() { _ = e.Server.EnforceAuth(context.Background(), false) })
	return e.ConfigWith(credentials.NewStaticCredentialsProvider(
		aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), ""))
}

// SetEnv points the standard AWS configuration chain (the environment
// variables config.LoadDefaultConfig reads) at the emulator for the rest of
// the test: its endpoint, the default region, the given key (the dummy
// credentials when keyID is empty), no profile, no session token, and
// shared config and credentials files that do not exist. Example programs
// tested through their run functions load their configuration this way.
func (e *Env) SetEnv(keyID, secret string) {
	e.t.Helper()
	if keyID == "" {
		keyID, secret = AccessKeyID, SecretAccessKey
	}
	dir := e.t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            e.Server.URL,
		"AWS_REGION":                  DefaultRegion,
		"AWS_ACCESS_KEY_ID":           keyID,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
	} {
		e.t.Setenv(k, v)
	}
}

// Post sends body to one of the emulator's control endpoints, failing the
// test on error.
func (e *Env) Post(path, contentType, body string) {
	e.t.Helper()
	if err := e.Server.Post(context.Background(), path, contentType, body); err != nil {
		e.t.Fatal(err)
	}
}

// String names the emulator for test logs.
func (e *Env) String() string { return fmt.Sprintf("moto_server at %s", e.Server.URL) }
