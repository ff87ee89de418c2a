package observe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/awsguard/awsguard"
)

// The check IDs of Audit. They are stable: never renamed.
const (
	CheckAlertTopic    = "observe.alerts.topic"
	CheckCISFilters    = "observe.cis.metric_filters"
	CheckLogsRetention = "observe.logs.retention"
)

// CheckInfo describes one check of Audit.
type CheckInfo struct {
	ID          string
	Severity    awsguard.Severity
	Controls    []string
	Remediation string
	Summary     string
}

var auditChecks = []CheckInfo{
	{CheckAlertTopic, awsguard.SeverityMedium, []string{"ISMS-P:2.11.3"}, "observe.EnsureAlertTopic", "an SNS topic has a confirmed subscription"},
	{CheckCISFilters, awsguard.SeverityMedium, cisCheckControls(), "observe.EnsureCISAlarms", "each CIS 4.x metric filter exists with an alarm that notifies"},
	{CheckLogsRetention, awsguard.SeverityLow, []string{"ISMS-P:2.9.4"}, "observe.EnsureLogGroups", "every log group has a retention of at least MinRetentionDays"},
}

func cisCheckControls() []string {
	out := []string{"ISMS-P:2.11.3"}
	for _, c := range cisControls {
		out = append(out, "CIS:"+c.ID)
	}
	return out
}

// Checks returns the checks of Audit, in a fixed order.
func Checks() []CheckInfo {
	out := slices.Clone(auditChecks)
	for i := range out {
		out[i].Controls = slices.Clone(out[i].Controls)
	}
	return out
}

// ErrAuditIncomplete means Audit could not read one of its sources. Audit
// still returns its report, in which the checks that depend on the source
// carry StatusError findings saying why; the error wraps this sentinel
// and each cause.
var ErrAuditIncomplete = errors.New("observe: audit incomplete")

// AuditSNSAPI is the part of *sns.Client that Audit calls:
// sns:ListSubscriptions.
type AuditSNSAPI interface {
	ListSubscriptions(ctx context.Context, in *sns.ListSubscriptionsInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsOutput, error)
}

// AuditLogsAPI is the part of *cloudwatchlogs.Client that Audit calls:
// logs:DescribeLogGroups and logs:DescribeMetricFilters.
type AuditLogsAPI interface {
	DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
	DescribeMetricFilters(ctx context.Context, in *cloudwatchlogs.DescribeMetricFiltersInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeMetricFiltersOutput, error)
}

// AuditAlarmsAPI is the part of *cloudwatch.Client that Audit calls:
// cloudwatch:DescribeAlarms.
type AuditAlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

var (
	_ AuditSNSAPI    = (*sns.Client)(nil)
	_ AuditLogsAPI   = (*cloudwatchlogs.Client)(nil)
	_ AuditAlarmsAPI = (*cloudwatch.Client)(nil)
)

// AuditClients are the clients of one region that Audit reads. All three
// are required.
type AuditClients struct {
	SNS        AuditSNSAPI
	Logs       AuditLogsAPI
	CloudWatch AuditAlarmsAPI
}

// AuditOptions tune Audit.
type AuditOptions struct {
	// Account and Region label the findings; by default they are read
	// from the ARNs seen, and Region falls back to "unknown".
	Account, Region string
	// MinRetentionDays is the shortest retention observe.logs.retention
	// accepts; default 365 (ISMS-P keeps access records at least a year).
	MinRetentionDays int32
	// TrailLogGroups, if set, are the log groups CloudTrail delivers to;
	// observe.cis.metric_filters then counts only their filters.
	TrailLogGroups []string
	// Now stamps the report; default time.Now.
	Now func() time.Time
}

