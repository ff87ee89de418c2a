package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

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
	"github.com/awsguard/awsguard/internal/awserr"
)

// TeardownClients are the clients Teardown examines. A nil client leaves
// that service unexamined, and the plan's Warnings say so.
type TeardownClients struct {
	SNS        TeardownSNSAPI
	Events     TeardownEventsAPI
	CloudWatch TeardownAlarmsAPI
	Logs       TeardownLogsAPI
	IAM        TeardownIAMAPI
	EC2        TeardownEC2API
	SSM        TeardownSSMAPI
	CloudTrail TeardownTrailAPI
	S3         TeardownBucketAPI
}

// TeardownOptions tune Teardown. The zero value removes what observe
// created and is unchanged, and keeps what was changed by hand.
type TeardownOptions struct {
	// DryRun returns the plan and removes nothing.
	DryRun bool
	// RemoveChanged also removes observe's resources that were changed by
	// hand, with what was added to them: a rule's other targets, a
	// topic's other subscriptions. Without it they are kept and listed in
	// Changed.
	RemoveChanged bool
	// DeleteLogGroups also deletes the log groups EnsureLogGroups created,
	// with every event in them. Without it they are kept.
	DeleteLogGroups bool
	// DeleteTrailBucket also deletes the trail's bucket that
	// EnsureTrailLogs created when it holds log files, with the files.
	// Without it such a bucket is kept (an empty one is deleted).
	DeleteTrailBucket bool
	Logger            *slog.Logger
	Progress          func(awsguard.Progress)
}

// ChangedResource is a resource observe created that someone changed
// afterwards.
type ChangedResource struct {
	Resource string `json:"resource"`
	// Change says what was changed, such as "subscription email:bob@example.com added".
	Change string `json:"change"`
	// Kept is true when Teardown keeps the resource for it.
	Kept bool `json:"kept"`
}

// TeardownResult is what Teardown removed (or, in a dry run, would remove).
type TeardownResult struct {
	awsguard.Plan
	Changed []ChangedResource `json:"changed,omitempty"`
}

// The action kinds of Teardown's plan, in the order they are carried out.
const (
	ActionRemoveTargets = "remove-targets"
	ActionDeleteRule    = "delete-rule"
	ActionDeleteFilter  = "delete-metric-filter"
	ActionDeleteAlarm   = "delete-alarm"
	ActionUnsubscribe   = "unsubscribe"
	ActionDeleteTopic   = "delete-topic"
	ActionDeleteLogs    = "delete-log-group"
)

// teardownStep is one action with the call that carries it out.
type teardownStep struct {
	action awsguard.Action
	do     func(context.Context) error
}

