package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
)

// demoBastion is the seeded instance open to the world on SSH: a public
// IP, the default VPC's route to its internet gateway, a security group
// open on 22 from 0.0.0.0/0 and the default network ACL.
const demoBastion = "demo-bastion"

// networkScenario finds the instance the internet can reach on SSH and
// closes it with inspect.CloseExposure. Local only: against a real
// account use examples/close-exposure.
var networkScenario = scenario{
	name:      "network exposure",
	localOnly: true,
	seed: func(ctx context.Context, e *demoEnv) error {
		api := ec2.NewFromConfig(e.cfg)
		subnets, err := defaultSubnets(ctx, api)
		if err != nil {
			return err
		}
		if err := routeToInternet(ctx, api, aws.ToString(subnets[0].VpcId)); err != nil {
			return err
		}
		sg, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String("demo-ssh-open"), Description: aws.String("SSH from anywhere"), VpcId: subnets[0].VpcId,
		})
		if err != nil {
			return err
		}
		if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
			GroupId: sg.GroupId,
			IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22),
				IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
		}); err != nil {
			return err
		}
		_, err = launch(ctx, api, demoBastion, aws.ToString(subnets[0].SubnetId), "", []string{aws.ToString(sg.GroupId)})
		return err
	},
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		return inspect.AuditNetwork(ctx, ec2.NewFromConfig(e.cfg), func(o *inspect.NetworkOptions) { o.Account, o.Region = e.account, e.cfg.Region })
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		api := ec2.NewFromConfig(e.cfg)
		rep, err := inspect.AuditNetwork(ctx, api, func(o *inspect.NetworkOptions) { o.Account, o.Region = e.account, e.cfg.Region })
		if err != nil {
			return nil, err
		}
		var lines []string
		for _, f := range rep.Findings {
			if f.Check != inspect.CheckInstanceExposed || f.Status != awsguard.StatusFail {
				continue
			}
			targets, err := inspect.TargetsFromFinding(f)
			if err != nil {
				return nil, err
			}
			for _, t := range targets {
				p, err := inspect.CloseExposure(ctx, api, t, func(o *inspect.CloseOptions) { o.DryRun = dryRun })
				if err != nil {
					return nil, fmt.Errorf("close %s: %w", t, err)
				}
				lines = append(lines, describe("exposure of "+t.String(), p)...)
			}
		}
		if len(lines) == 0 {
			lines = []string{"network exposure: no instance reachable from the internet on an admin or database port"}
		}
		return lines, nil
	},
}
