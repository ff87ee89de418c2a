package observe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/awsguard/awsguard"
)

// EventRule is an EventBridge rule on the default event bus that sends
// matching events to the alert topic.
type EventRule struct {
	// Name is 1 to 64 of letters, digits and . - _.
	Name        string
	Description string
	// Pattern is the event pattern; it must name a source or a detail
	// type.
	Pattern EventPattern
	// TopicARN is the SNS topic the rule sends to (EnsureAlertTopic's).
	TopicARN string
	// Transformer, if set, makes the message the topic sends; otherwise
	// the whole event is sent as JSON.
	Transformer *InputTransformer
}

// TargetID is the ID of the target observe puts on its rules.
const TargetID = "awsguard-alert-topic"

// RuleState names the state EnsureEventRule finds the rule in.
type RuleState int

// The states of an event rule. The package documentation's table lists
// them.
const (
	// RuleAbsent: no rule of the name.
	RuleAbsent RuleState = iota + 1
	// RuleNotManaged: a rule of the name that observe did not create.
	RuleNotManaged
	// RuleDrifted: observe's rule, with another pattern, description or
	// state, or without its target as wanted.
	RuleDrifted
	// RuleCompliant: observe's rule, as wanted.
	RuleCompliant
)

var ruleStateNames = map[RuleState]string{
	RuleAbsent: "absent", RuleNotManaged: "not-managed", RuleDrifted: "drifted", RuleCompliant: "compliant",
}

func (s RuleState) String() string {
	if n, ok := ruleStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("RuleState(%d)", int(s))
}

// The action kinds of EnsureEventRule's plan.
const (
	ActionPutRule   = "put-rule"
	ActionPutTarget = "put-target"
)

// RuleResult is what EnsureEventRule did (or, in a dry run, would do).
type RuleResult struct {
	awsguard.Plan
	State RuleState `json:"state"`
	// RuleARN is the rule's ARN; empty in a dry run that would create it.
	RuleARN string `json:"rule_arn"`
	// OtherTargets are the IDs of targets on the rule that observe did not
	// put there; they are left alone.
	OtherTargets []string `json:"other_targets,omitempty"`
}

var ruleNameRE = regexp.MustCompile(`^[.\-_A-Za-z0-9]{1,64}$`)

func (r EventRule) validate(op string) error {
	if !ruleNameRE.MatchString(r.Name) {
		return inputErr(op, "EventRule.Name", r.Name, "1 to 64 of letters, digits and . - _")
	}
	if len(r.Description) > 512 {
		return inputErr(op, "EventRule.Description", r.Description[:32]+"...", "at most 512 characters")
	}
	if len(r.Pattern.Source) == 0 && len(r.Pattern.DetailType) == 0 {
		return inputErr(op, "EventRule.Pattern", "{}", "a pattern naming a source or a detail type")
	}
	if a, err := arn.Parse(r.TopicARN); err != nil || a.Service != "sns" {
		return inputErr(op, "EventRule.TopicARN", r.TopicARN, "an SNS topic ARN")
	}
	if t := r.Transformer; t != nil {
		if len(t.PathsMap) > 100 {
			return inputErr(op, "EventRule.Transformer.PathsMap", fmt.Sprint(len(t.PathsMap), " paths"), "at most 100 paths")
		}
		for k, v := range t.PathsMap {
			if k == "" || len(k) > 256 || !strings.HasPrefix(v, "$") || strings.HasPrefix(k, "aws.") {
				return inputErr(op, "EventRule.Transformer.PathsMap["+k+"]", v, "a name (not starting aws.) of a JSON path starting with $")
			}
		}
		if t.Template == "" || len(t.Template) > 8192 {
			return inputErr(op, "EventRule.Transformer.Template", t.Template, "1 to 8192 characters")
		}
	}
	return nil
}

type liveRule struct {
	ARN         string
	Pattern     string
	State       ebtypes.RuleState
	Description string
	Tags        map[string]string
	Targets     []ebtypes.Target
}