// Teardown removes what observe created and nothing else, in dependency
// order: the targets of each of observe's rules, then the rule; each
// alarm's metric filter, then the alarm; observe's subscriptions, then
// the topic; with DeleteLogGroups, the log groups EnsureLogGroups created;
// the agent's instance profile off each instance, the role out of the
// profile, the profile, the role's policies, the role; the agent's
// configuration parameter. observe's resources are those tagged
// awsguard:managed=true and awsguard:package=observe, and the
// subscriptions recorded on their topic.
//
// A resource that someone changed after observe created it (a target
// added by hand to a rule, a subscription added by hand to the topic) is
// kept, with what was added, and listed in Changed, unless
// TeardownOptions.RemoveChanged. Subscriptions still pending confirmation
// cannot be unsubscribed: they go with their topic.
//
// With DryRun it returns the plan and removes nothing. Run again, it finds
// nothing of its own (Reason "nothing to remove"). A run that fails
// part-way returns an *awsguard.StepError; running it again removes what
// is left (what is already gone counts as removed).
//
// Permissions: those of TeardownSNSAPI, TeardownEventsAPI,
// TeardownAlarmsAPI, TeardownLogsAPI, TeardownIAMAPI, TeardownEC2API,
// TeardownSSMAPI, TeardownTrailAPI and TeardownBucketAPI.
func Teardown(ctx context.Context, c TeardownClients, optFns ...func(*TeardownOptions)) (*TeardownResult, error) {
	const op = "observe.Teardown"
	var o TeardownOptions
	for _, f := range optFns {
		f(&o)
	}
	res := &TeardownResult{Plan: awsguard.Plan{Operation: op, Resource: "observe", DryRun: o.DryRun}}
	var steps []teardownStep
	// The trail first: it names the role, the log group and the bucket.
	if c.CloudTrail == nil {
		res.Warnings = append(res.Warnings, "CloudTrail trails not examined: no CloudTrail client")
	} else {
		s, err := planTrailTeardown(ctx, c.CloudTrail)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if c.S3 == nil {
		res.Warnings = append(res.Warnings, "the trail's buckets not examined: no S3 client")
	} else {
		s, err := planBucketTeardown(ctx, c.S3, o, res)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if c.Events == nil {
		res.Warnings = append(res.Warnings, "EventBridge rules not examined: no EventBridge client")
	} else {
		s, err := planRulesTeardown(ctx, c.Events, o, res)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if c.CloudWatch == nil {
		res.Warnings = append(res.Warnings, "CloudWatch alarms and their metric filters not examined: no CloudWatch client")
	} else {
		s, err := planAlarmsTeardown(ctx, c.CloudWatch, c.Logs, res)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if c.SNS == nil {
		res.Warnings = append(res.Warnings, "SNS topics not examined: no SNS client")
	} else {
		s, err := planTopicsTeardown(ctx, c.SNS, o, res)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if o.DeleteLogGroups {
		if c.Logs == nil {
			res.Warnings = append(res.Warnings, "log groups not examined: no CloudWatch Logs client")
		} else {
			s, err := planLogGroupsTeardown(ctx, c.Logs)
			if err != nil {
				return res, err
			}
			steps = append(steps, s...)
		}
	}
	if c.IAM == nil {
		res.Warnings = append(res.Warnings, "the agent's roles not examined: no IAM client")
	} else {
		s, err := planIAMTeardown(ctx, c.IAM, c.EC2, o, res)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	if c.SSM == nil {
		res.Warnings = append(res.Warnings, "the agent's configuration parameters not examined: no SSM client")
	} else {
		s, err := planSSMTeardown(ctx, c.SSM)
		if err != nil {
			return res, err
		}
		steps = append(steps, s...)
	}
	fns := map[string]func(context.Context) error{}
	for _, s := range steps {
		res.Add(s.action)
		fns[s.action.Kind+"\x00"+s.action.Resource] = s.do
	}
	if len(steps) == 0 {
		res.Reason = awsguard.ReasonNothingToRemove
	}
	err := res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		return fns[a.Kind+"\x00"+a.Resource](ctx)
	}, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress,
		ToDo: "run observe.Teardown again: it removes what is left"})
	return res, err
}

func planRulesTeardown(ctx context.Context, api TeardownEventsAPI, o TeardownOptions, res *TeardownResult) ([]teardownStep, error) {
	var steps []teardownStep
	in := &eventbridge.ListRulesInput{}
	var rules []ebtypes.Rule
	for range 1000 {
		page, err := api.ListRules(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("observe: list rules: %w", err)
		}
		rules = append(rules, page.Rules...)
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	for _, r := range rules {
		name, ruleARN := aws.ToString(r.Name), aws.ToString(r.Arn)
		if r.ManagedBy != nil {
			continue // a rule another AWS service manages
		}
		tags, err := eventTags(ctx, api, ruleARN)
		if err != nil {
			return nil, err
		}
		if !isManaged(tags) {
			continue
		}
		targets, err := listTargets(ctx, api, name)
		if err != nil {
			return nil, err
		}
		var ours, others []string
		for _, t := range targets {
			if id := aws.ToString(t.Id); id == TargetID {
				ours = append(ours, id)
			} else {
				others = append(others, id)
			}
		}
		keep := len(others) > 0 && !o.RemoveChanged
		if len(others) > 0 {
			res.Changed = append(res.Changed, ChangedResource{Resource: ruleARN, Kept: keep,
				Change: "targets added by hand: " + strings.Join(others, ", ")})
		}
		remove := ours
		if !keep {
			remove = append(remove, others...)
		}
		if len(remove) > 0 {
			ids := slices.Clone(remove)
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionRemoveTargets, Call: "events:RemoveTargets", Resource: ruleARN,
					Detail: "remove targets " + strings.Join(ids, ", ") + " from rule " + name},
				do: func(ctx context.Context) error {
					out, err := api.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: ids})
					if isNotFound(err) {
						return nil
					}
					if err != nil {
						return fmt.Errorf("remove targets of rule %s: %w", name, err)
					}
					if out.FailedEntryCount > 0 {
						return fmt.Errorf("remove targets of rule %s: %w", name, ErrPartialFailure)
					}
					return nil
				},
			})
		}
		if keep {
			res.Warnings = append(res.Warnings, "rule "+name+" kept: it has targets added by hand ("+strings.Join(others, ", ")+")")
			continue
		}
		steps = append(steps, teardownStep{
			action: awsguard.Action{Kind: ActionDeleteRule, Call: "events:DeleteRule", Resource: ruleARN, Detail: "delete rule " + name},
			do: func(ctx context.Context) error {
				if _, err := api.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)}); err != nil && !isNotFound(err) {
					return fmt.Errorf("delete rule %s: %w", name, err)
				}
				return nil
			},
		})
	}
	return steps, nil
}

