package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/ec2recover"
)

// demoLostKeyInstance is the seeded instance whose key pair's private
// key is lost: launched with key pair demo-lost-key, which is then
// deleted (the private key is thrown away).
const (
	demoLostKeyInstance = "demo-web-server"
	demoLostKey         = "demo-lost-key"
)

// recoverScenario plans the recovery of SSH access to the instance whose
// key pair is lost (ec2recover.RecoverLostKeyPair, dry run) and shows
// the plan it chose. It does not apply it: every strategy ends inside the
// instance (SSM Run Command or cloud-init on the instance or on a helper),
// which the emulator does not run, or, for the relaunch, changes the
// instance's ID; the package's integration tests fake the in-guest part.
// Local only: against a real account use examples/recover-keypair.
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
	fix: func(ctx context.Context, e *demoEnv, _ bool) ([]string, error) {
		id, err := findInstance(ctx, ec2.NewFromConfig(e.cfg), demoLostKeyInstance)
		if err != nil {
			return nil, err
		}
		rec, err := ec2recover.RecoverLostKeyPair(ctx, ec2recover.ClientsFromConfig(e.cfg), id, func(o *ec2recover.Options) {
			o.DryRun = true // always: see recoverScenario
		})
		if err != nil {
			return nil, err
		}
		what := fmt.Sprintf("lost key pair of %s (%s)", id, demoLostKeyInstance)
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
		inGuest := map[ec2recover.Strategy]string{
			ec2recover.StrategySSM:      "the key is added by SSM Run Command on the instance",
			ec2recover.StrategyUserData: "the key is added by cloud-init at boot and confirmed on the console",
			ec2recover.StrategyRepair:   "the key is added by a script run on a helper instance through SSM Run Command",
			ec2recover.StrategyRelaunch: "the copy is a new instance with another ID",
		}[rec.Strategy]
		return append(lines, what+": plan shown, not applied: "+inGuest+", which the emulator does not run; "+
			"examples/recover-keypair applies it on AWS and writes the new private key only to a file of mode 0600"), nil
	},
}
