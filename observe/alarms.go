package observe

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/awsguard/awsguard"
)

// CISControl is one CIS AWS Foundations Benchmark v3.0 section 4 control:
// a metric filter on the CloudTrail log group and an alarm on its metric.
type CISControl struct {
	// ID is the CIS item, such as "4.1".
	ID string `json:"id"`
	// Name is the short name, such as "unauthorized-api-calls"; the filter
	// and alarm are named "awsguard-cis-" + ID + "-" + Name.
	Name string `json:"name"`
	// Title says what it watches.
	Title string `json:"title"`
	// Pattern is the CloudWatch Logs filter pattern the benchmark gives.
	Pattern string `json:"pattern"`
	// Metric is the metric name the filter counts into.
	Metric string `json:"metric"`
}

// FilterName is the name of observe's metric filter and alarm for it.
func (c CISControl) FilterName() string { return "awsguard-cis-" + c.ID + "-" + c.Name }

var cisControls = []CISControl{
	{"4.1", "unauthorized-api-calls", "unauthorized API calls",
		`{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`, "UnauthorizedAPICalls"},
	{"4.2", "console-sign-in-without-mfa", "management console sign-in without MFA",
		`{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`, "ConsoleSigninWithoutMFA"},
	{"4.3", "root-usage", "usage of the root user",
		`{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`, "RootAccountUsage"},
	{"4.4", "iam-policy-changes", "IAM policy changes",
		`{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = SetDefaultPolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy)) }`, "IAMPolicyChanges"},
	{"4.5", "cloudtrail-changes", "CloudTrail configuration changes",
		`{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }`, "CloudTrailChanges"},
	{"4.10", "security-group-changes", "security group changes",
		`{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }`, "SecurityGroupChanges"},
	{"4.11", "nacl-changes", "network ACL changes",
		`{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }`, "NACLChanges"},
	{"4.12", "network-gateway-changes", "network gateway changes",
		`{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }`, "NetworkGatewayChanges"},
	{"4.13", "route-table-changes", "route table changes",
		`{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }`, "RouteTableChanges"},
}

// CISControls returns the CIS v3.0 section 4 controls observe sets up, in
// order.
func CISControls() []CISControl { return slices.Clone(cisControls) }

// CISNamespace is the default metric namespace of the CIS metric filters.
const CISNamespace = "CISBenchmark"

// Tags an alarm carries to record the metric filter observe made with it
// (metric filters cannot be tagged).
const (
	tagLogGroup     = "awsguard:log-group"
	tagMetricFilter = "awsguard:metric-filter"
)

// CISAlarms asks for the CIS section 4 filters and alarms on a CloudTrail
// log group.
type CISAlarms struct {
	// LogGroupName is the CloudWatch Logs group CloudTrail delivers to (at
	// most 256 characters, so that the alarm's tag can record it).
	LogGroupName string
	// TopicARN is the topic the alarms notify.
	TopicARN string
	// Namespace is the metric namespace; default CISNamespace.
	Namespace string
	// Controls, if set, limits the controls to these IDs ("4.1", ...).
	Controls []string
}

// InstanceAlarms asks for an EC2 instance's alarms.
type InstanceAlarms struct {
	InstanceID string
	TopicARN   string
	// CPUPercent is the CPU utilization that raises the CPU alarm, for two
	// periods of 5 minutes; default 80.
	CPUPercent float64
}

// The action kinds of the alarm operations.
const (
	ActionPutAlarm        = "put-alarm"
	ActionPutMetricFilter = "put-metric-filter"
)

// alarmSpec is one alarm to keep in place, with its metric filter if any.
type alarmSpec struct {
	in     cloudwatch.PutMetricAlarmInput
	filter *cloudwatchlogs.PutMetricFilterInput
}

