// Package waf protects an internet-facing application load balancer: an AWS
// WAF web ACL with the AWS managed SQL-injection rules, HTTPS with an ACM
// certificate validated through Route 53, audit checks for both, and a
// probe that proves, payload by payload, that SQL injection is blocked.
//
//	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{
//		WAF: wafv2.NewFromConfig(cfg),
//		ELB: elasticloadbalancingv2.NewFromConfig(cfg),
//	}, albARN, func(o *waf.Options) { o.Common = true })
//	if err != nil { ... }
//	fmt.Println(acl.Plan.Describe())
package waf
