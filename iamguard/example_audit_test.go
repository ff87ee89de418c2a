package iamguard_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// A policy of two character classes and length 10 meets KISA, but not CIS.
func ExampleEvaluate() {
	p := iamguard.PasswordPolicy{
		MinimumPasswordLength:      10,
		RequireLowercaseCharacters: true,
		RequireNumbers:             true,
		MaxPasswordAge:             90,
		AllowUsersToChangePassword: true,
	}
	fmt.Println("KISA:", iamguard.Evaluate(&p, iamguard.KISA))
	for _, v := range iamguard.Evaluate(&p, iamguard.CIS) {
		fmt.Println("CIS:", v)
	}
	// Output:
	// KISA: []
	// CIS: MinimumPasswordLength = 10, want >= 14
	// CIS: PasswordReusePrevention = 0, want >= 24
}

// Audit with a fake client; with a real one pass iam.NewFromConfig(cfg).
func ExampleAudit() {
	f := auditScenarioFake()
	rep, err := iamguard.Audit(context.Background(), f, func(o *iamguard.AuditOptions) {
		o.Now = func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
		o.Baseline = iamguard.KISA
	})
	if err != nil {
		fmt.Println("audit:", err)
		return
	}
	failed := rep.Filter(func(f awsguard.Finding) bool {
		return f.Status == awsguard.StatusFail && f.Check == iamguard.CheckConsoleMFA
	})
	_ = failed.WriteTable(os.Stdout)
	fmt.Println(rep.Summary())
	// Output:
	// STATUS  SEVERITY  CHECK                 RESOURCE                              TITLE
	// FAIL    HIGH      iam.user.console_mfa  arn:aws:iam::111122223333:user/alice  Console user alice has no MFA device
	// 1 findings, 1 FAIL (failed: 1 HIGH)
	// 28 findings, 9 PASS, 8 FAIL, 8 ERROR, 3 NOT_APPLICABLE (failed: 1 CRITICAL, 1 HIGH, 3 MEDIUM, 3 LOW)
}

// Plan first, then apply; a second run changes nothing.
func ExampleEnablePasswordPolicy() {
	var current *types.PasswordPolicy // no policy yet
	api := &ppFake{
		get: func() (*iam.GetAccountPasswordPolicyOutput, error) {
			if current == nil {
				return nil, &types.NoSuchEntityException{Message: aws.String("no policy")}
			}
			return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: current}, nil
		},
		update: func(in *iam.UpdateAccountPasswordPolicyInput) (*iam.UpdateAccountPasswordPolicyOutput, error) {
			current = &types.PasswordPolicy{
				MinimumPasswordLength: in.MinimumPasswordLength, RequireSymbols: in.RequireSymbols,
				RequireNumbers: in.RequireNumbers, RequireUppercaseCharacters: in.RequireUppercaseCharacters,
				RequireLowercaseCharacters: in.RequireLowercaseCharacters, AllowUsersToChangePassword: in.AllowUsersToChangePassword,
				MaxPasswordAge: in.MaxPasswordAge, ExpirePasswords: aws.ToInt32(in.MaxPasswordAge) > 0,
				PasswordReusePrevention: in.PasswordReusePrevention, HardExpiry: in.HardExpiry,
			}
			return &iam.UpdateAccountPasswordPolicyOutput{}, nil
		},
	}
	ctx := context.Background()
	plan, _ := iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	fmt.Println(plan.Reason, plan.Diff[0])
	ch, err := iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ch.Reason, len(ch.Diff), "fields")
	ch, _ = iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy)
	fmt.Println(ch.Applied, ch.Reason)
	// Output:
	// dry run MinimumPasswordLength: (no policy) -> 8
	// applied 9 fields
	// false already compliant
}
