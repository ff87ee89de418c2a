package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// motoEnv points the standard configuration chain at the emulator and
// returns a client for seeding.
func motoEnv(t *testing.T) *iam.Client {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Passw0rd!!")}); err != nil {
		t.Fatal(err)
	}
	// A ready report spares the audit its first poll.
	if _, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	return api
}

func runAudit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestAuditJSON(t *testing.T) {
	motoEnv(t)
	out, _, err := runAudit(t, "-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := awsguard.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("stdout is not a report: %v\n%s", err, out)
	}
	want := []string{"iam.password_policy", "iam.root.access_keys", "iam.root.mfa", "iam.user.access_key_rotation",
		"iam.user.access_key_unused", "iam.user.console_mfa", "iam.user.direct_policies", "iam.user.two_active_keys"}
	if got := rep.Checks(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("checks = %v", got)
	}
	var alice *awsguard.Finding
	for i, f := range rep.Findings {
		if f.Check == "iam.user.console_mfa" && strings.HasSuffix(f.Resource, ":user/alice") {
			alice = &rep.Findings[i]
		}
	}
	if alice == nil || alice.Status != awsguard.StatusFail {
		t.Errorf("alice's console MFA finding = %+v", alice)
	}
}

func TestAuditFilterAndBaseline(t *testing.T) {
	motoEnv(t)
	out, _, err := runAudit(t, "-format", "json", "-checks", "iam.password", "-baseline", "cis")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := awsguard.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Evidence["baseline"] != "CIS" || len(rep.Findings[0].Controls) != 3 {
		t.Errorf("findings = %+v", rep.Findings)
	}
}

func TestAuditTableAndCSV(t *testing.T) {
	motoEnv(t)
	out, _, err := runAudit(t)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "STATUS") || !strings.Contains(out, "findings") {
		t.Errorf("table output:\n%s", out)
	}
	out, _, err = runAudit(t, "-format", "csv", "-checks", "iam.user.console_mfa")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][1] != "check" {
		t.Errorf("csv rows = %v", rows)
	}
}

func TestAuditBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-format", "xml"}, {"-baseline", "nist"}, {"extra"}, {"-nope"}} {
		out, _, err := runAudit(t, args...)
		if !errors.Is(err, cli.ErrUsage) || out != "" {
			t.Errorf("%v: err = %v, stdout = %q", args, err, out)
		}
	}
}

// An unreadable source still prints the findings made, and fails.
func TestAuditUnreachable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretAccessKey)
	t.Setenv("AWS_REGION", awstest.DefaultRegion)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "config"))
	_, _, err := runAudit(t, "-format", "json", "-timeout", "20s")
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q, want a one-line error", err)
	}
}
