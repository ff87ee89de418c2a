package observe_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/observe"
)

// seedUnrelated lays resources observe did not create, some of them tagged
// like other awsguard packages' or named like observe's.
func seedUnrelated(t *testing.T, cfg aws.Config, id string) {
	ctx := context.Background()
	s := sns.NewFromConfig(cfg)
	for _, tc := range []struct {
		name string
		tags []snstypes.Tag
	}{
		{"other-" + id, nil},
		{"waf-" + id, []snstypes.Tag{{Key: aws.String(observe.TagManaged), Value: aws.String("true")}, {Key: aws.String(observe.TagPackage), Value: aws.String("waf")}}},
	} {
		out, err := s.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(tc.name), Tags: tc.tags})
		must(t, err)
		_, err = s.Subscribe(ctx, &sns.SubscribeInput{TopicArn: out.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String("arn:aws:sqs:us-east-1:123456789012:other")})
		must(t, err)
	}
	e := eventbridge.NewFromConfig(cfg)
	_, err := e.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("other-" + id), EventPattern: aws.String(`{"source":["aws.ec2"]}`)})
	must(t, err)
	lg := cloudwatchlogs.NewFromConfig(cfg)
	for _, g := range []string{"other-" + id, trailGroup + "-" + id} {
		_, err = lg.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(g)})
		must(t, err)
	}
	_, err = lg.PutMetricFilter(ctx, &cloudwatchlogs.PutMetricFilterInput{LogGroupName: aws.String(trailGroup + "-" + id), FilterName: aws.String("other"),
		FilterPattern: aws.String("ERROR"), MetricTransformations: []logtypes.MetricTransformation{{MetricName: aws.String("Errors"), MetricNamespace: aws.String("Other"), MetricValue: aws.String("1")}}})
	must(t, err)
	_, err = cloudwatch.NewFromConfig(cfg).PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{AlarmName: aws.String("awsguard-other-" + id),
		Namespace: aws.String("Other"), MetricName: aws.String("Errors"), Statistic: cwtypes.StatisticSum,
		Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanThreshold})
	must(t, err)
	_, err = e.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("other-" + id), Targets: []ebtypes.Target{{Id: aws.String("x"), Arn: aws.String(testTopicARN)}}})
	must(t, err)
}

// setUp makes observe's topic, preset rules, alarms and a log group, named
// after id: two rules, every CIS control and an instance's alarms when
// full, else one rule and one CIS control. The CloudTrail log group trail
// must exist.
func setUp(t *testing.T, cfg aws.Config, id, trail string, full bool) string {
	ctx := context.Background()
	tp := alertTopic
	tp.Name = "alerts-" + id
	res, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), tp)
	must(t, err)
	presets := []observe.Preset{observe.PresetRootSignIn, observe.PresetAccessKeyCreated}
	if !full {
		presets = presets[:1]
	}
	for _, p := range presets {
		r, err := observe.PresetRule(p, res.TopicARN)
		must(t, err)
		r.Name += "-" + id
		_, err = observe.EnsureEventRule(ctx, eventbridge.NewFromConfig(cfg), r)
		must(t, err)
	}
	cis := observe.CISAlarms{LogGroupName: trail, TopicARN: res.TopicARN}
	if !full {
		cis.Controls = []string{"4.1"}
	}
	cw, lg := cloudwatch.NewFromConfig(cfg), cloudwatchlogs.NewFromConfig(cfg)
	_, err = observe.EnsureCISAlarms(ctx, cw, lg, cis)
	must(t, err)
	if full {
		_, err = observe.EnsureInstanceAlarms(ctx, cw, observe.InstanceAlarms{InstanceID: "i-0123456789abcdef0", TopicARN: res.TopicARN})
		must(t, err)
	}
	_, err = observe.EnsureLogGroups(ctx, lg, []observe.LogGroup{{Name: "/awsguard/" + id, RetentionDays: 365}})
	must(t, err)
	return res.TopicARN
}

type inventory struct {
	Topics  map[string]int // topic ARN: subscriptions
	Rules   map[string]int // rule name: targets
	Alarms  []string
	Filters map[string]int // log group: metric filters
}

