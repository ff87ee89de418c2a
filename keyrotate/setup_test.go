package keyrotate_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// smFakeRotation is the real moto Secrets Manager client except for
// RotateSecret and CancelRotateSecret, which moto cannot do (its
// RotateSecret never runs a Lambda and breaks the secret): they are
// recorded here, and DescribeSecret reports the rotation configuration
// they set.
type smFakeRotation struct {
	c       *secretsmanager.Client
	rotated *[]*secretsmanager.RotateSecretInput
	enabled map[string]*secretsmanager.RotateSecretInput // by secret ARN
	// RotateErr, if set, fails RotateSecret.
	RotateErr error
}

func newSMFakeRotation(c *secretsmanager.Client) *smFakeRotation {
	return &smFakeRotation{c: c, rotated: new([]*secretsmanager.RotateSecretInput), enabled: map[string]*secretsmanager.RotateSecretInput{}}
}

func (s *smFakeRotation) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := s.c.DescribeSecret(ctx, in, o...)
	if err != nil {
		return out, err
	}
	if r := s.enabled[aws.ToString(out.ARN)]; r != nil {
		out.RotationEnabled = aws.Bool(true)
		out.RotationLambdaARN = r.RotationLambdaARN
		out.RotationRules = r.RotationRules
	} else {
		out.RotationEnabled, out.RotationLambdaARN, out.RotationRules = aws.Bool(false), nil, nil
	}
	return out, nil
}

func (s *smFakeRotation) RotateSecret(ctx context.Context, in *secretsmanager.RotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	*s.rotated = append(*s.rotated, in)
	if s.RotateErr != nil {
		return nil, s.RotateErr
	}
	d, err := s.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	s.enabled[aws.ToString(d.ARN)] = in
	return &secretsmanager.RotateSecretOutput{ARN: d.ARN, Name: d.Name}, nil
}

func (s *smFakeRotation) CancelRotateSecret(ctx context.Context, in *secretsmanager.CancelRotateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error) {
	d, err := s.c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: in.SecretId}, o...)
	if err != nil {
		return nil, err
	}
	delete(s.enabled, aws.ToString(d.ARN))
	return &secretsmanager.CancelRotateSecretOutput{ARN: d.ARN, Name: d.Name}, nil
}

func (s *smFakeRotation) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return s.c.GetSecretValue(ctx, in, o...)
}

func (s *smFakeRotation) CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error) {
	return s.c.CreateSecret(ctx, in, o...)
}

func (s *smFakeRotation) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return s.c.PutSecretValue(ctx, in, o...)
}

func (s *smFakeRotation) DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	return s.c.DeleteSecret(ctx, in, o...)
}

// smSetupWorld is moto (authentication off: moto's Lambda rejects even
// valid keys while it is on) with one deployed rotation function per case.
type smSetupWorld struct {
	t    *testing.T
	env  *awstest.Env
	sm   *smFakeRotation
	iam  *iam.Client
	lamb *lambda.Client
}

// setupShared is the emulator state TestSetupOnMoto's cases share (a
// reset costs seconds); each case names its own user, secret and function.
var setupShared *smSetupWorld

// TestSetupOnMoto runs setup's moto tests on one emulator state, one
// after another.
func TestSetupOnMoto(t *testing.T) {
	setupShared = newSMSetupWorld(t)
	t.Cleanup(func() { setupShared = nil })
	for _, c := range []struct {
		name string
		run  func(*testing.T)
	}{
		{"SetupAndTeardownAgainstMoto", testSetupAndTeardownAgainstMoto},
		{"SetupUpdatesExistingSecret", testSetupUpdatesExistingSecret},
		{"SameScheduleFromDays", testSameScheduleFromDays},
		{"SetupAddPermissionConflict", testSetupAddPermissionConflict},
		{"SetupRotateSecretFails", testSetupRotateSecretFails},
	} {
		t.Run(c.name, c.run)
	}
}

func newSMSetupWorld(t *testing.T) *smSetupWorld {
	if s := setupShared; s != nil {
		w := *s
		w.t = t
		w.sm = newSMFakeRotation(s.sm.c) // the fake's record of rotation is per case
		return &w
	}
	env := awstest.New(t)
	cfg := env.Config()
	return &smSetupWorld{t: t, env: env, sm: newSMFakeRotation(secretsmanager.NewFromConfig(cfg)), iam: iam.NewFromConfig(cfg), lamb: lambda.NewFromConfig(cfg)}
}

