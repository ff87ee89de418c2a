package waf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// OpAttach and OpRemove name the operations in plans and errors.
const (
	OpAttach = "waf.AttachSQLiACL"
	OpRemove = "waf.RemoveSQLiACL"
)

// The action kinds of AttachSQLiACL and RemoveSQLiACL plans.
const (
	ActionCreateACL       = "create-web-acl"
	ActionUpdateACL       = "update-web-acl"
	ActionDisassociateACL = "disassociate-web-acl"
	ActionAssociateACL    = "associate-web-acl"
	ActionDeleteACL       = "delete-web-acl"
)

// Options tune AttachSQLiACL. The zero value means the defaults: a web ACL
// named DefaultName holding AWSManagedRulesSQLiRuleSet in Block mode.
type Options struct {
	// Name is the web ACL's name; default DefaultName.
	Name string
	// Common and KnownBadInputs add AWSManagedRulesCommonRuleSet and
	// AWSManagedRulesKnownBadInputsRuleSet after the SQLi group.
	Common, KnownBadInputs bool
	// Versions pins rule group versions, by group name, such as
	// {RuleGroupSQLi: "Version_2.0"}. A group not named keeps the version
	// it has (AWS's default for a new rule).
	Versions map[string]string
	// CountMode puts every managed group in Count mode (a trial: matches
	// are counted, nothing is blocked). Running again without it switches
	// back to the groups' own actions (Block). Switching an existing ACL
	// from Block to Count weakens it and needs AllowWeaken.
	CountMode bool
	// RuleOverrides override single rules of the groups.
	RuleOverrides []RuleOverride
	// ReplaceExisting lets AttachSQLiACL replace another web ACL already
	// associated with the ALB (it is disassociated, not deleted).
	ReplaceExisting bool
	// AllowWeaken lets a change that lets more requests through (Count
	// mode, a rule overridden to Count or Allow) be applied to an
	// existing ACL.
	AllowWeaken bool
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// MaxCapacity is the most WCUs the ACL's rules may need, as
	// CheckCapacity counts them; default 1500 (the ACL's base price
	// covers 1500; AWS's hard limit is 5000).
	MaxCapacity int64
	// AssociateWait bounds the wait for the ALB to be active and for
	// AssociateWebACL to stop answering WAFUnavailableEntityException
	// (a new ACL can be unknown to WAF's association service for
	// minutes); default 5 minutes.
	AssociateWait time.Duration
	// RetryMinDelay and RetryMaxDelay bound the backoff (with jitter)
	// between those attempts; defaults 2 s and 30 s.
	RetryMinDelay, RetryMaxDelay time.Duration
	// LockRetries is how many times an update re-reads the ACL after a
	// WAFOptimisticLockException; default 5.
	LockRetries int
	// Logger receives one record per action; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event per action.
	Progress func(awsguard.Progress)
}

const (
	defaultMaxCapacity   = 1500
	defaultAssociateWait = 5 * time.Minute
	defaultLockRetries   = 5
)

