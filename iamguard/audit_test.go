package iamguard_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// auditBrief is the part of a finding that scenario tests compare.
type auditBrief struct {
	Check    string
	Resource string
	Status   awsguard.Status
}

func auditBriefs(r *awsguard.Report) []auditBrief {
	var out []auditBrief
	for _, f := range r.Findings {
		out = append(out, auditBrief{f.Check, f.Resource, f.Status})
	}
	return out
}

func auditSortBriefs(b []auditBrief) []auditBrief {
	slices.SortFunc(b, func(x, y auditBrief) int {
		return strings.Compare(x.Check+"\x00"+x.Resource+"\x00"+string(x.Status), y.Check+"\x00"+y.Resource+"\x00"+string(y.Status))
	})
	return b
}

func auditFindingOf(t *testing.T, r *awsguard.Report, check, resource string) awsguard.Finding {
	t.Helper()
	for _, f := range r.Findings {
		if f.Check == check && f.Resource == resource {
			return f
		}
	}
	t.Fatalf("no %s finding for %s", check, resource)
	return awsguard.Finding{}
}

var auditClock = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func auditUserARN(name string) string { return "arn:aws:iam::" + auditAccount + ":user/" + name }

// kisaByTwoClasses meets KISA with two classes and length 10 (a flat
// "length 14" rule would fail it).
var kisaByTwoClasses = &types.PasswordPolicy{
	MinimumPasswordLength: aws.Int32(10), RequireLowercaseCharacters: true, RequireNumbers: true,
	MaxPasswordAge: aws.Int32(90), ExpirePasswords: true, AllowUsersToChangePassword: true,
}

func auditScenarioFake() *auditFake {
	f := &auditFake{}
	auditCompleteReport(f, auditReportCSV(
		auditReportRow{user: "<root_account>", created: "2015-01-01T00:00:00+00:00", mfa: "true", k1Active: "true", k1Rotated: "2016-01-01T00:00:00+00:00"},
		auditReportRow{user: "alice", created: "2025-01-01T00:00:00+00:00", password: "true",
			k1Active: "true", k1Rotated: "2026-01-01T00:00:00+00:00", k1Used: "2026-11-20T00:00:00+00:00"},
		auditReportRow{user: "bob", created: "2025-01-01T00:00:00+00:00",
			k1Active: "true", k1Rotated: "2026-10-01T12:00:00+00:00",
			k2Active: "true", k2Rotated: "2026-06-01T00:00:00+00:00"},
		auditReportRow{user: "carol", created: "2025-01-01T00:00:00+00:00", password: "true", mfa: "true",
			k1Active: "false", k1Rotated: "2020-01-01T00:00:00+00:00"},
		auditReportRow{user: "erin", created: "2020-01-01T00:00:00+00:00", password: "true"},
		auditReportRow{user: "frank", created: "2020-01-01T00:00:00+00:00", password: "true"},
	))
	f.policy = func() (*iam.GetAccountPasswordPolicyOutput, error) {
		return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: kisaByTwoClasses}, nil
	}
	f.summary = func() (*iam.GetAccountSummaryOutput, error) {
		return &iam.GetAccountSummaryOutput{SummaryMap: map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 1, "Users": 5}}, nil
	}
	f.details = func(in *iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
		return &iam.GetAccountAuthorizationDetailsOutput{UserDetailList: []types.UserDetail{
			auditUserDetail("alice", "2025-01-01T00:00:00.123Z", []string{"devs"}, []string{"AdministratorAccess"}, nil),
			auditUserDetail("bob", "2025-01-01T00:00:00Z", nil, nil, []string{"s3-inline"}),
			auditUserDetail("carol", "2025-01-01T00:00:00Z", []string{"ops", "devs"}, nil, nil),
			auditUserDetail("dave", "2026-11-22T10:00:00Z", nil, nil, nil), // newer than the report
			auditUserDetail("erin", "2026-01-01T00:00:00Z", nil, nil, nil), // name reused after the report's erin
			// frank was deleted after the report
		}}, nil
	}
	return f
}

func auditAtClock(o *iamguard.AuditOptions) {
	o.Now = func() time.Time { return auditClock }
	auditFastPoll(&o.CredentialReportOptions)
}

