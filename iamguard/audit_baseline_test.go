package iamguard_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// A custom baseline is used as given; one without a Name is refused, not
// silently replaced by KISA.
func TestAuditCustomBaseline(t *testing.T) {
	t.Run("without a name", func(t *testing.T) {
		f := auditScenarioFake()
		rep, err := iamguard.Audit(context.Background(), f, auditAtClock, func(o *iamguard.AuditOptions) {
			o.Baseline = iamguard.Baseline{MinimumPasswordLength: 20}
		})
		if rep != nil || !errors.Is(err, awsguard.ErrInvalidInput) || !strings.Contains(err.Error(), "AuditOptions.Baseline.Name") {
			t.Fatalf("rep = %v, err = %v; want an InputError naming AuditOptions.Baseline.Name", rep, err)
		}
		if len(f.Calls()) != 0 {
			t.Errorf("calls before validation: %v", f.Calls())
		}
	})
	t.Run("with a name", func(t *testing.T) {
		rep, err := iamguard.Audit(context.Background(), auditScenarioFake(), auditAtClock, func(o *iamguard.AuditOptions) {
			o.Baseline = iamguard.Baseline{Name: "house", MinimumPasswordLength: 20}
		})
		if err != nil {
			t.Fatal(err)
		}
		p := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount))
		if p.Status != awsguard.StatusFail || p.Evidence["baseline"] != "house" || p.Evidence["violations"] != "MinimumPasswordLength = 10, want >= 20" {
			t.Errorf("finding = %s %v", p.Status, p.Evidence)
		}
	})
	t.Run("zero means KISA", func(t *testing.T) {
		rep, err := iamguard.Audit(context.Background(), auditScenarioFake(), auditAtClock, func(o *iamguard.AuditOptions) {
			o.Baseline = iamguard.Baseline{}
		})
		if err != nil {
			t.Fatal(err)
		}
		if p := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount)); p.Evidence["baseline"] != "KISA" || p.Status != awsguard.StatusPass {
			t.Errorf("finding = %s %v", p.Status, p.Evidence)
		}
	})
}

// With no user and no Account option the account is unknown: the root and
// password policy findings name plain resources, not "arn:aws:iam:::root".
func TestAuditUnknownAccount(t *testing.T) {
	f := auditScenarioFake()
	auditCompleteReport(f, auditReportCSV())
	f.details = func(*iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
		return &iam.GetAccountAuthorizationDetailsOutput{}, nil
	}
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	want := []auditBrief{
		{"iam.password_policy", "account-password-policy", "PASS"},
		{"iam.root.access_keys", "root", "FAIL"},
		{"iam.root.mfa", "root", "PASS"},
	}
	if diff := cmp.Diff(want, auditSortBriefs(auditBriefs(rep))); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if f.Account != "" || strings.Contains(f.Resource, ":::") {
			t.Errorf("finding %s: account %q, resource %q", f.Check, f.Account, f.Resource)
		}
	}
	if got := iamguard.PasswordPolicyResource(""); got != "account-password-policy" {
		t.Errorf(`PasswordPolicyResource("") = %q`, got)
	}
	if got := iamguard.PasswordPolicyResource(auditAccount); got != "arn:aws:iam::"+auditAccount+":account-password-policy" {
		t.Errorf("PasswordPolicyResource = %q", got)
	}
}

// A user missing from the report because they are newer than it, and one
// whose row is about an earlier user of the same name, get ERROR findings
// whose titles say which.
func TestAuditRejectedRowTitles(t *testing.T) {
	f := auditScenarioFake()
	f.details = func(*iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
		d := auditUserDetail("grace", "2024-05-01T00:00:00Z", nil, nil, nil)
		*d.Arn = "arn:aws:iam::" + auditAccount + ":user/admins/grace" // path changed since the report
		return &iam.GetAccountAuthorizationDetailsOutput{UserDetailList: []types.UserDetail{
			auditUserDetail("dave", "2026-11-22T10:00:00Z", nil, nil, nil), // created after the report (08:00)
			auditUserDetail("erin", "2026-01-01T00:00:00Z", nil, nil, nil), // the report's erin was created in 2020
			d,
		}}, nil
	}
	auditCompleteReport(f, auditReportCSV(
		auditReportRow{user: "erin", created: "2020-01-01T00:00:00+00:00", password: "true"},
		auditReportRow{user: "grace", created: "2024-05-01T00:00:00+00:00"},
	))
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ arn, title, reason string }{
		{auditUserARN("dave"), "User dave is newer than the credential report: re-check with iamguard.VerifyUser", "user not in the credential report"},
		{auditUserARN("erin"), "User erin's credential report row is about another user of that name: re-check with iamguard.VerifyUser",
			"the report's row of that name is about another user (name reused or path changed)"},
		{"arn:aws:iam::" + auditAccount + ":user/admins/grace", "User grace's credential report row is about another user of that name: re-check with iamguard.VerifyUser",
			"the report's row of that name is about another user (name reused or path changed)"},
	}
	for _, tt := range tests {
		for _, check := range []string{"iam.user.console_mfa", "iam.user.access_key_rotation", "iam.user.access_key_unused", "iam.user.two_active_keys"} {
			got := auditFindingOf(t, rep, check, tt.arn)
			if got.Status != awsguard.StatusError || got.Title != tt.title || got.Evidence["reason"] != tt.reason {
				t.Errorf("%s %s: %s %q reason %q; want ERROR %q reason %q", check, tt.arn, got.Status, got.Title, got.Evidence["reason"], tt.title, tt.reason)
			}
		}
	}
}

// Mutating the exported presets changes neither Audit's default nor what
// BaselineByName returns.
func TestPresetsAreCopies(t *testing.T) {
	saved, err := iamguard.BaselineByName("kisa")
	if err != nil {
		t.Fatal(err)
	}
	savedCIS, _ := iamguard.BaselineByName("cis")
	t.Cleanup(func() { iamguard.KISA, iamguard.CIS = saved, savedCIS })

	iamguard.KISA.Name = "weakened"
	iamguard.KISA.Compositions[0].MinimumLength = 4
	iamguard.KISA.Compositions[1].MinimumLength = 4
	iamguard.KISA.MaxPasswordAge = 0
	iamguard.KISA.AllowUsersToChangePassword = false
	iamguard.CIS.MinimumPasswordLength = 1

	weak := &types.PasswordPolicy{MinimumPasswordLength: aws.Int32(6), RequireLowercaseCharacters: true, RequireNumbers: true}
	f := auditScenarioFake()
	f.policy = func() (*iam.GetAccountPasswordPolicyOutput, error) {
		return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: weak}, nil
	}
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	p := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount))
	if p.Status != awsguard.StatusFail || p.Evidence["baseline"] != "KISA" {
		t.Errorf("default baseline after mutating iamguard.KISA: %s %v", p.Status, p.Evidence)
	}
	if b, _ := iamguard.BaselineByName("kisa"); b.Name != "KISA" || b.Compositions[0].MinimumLength != 10 || b.MaxPasswordAge != 90 {
		t.Errorf("BaselineByName(kisa) = %+v", b)
	}
	if b, _ := iamguard.BaselineByName("cis"); b.MinimumPasswordLength != 14 {
		t.Errorf("BaselineByName(cis) = %+v", b)
	}
}
