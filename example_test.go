package awsguard_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsguard/awsguard"
)

// A report of findings: sorted, summarized, filtered, and written in the
// JSON contract that pipelines parse.
func ExampleReport() {
	rep := awsguard.NewReport(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		awsguard.Finding{Check: "iam.user.console_mfa", Status: awsguard.StatusFail, Severity: awsguard.SeverityHigh,
			Account: "123456789012", Region: "global", Resource: "arn:aws:iam::123456789012:user/alice",
			Title: "Console user alice has no MFA device", Evidence: map[string]string{"mfa_active": "false"},
			Controls: []string{"ISMS-P:2.5.3", "CIS:1.10"}, Remediation: "iamguard.CreateVirtualMFA"},
		awsguard.Finding{Check: "iam.password_policy", Status: awsguard.StatusPass, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: "global", Resource: "account", Title: "The password policy meets KISA"},
	)
	fmt.Println(rep.Summary())
	failing := rep.Filter(func(f awsguard.Finding) bool { return f.Status == awsguard.StatusFail })
	if err := failing.WriteJSON(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 2 findings, 1 PASS, 1 FAIL (failed: 1 HIGH)
	// {
	//   "generated_at": "2026-12-01T10:00:00Z",
	//   "findings": [
	//     {
	//       "check": "iam.user.console_mfa",
	//       "status": "FAIL",
	//       "severity": "HIGH",
	//       "account": "123456789012",
	//       "region": "global",
	//       "resource": "arn:aws:iam::123456789012:user/alice",
	//       "title": "Console user alice has no MFA device",
	//       "evidence": {
	//         "mfa_active": "false"
	//       },
	//       "controls": [
	//         "ISMS-P:2.5.3",
	//         "CIS:1.10"
	//       ],
	//       "remediation": "iamguard.CreateVirtualMFA"
	//     }
	//   ]
	// }
}

// Plan.Apply is the one execution loop of every package: it refuses a
// plan that weakens a setting unless allowed, and reports each action's
// outcome.
func ExamplePlan_Apply() {
	ctx := context.Background()
	plan := &awsguard.Plan{Operation: "example.Tighten", Resource: "account"}
	plan.Add(awsguard.Action{Kind: "set-min-length", Call: "iam:UpdateAccountPasswordPolicy", Resource: "account",
		Detail: "minimum password length 8 -> 14", Why: "CIS 1.8"})
	do := func(ctx context.Context, a *awsguard.Action) error { return nil } // the call, in a package
	if err := plan.Apply(ctx, do, awsguard.ApplyOptions{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println(plan.Reason, plan.Actions[0].Outcome)

	loosen := &awsguard.Plan{Operation: "example.Loosen", Resource: "account"}
	loosen.Add(awsguard.Action{Kind: "set-min-length", Detail: "minimum password length 14 -> 8", Weakening: true})
	err := loosen.Apply(ctx, do, awsguard.ApplyOptions{})
	fmt.Println(errors.Is(err, awsguard.ErrWeakening), loosen.Reason)
	fmt.Println(err)
	// Output:
	// applied done
	// true refused
	// example.Loosen: refused: the change would weaken minimum password length 14 -> 8; allow weakening explicitly to apply it
}

// A Secret redacts itself wherever it goes, and reveals its value only
// when asked by name.
func ExampleSecret() {
	s := awsguard.NewSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	fmt.Println(s)
	fmt.Printf("%v %+v %#v %q\n", s, s, s, s)
	fmt.Println(fmt.Errorf("store key: %v", s))
	fmt.Println(len(s.Reveal()))
	// Output:
	// [REDACTED]
	// [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// store key: [REDACTED]
	// 40
}

// A policy document in the typed form every package writes, validated
// and rendered as IAM takes it.
func ExamplePolicyDocument() {
	doc := &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Sid: "ReadKeys", Effect: "Allow", Action: awsguard.StringList("iam:ListAccessKeys", "iam:GetAccessKeyLastUsed"),
		Resource: awsguard.StringValue("arn:aws:iam::123456789012:user/ci"),
	}}}}
	if err := doc.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	s, _ := doc.JSON()
	fmt.Println(s)
	back, _ := awsguard.ParsePolicyDocument(s)
	fmt.Println(back.Equivalent(doc))
	// Output:
	// {"Version":"2012-10-17","Statement":[{"Sid":"ReadKeys","Effect":"Allow","Action":["iam:ListAccessKeys","iam:GetAccessKeyLastUsed"],"Resource":"arn:aws:iam::123456789012:user/ci"}]}
	// true
}

// ForEachRegion runs one function per region, bounded, and keeps each
// region's error to itself.
func ExampleForEachRegion() {
	ctx := context.Background()
	cfg := aws.Config{} // from config.LoadDefaultConfig in production
	results, err := awsguard.ForEachRegion(ctx, cfg, []string{"us-east-1", "ap-northeast-2"}, func(ctx context.Context, t awsguard.Target) (string, error) {
		if t.Region == "ap-northeast-2" {
			return "", errors.New("not enabled")
		}
		return "audited " + t.Config.Region, nil
	}, func(o *awsguard.FanoutOptions) { o.Concurrency = 2 })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Println(r.Region, r.Value, r.Err)
	}
	// Output:
	// us-east-1 audited us-east-1 <nil>
	// ap-northeast-2  not enabled
}
