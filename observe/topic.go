package observe

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/awsguard/awsguard"
)

// Topic is the alert topic EnsureAlertTopic keeps in place.
type Topic struct {
	// Name is the topic name: 1 to 256 letters, digits, hyphens and
	// underscores (standard topics only: FIFO topics cannot deliver
	// e-mail).
	Name string
	// KMSKeyID, if set, encrypts the topic at rest with that KMS key (ID,
	// ARN or alias). The key policy must let events.amazonaws.com and
	// cloudwatch.amazonaws.com use it (kms:GenerateDataKey*, kms:Decrypt):
	// the AWS managed key alias/aws/sns does not, so EventBridge and
	// CloudWatch cannot publish to a topic encrypted with it. Empty leaves
	// the topic's encryption as it is (an existing key is never removed).
	KMSKeyID string
	// Subscriptions are the endpoints that get the alerts. Existing
	// subscriptions of the same protocol and endpoint are kept, confirmed
	// or not; others are left alone.
	Subscriptions []Subscription
}

// Subscription is one endpoint of the alert topic.
type Subscription struct {
	// Protocol is one of email, email-json, sms, sqs, lambda, http, https,
	// firehose, application.
	Protocol string
	// Endpoint is the address: an e-mail address, a phone number in E.164
	// form, an ARN or a URL by protocol.
	Endpoint string
}

// SubscriptionState says where a subscription stands.
type SubscriptionState string

// The states of a subscription.
const (
	// SubscriptionConfirmed: the endpoint receives messages.
	SubscriptionConfirmed SubscriptionState = "confirmed"
	// SubscriptionPending: SNS sent a confirmation request that no one has
	// answered yet (e-mail and HTTP endpoints). A normal state: the
	// subscription is never made twice; SNS drops it after three days
	// unconfirmed, and the next EnsureAlertTopic subscribes again.
	SubscriptionPending SubscriptionState = "pending-confirmation"
	// SubscriptionMissing: not there yet (a dry run, or a failed apply).
	SubscriptionMissing SubscriptionState = "missing"
)

// SubscriptionStatus is one wanted subscription and its state.
type SubscriptionStatus struct {
	Protocol string            `json:"protocol"`
	Endpoint string            `json:"endpoint"`
	State    SubscriptionState `json:"state"`
	// ARN is the subscription's ARN once confirmed, else empty.
	ARN string `json:"arn,omitempty"`
}

// TopicState names the state EnsureAlertTopic finds the topic in.
type TopicState int

// The states of the alert topic. The package documentation's table lists
// them.
const (
	// TopicAbsent: no topic of the name.
	TopicAbsent TopicState = iota + 1
	// TopicNotManaged: a topic of the name that observe did not create.
	TopicNotManaged
	// TopicDrifted: observe's topic, missing its policy, key or a
	// subscription.
	TopicDrifted
	// TopicCompliant: observe's topic, as wanted.
	TopicCompliant
)

var topicStateNames = map[TopicState]string{
	TopicAbsent: "absent", TopicNotManaged: "not-managed", TopicDrifted: "drifted", TopicCompliant: "compliant",
}

func (s TopicState) String() string {
	if n, ok := topicStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("TopicState(%d)", int(s))
}

// The action kinds of EnsureAlertTopic's plan.
const (
	ActionCreateTopic     = "create-topic"
	ActionSetKMSKey       = "set-kms-key"
	ActionSetTopicPolicy  = "set-topic-policy"
	ActionRecordSubscribe = "record-subscription"
	ActionSubscribe       = "subscribe"
)

// TopicResult is what EnsureAlertTopic did (or, in a dry run, would do).
type TopicResult struct {
	awsguard.Plan
	// State is the state the topic was found in.
	State TopicState `json:"state"`
	// TopicARN is the topic's ARN; empty in a dry run that would create
	// it.
	TopicARN string `json:"topic_arn"`
	// Subscriptions are the wanted subscriptions and their states, in the
	// order asked.
	Subscriptions []SubscriptionStatus `json:"subscriptions"`
}

var (
	topicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	e164RE      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	protocols   = []string{"email", "email-json", "sms", "sqs", "lambda", "http", "https", "firehose", "application"}
)