func TestAuditScenarioWithFakes(t *testing.T) {
	f := auditScenarioFake()
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	root := "arn:aws:iam::" + auditAccount + ":root"
	pp := iamguard.PasswordPolicyResource(auditAccount)
	want := []auditBrief{
		{"iam.password_policy", pp, "PASS"},
		{"iam.root.access_keys", root, "FAIL"},
		{"iam.root.mfa", root, "PASS"},
		{"iam.user.access_key_rotation", auditUserARN("alice"), "FAIL"},
		{"iam.user.access_key_rotation", auditUserARN("bob"), "FAIL"},
		{"iam.user.access_key_rotation", auditUserARN("carol"), "NOT_APPLICABLE"},
		{"iam.user.access_key_rotation", auditUserARN("dave"), "ERROR"},
		{"iam.user.access_key_rotation", auditUserARN("erin"), "ERROR"},
		{"iam.user.access_key_unused", auditUserARN("alice"), "PASS"},
		{"iam.user.access_key_unused", auditUserARN("bob"), "FAIL"},
		{"iam.user.access_key_unused", auditUserARN("carol"), "NOT_APPLICABLE"},
		{"iam.user.access_key_unused", auditUserARN("dave"), "ERROR"},
		{"iam.user.access_key_unused", auditUserARN("erin"), "ERROR"},
		{"iam.user.console_mfa", auditUserARN("alice"), "FAIL"},
		{"iam.user.console_mfa", auditUserARN("bob"), "NOT_APPLICABLE"},
		{"iam.user.console_mfa", auditUserARN("carol"), "PASS"},
		{"iam.user.console_mfa", auditUserARN("dave"), "ERROR"},
		{"iam.user.console_mfa", auditUserARN("erin"), "ERROR"},
		{"iam.user.direct_policies", auditUserARN("alice"), "FAIL"},
		{"iam.user.direct_policies", auditUserARN("bob"), "FAIL"},
		{"iam.user.direct_policies", auditUserARN("carol"), "PASS"},
		{"iam.user.direct_policies", auditUserARN("dave"), "PASS"},
		{"iam.user.direct_policies", auditUserARN("erin"), "PASS"},
		{"iam.user.two_active_keys", auditUserARN("alice"), "PASS"},
		{"iam.user.two_active_keys", auditUserARN("bob"), "FAIL"},
		{"iam.user.two_active_keys", auditUserARN("carol"), "PASS"},
		{"iam.user.two_active_keys", auditUserARN("dave"), "ERROR"},
		{"iam.user.two_active_keys", auditUserARN("erin"), "ERROR"},
	}
	if diff := cmp.Diff(want, auditBriefs(rep)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	if !rep.GeneratedAt.Equal(auditClock) {
		t.Errorf("GeneratedAt = %v", rep.GeneratedAt)
	}

	wantBob := awsguard.Finding{
		Check: "iam.user.access_key_rotation", Status: "FAIL", Severity: "MEDIUM", Account: auditAccount, Region: "global",
		Resource: auditUserARN("bob"), Title: "User bob has an active access key older than 90 days",
		Evidence: map[string]string{
			"source": "credential_report", "report_generated_at": "2026-11-22T08:00:00Z", "max_key_age": "90 days",
			"access_key_1_last_rotated": "2026-10-01T12:00:00Z", "access_key_1_age_days": "52",
			"access_key_2_last_rotated": "2026-06-01T00:00:00Z", "access_key_2_age_days": "174",
			"failing_keys": "access_key_2",
		},
		Controls: []string{"ISMS-P:2.7.2", "CIS:1.14"}, Remediation: "keyrotate.RotateAccessKey",
	}
	if diff := cmp.Diff(wantBob, auditFindingOf(t, rep, "iam.user.access_key_rotation", auditUserARN("bob"))); diff != "" {
		t.Errorf("bob's rotation finding (-want +got):\n%s", diff)
	}
	// A key never used counts from its creation.
	unused := auditFindingOf(t, rep, "iam.user.access_key_unused", auditUserARN("bob"))
	if unused.Evidence["access_key_2_last_used"] != "never" || unused.Evidence["access_key_2_idle_days"] != "174" || unused.Evidence["failing_keys"] != "access_key_2" {
		t.Errorf("bob's unused evidence = %v", unused.Evidence)
	}
	mfa := auditFindingOf(t, rep, "iam.user.console_mfa", auditUserARN("alice"))
	if mfa.Remediation != "iamguard.CreateVirtualMFA" || mfa.Severity != awsguard.SeverityHigh {
		t.Errorf("alice console MFA finding = %+v", mfa)
	}
	direct := auditFindingOf(t, rep, "iam.user.direct_policies", auditUserARN("alice"))
	if direct.Evidence["attached_policies"] != "AdministratorAccess" || direct.Evidence["groups"] != "devs" {
		t.Errorf("alice direct policies evidence = %v", direct.Evidence)
	}
	policy := auditFindingOf(t, rep, "iam.password_policy", pp)
	wantEv := map[string]string{
		"baseline": "KISA", "policy_present": "true", "minimum_password_length": "10", "require_symbols": "false",
		"require_numbers": "true", "require_uppercase_characters": "false", "require_lowercase_characters": "true",
		"allow_users_to_change_password": "true", "expire_passwords": "true", "max_password_age": "90",
		"password_reuse_prevention": "0", "hard_expiry": "false",
	}
	if diff := cmp.Diff(wantEv, policy.Evidence); diff != "" {
		t.Errorf("password policy evidence lists every parameter (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ISMS-P:2.5.4"}, policy.Controls); diff != "" {
		t.Errorf("KISA controls: %s", diff)
	}
	if dave := auditFindingOf(t, rep, "iam.user.console_mfa", auditUserARN("dave")); !strings.Contains(dave.Title, "VerifyUser") {
		t.Errorf("dave's finding should point at VerifyUser: %q", dave.Title)
	}

	// Two runs give the same report.
	again, err := iamguard.Audit(context.Background(), auditScenarioFake(), auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, again); diff != "" {
		t.Errorf("second run differs:\n%s", diff)
	}
}

func TestAuditCISBaseline(t *testing.T) {
	f := auditScenarioFake()
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock, func(o *iamguard.AuditOptions) { o.Baseline = iamguard.CIS })
	if err != nil {
		t.Fatal(err)
	}
	p := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount))
	if p.Status != awsguard.StatusFail || p.Evidence["baseline"] != "CIS" {
		t.Fatalf("CIS finding = %+v", p)
	}
	if diff := cmp.Diff([]string{"ISMS-P:2.5.4", "CIS:1.8", "CIS:1.9"}, p.Controls); diff != "" {
		t.Errorf("controls: %s", diff)
	}
	if want := "MinimumPasswordLength = 10, want >= 14; PasswordReusePrevention = 0, want >= 24"; p.Evidence["violations"] != want {
		t.Errorf("violations = %q, want %q", p.Evidence["violations"], want)
	}
}

