package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/vulnapp"
	"github.com/awsguard/awsguard/waf"
)

// demoALB is the seeded internet-facing load balancer without a web ACL.
const demoALB = "demo-web"

// ProbeSummary is one run of the SQL-injection probe against the local
// vulnerable login application: bare, or behind the local WAF.
type ProbeSummary struct {
	Target         string      `json:"target"`
	Verdict        waf.Verdict `json:"verdict"`
	AttacksSent    int         `json:"attacks_sent"`
	AttacksBlocked int         `json:"attacks_blocked"`
	AttacksGotIn   int         `json:"attacks_got_in"`
	BenignSent     int         `json:"benign_sent"`
	BenignPassed   int         `json:"benign_passed"`
}

// wafScenario shows the web front door: the local SQL-injectable login
// application probed bare and behind the OWASP Coraza WAF (the stand-in
// for AWS WAF's SQLi rules), then the emulated ALB protected with the AWS
// managed SQLi rules. Local only: a real account's ALBs are for
// examples/attach-waf and examples/sqli-probe.
var wafScenario = scenario{
	name:      "waf",
	localOnly: true,
	seed: func(ctx context.Context, e *demoEnv) error {
		subnets, err := defaultSubnets(ctx, ec2.NewFromConfig(e.cfg))
		if err != nil {
			return err
		}
		_, err = elbv2.NewFromConfig(e.cfg).CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
			Name:    aws.String(demoALB),
			Subnets: []string{aws.ToString(subnets[0].SubnetId), aws.ToString(subnets[1].SubnetId)},
			Scheme:  elbtypes.LoadBalancerSchemeEnumInternetFacing,
			Type:    elbtypes.LoadBalancerTypeEnumApplication,
		})
		return err
	},
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		api := waf.AuditAPI{ELB: elbv2.NewFromConfig(e.cfg), WAF: wafv2.NewFromConfig(e.cfg), ACM: acm.NewFromConfig(e.cfg)}
		return waf.Audit(ctx, api, func(o *waf.AuditOptions) { o.Account, o.Region, o.Now = e.account, e.cfg.Region, e.now })
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		app, err := vulnapp.New()
		if err != nil {
			return nil, err
		}
		defer app.Close()
		guarded, err := vulnapp.Protect(app)
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, t := range []struct {
			name string
			h    http.Handler
		}{{"the login app, bare", app}, {"the login app behind the local WAF (Coraza, OWASP Core Rule Set)", guarded}} {
			p, err := probe(ctx, t.h)
			if err != nil {
				return nil, fmt.Errorf("probe %s: %w", t.name, err)
			}
			p.Target = t.name
			e.probes = append(e.probes, p)
			lines = append(lines, fmt.Sprintf("SQL-injection probe of %s: %s: %d of %d attacks blocked and %d logged in; %d of %d benign logins passed",
				t.name, p.Verdict, p.AttacksBlocked, p.AttacksSent, p.AttacksGotIn, p.BenignPassed, p.BenignSent))
		}
		arn, err := albARN(ctx, e)
		if err != nil {
			return nil, err
		}
		acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: wafv2.NewFromConfig(e.cfg), ELB: elbv2.NewFromConfig(e.cfg)}, arn,
			func(o *waf.Options) { o.DryRun = dryRun })
		if err != nil {
			return nil, err
		}
		return append(lines, describe("web ACL of ALB "+demoALB, &acl.Plan)...), nil
	},
}

// probe serves h on loopback only while it probes it, fast (the app is
// local: no need for the default rate of 5 a second).
func probe(ctx context.Context, h http.Handler) (ProbeSummary, error) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	r, err := waf.Probe(ctx, srv.URL+"/login", func(o *waf.ProbeOptions) {
		o.Rate, o.SuccessMarker = 100, vulnapp.Welcome
	})
	if err != nil {
		return ProbeSummary{}, err
	}
	return ProbeSummary{Verdict: r.Verdict, AttacksSent: r.AttacksSent, AttacksBlocked: r.AttacksBlocked, AttacksGotIn: r.AttacksGotIn,
		BenignSent: r.BenignSent, BenignPassed: r.BenignPassed}, nil
}

func albARN(ctx context.Context, e *demoEnv) (string, error) {
	out, err := elbv2.NewFromConfig(e.cfg).DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Names: []string{demoALB}})
	if err != nil {
		return "", err
	}
	if len(out.LoadBalancers) == 0 {
		return "", errors.New("no load balancer " + demoALB)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn), nil
}
