package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/keyrotate"
)

const fnARN = "arn:aws:lambda:us-east-1:123456789012:function:rotator"

func runSetup(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "rotation-setup", run, args...)
}

func runSetupWith(t *testing.T, newClients func(aws.Config) clients, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "rotation-setup", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return runWith(ctx, args, stdout, stderr, newClients)
	}, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runSetup(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: rotation-setup -secret-id NAME -user NAME -function-arn ARN [flags]", "rotation-lambda -h",
			"-teardown", "-profile", "-endpoint-url", "-timeout", "-dry-run", "-format", "-print-policy", "Exit codes"} {
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
	t.Setenv(SecretEnv, "")
	ok := []string{"-secret-id", "app/key", "-user", "app", "-function-arn", fnARN}
	with := func(extra ...string) []string { return append(slices.Clone(ok), extra...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{with("-nope"), "-nope"},
		{with("extra"), `unexpected argument "extra"`},
		{[]string{"-user", "app", "-function-arn", fnARN}, `-secret-id ""`},
		{[]string{"-name", "", "-user", "app", "-function-arn", fnARN}, `-secret-id ""`},
		{with("-user", "bad name"), `-user "bad name"`},
		{with("-function-arn", "rotator"), `-function-arn "rotator"`},
		{with("-function-arn", "arn:aws:iam::123456789012:role/x"), `-function-arn "arn:aws:iam::123456789012:role/x"`},
		{with("-schedule", "monthly"), `-schedule "monthly"`},
		{with("-kms-key-id", "alias/mine"), `-kms-key-id "alias/mine"`},
		{with("-access-key-id", "AKIAEXAMPLE"), "-access-key-id needs the key's secret in $" + SecretEnv},
		{with("-recovery-days", "3"), "-recovery-days 3: want 7 to 30"},
		{with("-recovery-days", "soon"), "-recovery-days"},
		{with("-delete-secret"), "-delete-secret needs -teardown"},
		{with("-teardown", "-rotate-now"), "-teardown removes rotation"},
		{with("-teardown=maybe"), "-teardown"},
		{with("-rotate-now=maybe"), "-rotate-now"},
		{with("-delete-secret=maybe"), "-delete-secret"},
		{with("-dry-run=maybe"), "-dry-run"},
		{with("-format", "yaml"), `-format "yaml"`},
		{with("-region", "Seoul"), `-region "Seoul"`},
		{with("-endpoint-url", "ftp://x"), "-endpoint-url"},
		{with("-timeout", "0s"), "-timeout 0s"},
		{with("-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{with("-print-policy=maybe"), "-print-policy"},
		{with("-profile", "nosuch"), `-profile "nosuch"`},
		{with("-teardown", "-function-arn", "x"), `-function-arn "x"`},
	} {
		r := runSetup(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		last := lines[len(lines)-1]
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "rotation-setup: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: rotation-setup") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	setup := []string{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetRolePolicy", "iam:GetUser", "iam:ListAccessKeys", "iam:PutRolePolicy",
		"lambda:AddPermission", "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:RemovePermission",
		"secretsmanager:CreateSecret", "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:RotateSecret"}
	teardown := []string{"iam:DeleteRolePolicy", "iam:GetRolePolicy", "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:RemovePermission",
		"secretsmanager:CancelRotateSecret", "secretsmanager:DescribeSecret"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, setup},
		{[]string{"-dry-run"}, setup},
		{[]string{"-teardown"}, teardown},
		{[]string{"-teardown", "-delete-secret"}, append(slices.Clone(teardown), "secretsmanager:DeleteSecret")},
		{[]string{"-kms-key-id", "arn:aws:kms:us-east-1:123456789012:key/k"}, append(slices.Clone(setup), "kms:Decrypt", "kms:GenerateDataKey")},
	} {
		got := clitest.Actions(clitest.PrintPolicy(t, "rotation-setup", run, tc.args...))
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// statementID is the invoke permission's statement ID SetupRotation uses
// for the secret name (keyrotate's resourceNames).
func statementID(name string) string {
	sum := sha256.Sum256([]byte(name))
	clean := strings.NewReplacer("/", "-", "+", "-", "=", "-", ",", "-", ".", "-", "@", "-").Replace(name)
	return "awsguard-keyrotate-" + clean + "-" + hex.EncodeToString(sum[:4])
}

// An operator holding exactly the printed policy sets up rotation (and
// tears it down), and fails without any one of its actions. moto checks
// the IAM and Secrets Manager calls; it cannot check Lambda's (its Lambda
// refuses every key while authentication is enforced) nor RotateSecret
// and CancelRotateSecret (faked: moto's would break the secret), so those
// go through a gate that allows exactly the policy's actions, as moto
// would. moto checks actions, not resources.
func TestLeastPrivilege(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	adminCfg := w.env.EnforceAuth()
	admin := iam.NewFromConfig(adminCfg)
	adminSM := secretsmanager.NewFromConfig(adminCfg)
	const operator = "rotation-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	w.env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	adminLambda := &gatedLambda{c: lambda.NewFromConfig(adminCfg), env: w.env}
	n := 0
	newUser := func(t *testing.T, name string) {
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("setup", func(t *testing.T) {
		// Three runs make every call of setup: one finds what an
		// interrupted run left (an empty secret, a key never stored) and a
		// permission statement that differs; the next finds it all done;
		// the third creates a secret.
		clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "rotation-setup", run), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			n++
			user, secret, fresh := fmt.Sprintf("app%d", n), fmt.Sprintf("a/key%d", n), fmt.Sprintf("c/key%d", n)
			newUser(t, user)
			newUser(t, "c"+user)
			if _, err := adminSM.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret),
				Description: aws.String("Access key of IAM user " + user + ", rotated by awsguard keyrotate")}); err != nil {
				t.Fatal(err)
			}
			if _, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}); err != nil {
				t.Fatal(err)
			}
			if _, err := adminLambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(w.fn), StatementId: aws.String(statementID(secret)),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("secretsmanager.amazonaws.com"),
				SourceArn: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:other")}); err != nil {
				t.Fatal(err)
			}
			clitest.PutUserPolicy(t, admin, operator, "rotation-setup", doc)
			clients := w.clientsWith(&gate{actions: clitest.Actions(doc)}, true)
			args := func(secret, user string) []string {
				return []string{"-secret-id", secret, "-user", user, "-function-arn", w.fn, "-format", "json"}
			}
			return []clitest.Result{
				runSetupWith(t, clients, args(secret, user)...),
				runSetupWith(t, clients, args(secret, user)...),
				runSetupWith(t, clients, args(fresh, "c"+user)...),
			}
		})
	})

	t.Run("teardown", func(t *testing.T) {
		clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "rotation-setup", run, "-teardown", "-delete-secret"), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			n++
			user, secret := fmt.Sprintf("app%d", n), fmt.Sprintf("t/key%d", n)
			newUser(t, user)
			cfg := keyrotate.RotationConfig{SecretID: secret, UserName: user, FunctionARN: w.fn, Schedule: "rate(30 days)"}
			if _, err := keyrotate.SetupRotation(ctx, w.clientsWith(nil, true)(adminCfg).setup, cfg); err != nil {
				t.Fatal(err)
			}
			clitest.PutUserPolicy(t, admin, operator, "rotation-setup", doc)
			return []clitest.Result{runSetupWith(t, w.clientsWith(&gate{actions: clitest.Actions(doc)}, true),
				"-teardown", "-delete-secret", "-recovery-days", "7", "-secret-id", secret, "-function-arn", w.fn)}
		})
	})
}

