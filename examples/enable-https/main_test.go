package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func https(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = cli.Fail(&errOut, "enable-https", err)
	}
	return code, out.String(), errOut.String()
}

func TestEnableHTTPS(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	cfg := env.Config()
	sn, err := ec2.NewFromConfig(cfg).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	elb := elbv2.NewFromConfig(cfg)
	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{*sn.Subnets[0].SubnetId, *sn.Subnets[1].SubnetId}})
	if err != nil {
		t.Fatal(err)
	}
	alb := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: sn.Subnets[0].VpcId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(alb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}); err != nil {
		t.Fatal(err)
	}
	z, err := route53.NewFromConfig(cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("t")})
	if err != nil {
		t.Fatal(err)
	}
	zone := strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/")
	base := []string{"-alb", alb, "-domain", "www.example.com", "-zone", zone, "-alias"}

	if code, out, stderr := https(t, append(base, "-dry-run")...); code != 0 || !strings.Contains(out, "planned: request an ACM certificate") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr := https(t, append(base, "-format", "json")...)
	var res waf.HTTPS
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || !res.Plan.Applied || res.SSLPolicy != waf.DefaultSSLPolicy {
		t.Errorf("enable: exit %d %+v\n%s", code, res, stderr)
	}
	if code, out, _ := https(t, base...); code != 0 || !strings.Contains(out, string(awsguard.ReasonAlreadyCompliant)) {
		t.Errorf("re-run: exit %d\n%s", code, out)
	}
	if code, out, stderr := https(t, append(base, "-disable")...); code != 0 || !strings.Contains(out, "done: delete certificate") {
		t.Errorf("disable: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := https(t, append(base, "-disable")...); code != 0 || !strings.Contains(out, string(awsguard.ReasonNothingToRemove)) {
		t.Errorf("disable re-run: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{{}, {"-alb", alb}, append(base[:6:6], "-domain", "Bad_Domain"), append(base[:6:6], "-keep-certificate"), append(base[:6:6], "-policy", "nope")} {
		if code, _, stderr := https(t, args...); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
}
