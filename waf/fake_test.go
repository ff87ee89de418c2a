package waf_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	"github.com/aws/smithy-go"
)

// fakeWAF is a small in-memory WAF: web ACLs by name, lock tokens, tags
// and associations. Each method can be replaced by its function field;
// every call is recorded by name, and a cancelled context is honoured.
type fakeWAF struct {
	mu     sync.Mutex
	calls  []string
	acls   map[string]*fakeACL
	assoc  map[string]string // resource ARN -> ACL ARN
	serial int

	checkCapacity          func(*wafv2.CheckCapacityInput) (*wafv2.CheckCapacityOutput, error)
	associateWebACL        func(*wafv2.AssociateWebACLInput) (*wafv2.AssociateWebACLOutput, error)
	updateWebACL           func(*wafv2.UpdateWebACLInput) (*wafv2.UpdateWebACLOutput, error)
	listResourcesForWebACL func(*wafv2.ListResourcesForWebACLInput) (*wafv2.ListResourcesForWebACLOutput, error)
}

type fakeACL struct {
	acl   types.WebACL
	token string
	tags  []types.Tag
}

func apiErr(code string) error { return &smithy.GenericAPIError{Code: code, Message: "fake " + code} }

func (f *fakeWAF) record(ctx context.Context, name string) error {
	f.mu.Lock()
	f.calls = append(f.calls, name)
	if f.acls == nil {
		f.acls, f.assoc = map[string]*fakeACL{}, map[string]string{}
	}
	f.mu.Unlock()
	return ctx.Err()
}

func (f *fakeWAF) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (f *fakeWAF) byARN(arn string) *fakeACL {
	for _, a := range f.acls {
		if aws.ToString(a.acl.ARN) == arn {
			return a
		}
	}
	return nil
}

func (f *fakeWAF) nextToken() string { f.serial++; return fmt.Sprintf("token-%d", f.serial) }

