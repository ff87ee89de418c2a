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

// auditExpectedFindings is the oracle for a seeded account audited 100 days
// after seeding with MaxKeyAge 90 days and UnusedKeyAge 120 days: every
// active key is too old, none is unused for too long.
func auditExpectedFindings(users []auditSeedUser) []auditBrief {
	root := "arn:aws:iam::" + auditMotoAccount + ":root"
	want := []auditBrief{
		{"iam.password_policy", iamguard.PasswordPolicyResource(auditMotoAccount), "FAIL"}, // no policy
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
			want = append(want, auditBrief{"iam.user.access_key_rotation", arn, "FAIL"}, auditBrief{"iam.user.access_key_unused", arn, "PASS"})
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
	if diff := cmp.Diff(auditExpectedFindings(users), auditSortBriefs(auditBriefs(rep))); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
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
	v, err := iamguard.VerifyUser(ctx, api, noMFA, auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	if f := auditFindingOf(t, v, "iam.user.console_mfa", auditMotoUserARN(noMFA)); f.Status != awsguard.StatusPass || f.Evidence["source"] != "live" {
		t.Errorf("VerifyUser after enabling MFA = %+v", f)
	}
	v, err = iamguard.VerifyUser(ctx, api, twoKeys, auditHundredDaysOn(start))
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
		v, err := iamguard.VerifyUser(ctx, api, u.name, auditHundredDaysOn(start))
		if err != nil {
			t.Fatal(err)
		}
		mine := rep.Filter(func(f awsguard.Finding) bool { return f.Resource == auditMotoUserARN(u.name) })
		if diff := cmp.Diff(auditBriefs(mine), auditBriefs(v)); diff != "" {
			t.Errorf("%s: VerifyUser vs Audit (-audit +verify):\n%s", u.name, diff)
		}
	}
	if _, err := iamguard.VerifyUser(ctx, api, "nobody", auditHundredDaysOn(start)); !auditIsNoSuchEntity(err) {
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