// clients returns SetupClients whose moto calls carry the API options; the
// rotation fake is shared.
func (w *smSetupWorld) clients(opts ...func(*middleware.Stack) error) keyrotate.SetupClients {
	cfg := w.env.Config()
	cfg.APIOptions = append(cfg.APIOptions, opts...)
	sm := &smFakeRotation{c: secretsmanager.NewFromConfig(cfg), rotated: w.sm.rotated, enabled: w.sm.enabled}
	return keyrotate.SetupClients{SecretsManager: sm, IAM: iam.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)}
}

// deploy creates a user, a role and a function named after name; it
// returns the function's ARN.
func (w *smSetupWorld) deploy(name string) string {
	w.t.Helper()
	ctx := context.Background()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	role, err := w.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name + "-role"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		w.t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	fw, _ := zw.Create("bootstrap")
	_, _ = fw.Write([]byte("#!/bin/sh\n"))
	_ = zw.Close()
	fn, err := w.lamb.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name + "-rotator"), Role: role.Role.Arn, Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Code: &lambdatypes.FunctionCode{ZipFile: zipped.Bytes()},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(fn.FunctionArn)
}

func (w *smSetupWorld) newKey(user string) keyrotate.AccessKey {
	w.t.Helper()
	out, err := w.iam.CreateAccessKey(context.Background(), &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		w.t.Fatal(err)
	}
	return keyrotate.AccessKey{UserName: user, AccessKeyID: *out.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*out.AccessKey.SecretAccessKey)}
}

func (w *smSetupWorld) current(secret string) keyrotate.AccessKey {
	w.t.Helper()
	out, err := w.sm.GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret), VersionStage: aws.String(keyrotate.StageCurrent)})
	if err != nil {
		w.t.Fatal(err)
	}
	k, err := keyrotate.DecodeSecretValue(aws.ToString(out.SecretString))
	if err != nil {
		w.t.Fatal(err)
	}
	return k
}

func (w *smSetupWorld) rolePolicy(role, name string) (string, bool) {
	w.t.Helper()
	out, err := w.iam.GetRolePolicy(context.Background(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(name)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return "", false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	return doc, true
}

// invokeStatement returns the function policy's statement sid, or nil.
func (w *smSetupWorld) invokeStatement(fn, sid string) map[string]any {
	w.t.Helper()
	out, err := w.lamb.GetPolicy(context.Background(), &lambda.GetPolicyInput{FunctionName: aws.String(fn)})
	var rnf *lambdatypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil
	}
	if err != nil {
		w.t.Fatal(err)
	}
	var doc struct{ Statement []map[string]any }
	if err := json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc); err != nil {
		w.t.Fatal(err)
	}
	for _, s := range doc.Statement {
		if s["Sid"] == sid {
			return s
		}
	}
	return nil
}

func kinds(p *keyrotate.Setup) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Kind+fmt.Sprint(map[bool]string{true: "+", false: ""}[a.Outcome == awsguard.OutcomeDone]))
	}
	return out
}

