package main

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/awsguard/awsguard/waf"
)

// demoZone is the seeded hosted zone of the demo's web site; demoDomain
// is the name the site is served under.
const (
	demoZone   = "demo.example.com"
	demoDomain = "www." + demoZone
)

// httpsScenario serves the seeded ALB over HTTPS: an ACM certificate
// validated through Route 53, an HTTPS:443 listener with a TLS 1.2+
// policy, HTTP redirected to HTTPS and an alias record, with
// waf.EnableHTTPS. It seeds what a plain-HTTP site has: a target group,
// an HTTP:80 listener forwarding to it, and the domain's hosted zone. Its
// audit is the waf scenario's (elb.alb.https). Local only: against a real
// account use examples/enable-https.
var httpsScenario = scenario{
	name:      "https",
	localOnly: true,
	seed: func(ctx context.Context, e *demoEnv) error {
		subnets, err := defaultSubnets(ctx, ec2.NewFromConfig(e.cfg))
		if err != nil {
			return err
		}
		arn, err := albARN(ctx, e)
		if err != nil {
			return err
		}
		elb := elbv2.NewFromConfig(e.cfg)
		tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("demo-web"), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), VpcId: subnets[0].VpcId})
		if err != nil {
			return err
		}
		if _, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(arn), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}); err != nil {
			return err
		}
		_, err = route53.NewFromConfig(e.cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(demoZone), CallerReference: aws.String(demoZone)})
		return err
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		arn, err := albARN(ctx, e)
		if err != nil {
			return nil, err
		}
		zone, err := zoneID(ctx, route53.NewFromConfig(e.cfg))
		if err != nil {
			return nil, err
		}
		api := waf.HTTPSAPI{ACM: acm.NewFromConfig(e.cfg), ELB: elbv2.NewFromConfig(e.cfg), Route53: route53.NewFromConfig(e.cfg)}
		res, err := waf.EnableHTTPS(ctx, api, arn, demoDomain, zone, func(o *waf.HTTPSOptions) {
			o.AliasRecord, o.DryRun = true, dryRun
			// The emulator issues a DNS-validated certificate in a second.
			o.WaitMinDelay, o.WaitMaxDelay, o.CertificateWait = 200*time.Millisecond, time.Second, 30*time.Second
		})
		if err != nil {
			return nil, err
		}
		return describe("HTTPS for "+demoDomain, &res.Plan), nil
	},
}

// zoneID is the ID of the demo's hosted zone.
func zoneID(ctx context.Context, api *route53.Client) (string, error) {
	out, err := api.ListHostedZonesByName(ctx, &route53.ListHostedZonesByNameInput{DNSName: aws.String(demoZone), MaxItems: aws.Int32(1)})
	if err != nil {
		return "", err
	}
	for _, z := range out.HostedZones {
		if strings.TrimSuffix(aws.ToString(z.Name), ".") == demoZone {
			return strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"), nil
		}
	}
	return "", &noZoneError{}
}

type noZoneError struct{}

func (*noZoneError) Error() string {
	return "no hosted zone " + demoZone + " (the demo's seed makes it)"
}
