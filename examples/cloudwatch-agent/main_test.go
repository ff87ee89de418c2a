package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/observe"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestPrintsConfiguration(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-web", "nginx", "-file", "/srv/app.log=/app"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := observe.ValidateAgentConfig(out.Bytes()); err != nil || !strings.Contains(out.String(), "/var/log/nginx/access.log") || !strings.Contains(out.String(), "/srv/app.log") {
		t.Errorf("configuration: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"-web", "iis"}, {"-file", "nopath"}, {"-dry-run"}, {"-instance", "i-bad", "-endpoint-url", "http://127.0.0.1:1"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

func TestSetsUpInstance(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	api := ec2.NewFromConfig(env.Config())
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
	id := aws.ToString(inst.Instances[0].InstanceId)
	runJSON := func(args ...string) Result {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"-instance", id, "-format", "json"}, args...), &out, &errOut); err != nil {
			t.Fatalf("run %v: %v (%s)", args, err, errOut.String())
		}
		var res Result
		if err := json.Unmarshal(out.Bytes(), &res); err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		return res
	}
	dry := runJSON("-dry-run")
	if dry.Role.Reason != awsguard.ReasonDryRun || dry.Apply.CommandID != "" {
		t.Errorf("dry run = %+v", dry)
	}
	res := runJSON()
	if !res.LogGroups.Applied || !res.Role.Applied || res.Apply.CommandID == "" {
		t.Errorf("apply = %+v", res)
	}
	res = runJSON()
	if res.LogGroups.Applied || res.Role.Applied || len(res.Apply.Actions) != 1 {
		t.Errorf("second apply = %+v", res)
	}
}

// -print-policy holds the permissions no call names that setting an
// instance up needs: tagging on creation and iam:PassRole.
func TestPrintPolicyUnnamedPermissions(t *testing.T) {
	calls := clitest.Offline(t)
	const id = "i-0123456789abcdef0"
	got := clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id))
	for _, a := range append([]string{"logs:CreateLogGroup", "iam:CreateRole", "ec2:AssociateIamInstanceProfile", "ssm:PutParameter"}, agentActions...) {
		if !slices.Contains(got, a) {
			t.Errorf("policy lacks %s: %v", a, got)
		}
	}
	for _, want := range []string{"logs:TagResource", "iam:TagRole", "iam:TagInstanceProfile", "iam:PassRole", "ssm:AddTagsToResource"} {
		if !slices.Contains(agentActions, want) {
			t.Errorf("agentActions lacks %s", want)
		}
	}
	got = clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id, "-dry-run"))
	for _, a := range agentActions {
		if slices.Contains(got, a) {
			t.Errorf("-dry-run: policy holds %s: %v", a, got)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}