func testSetupAndTeardownAgainstMoto(t *testing.T) {
	w := newSMSetupWorld(t)
	fn := w.deploy("app")
	ctx := context.Background()
	c := w.clients()
	cfg := keyrotate.RotationConfig{SecretID: "app/key", UserName: "app", FunctionARN: fn, Schedule: "rate(30 days)"}
	dry := func(o *keyrotate.SetupOptions) { o.DryRun = true }

	plan, err := keyrotate.SetupRotation(ctx, c, cfg, dry)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{keyrotate.ActionCreateSecret, keyrotate.ActionCreateAccessKey, keyrotate.ActionPutSecretValue, keyrotate.ActionPutRolePolicy, keyrotate.ActionAddPermission, keyrotate.ActionEnableRotation}
	if diff := cmp.Diff(want, kinds(plan)); diff != "" {
		t.Fatalf("dry-run plan (-want +got):\n%s", diff)
	}
	// PlanSetup, with read-only clients, returns the same plan.
	planned, err := keyrotate.PlanSetup(ctx, c.Plan(), cfg)
	if err != nil || !planned.DryRun || planned.Reason != awsguard.ReasonDryRun {
		t.Fatalf("PlanSetup = %+v, %v", planned, err)
	}
	if diff := cmp.Diff(kinds(plan), kinds(planned)); diff != "" {
		t.Errorf("PlanSetup (-dry run +PlanSetup):\n%s", diff)
	}
	if _, err := w.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/key")}); err == nil {
		t.Fatal("dry run created the secret")
	}
	if keys, _ := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("app")}); len(keys.AccessKeyMetadata) != 0 {
		t.Fatal("dry run created a key")
	}

	plan, err = keyrotate.SetupRotation(ctx, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i] += "+"
	}
	if diff := cmp.Diff(want, kinds(plan)); diff != "" {
		t.Errorf("applied plan (-want +got):\n%s", diff)
	}
	if !plan.Applied || plan.RoleName != "app-role" || plan.UserARN != "arn:aws:iam::123456789012:user/app" {
		t.Errorf("plan = %+v", plan)
	}
	cur := w.current("app/key")
	keys, _ := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("app")})
	if len(keys.AccessKeyMetadata) != 1 || *keys.AccessKeyMetadata[0].AccessKeyId != cur.AccessKeyID {
		t.Errorf("secret holds %s, user has %+v", cur.AccessKeyID, keys.AccessKeyMetadata)
	}
	doc, ok := w.rolePolicy("app-role", plan.PolicyName)
	if !ok {
		t.Fatal("no role policy")
	}
	var gotDoc, wantDoc any
	_ = json.Unmarshal([]byte(doc), &gotDoc)
	_ = json.Unmarshal([]byte(keyrotate.RotationPolicy(plan.SecretARN, plan.UserARN, "")), &wantDoc)
	if diff := cmp.Diff(wantDoc, gotDoc); diff != "" {
		t.Errorf("role policy (-want +got):\n%s", diff)
	}
	st := w.invokeStatement(fn, plan.StatementID)
	wantSt := map[string]any{
		"Sid": plan.StatementID, "Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": fn,
		"Principal": map[string]any{"Service": "secretsmanager.amazonaws.com"},
		"Condition": map[string]any{"ArnLike": map[string]any{"AWS:SourceArn": plan.SecretARN}, "StringEquals": map[string]any{"AWS:SourceAccount": "123456789012"}},
	}
	if diff := cmp.Diff(wantSt, st); diff != "" {
		t.Errorf("invoke permission (-want +got):\n%s", diff)
	}
	if len(*w.sm.rotated) != 1 {
		t.Fatalf("RotateSecret calls = %d", len(*w.sm.rotated))
	}
	r := (*w.sm.rotated)[0]
	if aws.ToString(r.SecretId) != plan.SecretARN || aws.ToString(r.RotationLambdaARN) != fn ||
		aws.ToString(r.RotationRules.ScheduleExpression) != "rate(30 days)" || aws.ToBool(r.RotateImmediately) {
		t.Errorf("RotateSecret input = %+v", r)
	}

	// Idempotent: nothing to do, no change made.
	again, err := keyrotate.SetupRotation(ctx, c, cfg)
	if err != nil || len(again.Actions) != 0 || again.Applied || again.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("second setup = %+v, %v", again, err)
	}

	// Teardown, in reverse order.
	td, err := keyrotate.TeardownRotation(ctx, tdClients(c), cfg.Teardown(), tdDry)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{keyrotate.ActionCancelRotation, keyrotate.ActionRemovePermission, keyrotate.ActionDeleteRolePolicy}, kinds(td)); diff != "" {
		t.Errorf("teardown dry run (-want +got):\n%s", diff)
	}
	td, err = keyrotate.TeardownRotation(ctx, tdClients(c), cfg.Teardown())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{keyrotate.ActionCancelRotation + "+", keyrotate.ActionRemovePermission + "+", keyrotate.ActionDeleteRolePolicy + "+"}, kinds(td)); diff != "" {
		t.Errorf("teardown (-want +got):\n%s", diff)
	}
	if _, ok := w.rolePolicy("app-role", plan.PolicyName); ok {
		t.Error("role policy left")
	}
	if w.invokeStatement(fn, plan.StatementID) != nil {
		t.Error("invoke permission left")
	}
	if len(w.sm.enabled) != 0 {
		t.Error("rotation still enabled")
	}
	if w.current("app/key").AccessKeyID != cur.AccessKeyID {
		t.Error("teardown changed the secret")
	}
	again, err = keyrotate.TeardownRotation(ctx, tdClients(c), cfg.Teardown())
	if err != nil || len(again.Actions) != 0 || again.Reason == "" {
		t.Errorf("second teardown = %+v, %v", again, err)
	}
	// With DeleteSecret, the secret is scheduled for deletion.
	td, err = keyrotate.TeardownRotation(ctx, tdClients(c), cfg.Teardown(), func(o *keyrotate.TeardownOptions) { o.DeleteSecret = true; o.RecoveryWindowDays = 7 })
	if err != nil || len(td.Actions) != 1 || td.Actions[0].Kind != keyrotate.ActionDeleteSecret {
		t.Errorf("teardown with DeleteSecret = %+v, %v", td, err)
	}
}