func newOptions(optFns []func(*Options)) (Options, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if err := validateName(OpAttach, o.Name); err != nil {
		return o, err
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"Options.AssociateWait", o.AssociateWait}, {"Options.RetryMinDelay", o.RetryMinDelay}, {"Options.RetryMaxDelay", o.RetryMaxDelay}} {
		if d.v < 0 {
			return o, &awsguard.InputError{Operation: OpAttach, Field: d.field, Value: d.v.String(), Allowed: ">= 0 (0 for the default)"}
		}
	}
	if o.MaxCapacity < 0 || o.MaxCapacity > 5000 {
		return o, &awsguard.InputError{Operation: OpAttach, Field: "Options.MaxCapacity", Value: fmt.Sprint(o.MaxCapacity), Allowed: "0..5000 (0 for the default, 1500)"}
	}
	if o.LockRetries < 0 {
		return o, &awsguard.InputError{Operation: OpAttach, Field: "Options.LockRetries", Value: fmt.Sprint(o.LockRetries), Allowed: ">= 0 (0 for the default, 5)"}
	}
	if err := validateGroups(OpAttach, &o); err != nil {
		return o, err
	}
	if o.MaxCapacity == 0 {
		o.MaxCapacity = defaultMaxCapacity
	}
	if o.AssociateWait == 0 {
		o.AssociateWait = defaultAssociateWait
	}
	if o.RetryMinDelay == 0 {
		o.RetryMinDelay = 2 * time.Second
	}
	if o.RetryMaxDelay == 0 {
		o.RetryMaxDelay = max(30*time.Second, o.RetryMinDelay)
	}
	if o.LockRetries == 0 {
		o.LockRetries = defaultLockRetries
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// WebACL is what AttachSQLiACL found, planned and did.
type WebACL struct {
	Name string `json:"name"`
	// ID and ARN are empty while the ACL does not exist (a dry run that
	// would create it).
	ID  string `json:"id,omitempty"`
	ARN string `json:"arn,omitempty"`
	// ALB is the load balancer's ARN.
	ALB string `json:"alb"`
	// State and Association are the states found before the run.
	State       ACLState         `json:"state"`
	Association AssociationState `json:"association"`
	// OtherACL is the ARN of another web ACL found on the ALB, if any.
	OtherACL string `json:"other_acl,omitempty"`
	// RuleGroups are the AWS managed groups the ACL holds after the run
	// (or would hold, in a dry run), in priority order.
	RuleGroups []string `json:"rule_groups"`
	// Capacity is the WCUs of the rules written, from CheckCapacity;
	// CapacityKnown is false when no check was made or the service did not
	// answer it (the plan's Warnings say so).
	Capacity      int64 `json:"capacity,omitempty"`
	CapacityKnown bool  `json:"capacity_known"`
	// Plan is what was (or would be) done.
	Plan awsguard.Plan `json:"plan"`
}

// ACLState is the state of the named web ACL found by AttachSQLiACL.
type ACLState int

// The states of the web ACL.
const (
	// ACLAbsent: no web ACL of the name exists.
	ACLAbsent ACLState = iota + 1
	// ACLIncomplete: the ACL exists, carries the awsguard:managed tag and
	// lacks a wanted group or holds one not as wanted.
	ACLIncomplete
	// ACLComplete: the ACL holds every wanted group as wanted.
	ACLComplete
	// ACLForeign: the ACL exists without the awsguard:managed tag and is
	// not as wanted; AttachSQLiACL does not change it (ErrNotManaged).
	ACLForeign
)

var aclStateNames = map[ACLState]string{ACLAbsent: "absent", ACLIncomplete: "incomplete", ACLComplete: "complete", ACLForeign: "foreign"}

func (s ACLState) String() string {
	if n, ok := aclStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("ACLState(%d)", int(s))
}

// MarshalText writes the state's name.
func (s ACLState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *ACLState) UnmarshalText(b []byte) error { return unmarshalState(aclStateNames, s, b) }

// AssociationState is what protects the ALB before the run.
type AssociationState int

// The association states.
const (
	// AssocNone: the ALB has no web ACL.
	AssocNone AssociationState = iota + 1
	// AssocOurs: the ALB has the named web ACL.
	AssocOurs
	// AssocOther: the ALB has another web ACL; replacing it needs
	// Options.ReplaceExisting.
	AssocOther
)

var assocStateNames = map[AssociationState]string{AssocNone: "none", AssocOurs: "ours", AssocOther: "other"}

func (s AssociationState) String() string {
	if n, ok := assocStateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("AssociationState(%d)", int(s))
}

// MarshalText writes the state's name.
func (s AssociationState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *AssociationState) UnmarshalText(b []byte) error {
	return unmarshalState(assocStateNames, s, b)
}

func unmarshalState[S ~int](names map[S]string, s *S, b []byte) error {
	for k, n := range names {
		if n == string(b) {
			*s = k
			return nil
		}
	}
	return fmt.Errorf("waf: unknown state %q", b)
}

// aclView is a web ACL as read, with its lock token and managed tag.
type aclView struct {
	ACL       types.WebACL
	LockToken string
	Managed   bool
}

// observed is the live state AttachSQLiACL plans from.
type observed struct {
	ALB      elbtypes.LoadBalancer
	ACL      *aclView // nil when absent
	AssocARN string   // the ALB's web ACL, or ""
}

// AttachSQLiACL protects an application load balancer with a REGIONAL web
// ACL holding the AWS managed SQL-injection rule group (and, with Options,
// the Common and KnownBadInputs groups), default action Allow, CloudWatch
// metrics on for the ACL and each rule. The ACL, named Options.Name, is
// created with the tag awsguard:managed=true, or brought to the wanted
// rules if it exists (read, change, UpdateWebACL with the LockToken,
// re-read on WAFOptimisticLockException), then associated with the ALB.
//
// It reads first (DescribeLoadBalancers, ListWebACLs, GetWebACL,
// ListTagsForResource, GetWebACLForResource, and CheckCapacity when the
// rules change), then plans and applies. An ACL that already holds the
// rules on the ALB means zero mutating calls. See the package
// documentation for the states and the plan of each.
//
// Permissions: the methods of AttachWAF and DescribeLoadBalancersAPI, and
// elasticloadbalancing:SetWebACL.
func AttachSQLiACL(ctx context.Context, api AttachAPI, albARN string, optFns ...func(*Options)) (*WebACL, error) {
	o, err := newOptions(optFns)
	if err != nil {
		return nil, err
	}
	if err := validateALBARN(OpAttach, "albARN", albARN); err != nil {
		return nil, err
	}
	if api.WAF == nil || api.ELB == nil {
		return nil, &awsguard.InputError{Operation: OpAttach, Field: "api", Value: "nil client", Allowed: "AttachAPI with WAF and ELB clients"}
	}
	want := wantGroups(&o)
	res := &WebACL{Name: o.Name, ALB: albARN, Plan: awsguard.Plan{Operation: OpAttach, Resource: albARN, DryRun: o.DryRun}}

	obs, err := observe(ctx, api, albARN, o.Name)
	if err != nil {
		return nil, err
	}
	rules, err := planAttach(res, obs, want, &o)
	if err != nil {
		return res, err
	}
	if rules != nil {
		if err := checkCapacity(ctx, api.WAF, rules, &o, res); err != nil {
			return res, err
		}
	}

	r := &attachRun{api: api, o: &o, alb: albARN, obs: obs, res: res, want: want, rules: rules}
	err = res.Plan.Apply(ctx, r.do, awsguard.ApplyOptions{
		AllowWeaken: o.AllowWeaken,
		Logger:      o.Logger,
		Progress:    o.Progress,
		Rollback:    r.rollback,
	})
	return res, err
}

// observe reads the ALB, the named ACL and the ALB's association.
func observe(ctx context.Context, api AttachAPI, albARN, name string) (*observed, error) {
	lb, err := describeALB(ctx, api.ELB, albARN)
	if err != nil {
		return nil, err
	}
	acl, err := findACL(ctx, api.WAF, name)
	if err != nil {
		return nil, err
	}
	assoc, err := aclForResource(ctx, api.WAF, albARN)
	if err != nil {
		return nil, err
	}
	return &observed{ALB: lb, ACL: acl, AssocARN: assoc}, nil
}

func describeALB(ctx context.Context, api DescribeLoadBalancersAPI, arn string) (elbtypes.LoadBalancer, error) {
	out, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn}})
	if awserr.HasCode(err, "LoadBalancerNotFound") {
		return elbtypes.LoadBalancer{}, fmt.Errorf("%w: %s", ErrALBNotFound, arn)
	}
	if err != nil {
		return elbtypes.LoadBalancer{}, fmt.Errorf("waf: describe load balancer %s: %w", arn, err)
	}
	if len(out.LoadBalancers) == 0 {
		return elbtypes.LoadBalancer{}, fmt.Errorf("%w: %s", ErrALBNotFound, arn)
	}
	lb := out.LoadBalancers[0]
	if lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
		return lb, fmt.Errorf("%w: %s is of type %s", ErrNotALB, arn, lb.Type)
	}
	return lb, nil
}

