package observe_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/awsguard/awsguard/observe"
)

// subsSNS is an observe.AuditSNSAPI with a fixed list of subscriptions.
type subsSNS []snstypes.Subscription

func (s subsSNS) ListSubscriptions(context.Context, *sns.ListSubscriptionsInput, ...func(*sns.Options)) (*sns.ListSubscriptionsOutput, error) {
	return &sns.ListSubscriptionsOutput{Subscriptions: s}, nil
}

// auditLogs is an observe.AuditLogsAPI made of the in-memory log groups
// and metric filters of the other examples.
type auditLogs struct {
	*fakeLogs
	*fakeFilters
}

// allAlarms is an observe.AuditAlarmsAPI listing every alarm of a
// fakeAlarms (the audit reads them all, by no name).
type allAlarms struct{ *fakeAlarms }

func (a allAlarms) DescribeAlarms(_ context.Context, _ *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, x := range a.alarms {
		out.MetricAlarms = append(out.MetricAlarms, x)
	}
	return out, nil
}

// Audit reads the account's alert subscriptions, log groups, CIS metric
// filters and alarms in a few list calls and reports what is missing:
// here a topic with a confirmed e-mail subscription, the CIS alarms that
// EnsureCISAlarms put on the CloudTrail log group, and a log group that
// keeps its events for only 30 days. (Fakes stand in for SNS, CloudWatch
// and CloudWatch Logs.)
func ExampleAudit() {
	ctx := context.Background()
	const topic = "arn:aws:sns:us-east-1:123456789012:security-alerts"
	cw, filters := &fakeAlarms{}, &fakeFilters{}
	if _, err := observe.EnsureCISAlarms(ctx, cw, filters, observe.CISAlarms{LogGroupName: "/aws/cloudtrail/main", TopicARN: topic}); err != nil {
		fmt.Println(err)
		return
	}
	logs := &fakeLogs{groups: []logtypes.LogGroup{
		{LogGroupName: aws.String("/aws/cloudtrail/main"), RetentionInDays: aws.Int32(400),
			Arn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/aws/cloudtrail/main:*")},
		{LogGroupName: aws.String("/app/web"), RetentionInDays: aws.Int32(30),
			Arn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:/app/web:*")}}}
	c := observe.AuditClients{
		SNS: subsSNS{{TopicArn: aws.String(topic), Protocol: aws.String("email"), Endpoint: aws.String("security@example.com"),
			SubscriptionArn: aws.String(topic + ":0b7e4a1c-0000-4000-8000-000000000001")}},
		Logs:       auditLogs{logs, filters},
		CloudWatch: allAlarms{cw},
	}
	rep, err := observe.Audit(ctx, c, func(o *observe.AuditOptions) {
		o.Now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Status, f.Check, f.Title)
	}
	// Output:
	// PASS observe.alerts.topic An SNS topic has a confirmed subscription
	// PASS observe.cis.metric_filters CIS 4.1 unauthorized API calls: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.10 security group changes: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.11 network ACL changes: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.12 network gateway changes: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.13 route table changes: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.2 management console sign-in without MFA: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.3 usage of the root user: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.4 IAM policy changes: metric filter and alarm present
	// PASS observe.cis.metric_filters CIS 4.5 CloudTrail configuration changes: metric filter and alarm present
	// FAIL observe.logs.retention Log group /app/web keeps events 30 days, under 365
	// PASS observe.logs.retention Log group /aws/cloudtrail/main keeps events 400 days
}