// The root user: the live summary decides, the report's root row is the
// fallback; without either the check cannot decide.
func TestAuditRoot(t *testing.T) {
	root := "arn:aws:iam::" + auditAccount + ":root"
	tests := []struct {
		name             string
		rootRow          *auditReportRow
		summary          map[string]int32
		summaryErr       error
		wantMFA, wantKey awsguard.Status
	}{
		{"summary only, compliant", nil, map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}, nil, "PASS", "PASS"},
		{"summary only, bad", nil, map[string]int32{"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 1}, nil, "FAIL", "FAIL"},
		{"summary wins over a stale row", &auditReportRow{user: "<root_account>", mfa: "false", k1Active: "true", k1Rotated: "2016-01-01T00:00:00+00:00"},
			map[string]int32{"AccountMFAEnabled": 1, "AccountAccessKeysPresent": 0}, nil, "PASS", "PASS"},
		{"row when the summary fails", &auditReportRow{user: "<root_account>", mfa: "true", k2Active: "true", k2Rotated: "2016-01-01T00:00:00+00:00"},
			nil, &smithy.GenericAPIError{Code: "AccessDenied"}, "PASS", "FAIL"},
		{"row when the summary lacks the keys", &auditReportRow{user: "<root_account>", mfa: "false"},
			map[string]int32{"Users": 1}, nil, "FAIL", "PASS"},
		{"neither", nil, nil, &smithy.GenericAPIError{Code: "AccessDenied"}, "ERROR", "ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := auditScenarioFake()
			var rows []auditReportRow
			if tt.rootRow != nil {
				rows = append(rows, *tt.rootRow)
			}
			auditCompleteReport(f, auditReportCSV(rows...))
			f.summary = func() (*iam.GetAccountSummaryOutput, error) {
				if tt.summaryErr != nil {
					return nil, tt.summaryErr
				}
				return &iam.GetAccountSummaryOutput{SummaryMap: tt.summary}, nil
			}
			rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
			if (tt.summaryErr != nil) != errors.Is(err, iamguard.ErrAuditIncomplete) {
				t.Errorf("err = %v", err)
			}
			if rep == nil {
				t.Fatal("nil report")
			}
			mfa, keys := auditFindingOf(t, rep, "iam.root.mfa", root), auditFindingOf(t, rep, "iam.root.access_keys", root)
			if mfa.Status != tt.wantMFA || keys.Status != tt.wantKey {
				t.Errorf("root mfa = %s %v, keys = %s %v; want %s, %s", mfa.Status, mfa.Evidence, keys.Status, keys.Evidence, tt.wantMFA, tt.wantKey)
			}
			if diff := cmp.Diff([]string{"ISMS-P:2.5.3", "ISMS-P:2.5.5", "CIS:1.5"}, mfa.Controls); diff != "" {
				t.Errorf("root MFA controls: %s", diff)
			}
		})
	}
}

