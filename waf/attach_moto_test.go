package waf_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/waf"
)

// A new ALB gets the ACL, associated; the re-run makes no mutating call;
// a dry run makes none either and returns the same plan.
func TestAttachCreateAssociateRerun(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")

	dry := apicalls.New()
	plan, err := waf.AttachSQLiACL(ctx, w.api(dry, nil), alb, fast, w.named, func(o *waf.Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if n := mutatingCalls(dry); n != 0 || plan.Plan.Reason != awsguard.ReasonDryRun || len(plan.Plan.Actions) != 2 {
		t.Fatalf("dry run: %d mutating calls (%s), plan %+v", n, dry, plan.Plan)
	}
	if len(w.acls()) != 0 {
		t.Fatal("the dry run created an ACL")
	}

	c := apicalls.New()
	acl, err := waf.AttachSQLiACL(ctx, w.api(c, nil), alb, fast, w.named)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first run: %s; calls %s; warnings %v", joinLines(acl.Plan.Describe()), c, acl.Plan.Warnings)
	if acl.State != waf.ACLAbsent || acl.Association != waf.AssocNone || !acl.Plan.Applied || acl.ARN == "" {
		t.Errorf("result %+v", acl)
	}
	var kinds []string
	for _, a := range plan.Plan.Actions {
		kinds = append(kinds, a.Kind)
	}
	var doneKinds []string
	for _, a := range acl.Plan.Actions {
		doneKinds = append(doneKinds, a.Kind)
	}
	if !slices.Equal(kinds, doneKinds) {
		t.Errorf("dry run planned %v, apply did %v", kinds, doneKinds)
	}
	w.checkAttached("first run", alb, w.name, waf.RuleGroupSQLi)
	// moto does not implement CheckCapacity: unknown, and said so.
	if acl.CapacityKnown || len(acl.Plan.Warnings) != 1 || !strings.Contains(acl.Plan.Warnings[0], "capacity unknown") {
		t.Errorf("capacity known %v, warnings %v", acl.CapacityKnown, acl.Plan.Warnings)
	}
	got := w.acls()[w.name]
	if got.DefaultAction == nil || got.DefaultAction.Allow == nil || !got.VisibilityConfig.CloudWatchMetricsEnabled {
		t.Errorf("default action %+v, visibility %+v", got.DefaultAction, got.VisibilityConfig)
	}
	for _, r := range got.Rules {
		if !r.VisibilityConfig.CloudWatchMetricsEnabled || r.OverrideAction == nil || r.OverrideAction.None == nil {
			t.Errorf("rule %s: visibility %+v override %+v", aws.ToString(r.Name), r.VisibilityConfig, r.OverrideAction)
		}
	}
	tags, err := w.waf.ListTagsForResource(ctx, &wafv2.ListTagsForResourceInput{ResourceARN: aws.String(acl.ARN)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(tags.TagInfoForResource.TagList, func(t types.Tag) bool { return aws.ToString(t.Key) == waf.TagManaged }) {
		t.Errorf("tags %+v", tags.TagInfoForResource.TagList)
	}

	again := apicalls.New()
	acl2, err := waf.AttachSQLiACL(ctx, w.api(again, nil), alb, fast, w.named)
	if err != nil {
		t.Fatal(err)
	}
	if n := mutatingCalls(again); n != 0 || acl2.Plan.Applied || acl2.Plan.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("re-run: %d mutating calls (%s), plan %+v", n, again, acl2.Plan)
	}
	if acl2.State != waf.ACLComplete || acl2.Association != waf.AssocOurs || acl2.ARN != acl.ARN {
		t.Errorf("re-run result %+v", acl2)
	}
	t.Logf("re-run: %d calls, 0 mutating: %s", again.Total(), again)
}

// A missing group is added by an update with the lock token; the groups
// keep their order; Count mode and overrides round-trip; switching an
// existing Block ACL to Count needs AllowWeaken.
func TestAttachAddsMissingRules(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named); err != nil {
		t.Fatal(err)
	}
	c := apicalls.New()
	acl, err := waf.AttachSQLiACL(ctx, w.api(c, nil), alb, fast, w.named, func(o *waf.Options) { o.Common, o.KnownBadInputs = true, true })
	if err != nil {
		t.Fatal(err)
	}
	if acl.State != waf.ACLIncomplete || c.Count("WAFV2", "UpdateWebACL") != 1 || c.Count("WAFV2", "CreateWebACL") != 0 || c.Count("WAFV2", "AssociateWebACL") != 0 {
		t.Errorf("state %v, calls %s", acl.State, c)
	}
	w.checkAttached("after adding", alb, w.name, waf.RuleGroupSQLi, waf.RuleGroupCommon, waf.RuleGroupKnownBadInputs)
	prios := map[int32]bool{}
	for _, r := range w.acls()[w.name].Rules {
		if prios[r.Priority] {
			t.Errorf("priority %d twice", r.Priority)
		}
		prios[r.Priority] = true
	}

	count := func(o *waf.Options) {
		o.Common, o.KnownBadInputs, o.CountMode = true, true, true
		o.Versions = map[string]string{waf.RuleGroupSQLi: "Version_2.0"}
		o.RuleOverrides = []waf.RuleOverride{{Group: waf.RuleGroupSQLi, Rule: "SQLi_BODY", Action: waf.ActionBlock}}
	}
	_, err = waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named, count)
	if !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("switch to Count without AllowWeaken: err = %v", err)
	}
	acl, err = waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named, count, func(o *waf.Options) { o.AllowWeaken = true })
	if err != nil {
		t.Fatal(err)
	}
	if len(acl.Plan.Weakening()) != 1 || !acl.Plan.Applied {
		t.Errorf("weakening update: %+v", acl.Plan)
	}
	for _, r := range w.acls()[w.name].Rules {
		m := r.Statement.ManagedRuleGroupStatement
		if r.OverrideAction.Count == nil {
			t.Errorf("%s not in Count mode", aws.ToString(m.Name))
		}
		if aws.ToString(m.Name) == waf.RuleGroupSQLi && (aws.ToString(m.Version) != "Version_2.0" || len(m.RuleActionOverrides) != 1) {
			t.Errorf("SQLi rule %+v", m)
		}
	}
	// Back to Block: not weakening.
	c.Reset()
	if _, err := waf.AttachSQLiACL(ctx, w.api(c, nil), alb, fast, w.named, func(o *waf.Options) { o.Common, o.KnownBadInputs = true, true }); err != nil {
		t.Fatal(err)
	}
	for _, r := range w.acls()[w.name].Rules {
		if r.OverrideAction.None == nil || len(r.Statement.ManagedRuleGroupStatement.RuleActionOverrides) != 0 {
			t.Errorf("rule %s after switching back: %+v", aws.ToString(r.Name), r.OverrideAction)
		}
	}
}

