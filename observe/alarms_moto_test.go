package observe_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/observe"
)

const trailGroup = "aws-cloudtrail-logs-123456789012"

func TestEnsureCISAlarmsMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	logs := cloudwatchlogs.NewFromConfig(env.Config())
	group := trailGroup + "-cis"
	_, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(group)})
	must(t, err)
	cfg, calls := counted(env)
	want := observe.CISAlarms{LogGroupName: group, TopicARN: testTopicARN}
	cw, lg := cloudwatch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	dry, err := observe.EnsureCISAlarms(ctx, cw, lg, want, func(o *observe.Options) { o.DryRun = true })
	must(t, err)
	n := len(observe.CISControls())
	if len(dry.Actions) != 2*n || dry.Reason != awsguard.ReasonDryRun {
		t.Fatalf("dry run = %d actions (%s), want %d", len(dry.Actions), dry.Reason, 2*n)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("dry run made mutating calls %v", m)
	}
	res, err := observe.EnsureCISAlarms(ctx, cw, lg, want)
	must(t, err)
	if !res.Applied || dry.Actions[0].Kind != observe.ActionPutAlarm || dry.Actions[1].Kind != observe.ActionPutMetricFilter {
		t.Fatalf("apply = %+v", res.Plan)
	}
	calls.Reset()
	again, err := observe.EnsureCISAlarms(ctx, cw, lg, want)
	must(t, err)
	if again.Applied || again.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second run = %+v", again.Plan)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("second run made mutating calls %v", m)
	}
	filters, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: aws.String(group)})
	must(t, err)
	if len(filters.MetricFilters) != n {
		t.Errorf("filters = %d, want %d", len(filters.MetricFilters), n)
	}
}

func TestEnsureInstanceAlarmsMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	cfg, calls := counted(env)
	cw := cloudwatch.NewFromConfig(cfg)
	want := observe.InstanceAlarms{InstanceID: "i-0123456789abcdef9", TopicARN: testTopicARN}
	res, err := observe.EnsureInstanceAlarms(ctx, cw, want)
	must(t, err)
	if len(res.Actions) != 2 || !res.Applied {
		t.Fatalf("apply = %+v", res.Plan)
	}
	calls.Reset()
	again, err := observe.EnsureInstanceAlarms(ctx, cw, want)
	must(t, err)
	if again.Applied || len(mutating(calls)) != 0 {
		t.Fatalf("second run = %+v, calls %v", again.Plan, mutating(calls))
	}
	// A changed threshold is put back.
	want.CPUPercent = 90
	res, err = observe.EnsureInstanceAlarms(ctx, cw, want)
	must(t, err)
	if len(res.Actions) != 1 || res.Actions[0].Resource != "awsguard-i-0123456789abcdef9-cpu-high" {
		t.Fatalf("threshold change = %+v", res.Plan)
	}
	// An alarm of the name observe did not make is left alone.
	_, err = cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("awsguard-i-0123456789abcdef1-cpu-high"),
		Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Statistic: cwtypes.StatisticAverage,
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(50), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	must(t, err)
	_, err = observe.EnsureInstanceAlarms(ctx, cw, observe.InstanceAlarms{InstanceID: "i-0123456789abcdef1", TopicARN: testTopicARN})
	if !errors.Is(err, observe.ErrNotManaged) {
		t.Errorf("err = %v, want ErrNotManaged", err)
	}
}

func TestEnsureLogGroupsMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	cfg, calls := counted(env)
	api := cloudwatchlogs.NewFromConfig(cfg)
	_, err := api.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/existing")})
	must(t, err)
	groups := []observe.LogGroup{{Name: "/awsguard/httpd/access", RetentionDays: 365}, {Name: "/existing", RetentionDays: 400}}
	_, err = observe.EnsureLogGroups(ctx, api, groups)
	if !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("retention on a never-expiring group: err = %v, want ErrWeakening", err)
	}
	res, err := observe.EnsureLogGroups(ctx, api, groups, func(o *observe.Options) { o.AllowWeaken = true })
	must(t, err)
	if len(res.Actions) != 3 || !res.Applied {
		t.Fatalf("apply = %+v", res.Plan)
	}
	calls.Reset()
	again, err := observe.EnsureLogGroups(ctx, api, groups)
	must(t, err)
	if again.Applied || len(mutating(calls)) != 0 {
		t.Fatalf("second run = %+v, calls %v", again.Plan, mutating(calls))
	}
	// Longer retention is not weakening.
	groups[1].RetentionDays = 731
	_, err = observe.EnsureLogGroups(ctx, api, groups)
	must(t, err)
	_, err = observe.EnsureLogGroups(ctx, api, []observe.LogGroup{{Name: "/x", RetentionDays: 2}})
	var ie *awsguard.InputError
	if !errors.As(err, &ie) || ie.Field != "groups[0].RetentionDays" {
		t.Errorf("err = %v", err)
	}
}

// A run interrupted after it created a group and before it set the
// retention (the retention call failed, or the create's answer was lost)
// leaves observe's group keeping events forever: a re-run sets the
// retention without AllowWeaken, because it deletes nothing anyone kept,
// and the run after makes no mutating call. An untagged group in the same
// state stays weakening (TestEnsureLogGroupsMoto).
func TestEnsureLogGroupsInterrupted(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	for i, rule := range []fault.Rule{
		{Operation: "PutRetentionPolicy", Kind: fault.ServerError},
		{Operation: "CreateLogGroup", Kind: fault.ResponseLost},
	} {
		groups := []observe.LogGroup{{Name: fmt.Sprintf("/awsguard/interrupted-%d", i), RetentionDays: 365}}
		cfg, inj := faulty(env, rule)
		if _, err := observe.EnsureLogGroups(ctx, cloudwatchlogs.NewFromConfig(cfg), groups); err == nil || len(inj.Injected()) != 1 {
			t.Fatalf("%v: err = %v, injected %v", rule, err, inj.Injected())
		}
		api := cloudwatchlogs.NewFromConfig(env.Config())
		live, err := api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(groups[0].Name)})
		must(t, err)
		if len(live.LogGroups) != 1 || live.LogGroups[0].RetentionInDays != nil {
			t.Fatalf("%v: after the interruption: %+v", rule, live.LogGroups)
		}
		res, err := observe.EnsureLogGroups(ctx, api, groups)
		if err != nil {
			t.Fatalf("%v: re-run: %v", rule, err)
		}
		if len(res.Actions) != 1 || res.Actions[0].Kind != observe.ActionSetRetention || res.Actions[0].Weakening || !res.Applied {
			t.Errorf("%v: re-run = %+v", rule, res.Plan)
		}
		live, err = api.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(groups[0].Name)})
		must(t, err)
		if len(live.LogGroups) != 1 || aws.ToInt32(live.LogGroups[0].RetentionInDays) != 365 {
			t.Errorf("%v: after the re-run: %+v", rule, live.LogGroups)
		}
		ccfg, calls := counted(env)
		_, err = observe.EnsureLogGroups(ctx, cloudwatchlogs.NewFromConfig(ccfg), groups)
		must(t, err)
		if m := mutating(calls); len(m) != 0 {
			t.Errorf("%v: third run made mutating calls %v", rule, m)
		}
	}
}