func isNotFound(err error) bool {
	var nf *ebtypes.ResourceNotFoundException
	return errors.As(err, &nf)
}

func eventTags(ctx context.Context, api interface {
	ListTagsForResource(context.Context, *eventbridge.ListTagsForResourceInput, ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error)
}, ruleARN string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &eventbridge.ListTagsForResourceInput{ResourceARN: aws.String(ruleARN)})
	if err != nil {
		return nil, fmt.Errorf("observe: list tags of %s: %w", ruleARN, err)
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

func listTargets(ctx context.Context, api interface {
	ListTargetsByRule(context.Context, *eventbridge.ListTargetsByRuleInput, ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error)
}, name string) ([]ebtypes.Target, error) {
	var out []ebtypes.Target
	in := &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)}
	for range 1000 {
		page, err := api.ListTargetsByRule(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("observe: list targets of rule %s: %w", name, err)
		}
		out = append(out, page.Targets...)
		if aws.ToString(page.NextToken) == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

func readRule(ctx context.Context, api RuleAPI, name string) (*liveRule, error) {
	d, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("observe: describe rule %s: %w", name, err)
	}
	lr := &liveRule{ARN: aws.ToString(d.Arn), Pattern: aws.ToString(d.EventPattern), State: d.State, Description: aws.ToString(d.Description)}
	if lr.Tags, err = eventTags(ctx, api, lr.ARN); err != nil {
		return nil, err
	}
	if !isManaged(lr.Tags) {
		return lr, nil
	}
	if lr.Targets, err = listTargets(ctx, api, name); err != nil {
		return nil, err
	}
	return lr, nil
}

