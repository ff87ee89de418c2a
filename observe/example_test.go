package observe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

// A preset rule: its typed pattern, as EventBridge takes it.
func ExamplePresetRule() {
	rule, err := observe.PresetRule(observe.PresetRootSignIn, "arn:aws:sns:us-east-1:123456789012:awsguard-alerts")
	if err != nil {
		fmt.Println(err)
		return
	}
	pattern, _ := rule.Pattern.JSON()
	fmt.Println(rule.Name)
	fmt.Println(pattern)
	// Output:
	// awsguard-root-sign-in
	// {"source":["aws.signin"],"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}
}

// EnsureAlertTopic against a fake SNS: the e-mail subscription waits for
// its owner's confirmation, a normal state.
func ExampleEnsureAlertTopic() {
	ctx := context.Background()
	api := &fakeSNS{} // any TopicAPI; *sns.Client in production
	res, err := observe.EnsureAlertTopic(ctx, api, observe.Topic{
		Name:          "awsguard-alerts",
		Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range res.Describe() {
		fmt.Println(line)
	}
	fmt.Println(res.Subscriptions[0].State)
	again, _ := observe.EnsureAlertTopic(ctx, api, observe.Topic{
		Name:          "awsguard-alerts",
		Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}},
	})
	fmt.Println(again.Reason)
	// Output:
	// create SNS topic awsguard-alerts tagged awsguard:managed
	// let EventBridge rules and CloudWatch alarms of the account publish to awsguard-alerts
	// subscribe email secops@example.com to awsguard-alerts
	// pending-confirmation
	// already compliant
}

// A report as ASFF, without AWS: the verdict and workflow of each finding.
func ExampleToASFF() {
	rep := awsguard.NewReport(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		awsguard.Finding{Check: "observe.logs.retention", Status: awsguard.StatusFail, Severity: awsguard.SeverityLow,
			Account: "123456789012", Region: "ap-northeast-2", Resource: "arn:aws:logs:ap-northeast-2:123456789012:log-group:/app",
			Title: "Log group /app has no retention set", Controls: []string{"ISMS-P:2.9.4"}},
		awsguard.Finding{Check: "observe.alerts.topic", Status: awsguard.StatusPass, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: "ap-northeast-2", Resource: "arn:aws:sns:ap-northeast-2:123456789012:awsguard-alerts",
			Title: "An SNS topic has a confirmed subscription", Controls: []string{"ISMS-P:2.11.3"}},
	)
	fs, err := observe.ToASFF(rep, "123456789012", "ap-northeast-2")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fs {
		fmt.Println(f.GeneratorID, f.Compliance.Status, f.Workflow.Status, f.Severity.Label, f.Compliance.RelatedRequirements)
	}
	// Output:
	// awsguard/observe.alerts.topic PASSED RESOLVED INFORMATIONAL [ISMS-P:2.11.3]
	// awsguard/observe.logs.retention FAILED NEW LOW [ISMS-P:2.9.4]
}
