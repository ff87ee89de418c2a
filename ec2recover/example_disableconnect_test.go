package ec2recover_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard/ec2recover"
)

// removeSSM is an ec2recover.RunCommand whose commands succeed at once,
// reporting that the agent package was removed.
type removeSSM struct{}

func (removeSSM) SendCommand(context.Context, *ssm.SendCommandInput, ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	return &ssm.SendCommandOutput{Command: &ssmtypes.Command{CommandId: aws.String("c-1")}}, nil
}

func (removeSSM) GetCommandInvocation(context.Context, *ssm.GetCommandInvocationInput, ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	return &ssm.GetCommandInvocationOutput{Status: ssmtypes.CommandInvocationStatusSuccess,
		StandardOutputContent: aws.String("ec2recover-eic: removed\n")}, nil
}

// denyIAM is an ec2recover.DenyPolicyIAM for an account without the deny
// policy: it creates it and attaches it; nothing else is expected.
type denyIAM struct{}

var errUnexpected = errors.New("not expected in this example")

func (denyIAM) ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	return &iam.ListPoliciesOutput{}, nil
}

func (denyIAM) CreatePolicy(_ context.Context, in *iam.CreatePolicyInput, _ ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	return &iam.CreatePolicyOutput{Policy: &iamtypes.Policy{PolicyName: in.PolicyName,
		Arn: aws.String("arn:aws:iam::123456789012:policy" + aws.ToString(in.Path) + aws.ToString(in.PolicyName))}}, nil
}

func (denyIAM) AttachGroupPolicy(context.Context, *iam.AttachGroupPolicyInput, ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error) {
	return &iam.AttachGroupPolicyOutput{}, nil
}

func (denyIAM) GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	return nil, errUnexpected
}

func (denyIAM) DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error) {
	return nil, errUnexpected
}

func (denyIAM) ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	return nil, errUnexpected
}

func (denyIAM) DetachGroupPolicy(context.Context, *iam.DetachGroupPolicyInput, ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error) {
	return nil, errUnexpected
}

var _ ec2recover.DenyPolicyIAM = denyIAM{}

// DisableInstanceConnect removes the Instance Connect agent through SSM
// Run Command (apt-get on Debian, dnf or yum on Amazon Linux; an instance
// of a family without a removal command is skipped and reported), and
// with DenyGroups denies ec2-instance-connect:* to those groups. (Fakes stand in for EC2, SSM and IAM; the polls wait a
// millisecond.)
func ExampleDisableInstanceConnect() {
	c := ec2recover.DisableClients{EC2: connectEC2{}, SSM: removeSSM{}, IAM: denyIAM{}}
	res, err := ec2recover.DisableInstanceConnect(context.Background(), c, []string{"i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"},
		func(o *ec2recover.DisableOptions) {
			o.DenyGroups = []string{"ops"}
			o.Wait = ec2recover.WaitOptions{MinDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxWait: time.Second}
		})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Reason)
	for _, line := range res.Describe() {
		fmt.Println(" ", line)
	}
	for _, i := range res.Instances {
		fmt.Println(i.InstanceID, i.Family, i.Outcome)
	}
	// Output:
	// applied
	//   remove the ec2-instance-connect package from i-0aaaaaaaaaaaaaaa1 (amazon-linux-2023)
	//   remove the ec2-instance-connect package from i-0bbbbbbbbbbbbbbb2 (debian)
	//   create policy awsguard-deny-instance-connect denying ec2-instance-connect:*
	//   attach awsguard-deny-instance-connect to group ops
	// i-0aaaaaaaaaaaaaaa1 amazon-linux-2023 removed
	// i-0bbbbbbbbbbbbbbb2 debian removed
}