// samePattern reports whether two event patterns say the same, whatever
// their key order and spacing.
func samePattern(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func targetMatches(t ebtypes.Target, want EventRule) bool {
	if aws.ToString(t.Arn) != want.TopicARN || t.Input != nil || t.InputPath != nil {
		return false
	}
	if want.Transformer == nil {
		return t.InputTransformer == nil
	}
	it := t.InputTransformer
	if it == nil || aws.ToString(it.InputTemplate) != want.Transformer.Template {
		return false
	}
	got := it.InputPathsMap
	if got == nil {
		got = map[string]string{}
	}
	return maps.Equal(got, want.Transformer.PathsMap)
}

func classifyRule(lr *liveRule, want EventRule) RuleState {
	switch {
	case lr == nil:
		return RuleAbsent
	case !isManaged(lr.Tags):
		return RuleNotManaged
	}
	if p := planRule(RuleDrifted, lr, want); len(p.Actions) > 0 {
		return RuleDrifted
	}
	return RuleCompliant
}

// planRule derives the actions for the state: a pure function.
func planRule(state RuleState, lr *liveRule, want EventRule) awsguard.Plan {
	p := awsguard.Plan{Operation: "observe.EnsureEventRule", Resource: "rule/" + want.Name}
	pattern, _ := want.Pattern.JSON()
	put := awsguard.Action{Kind: ActionPutRule, Call: "events:PutRule", Resource: want.Name,
		Detail: "put EventBridge rule " + want.Name + " matching " + pattern}
	target := awsguard.Action{Kind: ActionPutTarget, Call: "events:PutTargets", Resource: want.Name,
		Detail: "send rule " + want.Name + "'s events to " + want.TopicARN}
	switch state {
	case RuleNotManaged:
		p.Reason = awsguard.ReasonRefused
		return p
	case RuleAbsent:
		put.Why = "no rule of the name"
		target.Why = "a new rule has no target"
		p.Add(put)
		p.Add(target)
		return p
	}
	var why []string
	if !samePattern(lr.Pattern, pattern) {
		why = append(why, "the pattern differs")
	}
	if lr.State != ebtypes.RuleStateEnabled {
		why = append(why, "the rule is "+string(lr.State))
	}
	if lr.Description != want.Description {
		why = append(why, "the description differs")
	}
	if len(why) > 0 {
		put.Why = strings.Join(why, "; ")
		p.Add(put)
	}
	found := false
	for _, t := range lr.Targets {
		if aws.ToString(t.Id) == TargetID {
			found = targetMatches(t, want)
		}
	}
	if !found {
		target.Why = "the rule lacks its target as wanted"
		p.Add(target)
	}
	return p
}

// EnsureEventRule keeps an EventBridge rule on the default bus that sends
// matching events to the alert topic through target TargetID, with the
// rule's input transformer. PresetRule makes the rule of a preset. A new
// rule is tagged awsguard:managed=true and awsguard:package=observe; a rule
// of the name without those tags is left alone (State RuleNotManaged,
// ErrNotManaged). Targets of other IDs on the rule are left alone and
// listed in OtherTargets.
//
// With DryRun it returns the plan and changes nothing; run again, it finds
// nothing to do and makes no mutating call. A run that fails part-way
// returns an *awsguard.StepError; running it again finishes the job
// (PutRule and PutTargets replace by name and ID, so nothing is
// duplicated).
//
// The topic must let events.amazonaws.com publish (EnsureAlertTopic's
// policy does). Permissions: those of RuleAPI.
func EnsureEventRule(ctx context.Context, api RuleAPI, want EventRule, optFns ...func(*Options)) (*RuleResult, error) {
	const op = "observe.EnsureEventRule"
	if err := want.validate(op); err != nil {
		return nil, err
	}
	o := options(optFns)
	lr, err := readRule(ctx, api, want.Name)
	if err != nil {
		return nil, err
	}
	state := classifyRule(lr, want)
	res := &RuleResult{State: state, Plan: planRule(state, lr, want)}
	res.DryRun = o.DryRun
	if lr != nil {
		res.RuleARN = lr.ARN
		res.Plan.Resource = lr.ARN
		for _, t := range lr.Targets {
			if id := aws.ToString(t.Id); id != TargetID {
				res.OtherTargets = append(res.OtherTargets, id)
			}
		}
	}
	if state == RuleNotManaged {
		return res, fmt.Errorf("%w: rule %s", ErrNotManaged, lr.ARN)
	}
	pattern, err := want.Pattern.JSON()
	if err != nil {
		return nil, err
	}
	do := func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionPutRule:
			in := &eventbridge.PutRuleInput{Name: aws.String(want.Name), EventPattern: aws.String(pattern),
				State: ebtypes.RuleStateEnabled, Description: aws.String(want.Description)}
			if state == RuleAbsent {
				for _, k := range []string{TagManaged, TagPackage} {
					in.Tags = append(in.Tags, ebtypes.Tag{Key: aws.String(k), Value: aws.String(managedTags()[k])})
				}
			}
			out, err := api.PutRule(ctx, in)
			if err != nil {
				return fmt.Errorf("put rule %s: %w", want.Name, err)
			}
			res.RuleARN = aws.ToString(out.RuleArn)
			res.Plan.Resource = res.RuleARN
		case ActionPutTarget:
			t := ebtypes.Target{Id: aws.String(TargetID), Arn: aws.String(want.TopicARN)}
			if want.Transformer != nil {
				t.InputTransformer = &ebtypes.InputTransformer{InputPathsMap: maps.Clone(want.Transformer.PathsMap),
					InputTemplate: aws.String(want.Transformer.Template)}
			}
			out, err := api.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(want.Name), Targets: []ebtypes.Target{t}})
			if err != nil {
				return fmt.Errorf("put target of rule %s: %w", want.Name, err)
			}
			if out.FailedEntryCount > 0 {
				msg := ""
				for _, f := range out.FailedEntries {
					msg += " " + aws.ToString(f.ErrorCode) + ": " + aws.ToString(f.ErrorMessage)
				}
				return fmt.Errorf("put target of rule %s: %w:%s", want.Name, ErrPartialFailure, msg)
			}
		default:
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		return nil
	}
	return res, res.Plan.Apply(ctx, do, o.apply(op))
}
