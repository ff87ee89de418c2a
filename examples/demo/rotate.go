package main

import (
	"context"
	"fmt"
	"time"

	"github.com/awsguard/awsguard/keyrotate"
)

// rotateScenario rotates the seeded key that fails
// iam.user.access_key_rotation. It runs only against the local emulator:
// against a real account a rotation needs somewhere to deliver the new
// key, which examples/rotate-key -credentials-out provides.
var rotateScenario = scenario{
	name: "keyrotate",
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		if !e.local {
			return []string{"keyrotate.RotateAccessKey: skipped against a real account (it needs a delivery target: use examples/rotate-key -credentials-out)"}, nil
		}
		var delivered []string // the demo's stand-in for a secret store
		rot, err := keyrotate.RotateAccessKey(ctx, keyrotate.ClientsFromConfig(e.cfg), demoKeyUser, func(o *keyrotate.Options) {
			o.DryRun = dryRun
			o.Now = e.now // the seeded key is made "now"; the demo's clock says it is 120 days old
			o.MaxAge = 90 * 24 * time.Hour
			o.DeleteOld = true
			o.Verify = keyrotate.VerifyOptions{MinDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond}
			o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
				delivered = append(delivered, k.AccessKeyID)
				return nil
			}
		})
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("keyrotate.RotateAccessKey %s: %s", demoKeyUser, rot.Summary)
		if rot.Applied {
			line += fmt.Sprintf(" (the new key authenticated after %d STS call(s) and was delivered before the old one was touched)", rot.VerifyPolls)
		}
		return []string{line}, nil
	},
}
