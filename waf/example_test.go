package waf_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/awsguard/awsguard/internal/vulnapp"
	"github.com/awsguard/awsguard/waf"
)

// AttachSQLiACL plans from live state, applies, and on a second run finds
// nothing to do. (A fake WAF stands in for AWS here.)
func ExampleAttachSQLiACL() {
	ctx := context.Background()
	api := waf.AttachAPI{WAF: &fakeWAF{}, ELB: &fakeELB{}}
	alb := "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"
	acl, err := waf.AttachSQLiACL(ctx, api, alb, func(o *waf.Options) { o.Common = true })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range acl.Plan.Describe() {
		fmt.Println(line)
	}
	again, _ := waf.AttachSQLiACL(ctx, api, alb, func(o *waf.Options) { o.Common = true })
	fmt.Println(again.State, again.Association, again.Plan.Reason)
	// Output:
	// create web ACL awsguard-sqli (REGIONAL, default Allow, metrics on) with AWSManagedRulesSQLiRuleSet, AWSManagedRulesCommonRuleSet in Block mode
	// associate web ACL awsguard-sqli with ALB web
	// complete ours already compliant
}

// Probe a login bare and behind a WAF (here the OWASP Coraza WAF with the
// Core Rule Set, in front of a deliberately injectable test application).
func ExampleProbe() {
	ctx := context.Background()
	app, _ := vulnapp.New()
	defer app.Close()
	protected, _ := vulnapp.Protect(app)
	for _, h := range []struct {
		name string
		srv  *httptest.Server
	}{{"bare", httptest.NewServer(app)}, {"behind the WAF", httptest.NewServer(protected)}} {
		rep, err := waf.Probe(ctx, h.srv.URL+"/login", func(o *waf.ProbeOptions) { o.Rate, o.SuccessMarker = 100, vulnapp.Welcome })
		h.srv.Close()
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: %s, %d of %d attacks blocked, %d logged in; %d of %d benign passed\n",
			h.name, rep.Verdict, rep.AttacksBlocked, rep.AttacksSent, rep.AttacksGotIn, rep.BenignPassed, rep.BenignSent)
	}
	// Output:
	// bare: attacks-passed, 0 of 40 attacks blocked, 30 logged in; 10 of 10 benign passed
	// behind the WAF: protected, 40 of 40 attacks blocked, 0 logged in; 10 of 10 benign passed
}
