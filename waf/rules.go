package waf

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
)

// The AWS managed rule groups AttachSQLiACL puts in the web ACL, in this
// priority order: SQLi always, Common and KnownBadInputs when asked.
const (
	RuleGroupSQLi           = "AWSManagedRulesSQLiRuleSet"
	RuleGroupCommon         = "AWSManagedRulesCommonRuleSet"
	RuleGroupKnownBadInputs = "AWSManagedRulesKnownBadInputsRuleSet"
)

// VendorAWS is the vendor of the AWS managed rule groups.
const VendorAWS = "AWS"

// TagManaged is the tag key, with value "true", that AttachSQLiACL puts on
// the web ACLs it creates. RemoveSQLiACL deletes only ACLs that carry it.
const TagManaged = "awsguard:managed"

// DefaultName is the default name of the web ACL.
const DefaultName = "awsguard-sqli"

// RuleAction is the action a rule of a managed group is overridden to.
type RuleAction string

// The actions of RuleOverride.
const (
	ActionBlock     RuleAction = "block"
	ActionCount     RuleAction = "count"
	ActionAllow     RuleAction = "allow"
	ActionCaptcha   RuleAction = "captcha"
	ActionChallenge RuleAction = "challenge"
)

var ruleActions = []RuleAction{ActionBlock, ActionCount, ActionAllow, ActionCaptcha, ActionChallenge}

// weakens reports whether a rule overridden to a lets matching requests
// through.
func (a RuleAction) weakens() bool { return a == ActionCount || a == ActionAllow }

func (a RuleAction) sdk() *types.RuleAction {
	switch a {
	case ActionBlock:
		return &types.RuleAction{Block: &types.BlockAction{}}
	case ActionCount:
		return &types.RuleAction{Count: &types.CountAction{}}
	case ActionAllow:
		return &types.RuleAction{Allow: &types.AllowAction{}}
	case ActionCaptcha:
		return &types.RuleAction{Captcha: &types.CaptchaAction{}}
	case ActionChallenge:
		return &types.RuleAction{Challenge: &types.ChallengeAction{}}
	}
	return nil
}

func actionOf(a *types.RuleAction) RuleAction {
	switch {
	case a == nil:
		return ""
	case a.Block != nil:
		return ActionBlock
	case a.Count != nil:
		return ActionCount
	case a.Allow != nil:
		return ActionAllow
	case a.Captcha != nil:
		return ActionCaptcha
	case a.Challenge != nil:
		return ActionChallenge
	}
	return ""
}

// RuleOverride overrides the action of one rule of a managed rule group,
// such as {Group: RuleGroupSQLi, Rule: "SQLi_BODY", Action: ActionCount}.
type RuleOverride struct {
	Group  string     `json:"group"`
	Rule   string     `json:"rule"`
	Action RuleAction `json:"action"`
}

// groupSpec is one managed rule group as wanted in the ACL.
type groupSpec struct {
	Group     string
	Version   string // "" leaves the version to AWS (or as found)
	Count     bool   // the whole group in Count mode
	Overrides []RuleOverride
}

// ruleName is the name of the ACL rule that holds a managed group, as the
// console names it.
func ruleName(group string) string { return "AWS-" + group }

var (
	nameRe    = regexp.MustCompile(`^[\w-]{1,128}$`)
	versionRe = regexp.MustCompile(`^[\w.-]{1,64}$`)
	ruleRe    = regexp.MustCompile(`^[\w-]{1,128}$`)
	albARNRe  = regexp.MustCompile(`^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[\w-]{1,32}/[0-9a-f]{1,32}$`)
)

func validateALBARN(op, field, arn string) error {
	if !albARNRe.MatchString(arn) {
		return &awsguard.InputError{Operation: op, Field: field, Value: arn,
			Allowed: "an application load balancer ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:loadbalancer/app/NAME/ID)"}
	}
	return nil
}

func validateName(op, name string) error {
	if !nameRe.MatchString(name) {
		return &awsguard.InputError{Operation: op, Field: "Options.Name", Value: name, Allowed: "1 to 128 of letters, digits, _ and -"}
	}
	return nil
}

