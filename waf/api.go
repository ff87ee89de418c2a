package waf

import (
	"context"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
)

// AttachWAF is the part of *wafv2.Client that AttachSQLiACL calls. Its
// methods are the WAF permissions it needs: wafv2:ListWebACLs,
// wafv2:GetWebACL, wafv2:ListTagsForResource, wafv2:GetWebACLForResource,
// wafv2:CheckCapacity, wafv2:CreateWebACL (with wafv2:TagResource for its
// tag), wafv2:UpdateWebACL, wafv2:AssociateWebACL and
// wafv2:DisassociateWebACL (only to replace another ACL, when asked).
// Associating also needs elasticloadbalancing:SetWebACL on the ALB.
type AttachWAF interface {
	ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error)
	GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
	ListTagsForResource(context.Context, *wafv2.ListTagsForResourceInput, ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error)
	GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error)
	CheckCapacity(context.Context, *wafv2.CheckCapacityInput, ...func(*wafv2.Options)) (*wafv2.CheckCapacityOutput, error)
	CreateWebACL(context.Context, *wafv2.CreateWebACLInput, ...func(*wafv2.Options)) (*wafv2.CreateWebACLOutput, error)
	UpdateWebACL(context.Context, *wafv2.UpdateWebACLInput, ...func(*wafv2.Options)) (*wafv2.UpdateWebACLOutput, error)
	AssociateWebACL(context.Context, *wafv2.AssociateWebACLInput, ...func(*wafv2.Options)) (*wafv2.AssociateWebACLOutput, error)
	DisassociateWebACL(context.Context, *wafv2.DisassociateWebACLInput, ...func(*wafv2.Options)) (*wafv2.DisassociateWebACLOutput, error)
}

var _ AttachWAF = (*wafv2.Client)(nil)

// RemoveWAF is the part of *wafv2.Client that RemoveSQLiACL calls:
// wafv2:ListWebACLs, wafv2:GetWebACL, wafv2:ListTagsForResource,
// wafv2:GetWebACLForResource, wafv2:ListResourcesForWebACL,
// wafv2:DisassociateWebACL and wafv2:DeleteWebACL.
type RemoveWAF interface {
	ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error)
	GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
	ListTagsForResource(context.Context, *wafv2.ListTagsForResourceInput, ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error)
	GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error)
	ListResourcesForWebACL(context.Context, *wafv2.ListResourcesForWebACLInput, ...func(*wafv2.Options)) (*wafv2.ListResourcesForWebACLOutput, error)
	DisassociateWebACL(context.Context, *wafv2.DisassociateWebACLInput, ...func(*wafv2.Options)) (*wafv2.DisassociateWebACLOutput, error)
	DeleteWebACL(context.Context, *wafv2.DeleteWebACLInput, ...func(*wafv2.Options)) (*wafv2.DeleteWebACLOutput, error)
}

var _ RemoveWAF = (*wafv2.Client)(nil)

// DescribeLoadBalancersAPI is the part of *elasticloadbalancingv2.Client
// that AttachSQLiACL calls: elasticloadbalancing:DescribeLoadBalancers.
type DescribeLoadBalancersAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
}

var _ DescribeLoadBalancersAPI = (*elbv2.Client)(nil)

// AttachAPI holds the clients AttachSQLiACL calls. Both are required.
type AttachAPI struct {
	WAF AttachWAF
	ELB DescribeLoadBalancersAPI
}
