// Command alerts sets up (or tears down) awsguard's alerts in one region:
// an SNS topic with e-mail subscriptions whose policy lets EventBridge and
// CloudWatch publish, and EventBridge rules of the presets that send to it
// a readable message.
//
//	alerts [-topic NAME] [-email ADDR,...] [-presets all|PRESET,...] [-kms-key ID]
//	       [-teardown [-remove-changed]] [-dry-run] [-format table|json]
//	       [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// An e-mail subscription stays "pending confirmation" until its owner
// clicks the link SNS sends: that is reported, and a re-run never
// subscribes the address twice. Re-running changes only what is missing.
// -teardown removes what awsguard's observe package created in the region
// (rules, alarms and their metric filters, subscriptions, topics) and
// nothing else; what was changed by hand is kept and reported unless
// -remove-changed. The presets of IAM and console sign-in events belong in
// us-east-1, where CloudTrail delivers them. Exit codes: 0 done, 1 failed
// (one line on stderr naming the step), 2 a bad command line.
package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/observe"
)

func main() { cli.Main("alerts", run) }

const summary = `alerts keeps an SNS alert topic with e-mail subscriptions and EventBridge
rules of the chosen presets (or, with -teardown, removes what awsguard
created). Presets: ` + "all, or a comma-separated list of: inspector-high-findings, root-sign-in,\nconsole-sign-in-without-mfa, iam-policy-changes, access-key-created,\nsecurity-group-changes, nacl-changes, waf-acl-changes, ec2-instance-state-changes."

