package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/keyrotate"
)

func runLambda(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "rotation-lambda", run, args...)
}

// noStart makes the test fail if the program starts the Lambda loop.
func noStart(t *testing.T) {
	saved := start
	t.Cleanup(func() { start = saved })
	start = func(any) { t.Error("the Lambda runtime loop was started") }
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	noStart(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runLambda(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: rotation-lambda", "Secrets Manager", "provided.al2023", "handler bootstrap", "GOOS=linux",
			"execution", "AWSLambdaBasicExecutionRole", "rotation-setup -secret-id", "-print-policy"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// Outside Lambda it says what it is and how to deploy it, and exits 2.
func TestOutsideLambda(t *testing.T) {
	calls := clitest.Offline(t)
	noStart(t)
	t.Setenv(RuntimeEnv, "")
	r := runLambda(t)
	lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
	if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "provided.al2023") ||
		lines[len(lines)-1] != "rotation-lambda: not running in AWS Lambda (AWS_LAMBDA_RUNTIME_API is not set): deploy it as above" {
		t.Errorf("code %d, stdout %q, stderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("made %d calls", n)
	}
}

func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	noStart(t)
	t.Setenv(RuntimeEnv, "127.0.0.1:9")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-format", "json"}, "-format"},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "localhost:4566"}, "-endpoint-url"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-print-policy=maybe"}, "-print-policy"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runLambda(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.Stderr), "\n")
		last := lines[len(lines)-1]
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "rotation-lambda: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: rotation-lambda") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	noStart(t)
	t.Setenv(RuntimeEnv, "")
	want := []string{"iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey",
		"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
	if got := clitest.Actions(clitest.PrintPolicy(t, "rotation-lambda", run)); !slices.Equal(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	// The role's policy rotation-setup puts holds the same actions.
	rp, err := awsguard.ParsePolicyDocument(keyrotate.RotationPolicy("arn:aws:secretsmanager:us-east-1:1:secret:x", "arn:aws:iam::1:user/app", ""))
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, st := range rp.Statement.List {
		acts = append(acts, st.Action.Values...)
	}
	if slices.Sort(acts); !slices.Equal(slices.Compact(acts), want) {
		t.Errorf("RotationPolicy actions = %v, want %v", acts, want)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// The program, started as Lambda would start it, runs the four steps as a
// role holding exactly the printed policy (here a user: moto checks
// actions, not resources), and fails without any one of its actions.
// Secrets Manager is moto's plus the started rotation moto cannot make
// (smStartedRotation); every call still goes to moto, signed with the
// user's key.
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	adminCfg := env.EnforceAuth()
	admin := iam.NewFromConfig(adminCfg)
	adminSM := secretsmanager.NewFromConfig(adminCfg)
	ctx := context.Background()
	const role = "rotation-role"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(role)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv(RuntimeEnv, "127.0.0.1:9")
	savedStart, savedSecrets := start, newSecrets
	t.Cleanup(func() { start, newSecrets = savedStart, savedSecrets })
	n := 0
	clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "rotation-lambda", run), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		n++
		user, secret, token := fmt.Sprintf("app%d", n), fmt.Sprintf("app/key%d", n), fmt.Sprintf("6c1c7f4e-0000-4000-8000-%012d", n)
		if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
		if err != nil {
			t.Fatal(err)
		}
		doc0, _ := keyrotate.EncodeSecretValue(keyrotate.AccessKey{UserName: user, AccessKeyID: *k.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*k.AccessKey.SecretAccessKey)}, "")
		if _, err := adminSM.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret), SecretString: aws.String(doc0)}); err != nil {
			t.Fatal(err)
		}
		// A stray key made moments ago and never used: createSecret reads
		// its last use and removes it.
		if _, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)}); err != nil {
			t.Fatal(err)
		}
		clitest.PutUserPolicy(t, admin, role, "rotation", doc)

		newSecrets = func(cfg aws.Config) keyrotate.HandlerSecretsAPI {
			return &smStartedRotation{c: secretsmanager.NewFromConfig(cfg), token: token}
		}
		var steps []error
		start = func(h any) {
			fn := h.(func(context.Context, events.SecretsManagerSecretRotationEvent) error)
			for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err := fn(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: secret, ClientRequestToken: token})
				cancel()
				if err != nil {
					steps = append(steps, fmt.Errorf("%s: %w", step, err))
					break
				}
			}
		}
		r := runLambda(t)
		if err := errors.Join(steps...); err != nil && r.Code == 0 {
			r.Code, r.Stderr = 1, err.Error()
		}
		return []clitest.Result{r}
	})
}