// Audit reads a region's alert topics, metric filters, alarms and log
// groups and returns the findings of the checks in the package
// documentation's table. It only reads. If a source cannot be read the
// report still comes back, its dependent checks as ERROR findings, with an
// error wrapping ErrAuditIncomplete.
//
// Permissions: those of AuditSNSAPI, AuditLogsAPI and AuditAlarmsAPI.
func Audit(ctx context.Context, c AuditClients, optFns ...func(*AuditOptions)) (*awsguard.Report, error) {
	const op = "observe.Audit"
	var o AuditOptions
	for _, f := range optFns {
		f(&o)
	}
	if c.SNS == nil || c.Logs == nil || c.CloudWatch == nil {
		return nil, inputErr(op, "AuditClients", "a nil client", "SNS, Logs and CloudWatch clients")
	}
	if o.MinRetentionDays == 0 {
		o.MinRetentionDays = 365
	}
	if o.MinRetentionDays < 0 {
		return nil, inputErr(op, "AuditOptions.MinRetentionDays", fmt.Sprint(o.MinRetentionDays), "a positive number of days")
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var errs []error
	subs, subErr := readAllSubscriptions(ctx, c.SNS)
	groups, groupErr := readAllLogGroups(ctx, c.Logs)
	filters, filterErr := readAllFilters(ctx, c.Logs)
	alarms, alarmErr := readAllAlarms(ctx, c.CloudWatch)
	for _, e := range []error{subErr, groupErr, filterErr, alarmErr} {
		if e != nil {
			errs = append(errs, e)
		}
	}
	// Account and region from the ARNs seen, unless given.
	var seen []string
	for _, s := range subs {
		seen = append(seen, aws.ToString(s.TopicArn))
	}
	for _, g := range groups {
		seen = append(seen, logGroupARN(&g))
	}
	for _, a := range alarms {
		seen = append(seen, aws.ToString(a.AlarmArn))
	}
	for _, s := range seen {
		if a, err := arn.Parse(s); err == nil {
			if o.Account == "" {
				o.Account = a.AccountID
			}
			if o.Region == "" {
				o.Region = a.Region
			}
		}
	}
	if o.Region == "" {
		o.Region = "unknown"
	}
	a := auditor{o: o}
	rep := awsguard.NewReport(now().UTC())
	rep.Add(a.alertTopic(subs, subErr)...)
	rep.Add(a.cisFilters(filters, alarms, errors.Join(filterErr, alarmErr))...)
	rep.Add(a.retention(groups, groupErr)...)
	if len(errs) > 0 {
		return rep, fmt.Errorf("%w: %w", ErrAuditIncomplete, errors.Join(errs...))
	}
	return rep, nil
}

type auditor struct{ o AuditOptions }

func (a auditor) finding(check string, st awsguard.Status, resource, title string, ev map[string]string, controls ...string) awsguard.Finding {
	i := slices.IndexFunc(auditChecks, func(c CheckInfo) bool { return c.ID == check })
	info := auditChecks[i]
	if len(controls) == 0 {
		controls = info.Controls
	}
	f := awsguard.Finding{Check: check, Status: st, Severity: info.Severity, Account: a.o.Account, Region: a.o.Region,
		Resource: resource, Title: title, Evidence: ev, Controls: slices.Clone(controls)}
	if st == awsguard.StatusFail || st == awsguard.StatusError {
		f.Remediation = info.Remediation
	}
	return f
}

// scope is an ARN naming every resource of a service in the account and
// region, for findings about what is missing.
func (a auditor) scope(service, rest string) string {
	return "arn:aws:" + service + ":" + a.o.Region + ":" + a.o.Account + ":" + rest
}

func (a auditor) alertTopic(subs []snstypes.Subscription, err error) []awsguard.Finding {
	res := a.scope("sns", "*")
	if err != nil {
		return []awsguard.Finding{a.finding(CheckAlertTopic, awsguard.StatusError, res, "SNS subscriptions could not be read", map[string]string{"error": err.Error()})}
	}
	confirmed, pending := map[string]int{}, 0
	for _, s := range subs {
		if isPending(aws.ToString(s.SubscriptionArn)) {
			pending++
			continue
		}
		if strings.HasPrefix(aws.ToString(s.SubscriptionArn), "arn:") {
			confirmed[aws.ToString(s.TopicArn)]++
		}
	}
	ev := map[string]string{"subscriptions": strconv.Itoa(len(subs)), "pending_confirmation": strconv.Itoa(pending),
		"topics_with_confirmed_subscription": strconv.Itoa(len(confirmed))}
	if len(confirmed) == 0 {
		return []awsguard.Finding{a.finding(CheckAlertTopic, awsguard.StatusFail, res, "No SNS topic has a confirmed subscription: alerts reach no one", ev)}
	}
	var topics []string
	for t := range confirmed {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	ev["topics"] = strings.Join(topics, ",")
	return []awsguard.Finding{a.finding(CheckAlertTopic, awsguard.StatusPass, topics[0], "An SNS topic has a confirmed subscription", ev)}
}

// normalPattern compares filter patterns without regard to spacing and
// quoting.
func normalPattern(p string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\n' || r == '"' {
			return -1
		}
		return r
	}, p)
}

