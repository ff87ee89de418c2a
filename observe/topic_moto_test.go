package observe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

var alertTopic = observe.Topic{
	Name: "awsguard-alerts",
	Subscriptions: []observe.Subscription{
		{Protocol: "email", Endpoint: "secops@example.com"},
		{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts"},
	},
}

func TestEnsureAlertTopicMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	cfg, calls := counted(env)
	api := sns.NewFromConfig(cfg)

	dry, err := observe.EnsureAlertTopic(ctx, api, alertTopic, func(o *observe.Options) { o.DryRun = true })
	must(t, err)
	if dry.Reason != awsguard.ReasonDryRun || len(dry.Actions) != 4 || dry.State != observe.TopicAbsent {
		t.Fatalf("dry run = %+v", dry)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("dry run made mutating calls %v", m)
	}

	res, err := observe.EnsureAlertTopic(ctx, api, alertTopic)
	must(t, err)
	if !res.Applied || res.TopicARN != "arn:aws:sns:us-east-1:123456789012:awsguard-alerts" {
		t.Fatalf("result = %+v", res)
	}
	for _, s := range res.Subscriptions {
		if s.State == observe.SubscriptionMissing {
			t.Errorf("subscription %+v missing", s)
		}
	}
	at, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(res.TopicARN)})
	must(t, err)
	doc, err := awsguard.ParsePolicyDocument(at.Attributes["Policy"])
	must(t, err)
	var sids []string
	for _, s := range doc.Statement.List {
		sids = append(sids, s.Sid)
	}
	if len(sids) != 3 {
		t.Errorf("policy statements %v", sids)
	}

	calls.Reset()
	again, err := observe.EnsureAlertTopic(ctx, api, alertTopic)
	must(t, err)
	if again.Applied || again.Reason != awsguard.ReasonAlreadyCompliant || again.State != observe.TopicCompliant {
		t.Fatalf("second run = %+v", again.Plan)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("second run made mutating calls %v", m)
	}
	subs, err := api.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(res.TopicARN)})
	must(t, err)
	if len(subs.Subscriptions) != 2 {
		t.Errorf("subscriptions = %d, want 2", len(subs.Subscriptions))
	}
}

func TestEnsureAlertTopicNotManaged(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	api := sns.NewFromConfig(env.Config())
	theirs := alertTopic
	theirs.Name = "theirs"
	_, err := api.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(theirs.Name),
		Tags: []snstypes.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
	must(t, err)
	cfg, calls := counted(env)
	res, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), theirs)
	if !errors.Is(err, observe.ErrNotManaged) || res.State != observe.TopicNotManaged {
		t.Fatalf("err = %v, state %v", err, res.State)
	}
	if m := mutating(calls); len(m) != 0 {
		t.Fatalf("mutating calls %v", m)
	}
}