func snsNotFound(err error) bool {
	var nf *snstypes.NotFoundException
	return errors.As(err, &nf)
}

func planTopicsTeardown(ctx context.Context, api TeardownSNSAPI, o TeardownOptions, res *TeardownResult) ([]teardownStep, error) {
	var steps []teardownStep
	var topics []string
	p := sns.NewListTopicsPaginator(api, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list topics: %w", err)
		}
		for _, t := range page.Topics {
			topics = append(topics, aws.ToString(t.TopicArn))
		}
	}
	for _, topicARN := range topics {
		tags, err := snsTags(ctx, api, topicARN)
		if err != nil {
			return nil, fmt.Errorf("observe: list tags of %s: %w", topicARN, err)
		}
		if !isManaged(tags) {
			continue
		}
		subs, err := listSubscriptions(ctx, api, topicARN)
		if err != nil {
			return nil, fmt.Errorf("observe: list subscriptions of %s: %w", topicARN, err)
		}
		var ours, others []snstypes.Subscription
		for _, s := range subs {
			if tags[subscriptionTag(aws.ToString(s.Protocol), aws.ToString(s.Endpoint))] != "" {
				ours = append(ours, s)
			} else {
				others = append(others, s)
			}
		}
		keep := len(others) > 0 && !o.RemoveChanged
		if len(others) > 0 {
			var names []string
			for _, s := range others {
				names = append(names, aws.ToString(s.Protocol)+":"+aws.ToString(s.Endpoint))
			}
			res.Changed = append(res.Changed, ChangedResource{Resource: topicARN, Kept: keep,
				Change: "subscriptions added by hand: " + strings.Join(names, ", ")})
		}
		remove := ours
		if !keep {
			remove = append(remove, others...)
		}
		for _, s := range remove {
			subARN := aws.ToString(s.SubscriptionArn)
			if isPending(subARN) || !strings.HasPrefix(subARN, "arn:") {
				continue // goes with the topic
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionUnsubscribe, Call: "sns:Unsubscribe", Resource: subARN,
					Detail: "unsubscribe " + aws.ToString(s.Protocol) + " " + aws.ToString(s.Endpoint) + " from " + topicARN},
				do: func(ctx context.Context) error {
					if _, err := api.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(subARN)}); err != nil && !snsNotFound(err) {
						return fmt.Errorf("unsubscribe %s: %w", subARN, err)
					}
					return nil
				},
			})
		}
		if keep {
			res.Warnings = append(res.Warnings, "topic "+topicARN+" kept: it has subscriptions added by hand")
			continue
		}
		steps = append(steps, teardownStep{
			action: awsguard.Action{Kind: ActionDeleteTopic, Call: "sns:DeleteTopic", Resource: topicARN, Detail: "delete topic " + topicARN},
			do: func(ctx context.Context) error {
				if _, err := api.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(topicARN)}); err != nil && !snsNotFound(err) {
					return fmt.Errorf("delete topic %s: %w", topicARN, err)
				}
				return nil
			},
		})
	}
	return steps, nil
}

