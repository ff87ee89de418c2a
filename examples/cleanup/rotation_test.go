package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

// smFakeRotate is moto's Secrets Manager but for rotation, which moto
// cannot do (RotateSecret never runs the Lambda and breaks the secret;
// see examples/rotation-setup): RotateSecret and CancelRotateSecret are
// recorded, and DescribeSecret and ListSecrets report them. As in AWS, a
// cancelled rotation keeps its function's ARN with rotation off.
type smFakeRotate struct {
	*secretsmanager.Client
	st *rotationState
}

type rotationState struct {
	fn      map[string]string // secret ARN: rotation function
	on      map[string]bool   // secret ARN: rotation enabled
	cancels int
}

func (s smFakeRotate) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := s.Client.DescribeSecret(ctx, in, o...)
	if err != nil {
		return out, err
	}
	arn := aws.ToString(out.ARN)
	out.RotationEnabled = aws.Bool(s.st.on[arn])
	if fn := s.st.fn[arn]; fn != "" {
		out.RotationLambdaARN = aws.String(fn)
	}
	return out, nil
}

func (s smFakeRotate) ListSecrets(ctx context.Context, in *secretsmanager.ListSecretsInput, o ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error) {
	out, err := s.Client.ListSecrets(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for i := range out.SecretList {
		e := &out.SecretList[i]
		arn := aws.ToString(e.ARN)
		e.RotationEnabled = aws.Bool(s.st.on[arn])
		if fn := s.st.fn[arn]; fn != "" {
			e.RotationLambdaARN = aws.String(fn)
		}
	}
	return out, nil
}

func (s smFakeRotate) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	d, err := s.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	s.st.fn[aws.ToString(d.ARN)], s.st.on[aws.ToString(d.ARN)] = aws.ToString(in.RotationLambdaARN), true
	return &secretsmanager.RotateSecretOutput{ARN: d.ARN}, nil
}

func (s smFakeRotate) CancelRotateSecret(ctx context.Context, in *secretsmanager.CancelRotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error) {
	d, err := s.Client.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	s.st.cancels++
	s.st.on[aws.ToString(d.ARN)] = false
	return &secretsmanager.CancelRotateSecretOutput{ARN: d.ARN}, nil
}

// withFakeRotation returns newClients with Secrets Manager's rotation
// faked on st.
func withFakeRotation(st *rotationState) func(aws.Config) clients {
	return func(cfg aws.Config) clients {
		c := newClients(cfg)
		c.secrets = smFakeRotate{Client: secretsmanager.NewFromConfig(cfg), st: st}
		return c
	}
}

// rotationWorld deploys a rotation function with its role, sets up
// awsguard's rotation of app/key by it (keyrotate.SetupRotation), and
// rotates their/key by the same function as someone else would: no
// awsguard policy, their own invoke permission.
func rotationWorld(t *testing.T, cfg aws.Config, st *rotationState) string {
	t.Helper()
	ctx := context.Background()
	api := iam.NewFromConfig(cfg)
	role, err := api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("rotator-role"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(t, err)
	_, err = api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")})
	must(t, err)
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	f, _ := zw.Create("bootstrap")
	_, _ = f.Write([]byte("#!/bin/sh\n"))
	must(t, zw.Close())
	lam := lambda.NewFromConfig(cfg)
	fn, err := lam.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("rotator"), Role: role.Role.Arn,
		Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: z.Bytes()}})
	must(t, err)
	arn := aws.ToString(fn.FunctionArn)
	sm := smFakeRotate{Client: secretsmanager.NewFromConfig(cfg), st: st}
	_, err = keyrotate.SetupRotation(ctx, keyrotate.SetupClients{SecretsManager: sm, IAM: api, Lambda: lam},
		keyrotate.RotationConfig{SecretID: "app/key", UserName: "app", FunctionARN: arn, Schedule: "rate(30 days)"})
	must(t, err)
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("their/key"), SecretString: aws.String(`{"k":"v"}`)})
	must(t, err)
	_, err = sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{SecretId: aws.String("their/key"), RotationLambdaARN: aws.String(arn)})
	must(t, err)
	_, err = lam.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(arn), StatementId: aws.String("theirs"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("secretsmanager.amazonaws.com")})
	must(t, err)
	return arn
}

// rotations lists the rotation state: which secrets rotate, the role's
// inline policies, the function's permission statements.
func rotations(t *testing.T, cfg aws.Config, st *rotationState, fn string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	sm := smFakeRotate{Client: secretsmanager.NewFromConfig(cfg), st: st}
	for _, id := range []string{"app/key", "their/key"} {
		d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(id)})
		must(t, err)
		out = append(out, id+" rotation "+map[bool]string{true: "on", false: "off"}[aws.ToBool(d.RotationEnabled)])
	}
	pols, err := iam.NewFromConfig(cfg).ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("rotator-role")})
	must(t, err)
	for _, p := range pols.PolicyNames {
		out = append(out, "role policy "+p)
	}
	lp, err := lambda.NewFromConfig(cfg).GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	if err == nil {
		var doc struct{ Statement []struct{ Sid string } }
		must(t, json.Unmarshal([]byte(aws.ToString(lp.Policy)), &doc))
		for _, s := range doc.Statement {
			out = append(out, "permission "+s.Sid)
		}
	}
	slices.Sort(out)
	return out
}

