package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/pquerna/otp/totp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// demoGroup is the group the local demo puts its people in.
const demoGroup = "developers"

// groupsScenario moves permissions onto a group, gives it the
// self-service credentials policy and the MFA enforcement policy, and
// enrols the console users' virtual MFA devices. It runs only against the
// local emulator: which groups a real account has, and who holds the
// authenticator, is the account owner's to decide (examples/mfa-enroll
// does one user).
var groupsScenario = scenario{
	name: "groups and MFA",
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		if !e.local {
			return []string{"iamguard.EnsureGroup, EnforceMFA, CreateVirtualMFA: skipped against a real account (they need your group names and your users' authenticators)"}, nil
		}
		api := iam.NewFromConfig(e.cfg)
		members := append(append([]string{}, demoConsoleUsers...), demoDirectUser)
		var lines []string
		say := func(what string, p *awsguard.Plan) {
			lines = append(lines, fmt.Sprintf("%s: %s", what, p.Reason))
		}
		p, err := iamguard.EnsureGroup(ctx, api, iamguard.Group{Name: demoGroup, Members: members},
			func(o *iamguard.GroupOptions) { o.DryRun = dryRun })
		if err != nil {
			return nil, err
		}
		say("iamguard.EnsureGroup "+demoGroup, p)
		if dryRun {
			// The steps below need the group to exist to be planned.
			return append(lines, "iamguard.MoveUserPoliciesToGroup, EnsureSelfServicePolicy, EnforceMFA, CreateVirtualMFA: planned after the group exists"), nil
		}
		if p, err = iamguard.MoveUserPoliciesToGroup(ctx, api, demoDirectUser, demoGroup); err != nil {
			return nil, err
		}
		say("iamguard.MoveUserPoliciesToGroup "+demoDirectUser, p)
		if p, err = iamguard.EnsureSelfServicePolicy(ctx, api, demoGroup); err != nil {
			return nil, err
		}
		say("iamguard.EnsureSelfServicePolicy "+demoGroup, p)
		if p, err = iamguard.EnforceMFA(ctx, api, []string{demoGroup}); err != nil {
			return nil, err
		}
		say("iamguard.EnforceMFA "+demoGroup, p)
		for _, u := range demoConsoleUsers {
			dev, err := iamguard.CreateVirtualMFA(ctx, api, u)
			if err != nil {
				return nil, err
			}
			// The demo plays the user's authenticator app: two consecutive codes.
			now := time.Now()
			c1, err := totp.GenerateCode(dev.Seed.Reveal(), now)
			if err != nil {
				return nil, err
			}
			c2, err := totp.GenerateCode(dev.Seed.Reveal(), now.Add(30*time.Second))
			if err != nil {
				return nil, err
			}
			if p, err = iamguard.ActivateVirtualMFA(ctx, api, u, dev.SerialNumber, c1, c2); err != nil {
				return nil, err
			}
			say("iamguard.CreateVirtualMFA + ActivateVirtualMFA "+u, p)
		}
		return lines, nil
	},
}