type aclSummaryLister interface {
	ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error)
}

// maxPages bounds every pagination loop of the package.
const maxPages = 1000

// listACLs returns every REGIONAL web ACL summary.
func listACLs(ctx context.Context, api aclSummaryLister) ([]types.WebACLSummary, error) {
	var out []types.WebACLSummary
	var marker *string
	for range maxPages {
		page, err := api.ListWebACLs(ctx, &wafv2.ListWebACLsInput{Scope: types.ScopeRegional, Limit: aws.Int32(100), NextMarker: marker})
		if err != nil {
			return nil, fmt.Errorf("waf: list web ACLs: %w", err)
		}
		out = append(out, page.WebACLs...)
		// WAF may answer a marker with an empty last page.
		if aws.ToString(page.NextMarker) == "" || len(page.WebACLs) == 0 {
			return out, nil
		}
		marker = page.NextMarker
	}
	return out, fmt.Errorf("waf: list web ACLs: more than %d pages", maxPages)
}

type aclReader interface {
	aclSummaryLister
	GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
	ListTagsForResource(context.Context, *wafv2.ListTagsForResourceInput, ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error)
}

// findACL returns the named REGIONAL ACL with its lock token and whether it
// carries the managed tag, or nil.
func findACL(ctx context.Context, api aclReader, name string) (*aclView, error) {
	all, err := listACLs(ctx, api)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(s types.WebACLSummary) bool { return aws.ToString(s.Name) == name })
	if i < 0 {
		return nil, nil
	}
	return readACL(ctx, api, name, aws.ToString(all[i].Id))
}

