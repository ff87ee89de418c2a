package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func statuses(r *awsguard.Report) map[string]awsguard.Status {
	m := map[string]awsguard.Status{}
	for _, f := range r.Findings {
		m[f.Check+" "+f.Resource] = f.Status
	}
	return m
}

// The local demo seeds a weak account, fixes it and shows the difference:
// exactly the findings the fixes address turn from FAIL to PASS.
func TestLocalDemoJSON(t *testing.T) {
	awstest.New(t) // skips, or fails under AWSGUARD_REQUIRE_MOTO=1, without moto
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	var out struct {
		Mode    string           `json:"mode"`
		Before  *awsguard.Report `json:"before"`
		Changes []string         `json:"changes"`
		After   *awsguard.Report `json:"after"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("stdout is not the JSON form: %v\n%s", err, stdout.String())
	}
	if out.Mode != "local" || out.After == nil || len(out.Changes) != 8 {
		t.Fatalf("mode %q, after %v, changes %q", out.Mode, out.After != nil, out.Changes)
	}
	before, after := statuses(out.Before), statuses(out.After)
	changed := map[string]string{}
	for k, b := range before {
		if a := after[k]; a != b {
			changed[k] = string(b) + "->" + string(a)
		}
	}
	const acct = "arn:aws:iam::123456789012:"
	want := map[string]string{
		"iam.password_policy " + acct + "account-password-policy":   "FAIL->PASS",
		"iam.user.access_key_rotation " + acct + "user/ci-deployer": "FAIL->PASS",
		"iam.user.access_key_unused " + acct + "user/ci-deployer":   "FAIL->PASS",
		"iam.user.console_mfa " + acct + "user/alice":               "FAIL->PASS",
		"iam.user.console_mfa " + acct + "user/bob":                 "FAIL->PASS",
		"iam.user.direct_policies " + acct + "user/carol":           "FAIL->PASS",
	}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("findings changed by the fixes (-want +got):\n%s", diff)
	}
	// What the API cannot fix stays visible.
	if k := "iam.root.mfa " + acct + "root"; before[k] != awsguard.StatusFail || after[k] != awsguard.StatusFail {
		t.Errorf("%s: before %s, after %s; want FAIL, FAIL", k, before[k], after[k])
	}
	if strings.Contains(stdout.String(), "demo-secret") {
		t.Error("output contains a secret")
	}
}

func TestLocalDemoText(t *testing.T) {
	awstest.New(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), nil, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	for _, want := range []string{`Fixes applied:`, `BEFORE\s+AFTER\s+SEVERITY`, `FAIL\s+PASS\s+MEDIUM\s+iam.password_policy .*<- changed`, `before: 23 findings`, `after:  23 findings`} {
		if !regexp.MustCompile(want).MatchString(stdout.String()) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-fix"}, {"-format", "xml"}, {"extra"}} {
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err == nil {
			t.Errorf("run(%q) accepted", args)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) wrote to stdout: %s", args, stdout.String())
		}
	}
}

// A local dry run plans the fixes and changes nothing: no after report.
func TestLocalDemoDryRun(t *testing.T) {
	awstest.New(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-dry-run", "-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	var out struct {
		Changes []string         `json:"changes"`
		After   *awsguard.Report `json:"after"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.After != nil {
		t.Error("a dry run printed an after report")
	}
	if len(out.Changes) == 0 || !strings.Contains(out.Changes[0], "dry run") {
		t.Errorf("changes = %q, want the password policy plan first, marked dry run", out.Changes)
	}
}

// -aws reads the account of the standard configuration chain and changes
// nothing; -aws -fix -dry-run plans; -aws -fix applies only the fixes that
// are safe in any account (the password policy, tightened only).
func TestAWSMode(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	api := iam.NewFromConfig(env.Config())
	if _, err := api.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(6)}); err != nil {
		t.Fatal(err)
	}
	minLength := func() int32 {
		out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.PasswordPolicy.MinimumPasswordLength)
	}
	type output struct {
		Mode    string           `json:"mode"`
		Before  *awsguard.Report `json:"before"`
		Changes []string         `json:"changes"`
		After   *awsguard.Report `json:"after"`
	}
	runJSON := func(args ...string) output {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, append(args, "-format", "json"), &stdout, &stderr); err != nil {
			t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
		}
		var out output
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	out := runJSON("-aws")
	if out.Mode != "aws" || len(out.Changes) != 0 || out.After != nil {
		t.Errorf("read-only run: mode %q, changes %q, after %v", out.Mode, out.Changes, out.After != nil)
	}
	if statuses(out.Before)["iam.password_policy arn:aws:iam::123456789012:account-password-policy"] != awsguard.StatusFail {
		t.Errorf("weak password policy not reported as FAIL")
	}
	if got := minLength(); got != 6 {
		t.Fatalf("read-only run changed the policy: MinimumPasswordLength %d", got)
	}

	out = runJSON("-aws", "-fix", "-dry-run")
	if len(out.Changes) == 0 || out.After != nil || minLength() != 6 {
		t.Errorf("dry run: changes %q, after %v, length %d", out.Changes, out.After != nil, minLength())
	}

	out = runJSON("-aws", "-fix")
	if out.After == nil || minLength() < 8 {
		t.Fatalf("fix: after %v, length %d", out.After != nil, minLength())
	}
	if statuses(out.After)["iam.password_policy arn:aws:iam::123456789012:account-password-policy"] != awsguard.StatusPass {
		t.Errorf("password policy not PASS after -fix")
	}
	users, err := api.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Errorf("-aws -fix created users or groups in the caller's account: %v %v", users, err)
	}
}
