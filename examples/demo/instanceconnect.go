package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// demoAppInstance is the seeded Amazon Linux 2 instance: its image ships
// the EC2 Instance Connect agent.
const demoAppInstance = "demo-app"

// demoOpsGroup is the seeded group allowed to push SSH keys through EC2
// Instance Connect, and demoOpsUser its member.
const (
	demoOpsGroup = "ops"
	demoOpsUser  = "dave"
)

// instanceConnectScenario finds the instances anyone can reach through
// EC2 Instance Connect (an Amazon Linux image ships the agent, and the
// seeded ops group may call ec2-instance-connect:SendSSHPublicKey), then
// removes the agent through SSM Run Command and denies
// ec2-instance-connect:* to the group with ec2recover.DisableInstanceConnect.
// The emulator runs no command inside an instance: it answers success
// without output, so the removal is reported as sent, not confirmed.
// Local only: against a real account use ec2recover.DisableInstanceConnect
// on SSM managed instances.
var instanceConnectScenario = scenario{
	name:      "EC2 Instance Connect",
	localOnly: true,
	seed: func(ctx context.Context, e *demoEnv) error {
		ec2api := ec2.NewFromConfig(e.cfg)
		subnets, err := defaultSubnets(ctx, ec2api)
		if err != nil {
			return err
		}
		if _, err := launchImage(ctx, ec2api, demoImageAL2, demoAppInstance, aws.ToString(subnets[1].SubnetId), "", nil); err != nil {
			return err
		}
		api := iam.NewFromConfig(e.cfg)
		if _, err := api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(demoOpsGroup)}); err != nil {
			return err
		}
		const allow = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2-instance-connect:SendSSHPublicKey","ec2:DescribeInstances"],"Resource":"*"}]}`
		if _, err := api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(demoOpsGroup), PolicyName: aws.String("instance-connect"), PolicyDocument: aws.String(allow)}); err != nil {
			return err
		}
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(demoOpsUser)}); err != nil {
			return err
		}
		_, err = api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(demoOpsGroup), UserName: aws.String(demoOpsUser)})
		return err
	},
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		return ec2recover.AuditInstanceConnect(ctx, ec2.NewFromConfig(e.cfg), iam.NewFromConfig(e.cfg), func(o *ec2recover.InstanceConnectOptions) {
			o.Account, o.Region, o.Now = e.account, e.cfg.Region, e.now
		})
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		ec2api := ec2.NewFromConfig(e.cfg)
		rep, err := ec2recover.AuditInstanceConnect(ctx, ec2api, iam.NewFromConfig(e.cfg), func(o *ec2recover.InstanceConnectOptions) {
			o.Account, o.Region = e.account, e.cfg.Region
		})
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, f := range rep.Findings {
			if f.Status == awsguard.StatusFail {
				ids = append(ids, f.Resource)
			}
		}
		if len(ids) == 0 {
			return []string{"EC2 Instance Connect: no instance can be reached through it"}, nil
		}
		res, err := ec2recover.DisableInstanceConnect(ctx, ec2recover.DisableClients{EC2: ec2api, SSM: ssm.NewFromConfig(e.cfg), IAM: iam.NewFromConfig(e.cfg)}, ids,
			func(o *ec2recover.DisableOptions) {
				o.DenyGroups, o.DryRun = []string{demoOpsGroup}, dryRun
				o.Wait = ec2recover.WaitOptions{MinDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond, MaxWait: 20 * time.Second}
			})
		if err != nil {
			return nil, err
		}
		lines := describe("EC2 Instance Connect", &res.Plan)
		for _, in := range res.Instances {
			l := fmt.Sprintf("EC2 Instance Connect agent on %s (%s): %s", in.InstanceID, in.Family, in.Outcome)
			if in.Outcome == "sent" {
				l += " (the emulator runs no command inside an instance, so the removal is not confirmed)"
			}
			if in.Detail != "" {
				l += ": " + in.Detail
			}
			lines = append(lines, l)
		}
		return lines, nil
	},
}