func readACL(ctx context.Context, api aclReader, name, id string) (*aclView, error) {
	got, err := getACL(ctx, api, name, id)
	if err != nil || got == nil {
		return got, err
	}
	tags, err := api.ListTagsForResource(ctx, &wafv2.ListTagsForResourceInput{ResourceARN: got.ACL.ARN})
	if err != nil {
		return nil, fmt.Errorf("waf: list tags of web ACL %s: %w", name, err)
	}
	if tags.TagInfoForResource != nil {
		got.Managed = slices.ContainsFunc(tags.TagInfoForResource.TagList, func(t types.Tag) bool {
			return aws.ToString(t.Key) == TagManaged && aws.ToString(t.Value) == "true"
		})
	}
	return got, nil
}

type aclGetter interface {
	GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
}

// getACL reads an ACL and its lock token (not its tags); nil when gone.
func getACL(ctx context.Context, api aclGetter, name, id string) (*aclView, error) {
	out, err := api.GetWebACL(ctx, &wafv2.GetWebACLInput{Name: aws.String(name), Id: aws.String(id), Scope: types.ScopeRegional})
	if awserr.HasCode(err, "WAFNonexistentItemException") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("waf: get web ACL %s: %w", name, err)
	}
	if out.WebACL == nil {
		return nil, nil
	}
	return &aclView{ACL: *out.WebACL, LockToken: aws.ToString(out.LockToken)}, nil
}

type forResourceGetter interface {
	GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error)
}

// aclForResource returns the ARN of the ACL associated with a resource, or "".
func aclForResource(ctx context.Context, api forResourceGetter, arn string) (string, error) {
	out, err := api.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(arn)})
	if awserr.HasCode(err, "WAFNonexistentItemException") {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("waf: get the web ACL of %s: %w", arn, err)
	}
	if out.WebACL == nil {
		return "", nil
	}
	return aws.ToString(out.WebACL.ARN), nil
}

// classify names the states of the ACL and of the association, and returns
// the ACL's rules with the wanted groups merged in, what would change, and
// whether that weakens.
func classify(obs *observed, want []groupSpec) (ACLState, AssociationState, []types.Rule, []string, bool) {
	as := ACLAbsent
	var merged []types.Rule
	var changes []string
	var weak bool
	if obs.ACL != nil {
		merged, changes, weak = mergeRules(obs.ACL.ACL.Rules, want)
		if v := obs.ACL.ACL.VisibilityConfig; v == nil || !v.CloudWatchMetricsEnabled {
			changes = append(changes, "turn on the ACL's metrics")
		}
		switch {
		case len(changes) == 0:
			as = ACLComplete
		case obs.ACL.Managed:
			as = ACLIncomplete
		default:
			as = ACLForeign
		}
	}
	assoc := AssocNone
	switch {
	case obs.AssocARN == "":
	case obs.ACL != nil && obs.AssocARN == aws.ToString(obs.ACL.ACL.ARN):
		assoc = AssocOurs
	default:
		assoc = AssocOther
	}
	return as, assoc, merged, changes, weak
}

