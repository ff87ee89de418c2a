package inspect_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard/inspect"
)

// fakeInspector is an inspect.EnableAPI for one account: Enable turns the
// types it is given ENABLING, and the next status read finds them ENABLED,
// as Inspector does after a while.
type fakeInspector struct {
	enabled, enabling []i2types.ResourceScanType
}

func (f *fakeInspector) BatchGetAccountStatus(context.Context, *inspector2.BatchGetAccountStatusInput, ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error) {
	state := func(t i2types.ResourceScanType) *i2types.State {
		switch {
		case slices.Contains(f.enabled, t):
			return &i2types.State{Status: i2types.StatusEnabled}
		case slices.Contains(f.enabling, t):
			return &i2types.State{Status: i2types.StatusEnabling}
		}
		return &i2types.State{Status: i2types.StatusDisabled}
	}
	out := &inspector2.BatchGetAccountStatusOutput{Accounts: []i2types.AccountState{{AccountId: aws.String("123456789012"),
		State: state(i2types.ResourceScanTypeEc2),
		ResourceState: &i2types.ResourceState{Ec2: state(i2types.ResourceScanTypeEc2), Ecr: state(i2types.ResourceScanTypeEcr),
			Lambda: state(i2types.ResourceScanTypeLambda), LambdaCode: state(i2types.ResourceScanTypeLambdaCode)}}}}
	f.enabled, f.enabling = append(f.enabled, f.enabling...), nil
	return out, nil
}

func (f *fakeInspector) Enable(_ context.Context, in *inspector2.EnableInput, _ ...func(*inspector2.Options)) (*inspector2.EnableOutput, error) {
	f.enabling = append(f.enabling, in.ResourceTypes...)
	return &inspector2.EnableOutput{}, nil
}

var _ inspect.EnableAPI = (*fakeInspector)(nil)

// Enable turns Inspector on for the resource types asked and waits until
// each is ENABLED; a second run finds nothing to do. (A fake Inspector
// stands in for AWS.)
func ExampleEnable() {
	ctx := context.Background()
	api := &fakeInspector{}
	opts := func(o *inspect.InspectorOptions) {
		o.Region = "ap-northeast-2"
		o.ResourceTypes = []i2types.ResourceScanType{i2types.ResourceScanTypeEc2, i2types.ResourceScanTypeEcr}
		o.PollMinDelay, o.PollMaxDelay = time.Millisecond, time.Millisecond
	}
	plan, err := inspect.Enable(ctx, api, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range plan.Describe() {
		fmt.Println(line)
	}
	again, _ := inspect.Enable(ctx, api, opts)
	fmt.Println(again.Reason)
	// Output:
	// enable Inspector for EC2, ECR in ap-northeast-2
	// wait until EC2, ECR are ENABLED
	// already compliant
}
