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

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func attach(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := 0
	if err != nil {
		code = cli.Fail(&errOut, "attach-waf", err)
	}
	return code, out.String(), errOut.String()
}

func TestAttachWAF(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	sn, err := ec2.NewFromConfig(env.Config()).DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	lb, err := elbv2.NewFromConfig(env.Config()).CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: []string{*sn.Subnets[0].SubnetId, *sn.Subnets[1].SubnetId}})
	if err != nil {
		t.Fatal(err)
	}
	alb := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)

	code, out, stderr := attach(t, "-alb", alb, "-common", "-dry-run")
	if code != 0 || !strings.Contains(out, "planned: create web ACL") || !strings.Contains(out, string(awsguard.ReasonDryRun)) {
		t.Errorf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = attach(t, "-alb", alb, "-common", "-format", "json")
	var acl waf.WebACL
	if code != 0 || json.Unmarshal([]byte(out), &acl) != nil || !acl.Plan.Applied || len(acl.RuleGroups) != 2 {
		t.Errorf("apply: exit %d %+v\n%s", code, acl, stderr)
	}
	if code, out, _ = attach(t, "-alb", alb, "-common"); code != 0 || !strings.Contains(out, string(awsguard.ReasonAlreadyCompliant)) {
		t.Errorf("re-run: exit %d\n%s", code, out)
	}
	// moto cannot list an ACL's resources: kept unless -force.
	if code, out, stderr = attach(t, "-alb", alb, "-remove"); code != 1 || !strings.Contains(stderr, "cannot tell") || !strings.Contains(out, "done: disassociate") {
		t.Errorf("remove: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, stderr = attach(t, "-alb", alb, "-remove", "-force"); code != 0 || !strings.Contains(out, "done: delete web ACL") {
		t.Errorf("remove -force: exit %d\n%s%s", code, out, stderr)
	}
	for _, args := range [][]string{{}, {"-alb", "arn:nope"}, {"-alb", alb, "-name", "bad name"}, {"-alb", alb, "-force"}, {"-alb", alb, "-remove", "-common"}, {"-alb", alb, "x"}} {
		if code, _, stderr := attach(t, args...); code != 2 {
			t.Errorf("%v: exit %d %s", args, code, stderr)
		}
	}
	if code, _, _ := attach(t, "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