func (t Topic) validate(op string) error {
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: op, Field: field, Value: value, Allowed: allowed}
	}
	if !topicNameRE.MatchString(t.Name) {
		return bad("Topic.Name", t.Name, "1 to 256 of letters, digits, - and _ (a standard topic)")
	}
	if len(t.KMSKeyID) > 2048 {
		return bad("Topic.KMSKeyID", t.KMSKeyID[:32]+"...", "a KMS key ID, ARN or alias of at most 2048 characters")
	}
	seen := map[string]bool{}
	for i, s := range t.Subscriptions {
		f := fmt.Sprintf("Topic.Subscriptions[%d]", i)
		if !slices.Contains(protocols, s.Protocol) {
			return bad(f+".Protocol", s.Protocol, "one of "+strings.Join(protocols, ", "))
		}
		if err := validEndpoint(s.Protocol, s.Endpoint); err != "" {
			return bad(f+".Endpoint", s.Endpoint, err)
		}
		k := subscriptionTag(s.Protocol, s.Endpoint)
		if seen[k] {
			return bad(f, s.Protocol+":"+s.Endpoint, "each protocol and endpoint once")
		}
		seen[k] = true
	}
	return nil
}

// validEndpoint returns what the endpoint must look like, or "" if it does.
func validEndpoint(protocol, e string) string {
	switch protocol {
	case "email", "email-json":
		at := strings.IndexByte(e, '@')
		if at <= 0 || at != strings.LastIndexByte(e, '@') || !strings.Contains(e[at:], ".") || strings.ContainsAny(e, " \t\r\n<>,;") {
			return "an e-mail address"
		}
	case "sms":
		if !e164RE.MatchString(e) {
			return "a phone number in E.164 form, such as +821012345678"
		}
	case "http":
		if !strings.HasPrefix(e, "http://") || len(e) <= len("http://") {
			return "an http:// URL"
		}
	case "https":
		if !strings.HasPrefix(e, "https://") || len(e) <= len("https://") {
			return "an https:// URL"
		}
	default:
		if _, err := arn.Parse(e); err != nil {
			return "an ARN"
		}
	}
	return ""
}

// liveTopic is what EnsureAlertTopic reads.
type liveTopic struct {
	ARN    string
	Tags   map[string]string
	Attrs  map[string]string
	Policy *awsguard.PolicyDocument // nil when absent or unreadable
	// PolicyErr is set when the policy does not parse.
	PolicyErr error
	Subs      []snstypes.Subscription
}

// TopicARNFromName is a helper to find a topic by name in ListTopics.
func findTopic(ctx context.Context, api sns.ListTopicsAPIClient, name string) (string, error) {
	p := sns.NewListTopicsPaginator(api, &sns.ListTopicsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", err
		}
		for _, t := range out.Topics {
			a := aws.ToString(t.TopicArn)
			if strings.HasSuffix(a, ":"+name) {
				return a, nil
			}
		}
	}
	return "", nil
}

func snsTags(ctx context.Context, api interface {
	ListTagsForResource(context.Context, *sns.ListTagsForResourceInput, ...func(*sns.Options)) (*sns.ListTagsForResourceOutput, error)
}, topicARN string) (map[string]string, error) {
	out, err := api.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: aws.String(topicARN)})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, t := range out.Tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m, nil
}

func listSubscriptions(ctx context.Context, api sns.ListSubscriptionsByTopicAPIClient, topicARN string) ([]snstypes.Subscription, error) {
	var subs []snstypes.Subscription
	p := sns.NewListSubscriptionsByTopicPaginator(api, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topicARN)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		subs = append(subs, out.Subscriptions...)
	}
	return subs, nil
}