func (f *fakeWAF) ListWebACLs(ctx context.Context, in *wafv2.ListWebACLsInput, _ ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error) {
	if err := f.record(ctx, "ListWebACLs"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &wafv2.ListWebACLsOutput{}
	for _, a := range f.acls {
		out.WebACLs = append(out.WebACLs, types.WebACLSummary{Name: a.acl.Name, Id: a.acl.Id, ARN: a.acl.ARN, LockToken: aws.String(a.token)})
	}
	return out, nil
}

func (f *fakeWAF) GetWebACL(ctx context.Context, in *wafv2.GetWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error) {
	if err := f.record(ctx, "GetWebACL"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.acls[aws.ToString(in.Name)]
	if !ok || aws.ToString(a.acl.Id) != aws.ToString(in.Id) {
		return nil, apiErr("WAFNonexistentItemException")
	}
	acl := a.acl
	return &wafv2.GetWebACLOutput{WebACL: &acl, LockToken: aws.String(a.token)}, nil
}

func (f *fakeWAF) ListTagsForResource(ctx context.Context, in *wafv2.ListTagsForResourceInput, _ ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error) {
	if err := f.record(ctx, "ListTagsForResource"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a := f.byARN(aws.ToString(in.ResourceARN))
	if a == nil {
		return nil, apiErr("WAFNonexistentItemException")
	}
	return &wafv2.ListTagsForResourceOutput{TagInfoForResource: &types.TagInfoForResource{ResourceARN: in.ResourceARN, TagList: a.tags}}, nil
}

func (f *fakeWAF) GetWebACLForResource(ctx context.Context, in *wafv2.GetWebACLForResourceInput, _ ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error) {
	if err := f.record(ctx, "GetWebACLForResource"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	arn, ok := f.assoc[aws.ToString(in.ResourceArn)]
	if !ok {
		return &wafv2.GetWebACLForResourceOutput{}, nil
	}
	a := f.byARN(arn)
	acl := a.acl
	return &wafv2.GetWebACLForResourceOutput{WebACL: &acl}, nil
}

func (f *fakeWAF) CheckCapacity(ctx context.Context, in *wafv2.CheckCapacityInput, _ ...func(*wafv2.Options)) (*wafv2.CheckCapacityOutput, error) {
	if err := f.record(ctx, "CheckCapacity"); err != nil {
		return nil, err
	}
	if f.checkCapacity != nil {
		return f.checkCapacity(in)
	}
	return &wafv2.CheckCapacityOutput{Capacity: int64(200 * len(in.Rules))}, nil
}

func (f *fakeWAF) CreateWebACL(ctx context.Context, in *wafv2.CreateWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.CreateWebACLOutput, error) {
	if err := f.record(ctx, "CreateWebACL"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	name := aws.ToString(in.Name)
	if _, ok := f.acls[name]; ok {
		return nil, apiErr("WAFDuplicateItemException")
	}
	id := fmt.Sprintf("id-%s", name)
	arn := "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/" + name + "/" + id
	a := &fakeACL{acl: types.WebACL{Name: in.Name, Id: aws.String(id), ARN: aws.String(arn), DefaultAction: in.DefaultAction, Rules: in.Rules,
		VisibilityConfig: in.VisibilityConfig, Description: in.Description}, token: f.nextToken(), tags: in.Tags}
	f.acls[name] = a
	return &wafv2.CreateWebACLOutput{Summary: &types.WebACLSummary{Name: in.Name, Id: aws.String(id), ARN: aws.String(arn), LockToken: aws.String(a.token)}}, nil
}

func (f *fakeWAF) UpdateWebACL(ctx context.Context, in *wafv2.UpdateWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.UpdateWebACLOutput, error) {
	if err := f.record(ctx, "UpdateWebACL"); err != nil {
		return nil, err
	}
	if f.updateWebACL != nil {
		if out, err := f.updateWebACL(in); out != nil || err != nil {
			return out, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.acls[aws.ToString(in.Name)]
	if !ok {
		return nil, apiErr("WAFNonexistentItemException")
	}
	if a.token != aws.ToString(in.LockToken) {
		return nil, apiErr("WAFOptimisticLockException")
	}
	a.acl.Rules, a.acl.DefaultAction, a.acl.VisibilityConfig, a.acl.Description = in.Rules, in.DefaultAction, in.VisibilityConfig, in.Description
	a.token = f.nextToken()
	return &wafv2.UpdateWebACLOutput{NextLockToken: aws.String(a.token)}, nil
}

func (f *fakeWAF) AssociateWebACL(ctx context.Context, in *wafv2.AssociateWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.AssociateWebACLOutput, error) {
	if err := f.record(ctx, "AssociateWebACL"); err != nil {
		return nil, err
	}
	if f.associateWebACL != nil {
		if out, err := f.associateWebACL(in); out != nil || err != nil {
			return out, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.assoc[aws.ToString(in.ResourceArn)] = aws.ToString(in.WebACLArn)
	return &wafv2.AssociateWebACLOutput{}, nil
}

func (f *fakeWAF) DisassociateWebACL(ctx context.Context, in *wafv2.DisassociateWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.DisassociateWebACLOutput, error) {
	if err := f.record(ctx, "DisassociateWebACL"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.assoc, aws.ToString(in.ResourceArn))
	return &wafv2.DisassociateWebACLOutput{}, nil
}

func (f *fakeWAF) ListResourcesForWebACL(ctx context.Context, in *wafv2.ListResourcesForWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.ListResourcesForWebACLOutput, error) {
	if err := f.record(ctx, "ListResourcesForWebACL"); err != nil {
		return nil, err
	}
	if f.listResourcesForWebACL != nil {
		return f.listResourcesForWebACL(in)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &wafv2.ListResourcesForWebACLOutput{}
	if in.ResourceType == types.ResourceTypeApplicationLoadBalancer {
		for r, a := range f.assoc {
			if a == aws.ToString(in.WebACLArn) {
				out.ResourceArns = append(out.ResourceArns, r)
			}
		}
	}
	return out, nil
}

func (f *fakeWAF) DeleteWebACL(ctx context.Context, in *wafv2.DeleteWebACLInput, _ ...func(*wafv2.Options)) (*wafv2.DeleteWebACLOutput, error) {
	if err := f.record(ctx, "DeleteWebACL"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.acls[aws.ToString(in.Name)]
	if !ok {
		return nil, apiErr("WAFNonexistentItemException")
	}
	if a.token != aws.ToString(in.LockToken) {
		return nil, apiErr("WAFOptimisticLockException")
	}
	for _, acl := range f.assoc {
		if acl == aws.ToString(a.acl.ARN) {
			return nil, apiErr("WAFAssociatedItemException")
		}
	}
	delete(f.acls, aws.ToString(in.Name))
	return &wafv2.DeleteWebACLOutput{}, nil
}

// fakeELB answers DescribeLoadBalancers with one ALB, in the states of
// states (the last repeats), or LoadBalancerNotFound when missing.
type fakeELB struct {
	mu      sync.Mutex
	calls   int
	missing bool
	typ     elbtypes.LoadBalancerTypeEnum
	states  []elbtypes.LoadBalancerStateEnum
}

func (f *fakeELB) DescribeLoadBalancers(ctx context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.missing {
		return nil, apiErr("LoadBalancerNotFound")
	}
	state := elbtypes.LoadBalancerStateEnumActive
	if len(f.states) > 0 {
		state = f.states[min(f.calls-1, len(f.states)-1)]
	}
	typ := f.typ
	if typ == "" {
		typ = elbtypes.LoadBalancerTypeEnumApplication
	}
	return &elbv2.DescribeLoadBalancersOutput{LoadBalancers: []elbtypes.LoadBalancer{{
		LoadBalancerArn: aws.String(in.LoadBalancerArns[0]), LoadBalancerName: aws.String("web"), Type: typ,
		State: &elbtypes.LoadBalancerState{Code: state}, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing,
	}}}, nil
}

type wafTypesSummary = types.WebACLSummary

// sqliACL is a web ACL holding the SQLi group in Block mode, metrics on.
func sqliACL() *types.WebACL {
	vis := &types.VisibilityConfig{CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: aws.String("m")}
	return &types.WebACL{Name: aws.String("acl"), Id: aws.String("1"), ARN: aws.String("arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/acl/1"),
		VisibilityConfig: vis, DefaultAction: &types.DefaultAction{Allow: &types.AllowAction{}},
		Rules: []types.Rule{{Name: aws.String("AWS-" + "AWSManagedRulesSQLiRuleSet"), Priority: 0, VisibilityConfig: vis,
			OverrideAction: &types.OverrideAction{None: &types.NoneAction{}},
			Statement:      &types.Statement{ManagedRuleGroupStatement: &types.ManagedRuleGroupStatement{VendorName: aws.String("AWS"), Name: aws.String("AWSManagedRulesSQLiRuleSet")}}}}}
}