func logsNotFound(err error) bool {
	var nf *logtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func planAlarmsTeardown(ctx context.Context, cw TeardownAlarmsAPI, logs TeardownLogsAPI, res *TeardownResult) ([]teardownStep, error) {
	var steps []teardownStep
	p := cloudwatch.NewDescribeAlarmsPaginator(cw, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("awsguard-"),
		AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: describe alarms: %w", err)
		}
		for _, a := range out.MetricAlarms {
			name, alarmARN := aws.ToString(a.AlarmName), aws.ToString(a.AlarmArn)
			tags, err := alarmTags(ctx, cw, alarmARN)
			if err != nil {
				return nil, err
			}
			if !isManaged(tags) {
				continue
			}
			if group, filter := tags[tagLogGroup], tags[tagMetricFilter]; filter != "" {
				if logs == nil {
					res.Warnings = append(res.Warnings, "alarm "+name+" kept: it records metric filter "+filter+" and there is no CloudWatch Logs client to delete it")
					continue
				}
				steps = append(steps, teardownStep{
					action: awsguard.Action{Kind: ActionDeleteFilter, Call: "logs:DeleteMetricFilter", Resource: group + ":" + filter,
						Detail: "delete metric filter " + filter + " of log group " + group},
					do: func(ctx context.Context) error {
						_, err := logs.DeleteMetricFilter(ctx, &cloudwatchlogs.DeleteMetricFilterInput{LogGroupName: aws.String(group), FilterName: aws.String(filter)})
						if err != nil && !logsNotFound(err) {
							return fmt.Errorf("delete metric filter %s: %w", filter, err)
						}
						return nil
					},
				})
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteAlarm, Call: "cloudwatch:DeleteAlarms", Resource: alarmARN, Detail: "delete alarm " + name},
				do: func(ctx context.Context) error {
					if _, err := cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{name}}); err != nil && awserr.Code(err) != "ResourceNotFound" {
						return fmt.Errorf("delete alarm %s: %w", name, err)
					}
					return nil
				},
			})
		}
	}
	return steps, nil
}

func planLogGroupsTeardown(ctx context.Context, logs TeardownLogsAPI) ([]teardownStep, error) {
	var steps []teardownStep
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(logs, &cloudwatchlogs.DescribeLogGroupsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: describe log groups: %w", err)
		}
		for _, g := range out.LogGroups {
			name, groupARN := aws.ToString(g.LogGroupName), logGroupARN(&g)
			tags, err := logs.ListTagsForResource(ctx, &cloudwatchlogs.ListTagsForResourceInput{ResourceArn: aws.String(groupARN)})
			if err != nil {
				return nil, fmt.Errorf("observe: list tags of %s: %w", groupARN, err)
			}
			if !isManaged(tags.Tags) {
				continue
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteLogs, Call: "logs:DeleteLogGroup", Resource: groupARN,
					Detail: "delete log group " + name + " and its events"},
				do: func(ctx context.Context) error {
					if _, err := logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(name)}); err != nil && !logsNotFound(err) {
						return fmt.Errorf("delete log group %s: %w", name, err)
					}
					return nil
				},
			})
		}
	}
	return steps, nil
}