// The lock token changes between the read and the write: the update
// re-reads and succeeds, keeping the other writer's change.
func TestAttachLockConflict(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named); err != nil {
		t.Fatal(err)
	}
	api := w.api(nil, nil)
	racer := &racingWAF{AttachWAF: api.WAF, w: w}
	api.WAF = racer
	c := apicalls.New()
	api.WAF.(*racingWAF).AttachWAF = w.api(c, nil).WAF
	acl, err := waf.AttachSQLiACL(ctx, api, alb, fast, w.named, func(o *waf.Options) { o.Common = true })
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Count("WAFV2", "UpdateWebACL"); got != 2 || racer.raced != 1 {
		t.Errorf("UpdateWebACL calls %d (want 2: a conflict, then success); raced %d; %s", got, racer.raced, c)
	}
	got := w.acls()[w.name]
	if aws.ToString(got.Description) != "changed by another writer" {
		t.Errorf("the other writer's change was lost: description %q", aws.ToString(got.Description))
	}
	w.checkAttached("after the conflict", alb, w.name, waf.RuleGroupSQLi, waf.RuleGroupCommon)
	t.Logf("plan: %v", acl.Plan.Describe())
}

// racingWAF changes the ACL (its description) right before the first
// UpdateWebACL, so the caller's lock token is stale.
type racingWAF struct {
	waf.AttachWAF
	w     *world
	raced int
}

func (r *racingWAF) UpdateWebACL(ctx context.Context, in *wafv2.UpdateWebACLInput, optFns ...func(*wafv2.Options)) (*wafv2.UpdateWebACLOutput, error) {
	if r.raced == 0 {
		r.raced++
		cur, err := r.w.waf.GetWebACL(ctx, &wafv2.GetWebACLInput{Name: in.Name, Id: in.Id, Scope: in.Scope})
		if err != nil {
			return nil, err
		}
		a := cur.WebACL
		if _, err := r.w.waf.UpdateWebACL(ctx, &wafv2.UpdateWebACLInput{Name: a.Name, Id: a.Id, Scope: in.Scope, LockToken: cur.LockToken,
			DefaultAction: a.DefaultAction, Rules: a.Rules, VisibilityConfig: a.VisibilityConfig, Description: aws.String("changed by another writer")}); err != nil {
			return nil, err
		}
	}
	return r.AttachWAF.UpdateWebACL(ctx, in, optFns...)
}

