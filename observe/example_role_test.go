package observe_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/observe"
)

// fakeRoleIAM is an observe.AgentRoleIAMAPI holding one role and one
// instance profile in memory, as the calls leave them.
type fakeRoleIAM struct {
	role     *iamtypes.Role
	policies []string
	profile  *iamtypes.InstanceProfile
}

func noSuchEntity() error { return &iamtypes.NoSuchEntityException{Message: aws.String("not found")} }

func (f *fakeRoleIAM) GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	if f.role == nil {
		return nil, noSuchEntity()
	}
	return &iam.GetRoleOutput{Role: f.role}, nil
}

func (f *fakeRoleIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	f.role = &iamtypes.Role{RoleName: in.RoleName, Path: in.Path, AssumeRolePolicyDocument: in.AssumeRolePolicyDocument, Tags: in.Tags,
		Arn: aws.String("arn:aws:iam::123456789012:role" + aws.ToString(in.Path) + aws.ToString(in.RoleName))}
	return &iam.CreateRoleOutput{Role: f.role}, nil
}

func (f *fakeRoleIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	f.role.AssumeRolePolicyDocument = in.PolicyDocument
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (f *fakeRoleIAM) ListAttachedRolePolicies(context.Context, *iam.ListAttachedRolePoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	out := &iam.ListAttachedRolePoliciesOutput{}
	for _, p := range f.policies {
		out.AttachedPolicies = append(out.AttachedPolicies, iamtypes.AttachedPolicy{PolicyArn: aws.String(p)})
	}
	return out, nil
}

func (f *fakeRoleIAM) AttachRolePolicy(_ context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	f.policies = append(f.policies, aws.ToString(in.PolicyArn))
	return &iam.AttachRolePolicyOutput{}, nil
}

func (f *fakeRoleIAM) GetInstanceProfile(context.Context, *iam.GetInstanceProfileInput, ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error) {
	if f.profile == nil {
		return nil, noSuchEntity()
	}
	return &iam.GetInstanceProfileOutput{InstanceProfile: f.profile}, nil
}

func (f *fakeRoleIAM) CreateInstanceProfile(_ context.Context, in *iam.CreateInstanceProfileInput, _ ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error) {
	f.profile = &iamtypes.InstanceProfile{InstanceProfileName: in.InstanceProfileName, Path: in.Path, Tags: in.Tags,
		Arn: aws.String("arn:aws:iam::123456789012:instance-profile" + aws.ToString(in.Path) + aws.ToString(in.InstanceProfileName))}
	return &iam.CreateInstanceProfileOutput{InstanceProfile: f.profile}, nil
}

func (f *fakeRoleIAM) AddRoleToInstanceProfile(_ context.Context, in *iam.AddRoleToInstanceProfileInput, _ ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error) {
	f.profile.Roles = append(f.profile.Roles, iamtypes.Role{RoleName: in.RoleName})
	return &iam.AddRoleToInstanceProfileOutput{}, nil
}

var _ observe.AgentRoleIAMAPI = (*fakeRoleIAM)(nil)

// EnsureAgentRole makes the CloudWatch agent's role (trusted by EC2 only,
// with the agent's managed policy and, with SSM, Systems Manager's) and
// its instance profile, both tagged as awsguard's; a second run finds
// them in place and changes nothing. With AgentRole.InstanceID it also
// gives the instance the profile. (A fake IAM stands in for AWS.)
func ExampleEnsureAgentRole() {
	ctx := context.Background()
	c := observe.AgentRoleClients{IAM: &fakeRoleIAM{}}
	for range 2 {
		res, err := observe.EnsureAgentRole(ctx, c, observe.AgentRole{SSM: true})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Reason, res.ProfileARN)
		for _, line := range res.Describe() {
			fmt.Println(" ", line)
		}
	}
	// Output:
	// applied arn:aws:iam::123456789012:instance-profile/awsguard/awsguard-cloudwatch-agent
	//   create role /awsguard/awsguard-cloudwatch-agent for EC2 instances, tagged awsguard:managed
	//   attach arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy to role awsguard-cloudwatch-agent
	//   attach arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore to role awsguard-cloudwatch-agent
	//   create instance profile /awsguard/awsguard-cloudwatch-agent, tagged awsguard:managed
	//   put role awsguard-cloudwatch-agent in instance profile awsguard-cloudwatch-agent
	// already compliant arn:aws:iam::123456789012:instance-profile/awsguard/awsguard-cloudwatch-agent
}