func (a auditor) cisFilters(filters []logtypes.MetricFilter, alarms []cwtypes.MetricAlarm, err error) []awsguard.Finding {
	var out []awsguard.Finding
	for _, ctl := range cisControls {
		control := "CIS:" + ctl.ID
		title := "CIS " + ctl.ID + " " + ctl.Title
		if err != nil {
			out = append(out, a.finding(CheckCISFilters, awsguard.StatusError, a.scope("logs", "log-group:*"), title+": could not be read",
				map[string]string{"error": err.Error()}, "ISMS-P:2.11.3", control))
			continue
		}
		ev := map[string]string{"control": ctl.ID}
		var match *logtypes.MetricFilter
		for i, f := range filters {
			if len(a.o.TrailLogGroups) > 0 && !slices.Contains(a.o.TrailLogGroups, aws.ToString(f.LogGroupName)) {
				continue
			}
			if aws.ToString(f.FilterName) == ctl.FilterName() || normalPattern(aws.ToString(f.FilterPattern)) == normalPattern(ctl.Pattern) {
				match = &filters[i]
				break
			}
		}
		if match == nil {
			out = append(out, a.finding(CheckCISFilters, awsguard.StatusFail, a.scope("logs", "log-group:*"),
				title+": no metric filter", ev, "ISMS-P:2.11.3", control))
			continue
		}
		group := aws.ToString(match.LogGroupName)
		ev["log_group"], ev["metric_filter"] = group, aws.ToString(match.FilterName)
		res := a.scope("logs", "log-group:"+group)
		var alarm *cwtypes.MetricAlarm
		for i, al := range alarms {
			for _, m := range match.MetricTransformations {
				if aws.ToString(al.MetricName) == aws.ToString(m.MetricName) && aws.ToString(al.Namespace) == aws.ToString(m.MetricNamespace) &&
					len(al.AlarmActions) > 0 && aws.ToBool(al.ActionsEnabled) {
					alarm = &alarms[i]
				}
			}
		}
		if alarm == nil {
			out = append(out, a.finding(CheckCISFilters, awsguard.StatusFail, res,
				title+": metric filter without an alarm that notifies", ev, "ISMS-P:2.11.3", control))
			continue
		}
		ev["alarm"], ev["alarm_actions"] = aws.ToString(alarm.AlarmName), strings.Join(alarm.AlarmActions, ",")
		out = append(out, a.finding(CheckCISFilters, awsguard.StatusPass, res, title+": metric filter and alarm present", ev, "ISMS-P:2.11.3", control))
	}
	return out
}

func (a auditor) retention(groups []logtypes.LogGroup, err error) []awsguard.Finding {
	if err != nil {
		return []awsguard.Finding{a.finding(CheckLogsRetention, awsguard.StatusError, a.scope("logs", "log-group:*"),
			"Log groups could not be read", map[string]string{"error": err.Error()})}
	}
	var out []awsguard.Finding
	minDays := strconv.Itoa(int(a.o.MinRetentionDays))
	for _, g := range groups {
		name := aws.ToString(g.LogGroupName)
		ev := map[string]string{"min_retention_days": minDays}
		switch r := g.RetentionInDays; {
		case r == nil:
			ev["retention_days"] = "never expire"
			out = append(out, a.finding(CheckLogsRetention, awsguard.StatusFail, logGroupARN(&g), "Log group "+name+" has no retention set", ev))
		case *r < a.o.MinRetentionDays:
			ev["retention_days"] = strconv.Itoa(int(*r))
			out = append(out, a.finding(CheckLogsRetention, awsguard.StatusFail, logGroupARN(&g),
				fmt.Sprintf("Log group %s keeps events %d days, under %s", name, *r, minDays), ev))
		default:
			ev["retention_days"] = strconv.Itoa(int(*r))
			out = append(out, a.finding(CheckLogsRetention, awsguard.StatusPass, logGroupARN(&g),
				fmt.Sprintf("Log group %s keeps events %d days", name, *r), ev))
		}
	}
	if len(groups) == 0 {
		out = append(out, a.finding(CheckLogsRetention, awsguard.StatusNotApplicable, a.scope("logs", "log-group:*"), "No log groups", map[string]string{}))
	}
	return out
}

func readAllSubscriptions(ctx context.Context, api AuditSNSAPI) ([]snstypes.Subscription, error) {
	var out []snstypes.Subscription
	p := sns.NewListSubscriptionsPaginator(api, &sns.ListSubscriptionsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list subscriptions: %w", err)
		}
		out = append(out, page.Subscriptions...)
	}
	return out, nil
}

func readAllLogGroups(ctx context.Context, api AuditLogsAPI) ([]logtypes.LogGroup, error) {
	var out []logtypes.LogGroup
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(api, &cloudwatchlogs.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe log groups: %w", err)
		}
		out = append(out, page.LogGroups...)
	}
	return out, nil
}

func readAllFilters(ctx context.Context, api AuditLogsAPI) ([]logtypes.MetricFilter, error) {
	var out []logtypes.MetricFilter
	p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(api, &cloudwatchlogs.DescribeMetricFiltersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe metric filters: %w", err)
		}
		out = append(out, page.MetricFilters...)
	}
	return out, nil
}

func readAllAlarms(ctx context.Context, api AuditAlarmsAPI) ([]cwtypes.MetricAlarm, error) {
	var out []cwtypes.MetricAlarm
	p := cloudwatch.NewDescribeAlarmsPaginator(api, &cloudwatch.DescribeAlarmsInput{AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe alarms: %w", err)
		}
		out = append(out, page.MetricAlarms...)
	}
	return out, nil
}
