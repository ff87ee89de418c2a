package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

// The demo's alerts: a topic mailing the security team, and one
// EventBridge rule to it.
const (
	demoAlertTopic = "awsguard-alerts"
	demoAlertEmail = "secops@example.com"
	demoPreset     = observe.PresetRootSignIn
)

// alertsScenario sets up someone to be told when something bad happens
// (observe.EnsureAlertTopic and EnsureEventRule, and the CIS 4.x metric
// filters and alarms on the log group CloudTrail delivers to, with
// EnsureTrailLogs when no trail delivers yet), shows it, and removes it
// again at the end with observe.Teardown. Local only: against a real
// account use examples/alerts.
var alertsScenario = scenario{
	name:      "alerts",
	localOnly: true,
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		c := observe.AuditClients{SNS: sns.NewFromConfig(e.cfg), Logs: cloudwatchlogs.NewFromConfig(e.cfg), CloudWatch: cloudwatch.NewFromConfig(e.cfg)}
		return observe.Audit(ctx, c, func(o *observe.AuditOptions) { o.Account, o.Region = e.account, e.cfg.Region })
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		topic, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(e.cfg), observe.Topic{
			Name:          demoAlertTopic,
			Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: demoAlertEmail}},
		}, func(o *observe.Options) { o.DryRun = dryRun })
		if err != nil {
			return nil, err
		}
		lines := describe("alert topic "+demoAlertTopic, &topic.Plan)
		for _, s := range topic.Subscriptions {
			switch s.State {
			case observe.SubscriptionPending:
				lines = append(lines, fmt.Sprintf("alert topic %s: the %s subscription of %s waits for its owner to confirm it (normal: AWS mails a link)",
					demoAlertTopic, s.Protocol, s.Endpoint))
			case observe.SubscriptionConfirmed:
				lines = append(lines, fmt.Sprintf("alert topic %s: the %s subscription of %s is confirmed (the emulator confirms at once; on AWS it stays pending confirmation, a normal state, until its owner follows the link AWS mails)",
					demoAlertTopic, s.Protocol, s.Endpoint))
			default:
				lines = append(lines, fmt.Sprintf("alert topic %s: the %s subscription of %s is %s", demoAlertTopic, s.Protocol, s.Endpoint, s.State))
			}
		}
		arn := topic.TopicARN
		if arn == "" { // a dry run that would create the topic
			arn = fmt.Sprintf("arn:aws:sns:%s:%s:%s", e.cfg.Region, e.account, demoAlertTopic)
		}
		rule, err := observe.PresetRule(demoPreset, arn)
		if err != nil {
			return nil, err
		}
		res, err := observe.EnsureEventRule(ctx, eventbridge.NewFromConfig(e.cfg), rule, func(o *observe.Options) { o.DryRun = dryRun })
		if err != nil {
			return nil, err
		}
		lines = append(lines, describe("event rule "+rule.Name, &res.Plan)...)
		cis, err := cisAlarms(ctx, e, arn, dryRun)
		return append(lines, cis...), err
	},
	teardown: func(ctx context.Context, e *demoEnv) ([]string, error) {
		c := observe.TeardownClients{SNS: sns.NewFromConfig(e.cfg), Events: eventbridge.NewFromConfig(e.cfg),
			CloudWatch: cloudwatch.NewFromConfig(e.cfg), Logs: cloudwatchlogs.NewFromConfig(e.cfg),
			CloudTrail: cloudtrail.NewFromConfig(e.cfg), S3: demoS3(e), IAM: iam.NewFromConfig(e.cfg)}
		// The trail's log group was made for the demo: it goes too.
		res, err := observe.Teardown(ctx, c, func(o *observe.TeardownOptions) { o.DeleteLogGroups = true })
		if err != nil {
			return nil, err
		}
		lines := describe("alerts", &res.Plan)
		// Prove it: a second teardown finds nothing of observe's left.
		again, err := observe.Teardown(ctx, c, func(o *observe.TeardownOptions) { o.DryRun, o.DeleteLogGroups = true, true })
		if err != nil {
			return nil, err
		}
		if !again.NothingToDo() {
			return nil, errors.New("teardown left something behind: " + fmt.Sprint(again.Describe()))
		}
		return append(lines, "alerts: nothing observe created is left (a second teardown finds nothing to remove)"), nil
	},
}

// demoS3 is the S3 client of the local emulator: path-style addressing,
// as a bucket name is no host name of a loopback address.
func demoS3(e *demoEnv) *s3.Client {
	return s3.NewFromConfig(e.cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// cisAlarms keeps CloudTrail delivering to CloudWatch Logs (observe's own
// trail when no trail does yet) and the CIS 4.x metric filters with their
// alarms to the topic on its log group.
func cisAlarms(ctx context.Context, e *demoEnv, topicARN string, dryRun bool) ([]string, error) {
	dry := func(o *observe.Options) { o.DryRun = dryRun }
	trail, err := observe.EnsureTrailLogs(ctx, observe.TrailLogsClients{CloudTrail: cloudtrail.NewFromConfig(e.cfg),
		Logs: cloudwatchlogs.NewFromConfig(e.cfg), IAM: iam.NewFromConfig(e.cfg), S3: demoS3(e)},
		observe.TrailLogs{AccountID: e.account, Region: e.cfg.Region, Bucket: "awsguard-demo-trail-" + e.account}, dry)
	if err != nil {
		return nil, err
	}
	lines := describe("trail "+trail.TrailARN, &trail.Plan)
	res, err := observe.EnsureCISAlarms(ctx, cloudwatch.NewFromConfig(e.cfg), cloudwatchlogs.NewFromConfig(e.cfg),
		observe.CISAlarms{LogGroupName: trail.LogGroupName, TopicARN: topicARN}, dry)
	if err != nil {
		return nil, err
	}
	if res.NothingToDo() {
		return append(lines, "CIS 4.x alarms on "+trail.LogGroupName+": "+string(res.Reason)), nil
	}
	// One line, not one per filter and alarm.
	n := map[string]int{}
	for _, a := range res.Actions {
		n[a.Kind]++
	}
	verb := "put"
	if dryRun {
		verb = "would put"
	}
	return append(lines, fmt.Sprintf("%s %d CIS 4.x metric filters on log group %s and %d alarms to %s", verb,
		n[observe.ActionPutMetricFilter], trail.LogGroupName, n[observe.ActionPutAlarm], demoAlertTopic)), nil
}