// Concurrent calls on the same ALB converge: one ACL, one copy of each
// group, associated.
func TestAttachConcurrent(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named, func(o *waf.Options) { o.Common = i%2 == 0; o.KnownBadInputs = true })
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	// The callers asked for different sets; one more run with the union
	// settles the order check.
	acl := w.acls()[w.name]
	g := groups(acl)
	for _, want := range []string{waf.RuleGroupSQLi, waf.RuleGroupKnownBadInputs, waf.RuleGroupCommon} {
		if c := countOf(g, want); c != 1 {
			t.Errorf("%s held %d times: %v", want, c, g)
		}
	}
	if got := w.associated(alb); got != w.name {
		t.Errorf("associated %q", got)
	}
	if len(w.acls()) != 1 {
		t.Errorf("ACLs %v", keys(w.acls()))
	}
}

func countOf(s []string, v string) int {
	n := 0
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

// An ALB with another ACL: the plan says so and nothing changes; with
// ReplaceExisting the other ACL is taken off (and kept) and ours put on.
func TestAttachOtherACL(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alb := w.alb("web")
	other, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named, func(o *waf.Options) { o.Name = w.prefix + "theirs" })
	if err != nil {
		t.Fatal(err)
	}
	c := apicalls.New()
	acl, err := waf.AttachSQLiACL(ctx, w.api(c, nil), alb, fast, w.named)
	if !errors.Is(err, waf.ErrOtherACL) || acl == nil || acl.OtherACL != other.ARN || acl.Plan.Reason != awsguard.ReasonRefused || len(acl.Plan.Warnings) == 0 {
		t.Fatalf("err = %v, result %+v", err, acl)
	}
	if n := mutatingCalls(c); n != 0 {
		t.Errorf("refused run made %d mutating calls: %s", n, c)
	}
	t.Logf("refused: %v; plan %v", err, acl.Plan.Describe())
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, w.named, func(o *waf.Options) { o.ReplaceExisting = true }); err != nil {
		t.Fatal(err)
	}
	w.checkAttached("replaced", alb, w.name, waf.RuleGroupSQLi)
	if _, ok := w.acls()[w.prefix+"theirs"]; !ok {
		t.Error("the replaced ACL was deleted")
	}
}

// Bad input is refused before any call, naming the field.
func TestAttachInput(t *testing.T) {
	ctx := context.Background()
	good := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	for _, tc := range []struct {
		alb   string
		opt   func(*waf.Options)
		field string
	}{
		{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/0123", nil, "albARN"},
		{"", nil, "albARN"},
		{good, func(o *waf.Options) { o.Name = "bad name" }, "Options.Name"},
		{good, func(o *waf.Options) { o.Versions = map[string]string{waf.RuleGroupCommon: "Version_1.0"} }, "Options.Versions"},
		{good, func(o *waf.Options) { o.Versions = map[string]string{waf.RuleGroupSQLi: "1 0"} }, "Options.Versions[" + waf.RuleGroupSQLi + "]"},
		{good, func(o *waf.Options) {
			o.RuleOverrides = []waf.RuleOverride{{Group: waf.RuleGroupSQLi, Rule: "SQLi_BODY", Action: "drop"}}
		}, "Options.RuleOverrides[0].Action"},
		{good, func(o *waf.Options) {
			o.RuleOverrides = []waf.RuleOverride{{Group: waf.RuleGroupSQLi, Rule: "A", Action: waf.ActionCount}, {Group: waf.RuleGroupSQLi, Rule: "A", Action: waf.ActionBlock}}
		}, "Options.RuleOverrides[1].Rule"},
		{good, func(o *waf.Options) { o.MaxCapacity = 6000 }, "Options.MaxCapacity"},
		{good, func(o *waf.Options) { o.AssociateWait = -1 }, "Options.AssociateWait"},
	} {
		opt := tc.opt
		if opt == nil {
			opt = func(*waf.Options) {}
		}
		f := &fakeWAF{}
		_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: f, ELB: &fakeELB{}}, tc.alb, opt)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || !errors.Is(err, awsguard.ErrInvalidInput) {
			t.Errorf("%s: err = %v, want an InputError on %s", tc.field, err, tc.field)
		}
		if len(f.calls) != 0 {
			t.Errorf("%s: calls %v", tc.field, f.calls)
		}
	}
	_ = fmt.Sprint()
}
