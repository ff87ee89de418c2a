package iamguard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

const auditMotoAccount = awstest.DefaultAccount

func auditMotoUserARN(name string) string {
	return "arn:aws:iam::" + auditMotoAccount + ":user/" + name
}

// auditExpectedFindings is the oracle for a seeded account: policy is the
// status of the password policy check, and rotation and unused are those
// of the two key-age checks for a user with an active key (all of the
// scenario's keys are created at about the same time, so they agree).
// Audited 100 days after seeding with MaxKeyAge 90 days and UnusedKeyAge
// 120 days every active key is too old and none unused for too long; a day
// after seeding with UnusedKeyAge 12 hours it is the other way round.
func auditExpectedFindings(users []auditSeedUser, policy, rotation, unused awsguard.Status) []auditBrief {
	root := "arn:aws:iam::" + auditMotoAccount + ":root"
	want := []auditBrief{
		{"iam.password_policy", iamguard.PasswordPolicyResource(auditMotoAccount), policy},
		{"iam.root.access_keys", root, "PASS"},
		{"iam.root.mfa", root, "FAIL"}, // moto: AccountMFAEnabled is always 0
	}
	for _, u := range users {
		arn := auditMotoUserARN(u.name)
		switch {
		case !u.password:
			want = append(want, auditBrief{"iam.user.console_mfa", arn, "NOT_APPLICABLE"})
		case u.mfa:
			want = append(want, auditBrief{"iam.user.console_mfa", arn, "PASS"})
		default:
			want = append(want, auditBrief{"iam.user.console_mfa", arn, "FAIL"})
		}
		if u.activeKeys() == 0 {
			want = append(want, auditBrief{"iam.user.access_key_rotation", arn, "NOT_APPLICABLE"}, auditBrief{"iam.user.access_key_unused", arn, "NOT_APPLICABLE"})
		} else {
			want = append(want, auditBrief{"iam.user.access_key_rotation", arn, rotation}, auditBrief{"iam.user.access_key_unused", arn, unused})
		}
		if u.activeKeys() == 2 {
			want = append(want, auditBrief{"iam.user.two_active_keys", arn, "FAIL"})
		} else {
			want = append(want, auditBrief{"iam.user.two_active_keys", arn, "PASS"})
		}
		if u.direct() {
			want = append(want, auditBrief{"iam.user.direct_policies", arn, "FAIL"})
		} else {
			want = append(want, auditBrief{"iam.user.direct_policies", arn, "PASS"})
		}
	}
	return auditSortBriefs(want)
}

// auditUsersBriefs keeps the findings about the named users.
func auditUsersBriefs(r *awsguard.Report, names ...string) []auditBrief {
	var out []auditBrief
	for _, b := range auditBriefs(r) {
		for _, n := range names {
			if b.Resource == auditMotoUserARN(n) {
				out = append(out, b)
			}
		}
	}
	return auditSortBriefs(out)
}

// auditOneDayOn audits a day after seeding: keys are young (MaxKeyAge 90
// days) but, never used, idle for longer than UnusedKeyAge (12 hours).
func auditOneDayOn(start time.Time) func(*iamguard.AuditOptions) {
	return func(o *iamguard.AuditOptions) {
		o.Now = func() time.Time { return start.Add(24 * time.Hour) }
		o.MaxKeyAge = 90 * 24 * time.Hour
		o.UnusedKeyAge = 12 * time.Hour
		o.PollMinDelay, o.PollMaxDelay = time.Millisecond, 10*time.Millisecond
	}
}

func auditHundredDaysOn(start time.Time) func(*iamguard.AuditOptions) {
	return func(o *iamguard.AuditOptions) {
		o.Now = func() time.Time { return start.Add(100 * 24 * time.Hour) }
		o.UnusedKeyAge = 120 * 24 * time.Hour
		o.PollMinDelay, o.PollMaxDelay = time.Millisecond, 10*time.Millisecond
	}
}