// planAttach fills res (states, plan, rule groups) from what was observed
// and returns the rules to write (nil when the ACL's rules stay as they
// are). It makes no call. It fails with ErrNotManaged or ErrOtherACL when
// the plan is refused; the refused plan still lists what it would do.
func planAttach(res *WebACL, obs *observed, want []groupSpec, o *Options) ([]types.Rule, error) {
	st, assoc, merged, changes, weak := classify(obs, want)
	res.State, res.Association = st, assoc
	if assoc == AssocOther {
		res.OtherACL = obs.AssocARN
	}
	p := &res.Plan
	var rules []types.Rule
	switch st {
	case ACLAbsent:
		for i, g := range want {
			rules = append(rules, g.rule(int32(i)))
		}
		var names []string
		for _, g := range want {
			names = append(names, g.Group)
		}
		mode := "Block"
		if o.CountMode {
			mode = "Count"
		}
		p.Add(awsguard.Action{Kind: ActionCreateACL, Call: "wafv2:CreateWebACL", Resource: o.Name,
			Detail: fmt.Sprintf("create web ACL %s (REGIONAL, default Allow, metrics on) with %s in %s mode", o.Name, strings.Join(names, ", "), mode),
			Why:    "no web ACL of that name exists"})
	case ACLIncomplete, ACLForeign:
		rules = merged
		res.ID, res.ARN = aws.ToString(obs.ACL.ACL.Id), aws.ToString(obs.ACL.ACL.ARN)
		p.Add(awsguard.Action{Kind: ActionUpdateACL, Call: "wafv2:GetWebACL,wafv2:UpdateWebACL", Resource: res.ARN,
			Detail:    fmt.Sprintf("update web ACL %s: %s", o.Name, strings.Join(changes, "; ")),
			Why:       "the ACL lacks a wanted rule group or holds one not as wanted",
			Weakening: weak})
	case ACLComplete:
		res.ID, res.ARN = aws.ToString(obs.ACL.ACL.Id), aws.ToString(obs.ACL.ACL.ARN)
	}
	if rules != nil {
		res.RuleGroups = heldGroups(rules)
	} else {
		res.RuleGroups = heldGroups(obs.ACL.ACL.Rules)
	}
	aclName := o.Name
	if assoc == AssocOther {
		p.Add(awsguard.Action{Kind: ActionDisassociateACL, Call: "wafv2:DisassociateWebACL", Resource: aws.ToString(obs.ALB.LoadBalancerArn),
			Detail: fmt.Sprintf("disassociate web ACL %s from the ALB (the ACL is kept)", obs.AssocARN),
			Why:    "the ALB has another web ACL and Options.ReplaceExisting is set"})
	}
	if assoc != AssocOurs {
		p.Add(awsguard.Action{Kind: ActionAssociateACL, Call: "elasticloadbalancing:DescribeLoadBalancers,wafv2:AssociateWebACL", Resource: aws.ToString(obs.ALB.LoadBalancerArn),
			Detail: fmt.Sprintf("associate web ACL %s with ALB %s", aclName, aws.ToString(obs.ALB.LoadBalancerName)),
			Why:    "the ALB is not protected by this ACL"})
	}
	if len(p.Actions) == 0 {
		p.Reason = awsguard.ReasonAlreadyCompliant
	}
	switch {
	case st == ACLForeign:
		p.Reason = awsguard.ReasonRefused
		p.Warnings = append(p.Warnings, fmt.Sprintf("web ACL %s exists without the %s=true tag: it is not changed", o.Name, TagManaged))
		return nil, fmt.Errorf("%w: %s (%s)", ErrNotManaged, o.Name, res.ARN)
	case assoc == AssocOther && !o.ReplaceExisting:
		p.Reason = awsguard.ReasonRefused
		p.Warnings = append(p.Warnings, fmt.Sprintf("the ALB is protected by web ACL %s; set Options.ReplaceExisting to replace it", obs.AssocARN))
		return nil, fmt.Errorf("%w: %s", ErrOtherACL, obs.AssocARN)
	}
	return rules, nil
}