// An unreadable source gives ERROR findings for the checks that depend on
// it, and an error that wraps ErrAuditIncomplete and the cause.
func TestAuditSourceErrors(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	t.Run("credential report", func(t *testing.T) {
		f := auditScenarioFake()
		f.get = func() (*iam.GetCredentialReportOutput, error) { return nil, denied }
		rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
		var ae smithy.APIError
		if !errors.Is(err, iamguard.ErrAuditIncomplete) || !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Fatalf("err = %v", err)
		}
		for _, c := range []string{"iam.user.console_mfa", "iam.user.access_key_rotation", "iam.user.access_key_unused", "iam.user.two_active_keys"} {
			if got := auditFindingOf(t, rep, c, auditAccount); got.Status != awsguard.StatusError || !strings.Contains(got.Evidence["error"], "AccessDenied") {
				t.Errorf("%s = %+v", c, got)
			}
		}
		if got := auditFindingOf(t, rep, "iam.user.direct_policies", auditUserARN("alice")); got.Status != awsguard.StatusFail {
			t.Errorf("direct policies still checked: %+v", got)
		}
	})
	t.Run("authorization details", func(t *testing.T) {
		f := auditScenarioFake()
		f.details = func(*iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
			return nil, denied
		}
		rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
		if !errors.Is(err, iamguard.ErrAuditIncomplete) {
			t.Fatalf("err = %v", err)
		}
		if got := auditFindingOf(t, rep, "iam.user.direct_policies", auditAccount); got.Status != awsguard.StatusError {
			t.Errorf("direct policies = %+v", got)
		}
		// The report's users are still checked, frank included.
		if got := auditFindingOf(t, rep, "iam.user.console_mfa", auditUserARN("frank")); got.Status != awsguard.StatusFail {
			t.Errorf("frank = %+v", got)
		}
	})
	t.Run("password policy", func(t *testing.T) {
		f := auditScenarioFake()
		f.policy = func() (*iam.GetAccountPasswordPolicyOutput, error) { return nil, denied }
		rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
		if !errors.Is(err, iamguard.ErrAuditIncomplete) {
			t.Fatalf("err = %v", err)
		}
		if got := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount)); got.Status != awsguard.StatusError {
			t.Errorf("password policy = %+v", got)
		}
	})
	t.Run("no password policy is a failure, not an error", func(t *testing.T) {
		f := auditScenarioFake()
		f.policy = func() (*iam.GetAccountPasswordPolicyOutput, error) {
			return nil, &types.NoSuchEntityException{Message: aws.String("The Password Policy cannot be found.")}
		}
		rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
		if err != nil {
			t.Fatal(err)
		}
		got := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditAccount))
		if got.Status != awsguard.StatusFail || got.Evidence["policy_present"] != "false" || got.Remediation != "iamguard.EnablePasswordPolicy" {
			t.Errorf("password policy = %+v", got)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		rep, err := iamguard.Audit(ctx, auditScenarioFake(), auditAtClock)
		if rep != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("rep = %v, err = %v", rep, err)
		}
	})
	t.Run("invalid options", func(t *testing.T) {
		f := auditScenarioFake()
		_, err := iamguard.Audit(context.Background(), f, func(o *iamguard.AuditOptions) { o.MaxKeyAge = -time.Hour })
		if !errors.Is(err, awsguard.ErrInvalidInput) || !strings.Contains(err.Error(), "AuditOptions.MaxKeyAge") || len(f.Calls()) != 0 {
			t.Fatalf("err = %v, calls = %v", err, f.Calls())
		}
	})
}

// Authorization details are read users-only, 1,000 a page, following the
// marker.
func TestAuditPaginatesDetails(t *testing.T) {
	f := auditScenarioFake()
	var inputs []*iam.GetAccountAuthorizationDetailsInput
	f.details = func(in *iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error) {
		inputs = append(inputs, in)
		if in.Marker == nil {
			return &iam.GetAccountAuthorizationDetailsOutput{IsTruncated: true, Marker: aws.String("m1"),
				UserDetailList: []types.UserDetail{auditUserDetail("alice", "2025-01-01T00:00:00Z", nil, nil, nil)}}, nil
		}
		return &iam.GetAccountAuthorizationDetailsOutput{
			UserDetailList: []types.UserDetail{auditUserDetail("bob", "2025-01-01T00:00:00Z", []string{"g"}, nil, nil)}}, nil
	}
	rep, err := iamguard.Audit(context.Background(), f, auditAtClock)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 2 || aws.ToString(inputs[1].Marker) != "m1" || aws.ToInt32(inputs[0].MaxItems) != 1000 ||
		len(inputs[0].Filter) != 1 || inputs[0].Filter[0] != types.EntityTypeUser {
		t.Errorf("inputs = %+v", inputs)
	}
	if got := auditFindingOf(t, rep, "iam.user.direct_policies", auditUserARN("bob")); got.Status != awsguard.StatusPass {
		t.Errorf("bob = %+v", got)
	}
}
