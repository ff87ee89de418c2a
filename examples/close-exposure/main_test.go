package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func runJSON(t *testing.T, args ...string) (awsguard.Plan, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"-format", "json"}, args...), &out, &errOut)
	var p awsguard.Plan
	if jerr := json.Unmarshal(out.Bytes(), &p); jerr != nil && err == nil {
		t.Fatalf("stdout is not a plan: %v\n%s", jerr, out.String())
	}
	return p, err
}

func TestCloseExposureFlow(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	api := ec2.NewFromConfig(env.Config())
	vpc, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: vpc.Vpc.VpcId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}); err != nil {
		t.Fatal(err)
	}
	sg := aws.ToString(g.GroupId)

	p, err := runJSON(t, "-group", sg, "-dry-run", "-replace-cidr", "203.0.113.0/24")
	if err != nil || !p.DryRun || len(p.Actions) != 3 || p.Applied {
		t.Fatalf("dry run: %+v %v", p, err)
	}
	p, err = runJSON(t, "-group", sg, "-replace-cidr", "203.0.113.0/24")
	if err != nil || !p.Applied {
		t.Fatalf("close: %+v %v", p, err)
	}
	p, err = runJSON(t, "-group", sg)
	if err != nil || p.Applied || p.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second close: %+v %v", p, err)
	}
	if _, err = runJSON(t, "-group", sg, "-restore"); !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("restore without -allow-weaken: %v", err)
	}
	p, err = runJSON(t, "-group", sg, "-restore", "-allow-weaken")
	if err != nil || !p.Applied {
		t.Fatalf("restore: %+v %v", p, err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{}, {"-instance", "i-1", "-group", "sg-1"}, {"-group", "sg-1", "-port", "x"},
		{"-group", "sg-1", "-format", "csv"}, {"-group", "sg-1", "-restore", "-replace-cidr", "10.0.0.0/8"}, {"extra"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestPrintPolicy(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-group", "sg-1", "-print-policy"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"ec2:RevokeSecurityGroupIngress", "ec2:CreateTags", "ec2:DescribeSecurityGroups"} {
		if !bytes.Contains(out.Bytes(), []byte(a)) {
			t.Errorf("policy lacks %s:\n%s", a, out.String())
		}
	}
}