// checkCapacity asks CheckCapacity for the rules' WCUs. A service that does
// not offer the call leaves the capacity unknown (a warning says so).
func checkCapacity(ctx context.Context, api AttachWAF, rules []types.Rule, o *Options, res *WebACL) error {
	out, err := api.CheckCapacity(ctx, &wafv2.CheckCapacityInput{Scope: types.ScopeRegional, Rules: rules})
	if notOffered(err) {
		res.Plan.Warnings = append(res.Plan.Warnings, "capacity unknown: the service does not answer CheckCapacity ("+errText(err)+")")
		return nil
	}
	if err != nil {
		return fmt.Errorf("waf: check capacity: %w", err)
	}
	res.Capacity, res.CapacityKnown = out.Capacity, true
	if out.Capacity > o.MaxCapacity {
		res.Plan.Reason = awsguard.ReasonRefused
		return fmt.Errorf("%w: %d WCUs, at most %d (Options.MaxCapacity)", ErrCapacity, out.Capacity, o.MaxCapacity)
	}
	return nil
}

// attachRun carries out an AttachSQLiACL plan.
type attachRun struct {
	api   AttachAPI
	o     *Options
	alb   string
	obs   *observed
	res   *WebACL
	want  []groupSpec
	rules []types.Rule
}

func (r *attachRun) do(ctx context.Context, a *awsguard.Action) error {
	switch a.Kind {
	case ActionCreateACL:
		return r.create(ctx, a)
	case ActionUpdateACL:
		return r.update(ctx, a)
	case ActionDisassociateACL:
		if _, err := r.api.WAF.DisassociateWebACL(ctx, &wafv2.DisassociateWebACLInput{ResourceArn: aws.String(r.alb)}); err != nil {
			return fmt.Errorf("waf: disassociate %s from %s: %w", r.obs.AssocARN, r.alb, err)
		}
		return nil
	case ActionAssociateACL:
		return r.associate(ctx)
	}
	return fmt.Errorf("waf: unknown action %s", a.Kind)
}

func isDuplicate(err error) bool {
	return awserr.HasCode(err, "WAFDuplicateItemException", "WafV2DuplicateItem")
}

func (r *attachRun) create(ctx context.Context, a *awsguard.Action) error {
	out, err := r.api.WAF.CreateWebACL(ctx, &wafv2.CreateWebACLInput{
		Name:             aws.String(r.o.Name),
		Scope:            types.ScopeRegional,
		DefaultAction:    &types.DefaultAction{Allow: &types.AllowAction{}},
		Rules:            r.rules,
		VisibilityConfig: visibility(r.o.Name),
		Description:      aws.String("awsguard: AWS managed SQL-injection rules"),
		Tags:             []types.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}},
	})
	if isDuplicate(err) {
		// Another caller created it since the plan was made: bring that
		// one to the wanted rules instead.
		acl, ferr := findACL(ctx, r.api.WAF, r.o.Name)
		if ferr != nil {
			return ferr
		}
		if acl == nil {
			return fmt.Errorf("waf: create web ACL %s: %w (and it cannot be found)", r.o.Name, err)
		}
		if !acl.Managed {
			return fmt.Errorf("%w: %s was created concurrently without the tag", ErrNotManaged, r.o.Name)
		}
		r.res.ID, r.res.ARN = aws.ToString(acl.ACL.Id), aws.ToString(acl.ACL.ARN)
		changed, uerr := r.ensureRules(ctx, acl)
		if uerr != nil {
			return uerr
		}
		if !changed {
			a.Outcome = awsguard.OutcomeSkipped
		}
		r.res.Plan.Warnings = append(r.res.Plan.Warnings, "web ACL "+r.o.Name+" was created by a concurrent caller; it was used instead")
		return nil
	}
	if err != nil {
		return fmt.Errorf("waf: create web ACL %s: %w", r.o.Name, err)
	}
	if out.Summary != nil {
		r.res.ID, r.res.ARN = aws.ToString(out.Summary.Id), aws.ToString(out.Summary.ARN)
	}
	a.Resource = r.res.ARN
	return nil
}

