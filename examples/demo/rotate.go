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
	name: "access key rotation",
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		if !e.local {
			return []string{"access key rotation: skipped against a real account (it needs somewhere to deliver the new key: use examples/rotate-key -credentials-out)"}, nil
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
		// The rotation's records (tags) are its bookkeeping, and its
		// verification is said below: a person reads what happened to
		// the keys.
		shown := rot.Plan
		shown.Actions = nil
		for _, a := range rot.Actions {
			switch a.Kind {
			case keyrotate.ActionRecordIntent, keyrotate.ActionRecordNewKey, keyrotate.ActionRecordDelivery,
				keyrotate.ActionRecordDeactivation, keyrotate.ActionClearRecord, keyrotate.ActionVerifyKey:
				continue
			case keyrotate.ActionDeliverKey:
				a.Detail = "deliver the new key to the demo's stand-in for a secret store"
			}
			shown.Actions = append(shown.Actions, a)
		}
		lines := describe("access key rotation of "+demoKeyUser, &shown)
		if rot.Applied {
			lines = append(lines, fmt.Sprintf("the new key of %s authenticated after %d STS call(s) and was delivered before the old one was touched", demoKeyUser, rot.VerifyPolls))
		}
		return lines, nil
	},
}