// Result is what alerts prints with -format json.
type Result struct {
	Topic    *observe.TopicResult    `json:"topic,omitempty"`
	Rules    []*observe.RuleResult   `json:"rules,omitempty"`
	Teardown *observe.TeardownResult `json:"teardown,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("alerts", summary)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	topicName := c.Flags.String("topic", "awsguard-alerts", "the alert topic's `name`")
	emails := c.Flags.String("email", "", "comma-separated e-mail `addresses` to subscribe")
	presets := c.Flags.String("presets", "all", "the rules: all, none, or a comma-separated `list` of presets")
	kmsKey := c.Flags.String("kms-key", "", "encrypt the topic with this KMS `key` (ID, ARN or alias; its policy must let events and cloudwatch use it)")
	teardown := c.Flags.Bool("teardown", false, "remove what awsguard's observe package created in the region instead")
	removeChanged := c.Flags.Bool("remove-changed", false, "with -teardown, remove also what was changed by hand")
	c.FlagOf["Topic.Name"] = "-topic"
	c.FlagOf["Topic.KMSKeyID"] = "-kms-key"
	var topic observe.Topic
	var chosen []observe.Preset
	c.Check = func() error {
		if *removeChanged && !*teardown {
			return cli.Usagef("-remove-changed goes with -teardown")
		}
		if *teardown {
			if *dryRun {
				c.Uses(reflect.TypeFor[teardownReadSNSAPI](), reflect.TypeFor[teardownReadEventsAPI](), reflect.TypeFor[teardownReadAlarmsAPI]())
				return nil
			}
			c.Uses(reflect.TypeFor[observe.TeardownSNSAPI](), reflect.TypeFor[observe.TeardownEventsAPI](),
				reflect.TypeFor[observe.TeardownAlarmsAPI](), reflect.TypeFor[teardownLogsAPI]())
			return nil
		}
		if *kmsKey != "" && !validKMSKey(*kmsKey) {
			return cli.Usagef("-kms-key %q: want a key ID, a key ARN, an alias (alias/NAME) or an alias ARN", *kmsKey)
		}
		topic = observe.Topic{Name: *topicName, KMSKeyID: *kmsKey}
		for i, e := range splitList(*emails) {
			topic.Subscriptions = append(topic.Subscriptions, observe.Subscription{Protocol: "email", Endpoint: e})
			c.FlagOf[fmt.Sprintf("Topic.Subscriptions[%d].Endpoint", i)] = "-email"
			c.FlagOf[fmt.Sprintf("Topic.Subscriptions[%d]", i)] = "-email"
		}
		switch p := strings.TrimSpace(*presets); p {
		case "all":
			chosen = observe.Presets()
		case "none", "":
		default:
			for _, name := range splitList(p) {
				pr, err := observe.ParsePreset(name)
				if err != nil {
					return cli.Usagef("-presets %q: want all, none or a list of %v", name, observe.Presets())
				}
				chosen = append(chosen, pr)
			}
		}
		if *dryRun {
			c.Uses(reflect.TypeFor[topicReadAPI]())
			if len(chosen) > 0 {
				c.Uses(reflect.TypeFor[ruleReadAPI]())
			}
			return nil
		}
		c.Uses(reflect.TypeFor[observe.TopicAPI]())
		if len(chosen) > 0 {
			c.Uses(reflect.TypeFor[observe.RuleAPI]())
			// PutRule tags the rule it creates: a permission no call names.
			c.UsesActions("events:TagResource")
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		var res Result
		if *teardown {
			res.Teardown, err = observe.Teardown(ctx, observe.TeardownClients{
				SNS: sns.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg),
				CloudWatch: cloudwatch.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg),
			}, func(o *observe.TeardownOptions) { o.DryRun, o.RemoveChanged = *dryRun, *removeChanged })
			if err != nil {
				return err
			}
			return write(stdout, *format, &res)
		}
		res.Topic, err = observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), topic, func(o *observe.Options) { o.DryRun = *dryRun })
		if err != nil {
			return err
		}
		topicARN := res.Topic.TopicARN
		if topicARN == "" { // a dry run that would create the topic
			topicARN = "arn:aws:sns:" + cfg.Region + ":000000000000:" + topic.Name
		}
		eb := eventbridge.NewFromConfig(cfg)
		for _, p := range chosen {
			rule, err := observe.PresetRule(p, topicARN)
			if err != nil {
				return err
			}
			rr, err := observe.EnsureEventRule(ctx, eb, rule, func(o *observe.Options) { o.DryRun = *dryRun })
			if err != nil {
				return fmt.Errorf("preset %s: %w", p, err)
			}
			res.Rules = append(res.Rules, rr)
		}
		return write(stdout, *format, &res)
	})
}

// teardownLogsAPI is the part of observe.TeardownLogsAPI that -teardown
// calls: alerts does not delete log groups (TeardownOptions.DeleteLogGroups
// is false), so it needs no logs:DescribeLogGroups, logs:ListTagsForResource
// or logs:DeleteLogGroup.
type teardownLogsAPI interface {
	DeleteMetricFilter(ctx context.Context, in *cloudwatchlogs.DeleteMetricFilterInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DeleteMetricFilterOutput, error)
}

// The reads of observe's interfaces, for -dry-run's -print-policy: a dry
// run changes nothing, so it needs no permission that does.
type (
	topicReadAPI interface {
		ListTopics(ctx context.Context, in *sns.ListTopicsInput, optFns ...func(*sns.Options)) (*sns.ListTopicsOutput, error)
		GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
		ListTagsForResource(ctx context.Context, in *sns.ListTagsForResourceInput, optFns ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error)
		ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	}
	ruleReadAPI interface {
		DescribeRule(ctx context.Context, in *eventbridge.DescribeRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error)
		ListTagsForResource(ctx context.Context, in *eventbridge.ListTagsForResourceInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
		ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	}
	teardownReadSNSAPI interface {
		ListTopics(ctx context.Context, in *sns.ListTopicsInput, optFns ...func(*sns.Options)) (*sns.ListTopicsOutput, error)
		ListTagsForResource(ctx context.Context, in *sns.ListTagsForResourceInput, optFns ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error)
		ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, optFns ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error)
	}
	teardownReadEventsAPI interface {
		ListRules(ctx context.Context, in *eventbridge.ListRulesInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListRulesOutput, error)
		ListTagsForResource(ctx context.Context, in *eventbridge.ListTagsForResourceInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
		ListTargetsByRule(ctx context.Context, in *eventbridge.ListTargetsByRuleInput, optFns ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
	}
	teardownReadAlarmsAPI interface {
		DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
		ListTagsForResource(ctx context.Context, in *cloudwatch.ListTagsForResourceInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.ListTagsForResourceOutput, error)
	}
)

// Each is a part of the interface observe's function takes.
var (
	_ topicReadAPI          = observe.TopicAPI(nil)
	_ ruleReadAPI           = observe.RuleAPI(nil)
	_ teardownReadSNSAPI    = observe.TeardownSNSAPI(nil)
	_ teardownReadEventsAPI = observe.TeardownEventsAPI(nil)
	_ teardownReadAlarmsAPI = observe.TeardownAlarmsAPI(nil)
	_ teardownLogsAPI       = observe.TeardownLogsAPI(nil)
)

var kmsKeyRE = regexp.MustCompile(`^(?:(?:mrk-)?[0-9a-fA-F-]{32,36}|alias/[A-Za-z0-9/_-]{1,250}|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/(?:mrk-)?[0-9a-fA-F-]{32,36}|alias/[A-Za-z0-9/_-]{1,250}))$`)

// validKMSKey reports whether s has the shape of a KMS key ID, key ARN,
// alias name or alias ARN.
func validKMSKey(s string) bool { return kmsKeyRE.MatchString(s) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func write(w io.Writer, format string, res *Result) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, res)
	}
	var b strings.Builder
	plan := func(p *awsguard.Plan) {
		for _, line := range p.Describe() {
			prefix := "  "
			if p.DryRun {
				prefix = "  would: "
			}
			b.WriteString(prefix + line + "\n")
		}
		for _, w := range p.Warnings {
			b.WriteString("  warning: " + w + "\n")
		}
	}
	if t := res.Topic; t != nil {
		fmt.Fprintf(&b, "topic %s: %s (%s)\n", t.TopicARN, t.Reason, t.State)
		plan(&t.Plan)
		for _, s := range t.Subscriptions {
			fmt.Fprintf(&b, "  %s %s: %s\n", s.Protocol, s.Endpoint, s.State)
		}
	}
	for _, r := range res.Rules {
		fmt.Fprintf(&b, "rule %s: %s (%s)\n", strings.TrimPrefix(r.Resource, "rule/"), r.Reason, r.State)
		if r.Applied || r.DryRun {
			plan(&r.Plan)
		}
	}
	if t := res.Teardown; t != nil {
		fmt.Fprintf(&b, "teardown: %s\n", t.Reason)
		plan(&t.Plan)
		for _, ch := range t.Changed {
			state := "removed"
			if ch.Kept {
				state = "kept"
			}
			fmt.Fprintf(&b, "  changed by hand, %s: %s (%s)\n", state, ch.Resource, ch.Change)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
