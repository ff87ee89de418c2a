package inspect_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/inspect"
)

// fakeGroupEC2 is an inspect.ExposureAPI holding one security group in
// memory: its IPv4 ingress rules and its tags.
type fakeGroupEC2 struct {
	id    string
	rules []ec2types.IpPermission
	tags  []ec2types.Tag
}

func sameRule(a, b ec2types.IpPermission) bool {
	return aws.ToString(a.IpProtocol) == aws.ToString(b.IpProtocol) && aws.ToInt32(a.FromPort) == aws.ToInt32(b.FromPort) &&
		aws.ToInt32(a.ToPort) == aws.ToInt32(b.ToPort) && len(a.IpRanges) == 1 && len(b.IpRanges) == 1 &&
		aws.ToString(a.IpRanges[0].CidrIp) == aws.ToString(b.IpRanges[0].CidrIp)
}

func (f *fakeGroupEC2) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String(f.id), GroupName: aws.String("bastion"),
		IpPermissions: slices.Clone(f.rules), Tags: slices.Clone(f.tags)}}}, nil
}

func (f *fakeGroupEC2) AuthorizeSecurityGroupIngress(_ context.Context, in *ec2.AuthorizeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error) {
	f.rules = append(f.rules, in.IpPermissions...)
	return &ec2.AuthorizeSecurityGroupIngressOutput{}, nil
}

func (f *fakeGroupEC2) RevokeSecurityGroupIngress(_ context.Context, in *ec2.RevokeSecurityGroupIngressInput, _ ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error) {
	for _, p := range in.IpPermissions {
		f.rules = slices.DeleteFunc(f.rules, func(r ec2types.IpPermission) bool { return sameRule(r, p) })
	}
	return &ec2.RevokeSecurityGroupIngressOutput{}, nil
}

func (f *fakeGroupEC2) CreateTags(_ context.Context, in *ec2.CreateTagsInput, _ ...func(*ec2.Options)) (*ec2.CreateTagsOutput, error) {
	f.tags = append(f.tags, in.Tags...)
	return &ec2.CreateTagsOutput{}, nil
}

func (f *fakeGroupEC2) DeleteTags(_ context.Context, in *ec2.DeleteTagsInput, _ ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error) {
	for _, t := range in.Tags {
		f.tags = slices.DeleteFunc(f.tags, func(x ec2types.Tag) bool { return aws.ToString(x.Key) == aws.ToString(t.Key) })
	}
	return &ec2.DeleteTagsOutput{}, nil
}

func (f *fakeGroupEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{}, nil
}

func (f *fakeGroupEC2) DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	return &ec2.DescribeManagedPrefixListsOutput{}, nil
}

func (f *fakeGroupEC2) GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	return &ec2.GetManagedPrefixListEntriesOutput{}, nil
}

var _ inspect.ExposureAPI = (*fakeGroupEC2)(nil)

// CloseExposure revokes the rule that opens SSH to the internet, after
// recording it on the group; a second run finds nothing open; and
// RestoreExposure, allowed to weaken, puts it back from the record. (A
// fake EC2 holding one security group stands in for AWS.)
func ExampleCloseExposure() {
	ctx := context.Background()
	api := &fakeGroupEC2{id: "sg-0123456789abcdef0", rules: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"),
		FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}
	target := inspect.Target{GroupID: api.id, Port: 22}
	plan, err := inspect.CloseExposure(ctx, api, target)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range plan.Describe() {
		fmt.Println(line)
	}
	again, _ := inspect.CloseExposure(ctx, api, target)
	fmt.Println(again.Reason, len(api.rules), "rules left")

	_, err = inspect.RestoreExposure(ctx, api, target)
	fmt.Println(err != nil) // reopening SSH weakens the group: refused unless allowed
	back, err := inspect.RestoreExposure(ctx, api, target, func(o *inspect.RestoreOptions) { o.AllowWeaken = true })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range back.Describe() {
		fmt.Println(line)
	}
	// Output:
	// record sg-0123456789abcdef0 tcp 22 from 0.0.0.0/0 in tag awsguard:revoked:tcp:22-22:0.0.0.0/0
	// revoke sg-0123456789abcdef0 tcp 22 from 0.0.0.0/0
	// already compliant 0 rules left
	// true
	// authorize sg-0123456789abcdef0 tcp 22 from 0.0.0.0/0
	// delete tag awsguard:revoked:tcp:22-22:0.0.0.0/0
}