func (r *attachRun) update(ctx context.Context, a *awsguard.Action) error {
	acl, err := getACL(ctx, r.api.WAF, r.o.Name, r.res.ID)
	if err != nil {
		return err
	}
	if acl == nil {
		return fmt.Errorf("waf: web ACL %s was deleted since the plan was made", r.o.Name)
	}
	changed, err := r.ensureRules(ctx, acl)
	if err != nil {
		return err
	}
	if !changed {
		a.Outcome = awsguard.OutcomeSkipped
		r.res.Plan.Warnings = append(r.res.Plan.Warnings, "web ACL "+r.o.Name+" was brought to the wanted rules by a concurrent caller")
	}
	return nil
}

// ensureRules merges the wanted groups into acl and writes the result with
// its lock token, re-reading and merging again on
// WAFOptimisticLockException, up to LockRetries times. It reports whether
// it wrote anything.
func (r *attachRun) ensureRules(ctx context.Context, acl *aclView) (bool, error) {
	for attempt := 0; ; attempt++ {
		merged, changes, _ := mergeRules(acl.ACL.Rules, r.want)
		vis := acl.ACL.VisibilityConfig
		if vis == nil || !vis.CloudWatchMetricsEnabled {
			vis = visibility(r.o.Name)
			if acl.ACL.VisibilityConfig != nil && aws.ToString(acl.ACL.VisibilityConfig.MetricName) != "" {
				vis.MetricName = acl.ACL.VisibilityConfig.MetricName
			}
			changes = append(changes, "turn on the ACL's metrics")
		}
		if len(changes) == 0 {
			r.res.RuleGroups = heldGroups(acl.ACL.Rules)
			return false, nil
		}
		w := acl.ACL
		_, err := r.api.WAF.UpdateWebACL(ctx, &wafv2.UpdateWebACLInput{
			Name: w.Name, Id: w.Id, Scope: types.ScopeRegional, LockToken: aws.String(acl.LockToken),
			DefaultAction: w.DefaultAction, Rules: merged, VisibilityConfig: vis,
			// Everything this package does not manage is written back as read.
			Description: w.Description, CustomResponseBodies: w.CustomResponseBodies,
			CaptchaConfig: w.CaptchaConfig, ChallengeConfig: w.ChallengeConfig, TokenDomains: w.TokenDomains,
			AssociationConfig: w.AssociationConfig, ApplicationConfig: w.ApplicationConfig,
			DataProtectionConfig: w.DataProtectionConfig, OnSourceDDoSProtectionConfig: w.OnSourceDDoSProtectionConfig,
		})
		if err == nil {
			r.res.RuleGroups = heldGroups(merged)
			return true, nil
		}
		if !awserr.HasCode(err, "WAFOptimisticLockException") {
			return false, fmt.Errorf("waf: update web ACL %s: %w", r.o.Name, err)
		}
		if attempt >= r.o.LockRetries {
			return false, fmt.Errorf("%w: %s after %d attempts: %w", ErrLockConflict, r.o.Name, attempt+1, err)
		}
		r.o.Logger.InfoContext(ctx, "lock conflict, re-reading", "operation", OpAttach, "resource", r.o.Name, "attempt", attempt+1)
		fresh, gerr := getACL(ctx, r.api.WAF, r.o.Name, aws.ToString(w.Id))
		if gerr != nil {
			return false, gerr
		}
		if fresh == nil {
			return false, fmt.Errorf("waf: web ACL %s was deleted during the update", r.o.Name)
		}
		acl.ACL, acl.LockToken = fresh.ACL, fresh.LockToken
	}
}

func (r *attachRun) waitOpts() poll.Options {
	return poll.Options{MaxWait: r.o.AssociateWait, MinDelay: r.o.RetryMinDelay, MaxDelay: r.o.RetryMaxDelay}
}

