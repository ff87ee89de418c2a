package observe_test

import (
	"context"
	"fmt"

	"github.com/awsguard/awsguard/observe"
)

// Teardown removes what observe created and nothing else, in dependency
// order; it says which services it was not given a client for. Here only
// SNS, a fake holding the alert topic. A second run finds nothing.
func ExampleTeardown() {
	ctx := context.Background()
	api := &fakeSNS{} // a TeardownSNSAPI; *sns.Client in production
	if _, err := observe.EnsureAlertTopic(ctx, api, observe.Topic{Name: "awsguard-alerts",
		Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}}}); err != nil {
		fmt.Println(err)
		return
	}
	res, err := observe.Teardown(ctx, observe.TeardownClients{SNS: api})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range res.Describe() {
		fmt.Println(line)
	}
	fmt.Println(len(res.Warnings), "services not examined")
	again, _ := observe.Teardown(ctx, observe.TeardownClients{SNS: api})
	fmt.Println(again.Reason)
	// Output:
	// delete topic arn:aws:sns:us-east-1:123456789012:awsguard-alerts
	// 6 services not examined
	// nothing to remove
}