func take(t *testing.T, cfg aws.Config) inventory {
	ctx := context.Background()
	inv := inventory{Topics: map[string]int{}, Rules: map[string]int{}, Filters: map[string]int{}}
	s := sns.NewFromConfig(cfg)
	topics, err := s.ListTopics(ctx, &sns.ListTopicsInput{})
	must(t, err)
	for _, tp := range topics.Topics {
		subs, err := s.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: tp.TopicArn})
		must(t, err)
		inv.Topics[aws.ToString(tp.TopicArn)] = len(subs.Subscriptions)
	}
	e := eventbridge.NewFromConfig(cfg)
	rules, err := e.ListRules(ctx, &eventbridge.ListRulesInput{})
	must(t, err)
	for _, r := range rules.Rules {
		tg, err := e.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: r.Name})
		must(t, err)
		inv.Rules[aws.ToString(r.Name)] = len(tg.Targets)
	}
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	must(t, err)
	for _, a := range alarms.MetricAlarms {
		inv.Alarms = append(inv.Alarms, aws.ToString(a.AlarmName))
	}
	lg := cloudwatchlogs.NewFromConfig(cfg)
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(lg, &cloudwatchlogs.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		groups, err := p.NextPage(ctx)
		must(t, err)
		for _, g := range groups.LogGroups {
			f, err := lg.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{LogGroupName: g.LogGroupName})
			must(t, err)
			inv.Filters[aws.ToString(g.LogGroupName)] = len(f.MetricFilters)
		}
	}
	return inv
}

func teardownClients(cfg aws.Config) observe.TeardownClients {
	return observe.TeardownClients{SNS: sns.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}
}

func TestTeardownMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	seedUnrelated(t, env.Config(), "a")
	before := take(t, env.Config())
	setUp(t, env.Config(), "a", trailGroup+"-a", true)

	cfg, calls := counted(env)
	dry, err := observe.Teardown(ctx, teardownClients(cfg), func(o *observe.TeardownOptions) { o.DryRun, o.DeleteLogGroups = true, true })
	must(t, err)
	var kinds []string
	for _, a := range dry.Actions {
		if len(kinds) == 0 || kinds[len(kinds)-1] != a.Kind {
			kinds = append(kinds, a.Kind)
		}
	}
	// Grouped by kind, in dependency order (filter before its alarm).
	want := []string{"remove-targets", "delete-rule", "remove-targets", "delete-rule"}
	for range observe.CISControls() {
		want = append(want, "delete-metric-filter", "delete-alarm")
	}
	want = append(want, "unsubscribe", "delete-topic", "delete-log-group")
	if d := cmpDiff(want, kinds); d != "" || dry.Reason != awsguard.ReasonDryRun {
		t.Fatalf("dry run (%s) order (-want +got):\n%s", dry.Reason, d)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("dry run made mutating calls %v", m)
	}
	res, err := observe.Teardown(ctx, teardownClients(env.Config()), func(o *observe.TeardownOptions) { o.DeleteLogGroups = true })
	must(t, err)
	if !res.Applied || len(res.Changed) != 0 {
		t.Fatalf("teardown = %+v", res)
	}
	after := take(t, env.Config())
	if d := cmpDiff(before, after); d != "" {
		t.Errorf("after teardown (-before +after):\n%s", d)
	}
	calls.Reset()
	again, err := observe.Teardown(ctx, teardownClients(cfg))
	must(t, err)
	if again.Applied || again.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second teardown = %+v", again.Plan)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("second teardown made mutating calls %v", m)
	}
}

// A subscription and a target added by hand keep their topic and rule,
// reported, unless RemoveChanged.
func TestTeardownChangedByHand(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg := env.Config()
	seedUnrelated(t, cfg, "b")
	topic := setUp(t, cfg, "b", trailGroup+"-b", false)
	s := sns.NewFromConfig(cfg)
	_, err := s.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(topic), Protocol: aws.String("email"), Endpoint: aws.String("bob@example.com")})
	must(t, err)
	e := eventbridge.NewFromConfig(cfg)
	rule := "awsguard-root-sign-in-b"
	_, err = e.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String("by-hand"), Arn: aws.String(topic)}}})
	must(t, err)

	res, err := observe.Teardown(ctx, teardownClients(cfg))
	must(t, err)
	if len(res.Changed) != 2 || !res.Changed[0].Kept || !res.Changed[1].Kept {
		t.Fatalf("changed = %+v", res.Changed)
	}
	inv := take(t, cfg)
	if inv.Topics[topic] != 1 || inv.Rules[rule] != 1 || len(inv.Rules) != 2 {
		t.Errorf("kept = %+v, want the topic with bob only and the rule with its hand-made target", inv)
	}
	res, err = observe.Teardown(ctx, teardownClients(cfg), func(o *observe.TeardownOptions) { o.RemoveChanged = true })
	must(t, err)
	if !res.Applied {
		t.Fatalf("remove changed = %+v", res)
	}
	if inv := take(t, cfg); len(inv.Topics) != 2 || len(inv.Rules) != 1 {
		t.Errorf("left = %+v", inv)
	}
}
