package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// The weak local account: a password policy anyone meets, console users
// without MFA, an old access key, a user with a policy of its own.
var (
	demoConsoleUsers = []string{"alice", "bob"}
	demoKeyUser      = "ci-deployer"
	demoDirectUser   = "carol"
)

var iamScenario = scenario{
	name: "iam",
	seed: func(ctx context.Context, e *demoEnv) error {
		api := iam.NewFromConfig(e.cfg)
		if _, err := api.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{
			MinimumPasswordLength: aws.Int32(6),
		}); err != nil {
			return err
		}
		for _, u := range append(append([]string{}, demoConsoleUsers...), demoKeyUser, demoDirectUser) {
			if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
				return err
			}
		}
		for _, u := range demoConsoleUsers {
			if _, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{
				UserName: aws.String(u), Password: aws.String("Demo-Passw0rd-" + u),
			}); err != nil {
				return err
			}
		}
		if _, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(demoKeyUser)}); err != nil {
			return err
		}
		_, err := api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{
			UserName: aws.String(demoDirectUser), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess"),
		})
		return err
	},
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		r, err := iamguard.Audit(ctx, iam.NewFromConfig(e.cfg), func(o *iamguard.AuditOptions) {
			o.Now, o.Account = e.now, e.account
			if e.local {
				o.PollMinDelay, o.PollMaxDelay = 10e6, 100e6 // the emulator's report is ready at once
			}
		})
		if err != nil && r != nil && errors.Is(err, iamguard.ErrAuditIncomplete) {
			// The report holds ERROR findings for what could not be read: show them.
			return r, nil
		}
		return r, err
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		ch, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(e.cfg), iamguard.KISA.Policy,
			func(o *iamguard.PasswordPolicyOptions) { o.DryRun = dryRun })
		if errors.Is(err, awsguard.ErrWeakening) {
			// A stricter policy than KISA's stays as it is: the demo never
			// weakens anything.
			return []string{"iamguard.EnablePasswordPolicy (KISA, tighten only): left as it is: " + err.Error()}, nil
		}
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("iamguard.EnablePasswordPolicy (KISA, tighten only): %s", ch.Reason)
		if len(ch.Diff) > 0 {
			var parts []string
			for _, d := range ch.Diff {
				parts = append(parts, d.String())
			}
			line += ": " + strings.Join(parts, ", ")
		}
		return []string{line}, nil
	},
}
