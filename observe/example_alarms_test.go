package observe_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/awsguard/awsguard/observe"
)

// fakeAlarms is an observe.AlarmsAPI holding metric alarms and their tags
// in memory, as PutMetricAlarm leaves them.
type fakeAlarms struct {
	alarms map[string]cwtypes.MetricAlarm
	tags   map[string][]cwtypes.Tag // by alarm ARN
}

func (f *fakeAlarms) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	out := &cloudwatch.DescribeAlarmsOutput{}
	for _, n := range in.AlarmNames {
		if a, ok := f.alarms[n]; ok {
			out.MetricAlarms = append(out.MetricAlarms, a)
		}
	}
	return out, nil
}

func (f *fakeAlarms) ListTagsForResource(_ context.Context, in *cloudwatch.ListTagsForResourceInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error) {
	return &cloudwatch.ListTagsForResourceOutput{Tags: f.tags[aws.ToString(in.ResourceARN)]}, nil
}

func (f *fakeAlarms) PutMetricAlarm(_ context.Context, in *cloudwatch.PutMetricAlarmInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.PutMetricAlarmOutput, error) {
	if f.alarms == nil {
		f.alarms, f.tags = map[string]cwtypes.MetricAlarm{}, map[string][]cwtypes.Tag{}
	}
	arn := "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + aws.ToString(in.AlarmName)
	f.alarms[aws.ToString(in.AlarmName)] = cwtypes.MetricAlarm{AlarmName: in.AlarmName, AlarmArn: aws.String(arn),
		AlarmDescription: in.AlarmDescription, Namespace: in.Namespace, MetricName: in.MetricName, Statistic: in.Statistic,
		Period: in.Period, EvaluationPeriods: in.EvaluationPeriods, Threshold: in.Threshold, ComparisonOperator: in.ComparisonOperator,
		TreatMissingData: in.TreatMissingData, ActionsEnabled: aws.Bool(aws.ToBool(in.ActionsEnabled) || in.ActionsEnabled == nil),
		AlarmActions: in.AlarmActions, Dimensions: in.Dimensions}
	if in.Tags != nil {
		f.tags[arn] = in.Tags
	}
	return &cloudwatch.PutMetricAlarmOutput{}, nil
}

// fakeFilters is an observe.MetricFiltersAPI holding metric filters in
// memory.
type fakeFilters struct{ filters []logtypes.MetricFilter }

func (f *fakeFilters) DescribeMetricFilters(context.Context, *cloudwatchlogs.DescribeMetricFiltersInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error) {
	return &cloudwatchlogs.DescribeMetricFiltersOutput{MetricFilters: f.filters}, nil
}

func (f *fakeFilters) PutMetricFilter(_ context.Context, in *cloudwatchlogs.PutMetricFilterInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutMetricFilterOutput, error) {
	f.filters = append(f.filters, logtypes.MetricFilter{FilterName: in.FilterName, LogGroupName: in.LogGroupName,
		FilterPattern: in.FilterPattern, MetricTransformations: in.MetricTransformations})
	return &cloudwatchlogs.PutMetricFilterOutput{}, nil
}

var (
	_ observe.AlarmsAPI        = (*fakeAlarms)(nil)
	_ observe.MetricFiltersAPI = (*fakeFilters)(nil)
)

// EnsureCISAlarms puts each CIS control's alarm, then its metric filter
// on the CloudTrail log group (here two controls: unauthorized API calls
// and root usage); a second run finds them in place and changes nothing.
// (Fakes stand in for CloudWatch and CloudWatch Logs.)
func ExampleEnsureCISAlarms() {
	ctx := context.Background()
	cw, logs := &fakeAlarms{}, &fakeFilters{}
	want := observe.CISAlarms{LogGroupName: "/aws/cloudtrail/main", TopicARN: "arn:aws:sns:us-east-1:123456789012:security-alerts",
		Controls: []string{"4.1", "4.3"}}
	for range 2 {
		res, err := observe.EnsureCISAlarms(ctx, cw, logs, want)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Reason)
		for _, line := range res.Describe() {
			fmt.Println(" ", line)
		}
	}
	// Output:
	// applied
	//   put alarm awsguard-cis-4.1-unauthorized-api-calls on CISBenchmark/UnauthorizedAPICalls notifying arn:aws:sns:us-east-1:123456789012:security-alerts
	//   put metric filter awsguard-cis-4.1-unauthorized-api-calls on log group /aws/cloudtrail/main
	//   put alarm awsguard-cis-4.3-root-usage on CISBenchmark/RootAccountUsage notifying arn:aws:sns:us-east-1:123456789012:security-alerts
	//   put metric filter awsguard-cis-4.3-root-usage on log group /aws/cloudtrail/main
	// already compliant
}
