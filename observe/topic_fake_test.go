package observe_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

// fakeSNS is a TopicAPI and TeardownSNSAPI holding one topic in memory.
// Subscribe answers "pending confirmation" for e-mail, as SNS does until a
// person confirms (moto confirms at once).
type fakeSNS struct {
	arn    string // "" while there is no topic
	tags   map[string]string
	attrs  map[string]string
	subs   []snstypes.Subscription
	calls  []string
	failOn string
}

func (f *fakeSNS) call(ctx context.Context, op string) error {
	f.calls = append(f.calls, op)
	if err := ctx.Err(); err != nil {
		return err
	}
	if op == f.failOn {
		return &snstypes.InternalErrorException{Message: aws.String("injected")}
	}
	return nil
}

func (f *fakeSNS) ListTopics(ctx context.Context, in *sns.ListTopicsInput, _ ...func(*sns.Options)) (*sns.ListTopicsOutput, error) {
	if err := f.call(ctx, "ListTopics"); err != nil {
		return nil, err
	}
	out := &sns.ListTopicsOutput{}
	if f.arn != "" {
		out.Topics = []snstypes.Topic{{TopicArn: aws.String(f.arn)}}
	}
	return out, nil
}

func (f *fakeSNS) GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error) {
	if err := f.call(ctx, "GetTopicAttributes"); err != nil {
		return nil, err
	}
	return &sns.GetTopicAttributesOutput{Attributes: f.attrs}, nil
}