// An existing secret gets the given key as AWSCURRENT, keeping its other
// members; a customer managed KMS key enters the policy.
func testSetupUpdatesExistingSecret(t *testing.T) {
	w := newSMSetupWorld(t)
	fn := w.deploy("svc")
	ctx := context.Background()
	old := w.newKey("svc")
	const kmsKey = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	doc, _ := keyrotate.EncodeSecretValue(old, `{"Endpoint":"https://example.com"}`)
	if _, err := w.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("svc"), SecretString: aws.String(doc), KmsKeyId: aws.String(kmsKey)}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("svc"), AccessKeyId: aws.String(old.AccessKeyID)}); err != nil {
		t.Fatal(err)
	}
	key := w.newKey("svc")
	cfg := keyrotate.RotationConfig{SecretID: "svc", UserName: "svc", FunctionARN: fn, Schedule: "cron(0 4 1 * ? *)", Key: &key}
	plan, err := keyrotate.SetupRotation(ctx, w.clients(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"put-secret-value+", "put-role-policy+", "add-permission+", "enable-rotation+"}, kinds(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if got := w.current("svc"); !cmp.Equal(got, key) {
		t.Errorf("AWSCURRENT = %s, want %s", got.AccessKeyID, key.AccessKeyID)
	}
	raw, _ := w.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("svc"), VersionStage: aws.String(keyrotate.StageCurrent)})
	var m map[string]string
	_ = json.Unmarshal([]byte(aws.ToString(raw.SecretString)), &m)
	if m["Endpoint"] != "https://example.com" {
		t.Errorf("other members lost: %v", m["Endpoint"])
	}
	pol, _ := w.rolePolicy("svc-role", plan.PolicyName)
	var gotDoc, wantDoc any
	_ = json.Unmarshal([]byte(pol), &gotDoc)
	_ = json.Unmarshal([]byte(keyrotate.RotationPolicy(plan.SecretARN, plan.UserARN, kmsKey)), &wantDoc)
	if diff := cmp.Diff(wantDoc, gotDoc); diff != "" {
		t.Errorf("role policy (-want +got):\n%s", diff)
	}
	if !bytes.Contains([]byte(pol), []byte(`"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"`)) {
		t.Errorf("policy lacks the KMS statement: %s", pol)
	}
}