// failingLambda fails AddPermission with a server error.
type failingLambda struct{ keyrotate.SetupLambdaAPI }

func (failingLambda) AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "ServiceException", Message: "try later"}
}

// A step that stops half-way says that running it again carries out only
// what is left, and it does; a refusal before any change does not.
func TestRerunHint(t *testing.T) {
	w := newWorld(t)
	failing := func(cfg aws.Config) clients {
		c := w.clients(cfg)
		c.setup.Lambda = failingLambda{c.setup.Lambda}
		return c
	}
	r := runSetupWith(t, failing, w.args()...)
	if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "add-permission") ||
		!strings.Contains(r.Stderr, "run it again") || !strings.Contains(r.Stderr, "done and kept: ") {
		t.Errorf("failed step: code %d, stderr %q", r.Code, r.Stderr)
	}
	if r := runSetupWith(t, w.clients, w.args()...); r.Code != 0 || !strings.Contains(r.Stdout, "add-permission") || strings.Contains(r.Stdout, "create-secret") {
		t.Errorf("re-run: code %d, %s\n%s", r.Code, r.Stderr, r.Stdout)
	}
	r = runSetupWith(t, w.clients, "-secret-id", "b/key", "-user", "app", "-function-arn", w.fn+"x")
	if r.Code != 1 || strings.Contains(r.Stderr, "again") || !strings.Contains(r.Stderr, "-function-arn "+w.fn+"x: no such function") ||
		!strings.Contains(r.Stderr, "nothing was changed") {
		t.Errorf("missing function: code %d, stderr %q", r.Code, r.Stderr)
	}
	r = runSetupWith(t, w.clients, "-secret-id", "b/key", "-user", "nobody", "-function-arn", w.fn)
	if r.Code != 1 || strings.Contains(r.Stderr, "again") || !strings.Contains(r.Stderr, "nothing was changed") {
		t.Errorf("missing user: code %d, stderr %q", r.Code, r.Stderr)
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runSetup(t, "-secret-id", "app/key", "-user", "app", "-function-arn", fnARN, "-timeout", "30s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") || strings.Contains(r.Stderr, "again") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env := awstest.New(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	r := runSetup(t, "-secret-id", "app/key", "-user", "app", "-function-arn", fnARN, "-format", "json")
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, cli.CredentialsRefused) {
		t.Errorf("code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}