func runRotationJSON(t *testing.T, st *rotationState, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := runWith(context.Background(), append([]string{"-format", "json"}, args...), &out, &errOut, withFakeRotation(st)); err != nil {
		t.Fatalf("cleanup %v: %v (stderr %q)", args, err, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	return res
}

// cleanup removes the rotation keyrotate.SetupRotation set up (with
// -allow-weaken: it stops the key's rotation) and leaves a rotation by
// the same function that someone else set up, reporting it as not
// awsguard's; the dry run and a run without -allow-weaken change
// nothing; an interruption at any of the removal's calls loses nothing;
// a second run makes no mutating call.
func TestCleanupRotation(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	cfg := env.Config()
	st := &rotationState{fn: map[string]string{}, on: map[string]bool{}}
	fn := rotationWorld(t, cfg, st)
	set := rotations(t, cfg, st, fn)
	sid := ""
	for _, s := range set {
		if rest, ok := strings.CutPrefix(s, "permission awsguard-keyrotate-"); ok {
			sid = "awsguard-keyrotate-" + rest
		}
	}
	if sid == "" || !slices.Contains(set, "app/key rotation on") || !slices.Contains(set, "their/key rotation on") || !slices.Contains(set, "permission theirs") {
		t.Fatalf("the setup left %q", set)
	}
	foreign := func(r string) bool {
		return strings.Contains(r, "their/key") && strings.Contains(r, "not set up by awsguard")
	}

	dry := runRotationJSON(t, st, "-dry-run", "-allow-weaken")
	i := slices.IndexFunc(dry.Steps, func(s Step) bool { return s.What == "rotation of secret app/key" })
	if i < 0 {
		t.Fatalf("the dry run does not list app/key's rotation: %+v", dry.Steps)
	}
	var kinds []string
	for _, a := range dry.Steps[i].Plan.Actions {
		kinds = append(kinds, a.Kind)
	}
	if d := cmp.Diff([]string{keyrotate.ActionCancelRotation, keyrotate.ActionRemovePermission, keyrotate.ActionDeleteRolePolicy}, kinds); d != "" || !dry.Steps[i].Plan.DryRun {
		t.Errorf("dry-run plan of app/key (-want +got):\n%s", d)
	}
	if slices.ContainsFunc(dry.Steps, func(s Step) bool { return strings.Contains(s.What, "their/key") }) || !slices.ContainsFunc(dry.Remains, foreign) {
		t.Errorf("the dry run plans their/key's rotation or does not report it as not awsguard's: %+v", dry)
	}
	if d := cmp.Diff(set, rotations(t, cfg, st, fn)); d != "" || st.cancels != 0 {
		t.Fatalf("the dry run changed the rotations (-before +after, %d cancels):\n%s", st.cancels, d)
	}

	kept := runRotationJSON(t, st)
	if !slices.ContainsFunc(kept.Remains, func(r string) bool { return strings.Contains(r, "app/key") && strings.Contains(r, "-allow-weaken") }) {
		t.Errorf("without -allow-weaken, remains lack app/key's rotation: %q", kept.Remains)
	}
	if d := cmp.Diff(set, rotations(t, cfg, st, fn)); d != "" || st.cancels != 0 {
		t.Fatalf("without -allow-weaken, the rotations changed (-before +after):\n%s", d)
	}

	start := time.Now()
	points := sweep(t, cfg, options{allowWeaken: true}, withFakeRotation(st))
	t.Logf("sweep: %d points in %v", points, time.Since(start))
	if points < 2 {
		t.Errorf("the fault sweep covered %d mutating calls, want RemovePermission and DeleteRolePolicy", points)
	}
	want := slices.DeleteFunc(slices.Clone(set), func(s string) bool {
		return s == "permission "+sid || strings.HasPrefix(s, "role policy awsguard-keyrotate-")
	})
	want[slices.Index(want, "app/key rotation on")] = "app/key rotation off"
	slices.Sort(want)
	if d := cmp.Diff(want, rotations(t, cfg, st, fn)); d != "" {
		t.Errorf("after cleanup (-want +got):\n%s", d)
	}

	calls := apicalls.New()
	counted := cfg.Copy()
	counted.APIOptions = append(counted.APIOptions, calls.APIOption)
	cancels := st.cancels
	again, err := clean(context.Background(), withFakeRotation(st)(counted), options{allowWeaken: true})
	must(t, err)
	for k, n := range calls.Counts() {
		if !readOnly("x:" + k.Operation) {
			t.Errorf("a second cleanup called %s %d times", k, n)
		}
	}
	if st.cancels != cancels || slices.ContainsFunc(again.Steps, func(s Step) bool { return !s.Plan.NothingToDo() }) || !slices.ContainsFunc(again.Remains, foreign) {
		t.Errorf("a second cleanup: %d more cancels, %+v", st.cancels-cancels, again)
	}
}