func (f *fakeSNS) ListTagsForResource(ctx context.Context, in *sns.ListTagsForResourceInput, _ ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error) {
	if err := f.call(ctx, "ListTagsForResource"); err != nil {
		return nil, err
	}
	out := &sns.ListTagsForResourceOutput{}
	for k, v := range f.tags {
		out.Tags = append(out.Tags, snstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out, nil
}

func (f *fakeSNS) ListSubscriptionsByTopic(ctx context.Context, in *sns.ListSubscriptionsByTopicInput, _ ...func(*sns.Options)) (*sns.ListSubscriptionsByTopicOutput, error) {
	if err := f.call(ctx, "ListSubscriptionsByTopic"); err != nil {
		return nil, err
	}
	return &sns.ListSubscriptionsByTopicOutput{Subscriptions: f.subs}, nil
}

func (f *fakeSNS) CreateTopic(ctx context.Context, in *sns.CreateTopicInput, _ ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	if err := f.call(ctx, "CreateTopic"); err != nil {
		return nil, err
	}
	f.arn = "arn:aws:sns:us-east-1:123456789012:" + aws.ToString(in.Name)
	f.tags = map[string]string{}
	for _, t := range in.Tags {
		f.tags[*t.Key] = *t.Value
	}
	f.attrs = map[string]string{}
	return &sns.CreateTopicOutput{TopicArn: aws.String(f.arn)}, nil
}

func (f *fakeSNS) TagResource(ctx context.Context, in *sns.TagResourceInput, _ ...func(*sns.Options)) (*sns.TagResourceOutput, error) {
	if err := f.call(ctx, "TagResource"); err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		f.tags[*t.Key] = *t.Value
	}
	return &sns.TagResourceOutput{}, nil
}

func (f *fakeSNS) SetTopicAttributes(ctx context.Context, in *sns.SetTopicAttributesInput, _ ...func(*sns.Options)) (*sns.SetTopicAttributesOutput, error) {
	if err := f.call(ctx, "SetTopicAttributes"); err != nil {
		return nil, err
	}
	f.attrs[*in.AttributeName] = *in.AttributeValue
	return &sns.SetTopicAttributesOutput{}, nil
}

func (f *fakeSNS) Subscribe(ctx context.Context, in *sns.SubscribeInput, _ ...func(*sns.Options)) (*sns.SubscribeOutput, error) {
	if err := f.call(ctx, "Subscribe"); err != nil {
		return nil, err
	}
	arn := f.arn + ":sub-" + aws.ToString(in.Protocol)
	list := arn
	if aws.ToString(in.Protocol) == "email" {
		arn, list = "pending confirmation", "PendingConfirmation"
	}
	f.subs = append(f.subs, snstypes.Subscription{Protocol: in.Protocol, Endpoint: in.Endpoint, SubscriptionArn: aws.String(list), TopicArn: aws.String(f.arn)})
	return &sns.SubscribeOutput{SubscriptionArn: aws.String(arn)}, nil
}

func (f *fakeSNS) Unsubscribe(ctx context.Context, in *sns.UnsubscribeInput, _ ...func(*sns.Options)) (*sns.UnsubscribeOutput, error) {
	if err := f.call(ctx, "Unsubscribe"); err != nil {
		return nil, err
	}
	for i, s := range f.subs {
		if aws.ToString(s.SubscriptionArn) == aws.ToString(in.SubscriptionArn) {
			f.subs = append(f.subs[:i], f.subs[i+1:]...)
			break
		}
	}
	return &sns.UnsubscribeOutput{}, nil
}

func (f *fakeSNS) DeleteTopic(ctx context.Context, in *sns.DeleteTopicInput, _ ...func(*sns.Options)) (*sns.DeleteTopicOutput, error) {
	if err := f.call(ctx, "DeleteTopic"); err != nil {
		return nil, err
	}
	f.arn, f.subs, f.tags = "", nil, nil
	return &sns.DeleteTopicOutput{}, nil
}

// An e-mail subscription pending confirmation is a normal state: reported
// as such, and never subscribed again.
func TestEnsureAlertTopicPendingConfirmation(t *testing.T) {
	ctx := context.Background()
	f := &fakeSNS{}
	res, err := observe.EnsureAlertTopic(ctx, f, alertTopic)
	must(t, err)
	want := []observe.SubscriptionStatus{
		{Protocol: "email", Endpoint: "secops@example.com", State: observe.SubscriptionPending},
		{Protocol: "sqs", Endpoint: "arn:aws:sqs:us-east-1:123456789012:alerts", State: observe.SubscriptionConfirmed,
			ARN: "arn:aws:sns:us-east-1:123456789012:awsguard-alerts:sub-sqs"},
	}
	if d := cmp.Diff(want, res.Subscriptions); d != "" {
		t.Errorf("subscriptions (-want +got):\n%s", d)
	}
	f.calls = nil
	// The same address in other case is the same subscription.
	again := alertTopic
	again.Subscriptions = append([]observe.Subscription{{Protocol: "email", Endpoint: "SecOps@Example.com"}}, alertTopic.Subscriptions[1:]...)
	res, err = observe.EnsureAlertTopic(ctx, f, again)
	must(t, err)
	if res.Applied || res.Reason != awsguard.ReasonAlreadyCompliant || res.Subscriptions[0].State != observe.SubscriptionPending {
		t.Errorf("second run = %+v", res)
	}
	if d := cmp.Diff([]string{"ListTopics", "ListTagsForResource", "GetTopicAttributes", "ListSubscriptionsByTopic"}, f.calls); d != "" {
		t.Errorf("second run calls (-want +got):\n%s", d)
	}
}

// Input is refused before any call, naming the field.
func TestEnsureAlertTopicValidates(t *testing.T) {
	for _, tc := range []struct {
		topic observe.Topic
		field string
	}{
		{observe.Topic{Name: ""}, "Topic.Name"},
		{observe.Topic{Name: "a.fifo"}, "Topic.Name"},
		{observe.Topic{Name: "a", Subscriptions: []observe.Subscription{{Protocol: "pigeon", Endpoint: "x"}}}, "Topic.Subscriptions[0].Protocol"},
		{observe.Topic{Name: "a", Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "nobody"}}}, "Topic.Subscriptions[0].Endpoint"},
		{observe.Topic{Name: "a", Subscriptions: []observe.Subscription{{Protocol: "sms", Endpoint: "010-1234"}}}, "Topic.Subscriptions[0].Endpoint"},
		{observe.Topic{Name: "a", Subscriptions: []observe.Subscription{{Protocol: "sqs", Endpoint: "queue"}}}, "Topic.Subscriptions[0].Endpoint"},
		{observe.Topic{Name: "a", Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "a@b.c"}, {Protocol: "email", Endpoint: "A@B.C"}}}, "Topic.Subscriptions[1]"},
	} {
		f := &fakeSNS{}
		_, err := observe.EnsureAlertTopic(context.Background(), f, tc.topic)
		var ie *awsguard.InputError
		if !errorsAs(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: err = %v, want field %s", tc.topic, err, tc.field)
		}
		if len(f.calls) != 0 {
			t.Errorf("%+v: calls %v before validation", tc.topic, f.calls)
		}
	}
}
