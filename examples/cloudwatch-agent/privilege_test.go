package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/observe"
)

// launch starts an instance on the emulator, its root device mapped
// explicitly (MOTO.md).
func launch(t *testing.T, api *ec2.Client) string {
	t.Helper()
	ctx := context.Background()
	imgs, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"amzn2-ami-*"}}}})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("images: %v", err)
	}
	img := imgs.Images[0]
	inst, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: img.ImageId, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []ec2types.BlockDeviceMapping{{DeviceName: img.RootDeviceName, Ebs: &ec2types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(inst.Instances[0].InstanceId)
}

func resultOf(t *testing.T, r clitest.Result) Result {
	t.Helper()
	var res Result
	if r.Code != 0 {
		t.Fatalf("code %d: %s", r.Code, r.Stderr)
	}
	if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	return res
}

// The printed policy follows the command line: a dry run reads only;
// ec2:ReplaceIamInstanceProfileAssociation comes with -replace-profile
// only; logs:AssociateKmsKey never (no flag gives the groups a key).
func TestPrintPolicyFollowsFlags(t *testing.T) {
	calls := clitest.Offline(t)
	const id = "i-0123456789abcdef0"
	setup := clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id))
	replace := clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id, "-replace-profile"))
	if want := append(slices.Clone(setup), "ec2:ReplaceIamInstanceProfileAssociation"); !slices.Equal(replace, slices.Sorted(slices.Values(want))) {
		t.Errorf("-replace-profile adds more than the replacement: %v, without it %v", replace, setup)
	}
	if slices.Contains(setup, "logs:AssociateKmsKey") || slices.Contains(replace, "logs:AssociateKmsKey") {
		t.Error("the policy holds logs:AssociateKmsKey")
	}
	for _, args := range [][]string{{"-dry-run"}, {"-dry-run", "-replace-profile"}} {
		for _, a := range clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, append([]string{"-instance", id}, args...)...)) {
			_, op, _ := strings.Cut(a, ":")
			if !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") {
				t.Errorf("%v: the policy holds %s, which changes something", args, a)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// cloudwatch-agent -instance -replace-profile, setting an instance up and
// then running again over what someone changed since (the role's trust
// policy, a log group's retention removed, another profile associated
// with the instance), and -instance -dry-run over a set-up instance, run
// as a user holding exactly the printed policy, and fail without any one
// of its actions. (moto checks actions, not resources.) The permissions
// no call names (agentActions: tagging on creation, iam:PassRole) moto
// does not check, so they are left out of the proof
// (TestPrintPolicyUnnamedPermissions shows they are printed).
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg := env.EnforceAuth()
	admin, ec2api := iam.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	const operator = "agent-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	id := launch(t, ec2api)
	other, err := admin.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	group := observe.AgentConfig{WebServers: []observe.WebServer{observe.WebServer("httpd-amazon-linux")}, LogGroupPrefix: "/awsguard"}.LogGroups(365)[0].Name
	const role = "awsguard-cloudwatch-agent"
	association := func(t *testing.T) *ec2types.IamInstanceProfileAssociation {
		t.Helper()
		out, err := ec2api.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.IamInstanceProfileAssociations {
			if a.State == ec2types.IamInstanceProfileAssociationStateAssociated {
				return &a
			}
		}
		return nil
	}
	clean := func(t *testing.T) {
		t.Helper()
		if a := association(t); a != nil {
			if _, err := ec2api.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: a.AssociationId}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := observe.Teardown(ctx, observe.TeardownClients{IAM: admin, EC2: ec2api, SSM: ssm.NewFromConfig(cfg), Logs: logs},
			func(o *observe.TeardownOptions) { o.DeleteLogGroups, o.RemoveChanged = true, true }); err != nil {
			t.Fatal(err)
		}
	}
	// changed makes what a person might change after the set-up.
	changed := func(t *testing.T) {
		t.Helper()
		if _, err := admin.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := logs.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(group)}); err != nil {
			t.Fatal(err)
		}
		if a := association(t); a != nil {
			if _, err := ec2api.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: a.AssociationId,
				IamInstanceProfile: &ec2types.IamInstanceProfileSpecification{Arn: other.InstanceProfile.Arn}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	setup := []string{"-instance", id, "-replace-profile"}
	full := clitest.PrintPolicy(t, "cloudwatch-agent", run, setup...)
	for _, a := range agentActions {
		full = clitest.Without(full, a)
	}
	t.Run("setup", func(t *testing.T) {
		clitest.LeastPrivilege(t, full, nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clean(t)
			clitest.PutUserPolicy(t, admin, operator, "agent", doc)
			first := runAgent(t, setup...)
			if first.Code != 0 {
				return []clitest.Result{first}
			}
			changed(t)
			return []clitest.Result{first, runAgent(t, setup...)}
		})
	})
	t.Run("dry-run", func(t *testing.T) {
		clean(t)
		clitest.PutUserPolicy(t, admin, operator, "agent", full)
		// Set up, then again: the second run changes nothing.
		for i, applied := range []bool{true, false} {
			res := resultOf(t, runAgent(t, append(setup, "-format", "json")...))
			if res.LogGroups.Applied != applied || res.Role.Applied != applied || res.Apply.CommandID == "" {
				t.Fatalf("run %d: %+v", i+1, res)
			}
		}
		changed(t)
		dry := []string{"-instance", id, "-dry-run", "-replace-profile", "-format", "json"}
		dryDoc := clitest.PrintPolicy(t, "cloudwatch-agent", run, dry...)
		clitest.LeastPrivilege(t, dryDoc, nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clitest.PutUserPolicy(t, admin, operator, "agent", doc)
			return []clitest.Result{runAgent(t, dry...)}
		})
		// The dry runs changed nothing.
		clitest.PutUserPolicy(t, admin, operator, "agent", dryDoc)
		res := resultOf(t, runAgent(t, dry...))
		if res.Role.Reason != awsguard.ReasonDryRun || len(res.LogGroups.Actions) != 1 || len(res.Role.Actions) != 2 || res.Apply.CommandID != "" {
			t.Errorf("dry run = %+v", res)
		}
	})
}
