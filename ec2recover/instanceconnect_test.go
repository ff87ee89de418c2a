package ec2recover_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/apicalls"
)

func TestImageFamily(t *testing.T) {
	for _, tc := range []struct {
		name, details string
		fam           ec2recover.OSFamily
		agent         bool
	}{
		{"al2023-ami-2023.6.20241010.0-kernel-6.1-x86_64", "Linux/UNIX", ec2recover.FamilyAmazonLinux2023, true},
		{"amzn2-ami-kernel-5.10-hvm-2.0.20241001.0-x86_64-gp2", "Linux/UNIX", ec2recover.FamilyAmazonLinux2, true},
		{"amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2", "", ec2recover.FamilyRedHat, false},
		{"ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20240801", "", ec2recover.FamilyUbuntu, true},
		{"ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240801", "", ec2recover.FamilyUbuntu, true},
		{"ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-amd64-server-20230531", "", ec2recover.FamilyUbuntu, false},
		{"ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-amd64-server-20170721", "", ec2recover.FamilyUbuntu, false},
		{"debian-12-amd64-20240717-1811", "", ec2recover.FamilyDebian, false},
		{"RHEL-9.4.0_HVM-20240605-x86_64-82-Hourly2-GP3", "Red Hat Enterprise Linux", ec2recover.FamilyRedHat, false},
		{"Windows_Server-2022-English-Full-Base-2024.10.09", "Windows", ec2recover.FamilyWindows, false},
		{"my-golden-image", "Linux/UNIX", ec2recover.FamilyOther, false},
	} {
		fam, agent := ec2recover.ImageFamily(tc.name, tc.details)
		if fam != tc.fam || agent != tc.agent {
			t.Errorf("%s: %s %v, want %s %v", tc.name, fam, agent, tc.fam, tc.agent)
		}
	}
}

const al2023Image = "ami-0ed094fb1304fd857"

func (w *world) launchImage(image string) string {
	w.t.Helper()
	out, err := w.ec2.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(image), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// The audit on moto: an Amazon Linux 2023 instance fails once someone is
// allowed SendSSHPublicKey; an Amazon Linux 1 instance passes.
func TestAuditInstanceConnectMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "running") // the target runs Amazon Linux 1
	modern := w.launchImage(al2023Image)
	audit := func() map[string]awsguard.Finding {
		rep, err := ec2recover.AuditInstanceConnect(ctx, w.ec2, w.iam, func(o *ec2recover.InstanceConnectOptions) { o.Account, o.Region = "123456789012", "us-east-1" })
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]awsguard.Finding{}
		for _, f := range rep.Findings {
			if f.Check != ec2recover.CheckInstanceConnect || f.Controls[0] != "ISMS-P:2.6.6" {
				t.Errorf("finding %+v", f)
			}
			m[f.Resource] = f
		}
		return m
	}
	got := audit()
	if got[modern].Status != awsguard.StatusPass || got[w.target].Status != awsguard.StatusPass {
		t.Errorf("before any grant: %+v", got)
	}
	if _, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.iam.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("eic"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2-instance-connect:Send*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	got = audit()
	if f := got[modern]; f.Status != awsguard.StatusFail || f.Evidence["os_family"] != "amazon-linux-2023" || f.Evidence["granted_to"] != "arn:aws:iam::123456789012:user/ops" {
		t.Errorf("modern instance: %+v", f)
	}
	if f := got[w.target]; f.Status != awsguard.StatusPass || f.Evidence["agent_shipped"] != "false" {
		t.Errorf("old instance: %+v", f)
	}
}

// DisableInstanceConnect on moto: per-instance removal through Run
// Command (the in-guest answer faked), the deny policy ensured on a
// group, a second run with nothing left to do, a dry run without
// mutating calls, and the removal of the deny policy.
func TestDisableInstanceConnectMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "running")
	modern := w.launchImage(al2023Image)
	if _, err := w.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	c := w.clients()
	g := &guestSSM{RecoverSSM: c.SSM, status: ssmtypes.CommandInvocationStatusSuccess, output: "ec2recover-eic: removed\n"}
	dc := ec2recover.DisableClients{EC2: w.ec2, SSM: g, IAM: w.iam}
	opts := func(o *ec2recover.DisableOptions) { o.DenyGroups, o.Wait = []string{"ops"}, fastWait }

	counter := apicalls.New()
	cfg := w.cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, counter.APIOption)
	dry, err := ec2recover.DisableInstanceConnect(ctx, ec2recover.DisableClients{EC2: ec2.NewFromConfig(cfg), SSM: ssm.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg)},
		[]string{modern, w.target}, opts, func(o *ec2recover.DisableOptions) { o.DryRun = true })
	if err != nil || dry.Reason != awsguard.ReasonDryRun || len(dry.Actions) != 4 {
		t.Fatalf("dry run: %v %+v", err, dry)
	}
	for k := range counter.Counts() {
		if !readOnly(k.Operation) {
			t.Errorf("dry run called %s", k)
		}
	}

	res, err := ec2recover.DisableInstanceConnect(ctx, dc, []string{modern, w.target}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 2 || !res.Applied {
		t.Fatalf("%+v", res)
	}
	for _, ir := range res.Instances {
		if ir.Outcome != "removed" {
			t.Errorf("%+v", ir)
		}
	}
	g.output = "ec2recover-eic: absent\n"
	again, err := ec2recover.DisableInstanceConnect(ctx, dc, []string{modern}, opts)
	if err != nil || len(again.Actions) != 1 || again.Instances[0].Outcome != "absent" {
		t.Errorf("second run: %v %+v", err, again)
	}
	att, err := w.iam.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")})
	if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != ec2recover.DenyPolicyName {
		t.Errorf("attached: %+v %v", att, err)
	}
	plan, err := ec2recover.RemoveInstanceConnectDeny(ctx, w.iam, []string{"ops"}, true, false)
	if err != nil || len(plan.Actions) != 2 || !plan.Applied {
		t.Errorf("removal: %v %+v", err, plan)
	}
	plan, err = ec2recover.RemoveInstanceConnectDeny(ctx, w.iam, []string{"ops"}, true, false)
	if err != nil || plan.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second removal: %v %+v", err, plan)
	}
}
