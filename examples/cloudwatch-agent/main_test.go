package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
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
