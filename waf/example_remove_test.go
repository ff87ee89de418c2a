package waf_test

import (
	"context"
	"fmt"

	"github.com/awsguard/awsguard/waf"
)

// RemoveSQLiACL undoes AttachSQLiACL: the association goes, then the ACL
// awsguard created (and only such an ACL). A second run finds nothing.
// (A fake WAF stands in for AWS here.)
func ExampleRemoveSQLiACL() {
	ctx := context.Background()
	fw := &fakeWAF{}
	alb := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	if _, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: fw, ELB: &fakeELB{}}, alb); err != nil {
		fmt.Println(err)
		return
	}
	rm, err := waf.RemoveSQLiACL(ctx, fw, alb)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range rm.Plan.Describe() {
		fmt.Println(line)
	}
	again, _ := waf.RemoveSQLiACL(ctx, fw, alb)
	fmt.Println(again.Plan.Reason)
	// Output:
	// disassociate web ACL awsguard-sqli from the ALB
	// delete web ACL awsguard-sqli
	// nothing to remove
}

// Audit reads the region's ALBs, their web ACLs and certificates, and
// returns findings in the awsguard contract: here one internet-facing ALB
// with awsguard's ACL and no HTTPS listener. (A fake stands in for AWS.)
func ExampleAudit() {
	f := &fakeAudit{n: 1, calls: map[string]int{}, listResources: true}
	rep, err := waf.Audit(context.Background(), waf.AuditAPI{ELB: f, WAF: f, ACM: f}, func(o *waf.AuditOptions) {
		o.Account, o.Region = "111122223333", "eu-west-1"
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, x := range rep.Findings {
		fix := x.Remediation
		if fix == "" {
			fix = "-"
		}
		fmt.Println(x.Check, x.Status, x.Severity, fix)
	}
	// Output:
	// elb.alb.https FAIL HIGH waf.EnableHTTPS
	// waf.alb.sqli_rules PASS HIGH -
	// waf.alb.web_acl PASS HIGH -
}