func readTopic(ctx context.Context, api TopicAPI, name string) (*liveTopic, error) {
	a, err := findTopic(ctx, api, name)
	if err != nil {
		return nil, fmt.Errorf("observe: list topics: %w", err)
	}
	if a == "" {
		return nil, nil
	}
	lt := &liveTopic{ARN: a}
	if lt.Tags, err = snsTags(ctx, api, a); err != nil {
		return nil, fmt.Errorf("observe: list tags of %s: %w", a, err)
	}
	if !isManaged(lt.Tags) {
		return lt, nil
	}
	at, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(a)})
	if err != nil {
		return nil, fmt.Errorf("observe: get attributes of %s: %w", a, err)
	}
	lt.Attrs = at.Attributes
	if p := lt.Attrs["Policy"]; p != "" {
		lt.Policy, lt.PolicyErr = awsguard.ParsePolicyDocument(p)
	}
	if lt.Subs, err = listSubscriptions(ctx, api, a); err != nil {
		return nil, fmt.Errorf("observe: list subscriptions of %s: %w", a, err)
	}
	return lt, nil
}

// Sids of the statements observe keeps in the topic policy.
const (
	sidEvents     = "awsguard-events-publish"
	sidCloudWatch = "awsguard-cloudwatch-publish"
)

// TopicPolicyStatements returns the statements that let EventBridge rules
// and CloudWatch alarms of the topic's own account (and region) publish to
// it, conditioned on aws:SourceAccount and aws:SourceArn against the
// confused deputy. topicARN must be an SNS topic ARN.
func TopicPolicyStatements(topicARN string) ([]awsguard.Statement, error) {
	a, err := arn.Parse(topicARN)
	if err != nil || a.Service != "sns" || a.AccountID == "" || a.Region == "" {
		return nil, &awsguard.InputError{Operation: "observe.TopicPolicyStatements", Field: "topicARN", Value: topicARN, Allowed: "an SNS topic ARN"}
	}
	st := func(sid, service, source string) awsguard.Statement {
		return awsguard.Statement{
			Sid:       sid,
			Effect:    "Allow",
			Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{"Service": awsguard.StringValue(service)}},
			Action:    awsguard.StringValue("sns:Publish"),
			Resource:  awsguard.StringValue(topicARN),
			Condition: map[string]map[string]awsguard.Strings{
				"StringEquals": {"aws:SourceAccount": awsguard.StringValue(a.AccountID)},
				"ArnLike":      {"aws:SourceArn": awsguard.StringValue(source)},
			},
		}
	}
	prefix := "arn:" + a.Partition + ":"
	return []awsguard.Statement{
		st(sidEvents, "events.amazonaws.com", prefix+"events:"+a.Region+":"+a.AccountID+":rule/*"),
		st(sidCloudWatch, "cloudwatch.amazonaws.com", prefix+"cloudwatch:"+a.Region+":"+a.AccountID+":alarm:*"),
	}, nil
}

// ownerStatement is SNS's default statement: the topic owner's account
// manages the topic. It is put in a topic policy observe writes from
// scratch.
func ownerStatement(topicARN string) awsguard.Statement {
	a, _ := arn.Parse(topicARN)
	return awsguard.Statement{
		Sid:       "__default_statement_ID",
		Effect:    "Allow",
		Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{"AWS": awsguard.StringValue("*")}},
		Action: awsguard.StringList("SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
			"SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"),
		Resource:  awsguard.StringValue(topicARN),
		Condition: map[string]map[string]awsguard.Strings{"StringEquals": {"AWS:SourceOwner": awsguard.StringValue(a.AccountID)}},
	}
}

// mergeTopicPolicy returns the policy with observe's statements in place
// (others kept as they are), and whether that changes it.
func mergeTopicPolicy(live *awsguard.PolicyDocument, topicARN string) (*awsguard.PolicyDocument, bool, error) {
	want, err := TopicPolicyStatements(topicARN)
	if err != nil {
		return nil, false, err
	}
	var doc awsguard.PolicyDocument
	if live == nil {
		doc = awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{ownerStatement(topicARN)}}}
	} else {
		doc = *live
		doc.Statement.List = slices.Clone(live.Statement.List)
		doc.Statement.Single = false
	}
	changed := live == nil
	for _, w := range want {
		i := slices.IndexFunc(doc.Statement.List, func(s awsguard.Statement) bool { return s.Sid == w.Sid })
		if i < 0 {
			doc.Statement.List = append(doc.Statement.List, w)
			changed = true
			continue
		}
		one := func(s awsguard.Statement) *awsguard.PolicyDocument {
			return &awsguard.PolicyDocument{Statement: awsguard.Statements{List: []awsguard.Statement{s}}}
		}
		if !one(doc.Statement.List[i]).Equivalent(one(w)) {
			doc.Statement.List[i] = w
			changed = true
		}
	}
	return &doc, changed, validateResourcePolicy(&doc)
}

