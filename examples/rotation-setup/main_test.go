package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// smFakeRotate is moto's Secrets Manager except RotateSecret and
// CancelRotateSecret, which moto cannot do (it never runs the Lambda and
// breaks the secret): they are recorded, and DescribeSecret reports them.
type smFakeRotate struct {
	*smRotationState
	c *secretsmanager.Client
}

type smRotationState struct {
	enabled map[string]*secretsmanager.RotateSecretInput
	calls   int
}

func (s smFakeRotate) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := s.c.DescribeSecret(ctx, in, o...)
	if err != nil {
		return out, err
	}
	r := s.enabled[aws.ToString(out.ARN)]
	out.RotationEnabled = aws.Bool(r != nil)
	if r != nil {
		out.RotationLambdaARN, out.RotationRules = r.RotationLambdaARN, r.RotationRules
	}
	return out, nil
}

func (s smFakeRotate) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	s.calls++
	d, err := s.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	s.enabled[aws.ToString(d.ARN)] = in
	return &secretsmanager.RotateSecretOutput{ARN: d.ARN}, nil
}

func (s smFakeRotate) CancelRotateSecret(ctx context.Context, in *secretsmanager.CancelRotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error) {
	d, err := s.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	delete(s.enabled, aws.ToString(d.ARN))
	return &secretsmanager.CancelRotateSecretOutput{ARN: d.ARN}, nil
}

func (s smFakeRotate) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return s.c.GetSecretValue(ctx, in, o...)
}

func (s smFakeRotate) CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return s.c.CreateSecret(ctx, in, o...)
}

func (s smFakeRotate) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return s.c.PutSecretValue(ctx, in, o...)
}

func (s smFakeRotate) DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	return s.c.DeleteSecret(ctx, in, o...)
}

// world points the standard AWS configuration chain at moto and deploys a
// rotation function with its role, and a user.
type world struct {
	env   *awstest.Env
	fn    string
	state *smRotationState
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	ctx := context.Background()
	cfg := env.Config()
	iamAPI := iam.NewFromConfig(cfg)
	role, err := iamAPI.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("rotator-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iamAPI.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	f, _ := zw.Create("bootstrap")
	_, _ = f.Write([]byte("#!/bin/sh\n"))
	_ = zw.Close()
	fn, err := lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("rotator"), Role: role.Role.Arn,
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: z.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	return &world{env: env, fn: aws.ToString(fn.FunctionArn), state: &smRotationState{enabled: map[string]*secretsmanager.RotateSecretInput{}}}
}

func (w *world) clients(cfg aws.Config) clients {
	sm := smFakeRotate{smRotationState: w.state, c: secretsmanager.NewFromConfig(cfg)}
	return clients{
		setup:    keyrotate.SetupClients{SecretsManager: sm, IAM: iam.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)},
		teardown: keyrotate.TeardownClients{SecretsManager: sm, IAM: iam.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)},
	}
}

func (w *world) args(extra ...string) []string {
	return append([]string{"-secret-id", "app/key", "-user", "app", "-function-arn", w.fn, "-schedule", "rate(30 days)"}, extra...)
}

func TestRunDryRunJSON(t *testing.T) {
	w := newWorld(t)
	var out bytes.Buffer
	if err := run(context.Background(), w.args("-dry-run", "-format", "json"), &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var plan keyrotate.Setup
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		t.Fatalf("output is not a JSON plan: %v\n%s", err, out.String())
	}
	var kinds []string
	for _, a := range plan.Actions {
		kinds = append(kinds, a.Kind)
	}
	want := []string{"create-secret", "create-access-key", "put-secret-value", "put-role-policy", "add-permission", "enable-rotation"}
	if diff := cmp.Diff(want, kinds); diff != "" || !plan.DryRun || plan.Applied || plan.RoleName != "rotator-role" {
		t.Errorf("plan %+v (-want +got kinds):\n%s", plan, diff)
	}
	sm := secretsmanager.NewFromConfig(w.env.Config())
	if _, err := sm.DescribeSecret(context.Background(), &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/key")}); err == nil {
		t.Error("dry run created the secret")
	}
}

func TestRunSetupThenTeardown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	// An existing key, its secret passed through the environment.
	k, err := iam.NewFromConfig(w.env.Config()).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(SecretEnv, *k.AccessKey.SecretAccessKey)
	var out bytes.Buffer
	if err := runWith(ctx, w.args("-access-key-id", *k.AccessKey.AccessKeyId), &out, &bytes.Buffer{}, w.clients); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"setup of secret app/key\n", "create-secret", "put-role-policy", "add-permission", "enable-rotation", "done"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), *k.AccessKey.SecretAccessKey) {
		t.Error("output shows the secret")
	}
	if w.state.calls != 1 {
		t.Errorf("RotateSecret calls = %d", w.state.calls)
	}
	v, err := secretsmanager.NewFromConfig(w.env.Config()).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app/key"), VersionStage: aws.String("AWSCURRENT")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := keyrotate.DecodeSecretValue(aws.ToString(v.SecretString)); err != nil || got.AccessKeyID != *k.AccessKey.AccessKeyId || got.Secret.Reveal() != *k.AccessKey.SecretAccessKey {
		t.Errorf("stored %s, %v", got.AccessKeyID, err)
	}

	out.Reset()
	if err := runWith(ctx, w.args(), &out, &bytes.Buffer{}, w.clients); err != nil || !strings.Contains(out.String(), "nothing to do: already compliant") {
		t.Errorf("second run: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := runWith(ctx, w.args("-teardown"), &out, &bytes.Buffer{}, w.clients); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"teardown of secret app/key\n", "cancel-rotation", "remove-permission", "delete-role-policy"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("teardown output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := runWith(ctx, w.args("-teardown"), &out, &bytes.Buffer{}, w.clients); err != nil || !strings.Contains(out.String(), "nothing to do") {
		t.Errorf("second teardown: %v\n%s", err, out.String())
	}
}

func TestRunErrors(t *testing.T) {
	w := newWorld(t)
	t.Setenv(SecretEnv, "")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no secret", []string{"-user", "app", "-function-arn", w.fn}, "invalid -secret-id"},
		{"bad schedule", w.args("-schedule", "monthly"), "invalid -schedule"},
		{"bad format", w.args("-format", "yaml"), `-format "yaml"`},
		{"unknown flag", w.args("-frobnicate"), "flag provided but not defined"},
		{"stray argument", w.args("now"), `unexpected argument "now"`},
		{"key without secret", w.args("-access-key-id", "AKIAEXAMPLE"), SecretEnv},
		{"no such function", []string{"-secret-id", "app/key", "-user", "app", "-function-arn", w.fn + "x"}, "rotation function does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			var ie *awsguard.InputError
			if errors.As(err, &ie) && out.Len() != 0 {
				t.Errorf("printed %q on invalid input", out.String())
			}
		})
	}
}
