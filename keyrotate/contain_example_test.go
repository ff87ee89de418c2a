package keyrotate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/awsguard/awsguard/keyrotate"
)

// oneEventTrail answers one page holding a single CreateUser event.
type oneEventTrail struct{}

func (oneEventTrail) LookupEvents(context.Context, *cloudtrail.LookupEventsInput, ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	return &cloudtrail.LookupEventsOutput{Events: []cttypes.Event{{
		EventId: aws.String("ev-1"), EventName: aws.String("CreateUser"), EventSource: aws.String("iam.amazonaws.com"),
		EventTime:       aws.Time(time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)),
		CloudTrailEvent: aws.String(`{"sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15","awsRegion":"us-east-1"}`),
		Resources:       []cttypes.Resource{{ResourceType: aws.String("AWS::IAM::User"), ResourceName: aws.String("backdoor")}},
	}}}, nil
}

// Measure what a leaked key did and report it. Against AWS, clientFor
// returns cloudtrail.NewFromConfig of a configuration set to the region.
func ExampleMeasureKeyActivity() {
	clientFor := func(region string) keyrotate.LookupEventsAPI { return oneEventTrail{} }
	act, err := keyrotate.MeasureKeyActivity(context.Background(), clientFor, "AKIAEXAMPLELEAKED123", func(o *keyrotate.MeasureOptions) {
		o.Regions = []string{"us-east-1"}
		o.Window = 7 * 24 * time.Hour
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range act.Flagged {
		fmt.Println(e.Name, e.Flag, e.SourceIP, e.Resources)
	}
	for _, f := range act.Report("123456789012").Findings {
		fmt.Println(f.Status, f.Severity, f.Title)
	}
	// Output:
	// CreateUser persistence 203.0.113.7 [AWS::IAM::User backdoor]
	// FAIL CRITICAL Leaked key AKIAEXAMPLELEAKED123 made 1 calls (1 flagged) from 1 addresses
	// FAIL CRITICAL Leaked key AKIAEXAMPLELEAKED123 called CreateUser (persistence)
}

// Contain a leaked key, then release it after a false alarm.
func ExampleContainLeakedKey() {
	ctx := context.Background()
	var api keyrotate.ContainAPI // iam.NewFromConfig(cfg)
	if api == nil {
		return
	}
	c, err := keyrotate.ContainLeakedKey(ctx, api, "AKIAEXAMPLELEAKED123", func(o *keyrotate.ContainOptions) {
		o.RevokeSessions = true // temporary credentials minted with the key stop working too
		o.DisableConsole = true // the console password is deleted: it cannot be restored
	})
	if err != nil {
		fmt.Println(err) // an *awsguard.StepError: run it again, it carries out only what is left
		return
	}
	fmt.Println(c.Summary)
}