// validateResourcePolicy checks what IAM checks on a resource policy:
// like PolicyDocument.Validate, except that every statement has a
// Principal (Validate refuses Principal, as identity policies have none).
func validateResourcePolicy(d *awsguard.PolicyDocument) error {
	c := *d
	c.Statement.List = make([]awsguard.Statement, len(d.Statement.List))
	for i, s := range d.Statement.List {
		if s.Principal == nil && s.NotPrincipal == nil {
			return fmt.Errorf("observe: %w: Statement[%d]: a resource policy needs a Principal", awsguard.ErrPolicyDocument, i)
		}
		s.Principal, s.NotPrincipal = nil, nil
		c.Statement.List[i] = s
	}
	return c.Validate()
}

// classifyTopic names the state of the live topic against the wanted one.
func classifyTopic(lt *liveTopic, want Topic) TopicState {
	switch {
	case lt == nil:
		return TopicAbsent
	case !isManaged(lt.Tags):
		return TopicNotManaged
	}
	if p := planTopic(TopicDrifted, lt, want); len(p.Actions) > 0 {
		return TopicDrifted
	}
	return TopicCompliant
}

// findSubscription returns the live subscription of s, or nil.
func findSubscription(subs []snstypes.Subscription, s Subscription) *snstypes.Subscription {
	for i, l := range subs {
		if aws.ToString(l.Protocol) == s.Protocol && normalEndpoint(s.Protocol, aws.ToString(l.Endpoint)) == normalEndpoint(s.Protocol, s.Endpoint) {
			return &subs[i]
		}
	}
	return nil
}

func isPending(subARN string) bool {
	return strings.EqualFold(strings.ReplaceAll(subARN, " ", ""), "PendingConfirmation")
}

// planTopic derives the actions for the state: a pure function of what was
// read.
func planTopic(state TopicState, lt *liveTopic, want Topic) awsguard.Plan {
	p := awsguard.Plan{Operation: "observe.EnsureAlertTopic", Resource: "topic/" + want.Name}
	switch state {
	case TopicNotManaged:
		p.Reason = awsguard.ReasonRefused
		return p
	case TopicAbsent:
		d := "create SNS topic " + want.Name + " tagged " + TagManaged
		if want.KMSKeyID != "" {
			d += ", encrypted with KMS key " + want.KMSKeyID
		}
		p.Add(awsguard.Action{Kind: ActionCreateTopic, Call: "sns:CreateTopic", Detail: d, Why: "no topic of the name"})
		p.Add(awsguard.Action{Kind: ActionSetTopicPolicy, Call: "sns:SetTopicAttributes",
			Detail: "let EventBridge rules and CloudWatch alarms of the account publish to " + want.Name, Why: "a new topic has only the owner's policy"})
		for _, s := range want.Subscriptions {
			p.Add(subscribeAction(want.Name, s))
		}
		return p
	}
	res := lt.ARN
	if want.KMSKeyID != "" && lt.Attrs["KmsMasterKeyId"] != want.KMSKeyID {
		p.Add(awsguard.Action{Kind: ActionSetKMSKey, Call: "sns:SetTopicAttributes", Resource: res,
			Detail: "encrypt " + want.Name + " with KMS key " + want.KMSKeyID,
			Why:    fmt.Sprintf("the topic's key is %q", lt.Attrs["KmsMasterKeyId"])})
	}
	if lt.PolicyErr == nil {
		if _, changed, err := mergeTopicPolicy(lt.Policy, lt.ARN); err != nil || changed {
			p.Add(awsguard.Action{Kind: ActionSetTopicPolicy, Call: "sns:SetTopicAttributes", Resource: res,
				Detail: "let EventBridge rules and CloudWatch alarms of the account publish to " + want.Name,
				Why:    "the topic policy lacks observe's publish statements or they differ"})
		}
	} else {
		p.Warnings = append(p.Warnings, "the topic policy does not parse and is left as it is: "+lt.PolicyErr.Error())
	}
	for _, s := range want.Subscriptions {
		l := findSubscription(lt.Subs, s)
		recorded := lt.Tags[subscriptionTag(s.Protocol, s.Endpoint)] != ""
		switch {
		case l == nil:
			p.Add(subscribeAction(want.Name, s))
		case !recorded:
			p.Add(awsguard.Action{Kind: ActionRecordSubscribe, Call: "sns:TagResource", Resource: s.Protocol + ":" + s.Endpoint,
				Detail: "record the existing " + s.Protocol + " subscription of " + s.Endpoint + " as observe's",
				Why:    "the subscription exists but is not recorded on the topic, so Teardown would leave it"})
		}
	}
	return p
}

