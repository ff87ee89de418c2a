package ec2recover_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/ec2recover"
)

// connectEC2 is an ec2recover.InstanceConnectEC2 with two running
// instances: one of Amazon Linux 2023 (which ships the Instance Connect
// agent) and one of Debian (which does not).
type connectEC2 struct{}

func (connectEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{Instances: []ec2types.Instance{
		{InstanceId: aws.String("i-0aaaaaaaaaaaaaaa1"), ImageId: aws.String("ami-0a1"), PlatformDetails: aws.String("Linux/UNIX")},
		{InstanceId: aws.String("i-0bbbbbbbbbbbbbbb2"), ImageId: aws.String("ami-0b2"), PlatformDetails: aws.String("Linux/UNIX")},
	}}}}, nil
}

func (connectEC2) DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error) {
	return &ec2.DescribeImagesOutput{Images: []ec2types.Image{
		{ImageId: aws.String("ami-0a1"), Name: aws.String("al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64")},
		{ImageId: aws.String("ami-0b2"), Name: aws.String("debian-12-amd64-20241201-1949")},
	}}, nil
}

// connectIAM is an ec2recover.InstanceConnectIAM whose account has one
// group allowed ec2-instance-connect:SendSSHPublicKey.
type connectIAM struct{}

func (connectIAM) GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	return &iam.GetAccountAuthorizationDetailsOutput{GroupDetailList: []iamtypes.GroupDetail{{GroupName: aws.String("ops"), Arn: aws.String("arn:aws:iam::123456789012:group/ops"),
		GroupPolicyList: []iamtypes.PolicyDetail{{PolicyName: aws.String("connect"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2-instance-connect:SendSSHPublicKey","Resource":"*"}]}`)}}}}}, nil
}

// AuditInstanceConnect finds where EC2 Instance Connect is a way in beside
// the key pairs: an OS that ships the agent, and someone allowed to send a
// key. (Fakes stand in for EC2 and IAM.)
func ExampleAuditInstanceConnect() {
	rep, err := ec2recover.AuditInstanceConnect(context.Background(), connectEC2{}, connectIAM{}, func(o *ec2recover.InstanceConnectOptions) {
		o.Account, o.Region = "123456789012", "ap-northeast-2"
		o.Now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Status, f.Title)
		fmt.Println("  granted to:", f.Evidence["granted_to"], "agent shipped:", f.Evidence["agent_shipped"])
	}
	// Output:
	// FAIL EC2 Instance Connect can be used on i-0aaaaaaaaaaaaaaa1 (amazon-linux-2023; 1 principals allowed)
	//   granted to: arn:aws:iam::123456789012:group/ops agent shipped: true
	// PASS Instance i-0bbbbbbbbbbbbbbb2 does not ship the EC2 Instance Connect agent (debian)
	//   granted to: arn:aws:iam::123456789012:group/ops agent shipped: false
}
