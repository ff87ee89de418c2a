package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
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
// (observe.EnsureAlertTopic and EnsureEventRule), shows it, and removes it
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
		return append(lines, describe("event rule "+rule.Name, &res.Plan)...), nil
	},
	teardown: func(ctx context.Context, e *demoEnv) ([]string, error) {
		c := observe.TeardownClients{SNS: sns.NewFromConfig(e.cfg), Events: eventbridge.NewFromConfig(e.cfg)}
		res, err := observe.Teardown(ctx, c)
		if err != nil {
			return nil, err
		}
		lines := describe("alerts", &res.Plan)
		// Prove it: a second teardown finds nothing of observe's left.
		again, err := observe.Teardown(ctx, c, func(o *observe.TeardownOptions) { o.DryRun = true })
		if err != nil {
			return nil, err
		}
		if !again.NothingToDo() {
			return nil, errors.New("teardown left something behind: " + fmt.Sprint(again.Describe()))
		}
		return append(lines, "alerts: nothing observe created is left (a second teardown finds nothing to remove)"), nil
	},
}