func subscribeAction(topic string, s Subscription) awsguard.Action {
	return awsguard.Action{Kind: ActionSubscribe, Call: "sns:TagResource,sns:Subscribe", Resource: s.Protocol + ":" + s.Endpoint,
		Detail: "subscribe " + s.Protocol + " " + s.Endpoint + " to " + topic,
		Why:    "the endpoint is not subscribed"}
}

// EnsureAlertTopic keeps the alert topic in place: a standard SNS topic
// tagged awsguard:managed=true and awsguard:package=observe, encrypted with
// the KMS key asked for, whose policy lets the account's EventBridge rules
// and CloudWatch alarms publish (aws:SourceAccount and aws:SourceArn
// conditions; other statements are kept), and the wanted subscriptions.
//
// Each subscription is made once: one of the same protocol and endpoint,
// confirmed or pending confirmation, is kept, and a pending one is reported
// as SubscriptionPending, a normal state. Before subscribing, observe
// records the subscription in a tag of the topic (subscriptions cannot be
// tagged), so that Teardown can tell its subscriptions from those added by
// hand.
//
// A topic of the name that observe did not create is left alone: the
// result's State is TopicNotManaged and the error ErrNotManaged. With
// DryRun it returns the plan and changes nothing; run again, it finds
// nothing to do (Reason "already compliant") and makes no mutating call.
// A run that fails part-way returns an *awsguard.StepError; running it
// again finishes the job without duplicating anything.
//
// Permissions: those of TopicAPI.
func EnsureAlertTopic(ctx context.Context, api TopicAPI, want Topic, optFns ...func(*Options)) (*TopicResult, error) {
	const op = "observe.EnsureAlertTopic"
	if err := want.validate(op); err != nil {
		return nil, err
	}
	o := options(optFns)
	lt, err := readTopic(ctx, api, want.Name)
	if err != nil {
		return nil, err
	}
	state := classifyTopic(lt, want)
	res := &TopicResult{State: state, Plan: planTopic(state, lt, want)}
	res.DryRun = o.DryRun
	if lt != nil {
		res.TopicARN = lt.ARN
		res.Plan.Resource = lt.ARN
	}
	if strings.EqualFold(want.KMSKeyID, "alias/aws/sns") {
		res.Warnings = append(res.Warnings, "the AWS managed key alias/aws/sns does not let EventBridge or CloudWatch publish: use a customer managed key")
	}
	if state == TopicNotManaged {
		return res, fmt.Errorf("%w: topic %s", ErrNotManaged, lt.ARN)
	}
	var subs []snstypes.Subscription
	if lt != nil {
		subs = lt.Subs
	}
	// Subscribe answers "pending confirmation" (or the ARN) per endpoint.
	made := map[string]string{}
	created := false
	do := func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionCreateTopic:
			in := &sns.CreateTopicInput{Name: aws.String(want.Name)}
			for k, v := range managedTags() {
				in.Tags = append(in.Tags, snstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			slices.SortFunc(in.Tags, func(a, b snstypes.Tag) int { return strings.Compare(*a.Key, *b.Key) })
			if want.KMSKeyID != "" {
				in.Attributes = map[string]string{"KmsMasterKeyId": want.KMSKeyID}
			}
			out, err := api.CreateTopic(ctx, in)
			if err != nil {
				return fmt.Errorf("create topic %s: %w", want.Name, err)
			}
			res.TopicARN = aws.ToString(out.TopicArn)
			a.Resource = res.TopicARN
			res.Plan.Resource = res.TopicARN
			created = true
		case ActionSetKMSKey:
			if _, err := api.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(res.TopicARN),
				AttributeName: aws.String("KmsMasterKeyId"), AttributeValue: aws.String(want.KMSKeyID)}); err != nil {
				return fmt.Errorf("set KMS key of %s: %w", res.TopicARN, err)
			}
		case ActionSetTopicPolicy:
			a.Resource = res.TopicARN
			var live *awsguard.PolicyDocument
			if lt != nil {
				live = lt.Policy
			}
			if created {
				// Read the new topic's default policy so that it is kept.
				at, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(res.TopicARN)})
				if err != nil {
					return fmt.Errorf("get attributes of %s: %w", res.TopicARN, err)
				}
				if s := at.Attributes["Policy"]; s != "" {
					if d, err := awsguard.ParsePolicyDocument(s); err == nil {
						live = d
					}
				}
			}
			doc, _, err := mergeTopicPolicy(live, res.TopicARN)
			if err != nil {
				return err
			}
			js, err := doc.JSON()
			if err != nil {
				return err
			}
			if _, err := api.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(res.TopicARN),
				AttributeName: aws.String("Policy"), AttributeValue: aws.String(js)}); err != nil {
				return fmt.Errorf("set policy of %s: %w", res.TopicARN, err)
			}
		case ActionRecordSubscribe, ActionSubscribe:
			s := subscriptionOf(a)
			if err := recordSubscription(ctx, api, res.TopicARN, s); err != nil {
				return err
			}
			if a.Kind == ActionRecordSubscribe {
				return nil
			}
			out, err := api.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(res.TopicARN),
				Protocol: aws.String(s.Protocol), Endpoint: aws.String(s.Endpoint)})
			if err != nil {
				return fmt.Errorf("subscribe %s %s: %w", s.Protocol, s.Endpoint, err)
			}
			made[subscriptionTag(s.Protocol, s.Endpoint)] = aws.ToString(out.SubscriptionArn)
		default:
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		return nil
	}
	err = res.Plan.Apply(ctx, do, o.apply(op))
	res.Subscriptions = subscriptionStatuses(want, subs, made)
	return res, err
}

