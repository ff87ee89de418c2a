package observe_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/awsguard/awsguard/observe"
)

// fakeEvents is an observe.RuleAPI holding rules of the default bus in
// memory: each rule's description, its tags and its targets.
type fakeEvents struct {
	rules   map[string]*eventbridge.DescribeRuleOutput
	tags    map[string][]ebtypes.Tag
	targets map[string][]ebtypes.Target
}

func (f *fakeEvents) DescribeRule(_ context.Context, in *eventbridge.DescribeRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.DescribeRuleOutput, error) {
	if r, ok := f.rules[aws.ToString(in.Name)]; ok {
		return r, nil
	}
	return nil, &ebtypes.ResourceNotFoundException{Message: aws.String("Rule " + aws.ToString(in.Name) + " does not exist.")}
}

func (f *fakeEvents) ListTagsForResource(_ context.Context, in *eventbridge.ListTagsForResourceInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTagsForResourceOutput, error) {
	return &eventbridge.ListTagsForResourceOutput{Tags: f.tags[aws.ToString(in.ResourceARN)]}, nil
}

func (f *fakeEvents) ListTargetsByRule(_ context.Context, in *eventbridge.ListTargetsByRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.ListTargetsByRuleOutput, error) {
	return &eventbridge.ListTargetsByRuleOutput{Targets: f.targets[aws.ToString(in.Rule)]}, nil
}

func (f *fakeEvents) PutRule(_ context.Context, in *eventbridge.PutRuleInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutRuleOutput, error) {
	name := aws.ToString(in.Name)
	arn := "arn:aws:events:us-east-1:123456789012:rule/" + name
	f.rules[name] = &eventbridge.DescribeRuleOutput{Name: in.Name, Arn: aws.String(arn), EventPattern: in.EventPattern,
		State: in.State, Description: in.Description, EventBusName: aws.String("default")}
	if len(in.Tags) > 0 {
		f.tags[arn] = in.Tags
	}
	return &eventbridge.PutRuleOutput{RuleArn: aws.String(arn)}, nil
}

func (f *fakeEvents) PutTargets(_ context.Context, in *eventbridge.PutTargetsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutTargetsOutput, error) {
	f.targets[aws.ToString(in.Rule)] = in.Targets
	return &eventbridge.PutTargetsOutput{}, nil
}

var _ observe.RuleAPI = (*fakeEvents)(nil)

// EnsureEventRule keeps a preset's rule sending to the alert topic: the
// first run creates the rule and its target, the second finds nothing to
// do. (A fake EventBridge stands in for AWS.)
func ExampleEnsureEventRule() {
	ctx := context.Background()
	api := &fakeEvents{rules: map[string]*eventbridge.DescribeRuleOutput{}, tags: map[string][]ebtypes.Tag{}, targets: map[string][]ebtypes.Target{}}
	rule, err := observe.PresetRule(observe.PresetRootSignIn, "arn:aws:sns:us-east-1:123456789012:awsguard-alerts")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := observe.EnsureEventRule(ctx, api, rule)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.State)
	for _, line := range res.Describe() {
		fmt.Println(line)
	}
	again, err := observe.EnsureEventRule(ctx, api, rule)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(again.State, again.Reason)
	// Output:
	// absent
	// put EventBridge rule awsguard-root-sign-in matching {"source":["aws.signin"],"detail-type":["AWS Console Sign In via CloudTrail"],"detail":{"userIdentity":{"type":["Root"]}}}
	// send rule awsguard-root-sign-in's events to arn:aws:sns:us-east-1:123456789012:awsguard-alerts
	// compliant already compliant
}