func TestSetupRefusals(t *testing.T) {
	w := newSMSetupWorld(t)
	fn := w.deploy("app")
	ctx := context.Background()
	w.newKey("app") // a key the secret will not hold
	stored := w.newKey("app")
	good := keyrotate.RotationConfig{SecretID: "app/key", UserName: "app", FunctionARN: fn, Schedule: "rate(30 days)", Key: &stored}
	with := func(f func(*keyrotate.RotationConfig)) keyrotate.RotationConfig { c := good; f(&c); return c }
	otherKey := keyrotate.AccessKey{UserName: "bob", AccessKeyID: "AKIA", Secret: awsguard.NewSecret("x")}
	tests := []struct {
		name  string
		cfg   keyrotate.RotationConfig
		field string
		want  error
	}{
		{"no secret", with(func(c *keyrotate.RotationConfig) { c.SecretID = "" }), "RotationConfig.SecretID", nil},
		{"bad user", with(func(c *keyrotate.RotationConfig) { c.UserName = "a b" }), "RotationConfig.UserName", nil},
		{"bad function", with(func(c *keyrotate.RotationConfig) { c.FunctionARN = "rotator" }), "RotationConfig.FunctionARN", nil},
		{"bad schedule", with(func(c *keyrotate.RotationConfig) { c.Schedule = "every month" }), "RotationConfig.Schedule", nil},
		{"key of another user", with(func(c *keyrotate.RotationConfig) { c.Key = &otherKey }), "RotationConfig.Key", nil},
		{"kms not an ARN", with(func(c *keyrotate.RotationConfig) { c.KMSKeyID = "alias/mine" }), "RotationConfig.KMSKeyID", nil},
		{"user holds a stray key", good, "", keyrotate.ErrUserNotDedicated},
		{"no such function", with(func(c *keyrotate.RotationConfig) { c.FunctionARN = fn + "-gone" }), "", keyrotate.ErrFunctionNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := apicalls.New()
			c := w.clients(calls.APIOption)
			plan, err := keyrotate.SetupRotation(ctx, c, tt.cfg)
			if plan != nil {
				t.Errorf("plan = %+v", plan)
			}
			if tt.field != "" {
				var ie *awsguard.InputError
				if !errors.As(err, &ie) || ie.Field != tt.field {
					t.Fatalf("err = %v, want InputError on %s", err, tt.field)
				}
				if calls.Total() != 0 {
					t.Errorf("made %d calls before validating", calls.Total())
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := w.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("app/key")}); err == nil {
		t.Error("a refused setup created the secret")
	}
	if len(*w.sm.rotated) != 0 {
		t.Error("a refused setup enabled rotation")
	}
}

// A fault at any call of SetupRotation, then a re-run: the re-run
// completes the setup, the secret holds the user's only key, and a third
// run finds nothing to do. Two starting points: a key given to store, and
// a user without keys (SetupRotation makes the key).
func TestSetupFaultSweep(t *testing.T) {
	w := newSMSetupWorld(t)
	ctx := context.Background()
	n := 0
	points := 0
	for _, giveKey := range []bool{true, false} {
		prepare := func() keyrotate.RotationConfig {
			n++
			name := fmt.Sprintf("f%d", n)
			cfg := keyrotate.RotationConfig{SecretID: name + "/key", UserName: name, FunctionARN: w.deploy(name), Schedule: "rate(7 days)"}
			if giveKey {
				key := w.newKey(name)
				cfg.Key = &key
			}
			return cfg
		}
		probe := fault.New()
		if _, err := keyrotate.SetupRotation(ctx, w.clients(probe.APIOption), prepare()); err != nil {
			t.Fatal(err)
		}
		calls := probe.Calls()
		for k := 1; k <= len(calls); k++ {
			for _, kind := range faultKinds(calls[k-1].Service, calls[k-1].Operation) {
				t.Run(fmt.Sprintf("key=%v/%s.%s#%d/%s", giveKey, calls[k-1].Service, calls[k-1].Operation, k, kind), func(t *testing.T) {
					cfg := prepare()
					inj := fault.New(fault.Rule{Nth: k, Kind: kind})
					if _, err := keyrotate.SetupRotation(ctx, w.clients(inj.APIOption), cfg); err == nil {
						t.Fatal("no error from the faulted run")
					}
					if _, err := keyrotate.SetupRotation(ctx, w.clients(), cfg); err != nil {
						t.Fatalf("re-run: %v", err)
					}
					plan, err := keyrotate.SetupRotation(ctx, w.clients(), cfg)
					if err != nil || len(plan.Actions) != 0 {
						t.Fatalf("third run = %v, %v", kinds(plan), err)
					}
					got := w.current(cfg.SecretID)
					if cfg.Key != nil && !cmp.Equal(got, *cfg.Key) {
						t.Errorf("AWSCURRENT = %s", got.AccessKeyID)
					}
					keys, err := w.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(cfg.UserName)})
					if err != nil {
						t.Fatal(err)
					}
					if len(keys.AccessKeyMetadata) != 1 || aws.ToString(keys.AccessKeyMetadata[0].AccessKeyId) != got.AccessKeyID {
						t.Errorf("user keys %d, secret holds %s", len(keys.AccessKeyMetadata), got.AccessKeyID)
					}
				})
				points++
			}
		}
	}
	t.Logf("setup fault points covered: %d", points)
	if points == 0 {
		t.Error("the sweep covered no fault point")
	}
}

func testSameScheduleFromDays(t *testing.T) {
	// Secrets Manager may answer a rate in days as AutomaticallyAfterDays;
	// setup then finds nothing to change.
	w := newSMSetupWorld(t)
	fn := w.deploy("d")
	ctx := context.Background()
	key := w.newKey("d")
	cfg := keyrotate.RotationConfig{SecretID: "d", UserName: "d", FunctionARN: fn, Schedule: "rate(10 days)", Key: &key}
	c := w.clients()
	if _, err := keyrotate.SetupRotation(ctx, c, cfg); err != nil {
		t.Fatal(err)
	}
	for arn, in := range w.sm.enabled {
		w.sm.enabled[arn] = &secretsmanager.RotateSecretInput{RotationLambdaARN: in.RotationLambdaARN, RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(10)}}
	}
	plan, err := keyrotate.SetupRotation(ctx, c, cfg)
	if err != nil || len(plan.Actions) != 0 {
		t.Errorf("plan %v, %v; want nothing to do", kinds(plan), err)
	}
}

// tdClients returns the TeardownClients of the same clients.
func tdClients(c keyrotate.SetupClients) keyrotate.TeardownClients {
	return keyrotate.TeardownClients{SecretsManager: c.SecretsManager.(keyrotate.TeardownSecretsAPI), IAM: c.IAM.(keyrotate.TeardownIAMAPI), Lambda: c.Lambda.(keyrotate.TeardownLambdaAPI)}
}

func tdDry(o *keyrotate.TeardownOptions) { o.DryRun = true }
