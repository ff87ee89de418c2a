package observe_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/observe"
)

// testImage is an image of the emulator, read once: listing them is slow.
var testImage *ec2types.Image

// launch starts an instance in the emulator and returns its ID.
func launch(t *testing.T, cfg aws.Config) string {
	t.Helper()
	ctx := context.Background()
	api := ec2.NewFromConfig(cfg)
	if testImage == nil {
		imgs, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn2-ami-*"}}}})
		must(t, err)
		if len(imgs.Images) == 0 {
			t.Fatal("the emulator has no images")
		}
		testImage = &imgs.Images[0]
	}
	img := *testImage
	out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType:        ec2types.InstanceTypeT3Micro,
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: img.RootDeviceName, Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}}})
	must(t, err)
	return aws.ToString(out.Instances[0].InstanceId)
}

func agentClients(cfg aws.Config) observe.AgentRoleClients {
	return observe.AgentRoleClients{IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg)}
}

func profileOf(t *testing.T, cfg aws.Config, instance string) []string {
	out, err := ec2.NewFromConfig(cfg).DescribeIamInstanceProfileAssociations(context.Background(), &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{instance}}, {Name: aws.String("state"), Values: []string{"associated"}}}})
	must(t, err)
	var arns []string
	for _, a := range out.IamInstanceProfileAssociations {
		arns = append(arns, aws.ToString(a.IamInstanceProfile.Arn))
	}
	return arns
}

func TestEnsureAgentRoleMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg, calls := counted(env)
	inst := launch(t, cfg)
	want := observe.AgentRole{SSM: true, InstanceID: inst}

	dry, err := observe.EnsureAgentRole(ctx, agentClients(cfg), want, func(o *observe.Options) { o.DryRun = true })
	must(t, err)
	calls.Reset()
	if len(dry.Actions) != 6 || dry.Reason != awsguard.ReasonDryRun {
		t.Fatalf("dry run = %+v", dry.Plan)
	}
	res, err := observe.EnsureAgentRole(ctx, agentClients(cfg), want)
	must(t, err)
	if !res.Applied || res.AssociationID == "" || res.ProfileARN != "arn:aws:iam::123456789012:instance-profile/awsguard/awsguard-cloudwatch-agent" {
		t.Fatalf("apply = %+v", res)
	}
	pols, err := iam.NewFromConfig(cfg).ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("awsguard-cloudwatch-agent")})
	must(t, err)
	if len(pols.AttachedPolicies) != 2 {
		t.Errorf("policies = %+v", pols.AttachedPolicies)
	}
	calls.Reset()
	again, err := observe.EnsureAgentRole(ctx, agentClients(cfg), want)
	must(t, err)
	if again.Applied || again.Reason != awsguard.ReasonAlreadyCompliant || len(mutating(calls)) != 0 {
		t.Fatalf("second run = %+v, calls %v", again.Plan, mutating(calls))
	}
	// An instance with another profile keeps it unless asked.
	other := launch(t, cfg)
	api := iam.NewFromConfig(cfg)
	_, err = api.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("theirs")})
	must(t, err)
	_, err = ec2.NewFromConfig(cfg).AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(other),
		IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Name: aws.String("theirs")}})
	must(t, err)
	calls.Reset()
	_, err = observe.EnsureAgentRole(ctx, agentClients(cfg), observe.AgentRole{InstanceID: other})
	if !errors.Is(err, observe.ErrProfileAssociated) || len(mutating(calls)) != 0 {
		t.Fatalf("err = %v, calls %v", err, mutating(calls))
	}
	_, err = observe.EnsureAgentRole(ctx, agentClients(cfg), observe.AgentRole{InstanceID: other, ReplaceAssociation: true, SSM: true})
	must(t, err)
	if got := profileOf(t, cfg, other); len(got) != 1 || got[0] != res.ProfileARN {
		t.Errorf("profile of %s = %v", other, got)
	}

	// Teardown takes the profile off both instances and removes the role;
	// the unrelated profile and a role under the path stay.
	_, err = api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("unrelated"), Path: aws.String(observe.RolePath),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(t, err)
	tc := teardownClients(cfg)
	tc.IAM, tc.EC2 = api, ec2.NewFromConfig(cfg)
	td, err := observe.Teardown(ctx, tc)
	must(t, err)
	var kinds []string
	for _, a := range td.Actions {
		if !slices.Contains(kinds, a.Kind) {
			kinds = append(kinds, a.Kind)
		}
	}
	if d := cmpDiff([]string{"disassociate-profile", "remove-role-from-profile", "delete-instance-profile", "detach-policy", "delete-role"}, kinds); d != "" {
		t.Errorf("teardown kinds (-want +got):\n%s", d)
	}
	if got := profileOf(t, cfg, inst); len(got) != 0 {
		t.Errorf("instance still has %v", got)
	}
	roles, err := api.ListRoles(ctx, &iam.ListRolesInput{})
	must(t, err)
	if len(roles.Roles) != 1 || aws.ToString(roles.Roles[0].RoleName) != "unrelated" {
		t.Errorf("roles left = %d", len(roles.Roles))
	}
	profs, err := api.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	must(t, err)
	if len(profs.InstanceProfiles) != 1 || aws.ToString(profs.InstanceProfiles[0].InstanceProfileName) != "theirs" {
		t.Errorf("profiles left = %+v", profs.InstanceProfiles)
	}
	again2, err := observe.Teardown(ctx, tc)
	must(t, err)
	if again2.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second teardown = %+v", again2.Plan)
	}
}