// subscriptionOf is the subscription an action's Resource
// ("protocol:endpoint") names.
func subscriptionOf(a *awsguard.Action) Subscription {
	p, e, _ := strings.Cut(a.Resource, ":")
	return Subscription{Protocol: p, Endpoint: e}
}

func recordSubscription(ctx context.Context, api TopicAPI, topicARN string, s Subscription) error {
	if _, err := api.TagResource(ctx, &sns.TagResourceInput{ResourceArn: aws.String(topicARN),
		Tags: []snstypes.Tag{{Key: aws.String(subscriptionTag(s.Protocol, s.Endpoint)), Value: aws.String(s.Protocol)}}}); err != nil {
		return fmt.Errorf("record subscription %s %s on %s: %w", s.Protocol, s.Endpoint, topicARN, err)
	}
	return nil
}

func subscriptionStatuses(want Topic, live []snstypes.Subscription, made map[string]string) []SubscriptionStatus {
	out := make([]SubscriptionStatus, 0, len(want.Subscriptions))
	for _, s := range want.Subscriptions {
		st := SubscriptionStatus{Protocol: s.Protocol, Endpoint: s.Endpoint, State: SubscriptionMissing}
		subARN, ok := made[subscriptionTag(s.Protocol, s.Endpoint)]
		if !ok {
			if l := findSubscription(live, s); l != nil {
				subARN, ok = aws.ToString(l.SubscriptionArn), true
			}
		}
		switch {
		case !ok:
		case isPending(subARN) || subARN == "":
			st.State = SubscriptionPending
		default:
			st.State, st.ARN = SubscriptionConfirmed, subARN
		}
		out = append(out, st)
	}
	return out
}
