package observe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

const testTopicARN = "arn:aws:sns:us-east-1:123456789012:awsguard-alerts"

func TestEnsureEventRuleMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	_, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(env.Config()), alertTopic)
	must(t, err)
	cfg, calls := counted(env)
	api := eventbridge.NewFromConfig(cfg)
	for _, p := range observe.Presets() {
		r, err := observe.PresetRule(p, testTopicARN)
		must(t, err)
		calls.Reset()
		dry, err := observe.EnsureEventRule(ctx, api, r, func(o *observe.Options) { o.DryRun = true })
		must(t, err)
		if dry.State != observe.RuleAbsent || len(dry.Actions) != 2 || dry.Applied {
			t.Fatalf("%s dry run = %+v", p, dry)
		}
		if m := mutating(calls); len(m) != 0 {
			t.Fatalf("dry run made mutating calls %v", m)
		}
		res, err := observe.EnsureEventRule(ctx, api, r)
		must(t, err)
		if !res.Applied || res.RuleARN != "arn:aws:events:us-east-1:123456789012:rule/"+r.Name {
			t.Fatalf("%s = %+v", p, res)
		}
	}
	calls.Reset()
	for _, p := range observe.Presets() {
		r, _ := observe.PresetRule(p, testTopicARN)
		res, err := observe.EnsureEventRule(ctx, api, r)
		must(t, err)
		if res.Applied || res.State != observe.RuleCompliant || res.Reason != awsguard.ReasonAlreadyCompliant {
			t.Errorf("%s second run = %+v", p, res.Plan)
		}
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("second run made mutating calls %v", m)
	}
	// A pattern changed by hand is put back; a target added by hand stays.
	r, _ := observe.PresetRule(observe.PresetRootSignIn, testTopicARN)
	_, err = api.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(r.Name), EventPattern: aws.String(`{"source":["aws.signin"]}`)})
	must(t, err)
	_, err = api.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(r.Name), Targets: []ebtypes.Target{{Id: aws.String("by-hand"), Arn: aws.String(testTopicARN)}}})
	must(t, err)
	res, err := observe.EnsureEventRule(ctx, api, r)
	must(t, err)
	if res.State != observe.RuleDrifted || len(res.Actions) != 1 || res.Actions[0].Kind != observe.ActionPutRule {
		t.Fatalf("drifted = %+v", res)
	}
	if len(res.OtherTargets) != 1 || res.OtherTargets[0] != "by-hand" {
		t.Errorf("other targets = %v", res.OtherTargets)
	}
	d, err := api.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(r.Name)})
	must(t, err)
	want, _ := r.Pattern.JSON()
	if aws.ToString(d.EventPattern) != want {
		t.Errorf("pattern = %s, want %s", aws.ToString(d.EventPattern), want)
	}
}

func TestEnsureEventRuleNotManaged(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	api := eventbridge.NewFromConfig(env.Config())
	_, err := api.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("theirs"), EventPattern: aws.String(`{"source":["aws.signin"]}`)})
	must(t, err)
	r, _ := observe.PresetRule(observe.PresetRootSignIn, testTopicARN)
	r.Name = "theirs"
	res, err := observe.EnsureEventRule(ctx, api, r)
	if !errors.Is(err, observe.ErrNotManaged) || res.State != observe.RuleNotManaged || len(res.Actions) != 0 {
		t.Fatalf("err = %v, res %+v", err, res)
	}
}