// wantGroups returns the groups the options ask for, in priority order.
func wantGroups(o *Options) []groupSpec {
	names := []string{RuleGroupSQLi}
	if o.Common {
		names = append(names, RuleGroupCommon)
	}
	if o.KnownBadInputs {
		names = append(names, RuleGroupKnownBadInputs)
	}
	out := make([]groupSpec, len(names))
	for i, n := range names {
		g := groupSpec{Group: n, Version: o.Versions[n], Count: o.CountMode}
		for _, ov := range o.RuleOverrides {
			if ov.Group == n {
				g.Overrides = append(g.Overrides, ov)
			}
		}
		slices.SortFunc(g.Overrides, func(a, b RuleOverride) int { return strings.Compare(a.Rule, b.Rule) })
		out[i] = g
	}
	return out
}

func validateGroups(op string, o *Options) error {
	groups := wantGroups(o)
	chosen := func(g string) bool {
		return slices.ContainsFunc(groups, func(s groupSpec) bool { return s.Group == g })
	}
	allowedGroups := "one of the rule groups the options choose (" + RuleGroupSQLi
	if o.Common {
		allowedGroups += ", " + RuleGroupCommon
	}
	if o.KnownBadInputs {
		allowedGroups += ", " + RuleGroupKnownBadInputs
	}
	allowedGroups += ")"
	for _, g := range slices.Sorted(mapsKeys(o.Versions)) {
		if !chosen(g) {
			return &awsguard.InputError{Operation: op, Field: "Options.Versions", Value: g, Allowed: allowedGroups}
		}
		if v := o.Versions[g]; !versionRe.MatchString(v) {
			return &awsguard.InputError{Operation: op, Field: "Options.Versions[" + g + "]", Value: v, Allowed: "a rule group version such as Version_1.0"}
		}
	}
	seen := map[[2]string]bool{}
	for i, ov := range o.RuleOverrides {
		f := fmt.Sprintf("Options.RuleOverrides[%d]", i)
		switch {
		case !chosen(ov.Group):
			return &awsguard.InputError{Operation: op, Field: f + ".Group", Value: ov.Group, Allowed: allowedGroups}
		case !ruleRe.MatchString(ov.Rule):
			return &awsguard.InputError{Operation: op, Field: f + ".Rule", Value: ov.Rule, Allowed: "a rule name of the group, such as SQLi_BODY"}
		case !slices.Contains(ruleActions, ov.Action):
			return &awsguard.InputError{Operation: op, Field: f + ".Action", Value: string(ov.Action), Allowed: "block, count, allow, captcha or challenge"}
		case seen[[2]string{ov.Group, ov.Rule}]:
			return &awsguard.InputError{Operation: op, Field: f + ".Rule", Value: ov.Rule, Allowed: "each rule of a group overridden once"}
		}
		seen[[2]string{ov.Group, ov.Rule}] = true
	}
	return nil
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func visibility(metric string) *types.VisibilityConfig {
	return &types.VisibilityConfig{CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: aws.String(metric)}
}

// rule builds the ACL rule for a group at a priority.
func (g groupSpec) rule(priority int32) types.Rule {
	st := &types.ManagedRuleGroupStatement{VendorName: aws.String(VendorAWS), Name: aws.String(g.Group)}
	if g.Version != "" {
		st.Version = aws.String(g.Version)
	}
	for _, ov := range g.Overrides {
		st.RuleActionOverrides = append(st.RuleActionOverrides, types.RuleActionOverride{Name: aws.String(ov.Rule), ActionToUse: ov.Action.sdk()})
	}
	oa := &types.OverrideAction{None: &types.NoneAction{}}
	if g.Count {
		oa = &types.OverrideAction{Count: &types.CountAction{}}
	}
	return types.Rule{
		Name:             aws.String(ruleName(g.Group)),
		Priority:         priority,
		Statement:        &types.Statement{ManagedRuleGroupStatement: st},
		OverrideAction:   oa,
		VisibilityConfig: visibility(ruleName(g.Group)),
	}
}

// managedGroup returns the AWS managed group a rule holds, or "".
func managedGroup(r types.Rule) string {
	if r.Statement == nil || r.Statement.ManagedRuleGroupStatement == nil {
		return ""
	}
	m := r.Statement.ManagedRuleGroupStatement
	if aws.ToString(m.VendorName) != VendorAWS {
		return ""
	}
	return aws.ToString(m.Name)
}

// ruleDiff says how a rule holding g differs from what is wanted: what to
// change (in words) and whether any change lets more requests through.
// Empty means the rule is as wanted.
func (g groupSpec) ruleDiff(r types.Rule) (changes []string, weakening bool) {
	m := r.Statement.ManagedRuleGroupStatement
	if g.Version != "" && aws.ToString(m.Version) != g.Version {
		changes = append(changes, fmt.Sprintf("pin version %s (was %q)", g.Version, aws.ToString(m.Version)))
	}
	count := r.OverrideAction != nil && r.OverrideAction.Count != nil
	switch {
	case g.Count && !count:
		changes = append(changes, "switch to Count mode")
		weakening = true
	case !g.Count && count:
		changes = append(changes, "switch from Count to the group's own actions (Block)")
	}
	have := map[string]RuleAction{}
	for _, o := range m.RuleActionOverrides {
		have[aws.ToString(o.Name)] = actionOf(o.ActionToUse)
	}
	want := map[string]RuleAction{}
	for _, o := range g.Overrides {
		want[o.Rule] = o.Action
		if h, ok := have[o.Rule]; !ok || h != o.Action {
			changes = append(changes, fmt.Sprintf("override %s to %s", o.Rule, o.Action))
			if o.Action.weakens() && !h.weakens() {
				weakening = true
			}
		}
	}
	for _, name := range slices.Sorted(mapsKeysRA(have)) {
		if _, ok := want[name]; !ok {
			changes = append(changes, fmt.Sprintf("drop the override of %s (%s)", name, have[name]))
			// Block back to the rule's own action (which may be Count)
			// can let requests through, unless the whole group counted
			// anyway; Count, Allow, Captcha or Challenge back to the
			// rule's own action cannot.
			if have[name] == ActionBlock && !count {
				weakening = true
			}
		}
	}
	if v := r.VisibilityConfig; v == nil || !v.CloudWatchMetricsEnabled || !v.SampledRequestsEnabled {
		changes = append(changes, "turn on metrics and sampled requests")
	}
	return changes, weakening
}

func mapsKeysRA(m map[string]RuleAction) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// mergeRules returns the ACL's rules with the wanted groups in place: a
// rule holding a wanted group is rewritten in place (its name and priority
// kept); a missing group is appended after the highest priority, in the
// wanted order. Rules of others are kept as they are. It also returns what
// changes (in words) and whether any change weakens. A second managed rule
// holding the same group is left alone.
func mergeRules(have []types.Rule, want []groupSpec) (out []types.Rule, changes []string, weakening bool) {
	out = slices.Clone(have)
	next := int32(0)
	for _, r := range have {
		next = max(next, r.Priority+1)
	}
	for _, g := range want {
		i := slices.IndexFunc(out, func(r types.Rule) bool { return managedGroup(r) == g.Group })
		if i < 0 {
			out = append(out, g.rule(next))
			changes = append(changes, fmt.Sprintf("add %s at priority %d", g.Group, next))
			next++
			continue
		}
		c, w := g.ruleDiff(out[i])
		if len(c) == 0 {
			continue
		}
		nr := g.rule(out[i].Priority)
		nr.Name = out[i].Name
		if out[i].VisibilityConfig != nil && aws.ToString(out[i].VisibilityConfig.MetricName) != "" {
			nr.VisibilityConfig.MetricName = out[i].VisibilityConfig.MetricName
		}
		// Keep what this package does not manage on the statement.
		om := out[i].Statement.ManagedRuleGroupStatement
		nm := nr.Statement.ManagedRuleGroupStatement
		nm.ScopeDownStatement, nm.ManagedRuleGroupConfigs, nm.ExcludedRules = om.ScopeDownStatement, om.ManagedRuleGroupConfigs, om.ExcludedRules
		if g.Version == "" {
			nm.Version = om.Version
		}
		out[i] = nr
		for _, s := range c {
			changes = append(changes, g.Group+": "+s)
		}
		weakening = weakening || w
	}
	return out, changes, weakening
}

// heldGroups lists the AWS managed groups of the rules, by priority.
func heldGroups(rules []types.Rule) []string {
	rs := slices.Clone(rules)
	slices.SortFunc(rs, func(a, b types.Rule) int { return int(a.Priority - b.Priority) })
	var out []string
	for _, r := range rs {
		if g := managedGroup(r); g != "" {
			out = append(out, g)
		}
	}
	return out
}