// associate waits for the ALB to be active, then associates the ACL,
// retrying WAFUnavailableEntityException with backoff.
func (r *attachRun) associate(ctx context.Context) error {
	if r.obs.ALB.State == nil || r.obs.ALB.State.Code != elbtypes.LoadBalancerStateEnumActive {
		var state elbtypes.LoadBalancerStateEnum
		_, err := poll.Until(ctx, r.waitOpts(), func(ctx context.Context, _ int) (bool, error) {
			lb, err := describeALB(ctx, r.api.ELB, r.alb)
			if err != nil {
				return false, err
			}
			if lb.State != nil {
				state = lb.State.Code
			}
			if state == elbtypes.LoadBalancerStateEnumFailed {
				return false, fmt.Errorf("%w: %s is in state failed", ErrALBNotActive, r.alb)
			}
			return state == elbtypes.LoadBalancerStateEnumActive, nil
		})
		if errors.Is(err, poll.ErrTimeout) {
			return fmt.Errorf("%w: %s still %q after %v", ErrALBNotActive, r.alb, state, r.o.AssociateWait)
		}
		if err != nil {
			return err
		}
	}
	var last error
	_, err := poll.Until(ctx, r.waitOpts(), func(ctx context.Context, _ int) (bool, error) {
		_, err := r.api.WAF.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: aws.String(r.res.ARN), ResourceArn: aws.String(r.alb)})
		if awserr.HasCode(err, "WAFUnavailableEntityException") {
			last = err
			return false, nil
		}
		return err == nil, err
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("%w: associate %s with %s for %v: %w", ErrUnavailable, r.o.Name, r.alb, r.o.AssociateWait, last)
	}
	if err != nil {
		return fmt.Errorf("waf: associate web ACL %s with %s: %w", r.o.Name, r.alb, err)
	}
	return nil
}

// rollback puts back the ACL this run took off the ALB when the
// replacement failed half-way (the disassociation's answer lost, or the
// new association refused), so the ALB is not left unprotected. An ACL
// created or updated is kept: a re-run associates it.
func (r *attachRun) rollback(ctx context.Context, failed awsguard.Action, _ error) ([]string, string) {
	todo := "run AttachSQLiACL again: it carries out only what is left"
	old := r.obs.AssocARN
	if r.res.Association != AssocOther || (failed.Kind != ActionAssociateACL && failed.Kind != ActionDisassociateACL) {
		return nil, todo
	}
	ctx = context.WithoutCancel(ctx)
	cur, err := aclForResource(ctx, r.api.WAF, r.alb)
	if err != nil {
		return nil, fmt.Sprintf("check that the ALB %s still has a web ACL (re-associate %s if not), then run AttachSQLiACL again (%v)", r.alb, old, err)
	}
	if cur != "" {
		return nil, todo
	}
	if _, err := r.api.WAF.AssociateWebACL(ctx, &wafv2.AssociateWebACLInput{WebACLArn: aws.String(old), ResourceArn: aws.String(r.alb)}); err != nil {
		return nil, fmt.Sprintf("the ALB %s has no web ACL: re-associate %s or run AttachSQLiACL again (%v)", r.alb, old, err)
	}
	for i := range r.res.Plan.Actions {
		if a := &r.res.Plan.Actions[i]; a.Kind == ActionDisassociateACL && a.Outcome == awsguard.OutcomeDone {
			a.Outcome = awsguard.OutcomeRolledBack
		}
	}
	return []string{"re-associated web ACL " + old + " with the ALB"}, todo
}

// notOffered reports whether err says the service does not implement the
// call (an emulator's 501, or a 500 or 404 without an AWS error code),
// as opposed to an AWS error such as AccessDenied or a throttle.
func notOffered(err error) bool {
	if err == nil {
		return false
	}
	code := awserr.Code(err)
	switch code {
	case "NotImplemented", "NotImplementedException", "501":
		return true
	case "", "UnknownError", "500", "404":
		s := httpStatus(err)
		return s == 500 || s == 501 || s == 404
	}
	return false
}

func errText(err error) string {
	if c := awserr.Code(err); c != "" {
		return fmt.Sprintf("HTTP %d %s", httpStatus(err), c)
	}
	return fmt.Sprintf("HTTP %d", httpStatus(err))
}
