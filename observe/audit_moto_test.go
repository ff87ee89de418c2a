package observe_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/observe"
)

func auditClients(cfg aws.Config) observe.AuditClients {
	return observe.AuditClients{SNS: sns.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), CloudWatch: cloudwatch.NewFromConfig(cfg)}
}

var auditNow = func() time.Time { return time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC) }

func statuses(rep *awsguard.Report) map[string][]awsguard.Status {
	out := map[string][]awsguard.Status{}
	for _, f := range rep.Findings {
		out[f.Check] = append(out[f.Check], f.Status)
	}
	return out
}

func TestAuditMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg := env.Config()
	// Before anything is set up: everything fails.
	lg := cloudwatchlogs.NewFromConfig(cfg)
	_, err := lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(trailGroup)})
	must(t, err)
	rep, err := observe.Audit(ctx, auditClients(cfg), func(o *observe.AuditOptions) { o.Now = auditNow })
	must(t, err)
	n := len(observe.CISControls())
	fails := func(k int) []awsguard.Status {
		out := make([]awsguard.Status, k)
		for i := range out {
			out[i] = awsguard.StatusFail
		}
		return out
	}
	want := map[string][]awsguard.Status{
		observe.CheckAlertTopic:    fails(1),
		observe.CheckCISFilters:    fails(n),
		observe.CheckLogsRetention: fails(1),
	}
	if d := cmp.Diff(want, statuses(rep)); d != "" {
		t.Errorf("before (-want +got):\n%s", d)
	}
	// Set up: all pass; a short retention fails.
	res, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), alertTopic)
	must(t, err)
	_, err = observe.EnsureCISAlarms(ctx, cloudwatch.NewFromConfig(cfg), lg, observe.CISAlarms{LogGroupName: trailGroup, TopicARN: res.TopicARN})
	must(t, err)
	_, err = observe.EnsureLogGroups(ctx, lg, []observe.LogGroup{{Name: trailGroup, RetentionDays: 400}, {Name: "/short", RetentionDays: 30}},
		func(o *observe.Options) { o.AllowWeaken = true })
	must(t, err)
	rep, err = observe.Audit(ctx, auditClients(cfg), func(o *observe.AuditOptions) { o.Now = auditNow })
	must(t, err)
	passes := make([]awsguard.Status, n)
	for i := range passes {
		passes[i] = awsguard.StatusPass
	}
	want = map[string][]awsguard.Status{
		observe.CheckAlertTopic:    {awsguard.StatusPass},
		observe.CheckCISFilters:    passes,
		observe.CheckLogsRetention: {awsguard.StatusFail, awsguard.StatusPass},
	}
	if d := cmp.Diff(want, statuses(rep)); d != "" {
		t.Errorf("after (-want +got):\n%s", d)
	}
	for _, f := range rep.Findings {
		if f.Account != awstest.DefaultAccount || f.Region != awstest.DefaultRegion || len(f.Controls) == 0 {
			t.Errorf("finding %+v lacks account, region or controls", f)
		}
	}
	// A source that cannot be read gives ERROR findings, not a verdict.
	fcfg, _ := faulty(env, fault.Rule{Service: "CloudWatch", Operation: "DescribeAlarms", Kind: fault.ServerError})
	rep, err = observe.Audit(ctx, auditClients(fcfg))
	if !errors.Is(err, observe.ErrAuditIncomplete) {
		t.Fatalf("err = %v", err)
	}
	for _, f := range rep.Findings {
		if f.Check == observe.CheckCISFilters && f.Status != awsguard.StatusError {
			t.Errorf("CIS finding with alarms unreadable: %+v", f)
		}
	}
}