func TestAuditMotoScenario(t *testing.T) {
	env := awstest.New(t)
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	start := time.Now()
	const n = 60
	var users []auditSeedUser
	for i := 0; i < n; i++ {
		users = append(users, auditMixedUser(i))
	}
	if err := auditSeedUsers(ctx, api, n, 4, auditMixedUser); err != nil {
		t.Fatal(err)
	}
	rep, err := iamguard.Audit(ctx, api, auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(auditExpectedFindings(users, "FAIL", "FAIL", "PASS"), auditSortBriefs(auditBriefs(rep))); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// A few users written out, independent of the oracle: user-000
	// console+MFA, no key, no policy; user-001 one active key, attached
	// policy; user-002 console without MFA, an inactive key, inline
	// policy; user-003 MFA without console, two active keys, attached and
	// inline; user-004 console without MFA, one active and one inactive
	// key, group only.
	sample := []string{"user-000", "user-001", "user-002", "user-003", "user-004"}
	u := auditMotoUserARN
	wantSample := func(rotation, unused awsguard.Status) []auditBrief {
		return auditSortBriefs([]auditBrief{
			{"iam.user.console_mfa", u("user-000"), "PASS"},
			{"iam.user.access_key_rotation", u("user-000"), "NOT_APPLICABLE"},
			{"iam.user.access_key_unused", u("user-000"), "NOT_APPLICABLE"},
			{"iam.user.two_active_keys", u("user-000"), "PASS"},
			{"iam.user.direct_policies", u("user-000"), "PASS"},

			{"iam.user.console_mfa", u("user-001"), "NOT_APPLICABLE"},
			{"iam.user.access_key_rotation", u("user-001"), rotation},
			{"iam.user.access_key_unused", u("user-001"), unused},
			{"iam.user.two_active_keys", u("user-001"), "PASS"},
			{"iam.user.direct_policies", u("user-001"), "FAIL"},

			{"iam.user.console_mfa", u("user-002"), "FAIL"},
			{"iam.user.access_key_rotation", u("user-002"), "NOT_APPLICABLE"},
			{"iam.user.access_key_unused", u("user-002"), "NOT_APPLICABLE"},
			{"iam.user.two_active_keys", u("user-002"), "PASS"},
			{"iam.user.direct_policies", u("user-002"), "FAIL"},

			{"iam.user.console_mfa", u("user-003"), "NOT_APPLICABLE"},
			{"iam.user.access_key_rotation", u("user-003"), rotation},
			{"iam.user.access_key_unused", u("user-003"), unused},
			{"iam.user.two_active_keys", u("user-003"), "FAIL"},
			{"iam.user.direct_policies", u("user-003"), "FAIL"},

			{"iam.user.console_mfa", u("user-004"), "FAIL"},
			{"iam.user.access_key_rotation", u("user-004"), rotation},
			{"iam.user.access_key_unused", u("user-004"), unused},
			{"iam.user.two_active_keys", u("user-004"), "PASS"},
			{"iam.user.direct_policies", u("user-004"), "PASS"},
		})
	}
	if diff := cmp.Diff(wantSample("FAIL", "PASS"), auditUsersBriefs(rep, sample...)); diff != "" {
		t.Errorf("sample users at 100 days (-want +got):\n%s", diff)
	}
	if f := auditFindingOf(t, rep, "iam.password_policy", iamguard.PasswordPolicyResource(auditMotoAccount)); f.Evidence["violations"] != "PasswordPolicy = none, want an account password policy (KISA)" {
		t.Errorf("password policy evidence = %v", f.Evidence)
	}
	for _, f := range rep.Findings {
		if f.Account != auditMotoAccount || f.Region != awsguard.RegionGlobal || f.Severity == "" || len(f.Controls) == 0 {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	// The report's generation time is in the evidence of what it decided.
	if f := auditFindingOf(t, rep, "iam.user.console_mfa", auditMotoUserARN("user-000")); f.Evidence["report_generated_at"] == "" || f.Evidence["source"] != "credential_report" {
		t.Errorf("evidence = %v", f.Evidence)
	}
	// Two runs give identical output.
	again, err := iamguard.Audit(ctx, api, auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, again); diff != "" {
		t.Errorf("second audit differs:\n%s", diff)
	}

	// The same state a day after seeding, with UnusedKeyAge 12 hours: young
	// keys pass rotation and, never used, fail as unused.
	day, err := iamguard.Audit(ctx, api, auditOneDayOn(start))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(auditExpectedFindings(users, "FAIL", "PASS", "FAIL"), auditSortBriefs(auditBriefs(day))); diff != "" {
		t.Errorf("findings a day on (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantSample("PASS", "FAIL"), auditUsersBriefs(day, sample...)); diff != "" {
		t.Errorf("sample users a day on (-want +got):\n%s", diff)
	}
	rot := auditFindingOf(t, day, "iam.user.access_key_rotation", u("user-003"))
	if rot.Title != "User user-003's active access keys are younger than 90 days" || rot.Evidence["max_key_age"] != "90 days" || rot.Evidence["failing_keys"] != "" || rot.Remediation != "" {
		t.Errorf("user-003 rotation a day on = %+v", rot)
	}
	idle := auditFindingOf(t, day, "iam.user.access_key_unused", u("user-003"))
	if idle.Title != "User user-003 has an active access key unused for more than 12h0m0s" || idle.Evidence["failing_keys"] != "access_key_1,access_key_2" ||
		idle.Evidence["access_key_1_last_used"] != "never" || idle.Evidence["unused_key_age"] != "12h0m0s" {
		t.Errorf("user-003 unused a day on = %+v", idle)
	}

	// With a password policy set: it meets KISA (two classes, length 10),
	// and fails CIS on length and reuse prevention.
	if _, err := api.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(10), RequireLowercaseCharacters: true, RequireNumbers: true,
		MaxPasswordAge: aws.Int32(90), AllowUsersToChangePassword: true,
	}); err != nil {
		t.Fatal(err)
	}
	withPolicy, err := iamguard.Audit(ctx, api, auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(auditExpectedFindings(users, "PASS", "FAIL", "PASS"), auditSortBriefs(auditBriefs(withPolicy))); diff != "" {
		t.Errorf("findings with a KISA policy (-want +got):\n%s", diff)
	}
	pp := auditFindingOf(t, withPolicy, "iam.password_policy", iamguard.PasswordPolicyResource(auditMotoAccount))
	wantPP := map[string]string{
		"baseline": "KISA", "policy_present": "true", "minimum_password_length": "10", "require_symbols": "false",
		"require_numbers": "true", "require_uppercase_characters": "false", "require_lowercase_characters": "true",
		"allow_users_to_change_password": "true", "expire_passwords": "true", "max_password_age": "90",
		"password_reuse_prevention": "0", "hard_expiry": "false",
	}
	if diff := cmp.Diff(wantPP, pp.Evidence); diff != "" || pp.Title != "The account password policy meets KISA" {
		t.Errorf("password policy %q (-want +got):\n%s", pp.Title, diff)
	}
	cis, err := iamguard.Audit(ctx, api, auditHundredDaysOn(start), func(o *iamguard.AuditOptions) { o.Baseline = iamguard.CIS })
	if err != nil {
		t.Fatal(err)
	}
	pp = auditFindingOf(t, cis, "iam.password_policy", iamguard.PasswordPolicyResource(auditMotoAccount))
	if pp.Status != awsguard.StatusFail || pp.Evidence["violations"] != "MinimumPasswordLength = 10, want >= 14; PasswordReusePrevention = 0, want >= 24" ||
		pp.Title != "The account password policy does not meet CIS (2 violations)" || pp.Remediation != "iamguard.EnablePasswordPolicy" {
		t.Errorf("password policy against CIS = %+v", pp)
	}

	// Fix two users, then re-check them live.
	const noMFA, twoKeys = "user-002", "user-003" // console without MFA; two active keys
	if err := auditEnableMFA(ctx, api, noMFA); err != nil {
		t.Fatal(err)
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(twoKeys)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(twoKeys), AccessKeyId: keys.AccessKeyMetadata[0].AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	v, err := iamguard.VerifyUser(ctx, api, noMFA, userChecks(auditHundredDaysOn(start)))
	if err != nil {
		t.Fatal(err)
	}
	if f := auditFindingOf(t, v, "iam.user.console_mfa", auditMotoUserARN(noMFA)); f.Status != awsguard.StatusPass || f.Evidence["source"] != "live" {
		t.Errorf("VerifyUser after enabling MFA = %+v", f)
	}
	v, err = iamguard.VerifyUser(ctx, api, twoKeys, userChecks(auditHundredDaysOn(start)))
	if err != nil {
		t.Fatal(err)
	}
	want := []auditBrief{
		{"iam.user.access_key_rotation", auditMotoUserARN(twoKeys), "FAIL"},
		{"iam.user.access_key_unused", auditMotoUserARN(twoKeys), "PASS"},
		{"iam.user.console_mfa", auditMotoUserARN(twoKeys), "NOT_APPLICABLE"},
		{"iam.user.direct_policies", auditMotoUserARN(twoKeys), "FAIL"},
		{"iam.user.two_active_keys", auditMotoUserARN(twoKeys), "PASS"},
	}
	if diff := cmp.Diff(want, auditBriefs(v)); diff != "" {
		t.Errorf("VerifyUser after deactivating a key (-want +got):\n%s", diff)
	}
}

// VerifyUser and Audit agree on every user of the scenario.
func TestVerifyUserAgreesWithAudit(t *testing.T) {
	env := awstest.New(t)
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	start := time.Now()
	const n = 12
	if err := auditSeedUsers(ctx, api, n, 4, auditMixedUser); err != nil {
		t.Fatal(err)
	}
	rep, err := iamguard.Audit(ctx, api, auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		u := auditMixedUser(i)
		v, err := iamguard.VerifyUser(ctx, api, u.name, userChecks(auditHundredDaysOn(start)))
		if err != nil {
			t.Fatal(err)
		}
		mine := rep.Filter(func(f awsguard.Finding) bool { return f.Resource == auditMotoUserARN(u.name) })
		if diff := cmp.Diff(auditBriefs(mine), auditBriefs(v)); diff != "" {
			t.Errorf("%s: VerifyUser vs Audit (-audit +verify):\n%s", u.name, diff)
		}
	}
	if _, err := iamguard.VerifyUser(ctx, api, "nobody", userChecks(auditHundredDaysOn(start))); !auditIsNoSuchEntity(err) {
		t.Errorf("VerifyUser of a missing user: %v", err)
	}
}

func auditIsNoSuchEntity(err error) bool {
	var nse *types.NoSuchEntityException
	return errors.As(err, &nse)
}

// Audit's API calls do not grow with the number of users.
func TestAuditCallsConstant(t *testing.T) {
	count := func(n int) (int, string) {
		env := awstest.New(t) // fresh account: no credential report yet
		ctx := context.Background()
		if err := auditSeedUsers(ctx, iam.NewFromConfig(env.Config()), n, 4, auditMixedUser); err != nil {
			t.Fatal(err)
		}
		c := apicalls.New()
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
		if _, err := iamguard.Audit(ctx, iam.NewFromConfig(cfg), auditHundredDaysOn(time.Now())); err != nil {
			t.Fatal(err)
		}
		return c.Total(), c.String()
	}
	small, smallCalls := count(10)
	large, largeCalls := count(60)
	if small != large {
		t.Errorf("Audit calls: %d for 10 users (%s), %d for 60 (%s)", small, smallCalls, large, largeCalls)
	}
	if large > 8 {
		t.Errorf("Audit made %d calls: %s", large, largeCalls)
	}
	t.Logf("Audit calls: %s", largeCalls)
}

// userChecks gives VerifyUser the user check options that opt sets for
// Audit.
func userChecks(opt func(*iamguard.AuditOptions)) func(*iamguard.UserCheckOptions) {
	return func(o *iamguard.UserCheckOptions) {
		var a iamguard.AuditOptions
		opt(&a)
		*o = a.UserCheckOptions
	}
}
