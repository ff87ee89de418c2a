package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// demoLostKeyInstance is the seeded instance whose key pair's private
// key is lost: launched with key pair demo-lost-key, which is then
// deleted (the private key is thrown away).
const (
	demoLostKeyInstance = "demo-web-server"
	demoLostKey         = "demo-lost-key"
)

// recoverScenario recovers SSH access to the instance whose key pair is
// lost (ec2recover.RecoverLostKeyPair). It shows the plan Auto chooses
// (a dry run), then, unless the demo is a dry run, applies the root-volume
// repair: Auto's choice on the emulator, the user data strategy, is
// confirmed by cloud-init on the instance's console, which the emulator
// does not print, while the repair's API side (snapshot, helper instance
// and its role, stop, volume moves, start, clean-up) runs fully on it.
// The in-guest part is not confirmed: the emulator's Run Command answers
// Success without running the injection script, and the demo says so. The
// new private key goes only to a 0600 file in a temporary directory,
// removed at the end. Local only: against a real account use
// examples/recover-keypair.
var recoverScenario = scenario{
	name:      "lost key pair",
	localOnly: true,
	seed: func(ctx context.Context, e *demoEnv) error {
		api := ec2.NewFromConfig(e.cfg)
		subnets, err := defaultSubnets(ctx, api)
		if err != nil {
			return err
		}
		// The private key of the answer is dropped unread: it is "lost".
		if _, err := api.CreateKeyPair(ctx, &ec2.CreateKeyPairInput{KeyName: aws.String(demoLostKey), KeyType: types.KeyTypeEd25519}); err != nil {
			return err
		}
		if _, err := launch(ctx, api, demoLostKeyInstance, aws.ToString(subnets[0].SubnetId), demoLostKey, nil); err != nil {
			return err
		}
		_, err = api.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(demoLostKey)})
		return err
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		id, err := findInstance(ctx, ec2.NewFromConfig(e.cfg), demoLostKeyInstance)
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("lost key pair of %s (%s)", id, demoLostKeyInstance)
		lines, err := planRecovery(ctx, e, id, what)
		if err != nil || dryRun {
			return append(lines, what+": plan shown, not applied (dry run)"), err
		}
		more, err := applyRecovery(ctx, e, id, what)
		return append(lines, more...), err
	},
}

// demoWait polls the emulator, which answers at once, every few
// milliseconds.
var demoWait = ec2recover.WaitOptions{MinDelay: 5 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxWait: 30 * time.Second}

// planRecovery shows the plan Auto chooses, from a dry run.
func planRecovery(ctx context.Context, e *demoEnv, id, what string) ([]string, error) {
	rec, err := ec2recover.RecoverLostKeyPair(ctx, ec2recover.ClientsFromConfig(e.cfg), id, func(o *ec2recover.Options) {
		o.DryRun, o.Wait = true, demoWait
	})
	if err != nil {
		return nil, err
	}
	lines := []string{fmt.Sprintf("%s: recovery planned (dry run): strategy %s, downtime: %s", what, rec.Strategy, rec.Downtime)}
	for _, c := range rec.Considered {
		if c.Strategy == rec.Strategy {
			break
		}
		if c.Possible {
			continue
		}
		reason := c.Reason
		if c.Strategy == ec2recover.StrategySSM && e.local {
			// The emulator answers the SSM inventory with a 500: the
			// agent's state is unknown, which counts as not managed.
			reason = "the emulator cannot tell whether the instance's SSM agent is online, and unknown counts as not managed"
		}
		lines = append(lines, fmt.Sprintf("%s: not %s: %s", what, c.Strategy, reason))
	}
	if rec.NewPublicIP {
		lines = append(lines, what+": the instance comes back with a new public IP (it stops and has no Elastic IP)")
	}
	for _, l := range rec.Describe() {
		lines = append(lines, "would "+l)
	}
	return lines, nil
}

// applyRecovery carries out the root-volume repair (see recoverScenario)
// and says what changed.
func applyRecovery(ctx context.Context, e *demoEnv, id, what string) ([]string, error) {
	dir, err := os.MkdirTemp("", "awsguard-demo-key-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rec, err := ec2recover.RecoverLostKeyPair(ctx, ec2recover.ClientsFromConfig(e.cfg), id, func(o *ec2recover.Options) {
		o.Strategy, o.Wait = ec2recover.StrategyRepair, demoWait
		o.KeyFile = filepath.Join(dir, "recovered-key") // 0600, removed with dir
	})
	if err != nil {
		return nil, err
	}
	lines := []string{fmt.Sprintf("%s: recovery applied with the %s strategy (downtime on AWS: %s; Auto's user data needs the instance's console, which the emulator does not print)",
		what, rec.Strategy, rec.Downtime)}
	for _, a := range rec.Actions {
		switch {
		case a.Outcome != awsguard.OutcomeDone:
		case a.Kind == ec2recover.ActionInjectKey:
			lines = append(lines, "did send the key injection script for "+a.Resource+" to the helper through Run Command (the emulator answers Success without running it)")
		default:
			lines = append(lines, "did "+a.String())
		}
	}
	if err := recoveryLeftovers(ctx, ec2.NewFromConfig(e.cfg), rec.ID); err != nil {
		return lines, err
	}
	lines = append(lines,
		fmt.Sprintf("%s: new %s key %s, private key written only to a 0600 temporary file, deleted now", what, rec.Key.Type, rec.Key.Fingerprint),
		what+": the key is NOT verified inside the instance: the emulator's Run Command answers Success without running the injection script "+
			"(on AWS the script's report is read back); nothing of the recovery is left (helper, its role, snapshot)")
	return lines, nil
}

// recoveryLeftovers fails when anything tagged by the recovery is left:
// a helper not terminated, a snapshot, a security group, or the tag on an
// instance.
func recoveryLeftovers(ctx context.Context, api *ec2.Client, id string) error {
	tagged := []types.Filter{{Name: aws.String("tag:" + ec2recover.TagRecovery), Values: []string{id}}}
	insts, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: tagged})
	if err != nil {
		return err
	}
	var left []string
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != types.InstanceStateNameTerminated {
				left = append(left, aws.ToString(i.InstanceId))
			}
		}
	}
	snaps, err := api.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: tagged})
	if err != nil {
		return err
	}
	for _, sn := range snaps.Snapshots {
		left = append(left, aws.ToString(sn.SnapshotId))
	}
	sgs, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: tagged})
	if err != nil {
		return err
	}
	for _, g := range sgs.SecurityGroups {
		left = append(left, aws.ToString(g.GroupId))
	}
	if len(left) > 0 {
		return fmt.Errorf("recovery %s left %v behind", id, left)
	}
	return nil
}
