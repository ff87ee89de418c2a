package main

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/inspector2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
)

// inspectorScenario finds Amazon Inspector off (a new account's default,
// so there is nothing to seed) and turns it on for every resource type
// with inspect.Enable. Local only: against a real account use
// examples/inspector (enabling Inspector starts its billing).
var inspectorScenario = scenario{
	name:      "inspector",
	localOnly: true,
	audit: func(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
		rep, _, err := inspect.Audit(ctx, inspector2.NewFromConfig(e.cfg), inspect.FindingFilter{}, inspectorOptions(e))
		return rep, err
	},
	fix: func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error) {
		p, err := inspect.Enable(ctx, inspector2.NewFromConfig(e.cfg), inspectorOptions(e), func(o *inspect.InspectorOptions) { o.DryRun = dryRun })
		if err != nil {
			return nil, err
		}
		return describe("Inspector", p), nil
	},
}

// inspectorOptions names the account (the emulator needs it) and polls
// the status fast: the emulator answers at once.
func inspectorOptions(e *demoEnv) func(*inspect.InspectorOptions) {
	return func(o *inspect.InspectorOptions) {
		o.Account, o.Region, o.Now = e.account, e.cfg.Region, e.now
		o.PollMinDelay, o.PollMaxDelay, o.MaxWait = 50*time.Millisecond, 200*time.Millisecond, 20*time.Second
	}
}
