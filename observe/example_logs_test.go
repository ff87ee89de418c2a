package observe_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/awsguard/awsguard/observe"
)

// fakeLogs is an observe.LogGroupsAPI holding log groups in memory.
type fakeLogs struct {
	groups []logtypes.LogGroup
	tags   map[string]map[string]string // by log group ARN
}

func (f *fakeLogs) DescribeLogGroups(context.Context, *cloudwatchlogs.DescribeLogGroupsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error) {
	return &cloudwatchlogs.DescribeLogGroupsOutput{LogGroups: f.groups}, nil
}

func (f *fakeLogs) CreateLogGroup(_ context.Context, in *cloudwatchlogs.CreateLogGroupInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error) {
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:" + aws.ToString(in.LogGroupName) + ":*"
	f.groups = append(f.groups, logtypes.LogGroup{LogGroupName: in.LogGroupName, Arn: aws.String(arn)})
	if f.tags == nil {
		f.tags = map[string]map[string]string{}
	}
	f.tags[arn] = in.Tags
	return &cloudwatchlogs.CreateLogGroupOutput{}, nil
}

func (f *fakeLogs) ListTagsForResource(_ context.Context, in *cloudwatchlogs.ListTagsForResourceInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error) {
	return &cloudwatchlogs.ListTagsForResourceOutput{Tags: f.tags[aws.ToString(in.ResourceArn)]}, nil
}

func (f *fakeLogs) PutRetentionPolicy(_ context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error) {
	for i := range f.groups {
		if aws.ToString(f.groups[i].LogGroupName) == aws.ToString(in.LogGroupName) {
			f.groups[i].RetentionInDays = in.RetentionInDays
		}
	}
	return &cloudwatchlogs.PutRetentionPolicyOutput{}, nil
}

func (f *fakeLogs) AssociateKmsKey(context.Context, *cloudwatchlogs.AssociateKmsKeyInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.AssociateKmsKeyOutput, error) {
	return &cloudwatchlogs.AssociateKmsKeyOutput{}, nil
}

var _ observe.LogGroupsAPI = (*fakeLogs)(nil)

// EnsureLogGroups creates the groups that are missing and raises a
// retention that is too short; a second run finds nothing to do. (A fake
// CloudWatch Logs stands in for AWS.)
func ExampleEnsureLogGroups() {
	ctx := context.Background()
	api := &fakeLogs{groups: []logtypes.LogGroup{{LogGroupName: aws.String("/app/web"), RetentionInDays: aws.Int32(7)}}}
	want := []observe.LogGroup{{Name: "/app/web", RetentionDays: 365}, {Name: "/app/worker", RetentionDays: 365}}
	res, err := observe.EnsureLogGroups(ctx, api, want)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range res.Describe() {
		fmt.Println(line)
	}
	again, _ := observe.EnsureLogGroups(ctx, api, want)
	fmt.Println(again.Reason)
	// Output:
	// keep the events of /app/web for 365 days
	// create log group /app/worker tagged awsguard:managed
	// keep the events of /app/worker for 365 days
	// already compliant
}