var (
	logGroupRE = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,256}$`)
	instanceRE = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

func checkTopic(op, field, topicARN string) error {
	if a, err := arn.Parse(topicARN); err != nil || a.Service != "sns" {
		return inputErr(op, field, topicARN, "an SNS topic ARN")
	}
	return nil
}

func (c CISAlarms) specs(op string) ([]alarmSpec, error) {
	if !logGroupRE.MatchString(c.LogGroupName) {
		return nil, inputErr(op, "CISAlarms.LogGroupName", c.LogGroupName, "a log group name of 1 to 256 of letters, digits and . - _ / #")
	}
	if err := checkTopic(op, "CISAlarms.TopicARN", c.TopicARN); err != nil {
		return nil, err
	}
	ns := c.Namespace
	if ns == "" {
		ns = CISNamespace
	}
	if len(ns) > 255 || strings.HasPrefix(ns, "AWS/") {
		return nil, inputErr(op, "CISAlarms.Namespace", ns, "a custom namespace of at most 255 characters, not AWS/...")
	}
	for _, id := range c.Controls {
		if !slices.ContainsFunc(cisControls, func(x CISControl) bool { return x.ID == id }) {
			return nil, inputErr(op, "CISAlarms.Controls", id, "a CIS control of CISControls")
		}
	}
	var out []alarmSpec
	for _, ctl := range cisControls {
		if len(c.Controls) > 0 && !slices.Contains(c.Controls, ctl.ID) {
			continue
		}
		name := ctl.FilterName()
		out = append(out, alarmSpec{
			in: cloudwatch.PutMetricAlarmInput{
				AlarmName:          aws.String(name),
				AlarmDescription:   aws.String("awsguard: CIS " + ctl.ID + " " + ctl.Title),
				Namespace:          aws.String(ns),
				MetricName:         aws.String(ctl.Metric),
				Statistic:          cwtypes.StatisticSum,
				Period:             aws.Int32(300),
				EvaluationPeriods:  aws.Int32(1),
				Threshold:          aws.Float64(1),
				ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
				TreatMissingData:   aws.String("notBreaching"),
				AlarmActions:       []string{c.TopicARN},
				ActionsEnabled:     aws.Bool(true),
				Tags: []cwtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)},
					{Key: aws.String(tagLogGroup), Value: aws.String(c.LogGroupName)}, {Key: aws.String(tagMetricFilter), Value: aws.String(name)}},
			},
			filter: &cloudwatchlogs.PutMetricFilterInput{
				LogGroupName:  aws.String(c.LogGroupName),
				FilterName:    aws.String(name),
				FilterPattern: aws.String(ctl.Pattern),
				MetricTransformations: []logtypes.MetricTransformation{{
					MetricName: aws.String(ctl.Metric), MetricNamespace: aws.String(ns), MetricValue: aws.String("1"),
				}},
			},
		})
	}
	return out, nil
}

func (c InstanceAlarms) specs(op string) ([]alarmSpec, error) {
	if !instanceRE.MatchString(c.InstanceID) {
		return nil, inputErr(op, "InstanceAlarms.InstanceID", c.InstanceID, "an EC2 instance ID (i- and 8 or 17 hex digits)")
	}
	if err := checkTopic(op, "InstanceAlarms.TopicARN", c.TopicARN); err != nil {
		return nil, err
	}
	cpu := c.CPUPercent
	if cpu == 0 {
		cpu = 80
	}
	if cpu < 1 || cpu > 100 {
		return nil, inputErr(op, "InstanceAlarms.CPUPercent", fmt.Sprint(cpu), "1..100")
	}
	dims := []cwtypes.Dimension{{Name: aws.String("InstanceId"), Value: aws.String(c.InstanceID)}}
	tags := []cwtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)}}
	return []alarmSpec{
		{in: cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String("awsguard-" + c.InstanceID + "-cpu-high"),
			AlarmDescription:   aws.String(fmt.Sprintf("awsguard: CPU of %s at or above %g%% for 10 minutes", c.InstanceID, cpu)),
			Namespace:          aws.String("AWS/EC2"),
			MetricName:         aws.String("CPUUtilization"),
			Dimensions:         dims,
			Statistic:          cwtypes.StatisticAverage,
			Period:             aws.Int32(300),
			EvaluationPeriods:  aws.Int32(2),
			Threshold:          aws.Float64(cpu),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			TreatMissingData:   aws.String("missing"),
			AlarmActions:       []string{c.TopicARN},
			ActionsEnabled:     aws.Bool(true),
			Tags:               tags,
		}},
		{in: cloudwatch.PutMetricAlarmInput{
			AlarmName:          aws.String("awsguard-" + c.InstanceID + "-status-check-failed"),
			AlarmDescription:   aws.String("awsguard: status check of " + c.InstanceID + " failed for 2 minutes"),
			Namespace:          aws.String("AWS/EC2"),
			MetricName:         aws.String("StatusCheckFailed"),
			Dimensions:         dims,
			Statistic:          cwtypes.StatisticMaximum,
			Period:             aws.Int32(60),
			EvaluationPeriods:  aws.Int32(2),
			Threshold:          aws.Float64(1),
			ComparisonOperator: cwtypes.ComparisonOperatorGreaterThanOrEqualToThreshold,
			TreatMissingData:   aws.String("missing"),
			AlarmActions:       []string{c.TopicARN},
			ActionsEnabled:     aws.Bool(true),
			Tags:               tags,
		}},
	}, nil
}

// AlarmResult is what an alarm operation did (or would do).
type AlarmResult struct {
	awsguard.Plan
	// Alarms are the names of the alarms kept in place.
	Alarms []string `json:"alarms"`
}

// liveAlarms reads the named alarms and whether observe made them.
func liveAlarms(ctx context.Context, api AlarmsAPI, names []string) (map[string]cwtypes.MetricAlarm, map[string]bool, error) {
	alarms := map[string]cwtypes.MetricAlarm{}
	for chunk := range slices.Chunk(names, 100) {
		p := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{AlarmNames: chunk, AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("observe: describe alarms: %w", err)
			}
			for _, a := range out.MetricAlarms {
				alarms[aws.ToString(a.AlarmName)] = a
			}
		}
	}
	managed := map[string]bool{}
	for name, a := range alarms {
		tags, err := alarmTags(ctx, api, aws.ToString(a.AlarmArn))
		if err != nil {
			return nil, nil, err
		}
		managed[name] = isManaged(tags)
	}
	return alarms, managed, nil
}

func alarmTags(ctx context.Context, api interface {
	ListTagsForResource(context.Context, *cloudwatch.ListTagsForResourceInput, ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
}, alarmARN string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &cloudwatch.ListTagsForResourceInput{ResourceARN: aws.String(alarmARN)})
	if err != nil {
		return nil, fmt.Errorf("observe: list tags of %s: %w", alarmARN, err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

// alarmMatches reports whether the live alarm is the wanted one.
func alarmMatches(a cwtypes.MetricAlarm, w *cloudwatch.PutMetricAlarmInput) bool {
	dims := func(ds []cwtypes.Dimension) []string {
		var out []string
		for _, d := range ds {
			out = append(out, aws.ToString(d.Name)+"="+aws.ToString(d.Value))
		}
		slices.Sort(out)
		return out
	}
	return aws.ToString(a.Namespace) == aws.ToString(w.Namespace) &&
		aws.ToString(a.MetricName) == aws.ToString(w.MetricName) &&
		aws.ToString(a.AlarmDescription) == aws.ToString(w.AlarmDescription) &&
		a.Statistic == w.Statistic &&
		aws.ToInt32(a.Period) == aws.ToInt32(w.Period) &&
		aws.ToInt32(a.EvaluationPeriods) == aws.ToInt32(w.EvaluationPeriods) &&
		aws.ToFloat64(a.Threshold) == aws.ToFloat64(w.Threshold) &&
		a.ComparisonOperator == w.ComparisonOperator &&
		aws.ToString(a.TreatMissingData) == aws.ToString(w.TreatMissingData) &&
		aws.ToBool(a.ActionsEnabled) &&
		slices.Equal(a.AlarmActions, w.AlarmActions) &&
		slices.Equal(dims(a.Dimensions), dims(w.Dimensions))
}

func filterMatches(f logtypes.MetricFilter, w *cloudwatchlogs.PutMetricFilterInput) bool {
	if aws.ToString(f.FilterPattern) != aws.ToString(w.FilterPattern) || len(f.MetricTransformations) != 1 {
		return false
	}
	m, x := f.MetricTransformations[0], w.MetricTransformations[0]
	return aws.ToString(m.MetricName) == aws.ToString(x.MetricName) &&
		aws.ToString(m.MetricNamespace) == aws.ToString(x.MetricNamespace) &&
		aws.ToString(m.MetricValue) == aws.ToString(x.MetricValue)
}

// ensureAlarms keeps the alarms (and their metric filters) in place. Each
// alarm is put before its filter: the alarm's tags record the filter, so
// that Teardown finds every filter observe made even after a failure.
func ensureAlarms(ctx context.Context, op, resource string, cw AlarmsAPI, logs MetricFiltersAPI, specs []alarmSpec, o Options) (*AlarmResult, error) {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = aws.ToString(s.in.AlarmName)
	}
	alarms, managed, err := liveAlarms(ctx, cw, names)
	if err != nil {
		return nil, err
	}
	res := &AlarmResult{Plan: awsguard.Plan{Operation: op, Resource: resource, DryRun: o.DryRun}, Alarms: names}
	for _, n := range names {
		if _, ok := alarms[n]; ok && !managed[n] {
			res.Reason = awsguard.ReasonRefused
			return res, fmt.Errorf("%w: alarm %s", ErrNotManaged, n)
		}
	}
	filters := map[string]logtypes.MetricFilter{}
	if logs != nil && len(specs) > 0 && specs[0].filter != nil {
		p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(logs, &cloudwatchlogs.DescribeMetricFiltersInput{
			LogGroupName: specs[0].filter.LogGroupName, FilterNamePrefix: aws.String("awsguard-cis-")})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("observe: describe metric filters of %s: %w", aws.ToString(specs[0].filter.LogGroupName), err)
			}
			for _, f := range out.MetricFilters {
				filters[aws.ToString(f.FilterName)] = f
			}
		}
	}
	todo := map[string]func(context.Context) error{}
	for _, s := range specs {
		name := aws.ToString(s.in.AlarmName)
		if a, ok := alarms[name]; !ok || !alarmMatches(a, &s.in) {
			why := "no alarm of the name"
			in := s.in
			if ok {
				why, in.Tags = "the alarm differs", nil // tags are set only on creation
			}
			res.Add(awsguard.Action{Kind: ActionPutAlarm, Call: "cloudwatch:PutMetricAlarm", Resource: name,
				Detail: "put alarm " + name + " on " + aws.ToString(s.in.Namespace) + "/" + aws.ToString(s.in.MetricName) + " notifying " + s.in.AlarmActions[0], Why: why})
			todo[ActionPutAlarm+name] = func(ctx context.Context) error {
				if _, err := cw.PutMetricAlarm(ctx, &in); err != nil {
					return fmt.Errorf("put alarm %s: %w", name, err)
				}
				return nil
			}
		}
		if s.filter == nil {
			continue
		}
		if f, ok := filters[name]; !ok || !filterMatches(f, s.filter) {
			in := s.filter
			res.Add(awsguard.Action{Kind: ActionPutMetricFilter, Call: "logs:PutMetricFilter", Resource: name,
				Detail: "put metric filter " + name + " on log group " + aws.ToString(in.LogGroupName), Why: "the filter is missing or differs"})
			todo[ActionPutMetricFilter+name] = func(ctx context.Context) error {
				if _, err := logs.PutMetricFilter(ctx, in); err != nil {
					return fmt.Errorf("put metric filter %s: %w", name, err)
				}
				return nil
			}
		}
	}
	err = res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		return todo[a.Kind+a.Resource](ctx)
	}, o.apply(op))
	return res, err
}

// EnsureCISAlarms keeps in place, on the CloudTrail log group, the CIS
// AWS Foundations Benchmark v3.0 section 4 metric filters and their alarms
// (Sum >= 1 over 5 minutes, missing data not breaching) notifying the
// topic: unauthorized API calls (4.1), console sign-in without MFA (4.2),
// root usage (4.3), IAM policy changes (4.4), CloudTrail changes (4.5),
// security group (4.10), network ACL (4.11), network gateway (4.12) and
// route table (4.13) changes. Filters and alarms are named
// CISControl.FilterName; the alarms are tagged as observe's and record
// their filter and log group, so that Teardown removes both.
//
// An alarm of the name that observe did not create stops the operation
// before any change (ErrNotManaged). DryRun returns the plan; a second run
// makes no mutating call. Permissions: those of AlarmsAPI and
// MetricFiltersAPI.
func EnsureCISAlarms(ctx context.Context, cw AlarmsAPI, logs MetricFiltersAPI, want CISAlarms, optFns ...func(*Options)) (*AlarmResult, error) {
	const op = "observe.EnsureCISAlarms"
	specs, err := want.specs(op)
	if err != nil {
		return nil, err
	}
	return ensureAlarms(ctx, op, "log-group/"+want.LogGroupName, cw, logs, specs, options(optFns))
}

// EnsureInstanceAlarms keeps an EC2 instance's two alarms in place, both
// notifying the topic: awsguard-ID-cpu-high (average CPU at or above
// CPUPercent for two periods of 5 minutes) and
// awsguard-ID-status-check-failed (StatusCheckFailed for two minutes; a
// stopped instance sends no data and does not alarm).
// Tagged, planned and idempotent as EnsureCISAlarms. Permissions: those
// of AlarmsAPI.
func EnsureInstanceAlarms(ctx context.Context, cw AlarmsAPI, want InstanceAlarms, optFns ...func(*Options)) (*AlarmResult, error) {
	const op = "observe.EnsureInstanceAlarms"
	specs, err := want.specs(op)
	if err != nil {
		return nil, err
	}
	return ensureAlarms(ctx, op, "instance/"+want.InstanceID, cw, nil, specs, options(optFns))
}
