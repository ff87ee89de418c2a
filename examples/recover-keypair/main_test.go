package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func launch(t *testing.T) string {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	out, err := ec2.NewFromConfig(env.Config()).RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String("ami-760aaa0f"), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func runArgs(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code = cli.Fail(&errOut, "recover-keypair", err)
	return code, out.String(), errOut.String()
}

// A dry run prints the plan; a repair writes the key 0600 and prints
// nothing of it.
func TestRecoverKeypair(t *testing.T) {
	id := launch(t)
	dir := t.TempDir()
	code, out, errOut := runArgs("-instance", id, "-strategy", "repair", "-dry-run", "-format", "json", "-poll-delay", "1ms")
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	var plan struct {
		Strategy string `json:"strategy"`
		Reason   string `json:"reason"`
		Actions  []any  `json:"actions"`
		// The EC2 DryRun checks: moto allows every one.
		Permissions []struct {
			Action, Result string
		} `json:"permissions"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || plan.Strategy != "repair" || plan.Reason != "dry run" || len(plan.Actions) < 10 ||
		len(plan.Permissions) == 0 || plan.Permissions[0].Action != "ec2:CreateTags" || plan.Permissions[0].Result != "allowed" {
		t.Errorf("dry run output %v: %s", err, out)
	}
	key := filepath.Join(dir, "key.pem")
	code, out, errOut = runArgs("-instance", id, "-strategy", "repair", "-key-out", key, "-journal", filepath.Join(dir, "j.json"), "-poll-delay", "1ms")
	if code != 0 {
		t.Fatalf("repair: exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(key)
	st, _ := os.Stat(key)
	if err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(string(b), "OPENSSH PRIVATE KEY") {
		t.Fatalf("key file: %v %v", st, err)
	}
	if strings.Contains(out+errOut, "PRIVATE KEY") || strings.Contains(out, string(b[40:80])) {
		t.Errorf("the private key was printed")
	}
	if !strings.Contains(out, "strategy: repair") || !strings.Contains(out, "written to "+key) {
		t.Errorf("output:\n%s", out)
	}
	// A finished recovery has nothing to resume or roll back.
	if code, out, errOut = runArgs("-resume", "-journal", filepath.Join(dir, "j.json")); code != 0 || !strings.Contains(out, "already compliant") {
		t.Errorf("resume: %d %s %s", code, out, errOut)
	}
	// The key file is never overwritten.
	if code, _, errOut = runArgs("-instance", id, "-strategy", "repair", "-key-out", key, "-poll-delay", "1ms"); code != 1 || !strings.Contains(errOut, "key file exists") {
		t.Errorf("existing key file: %d %s", code, errOut)
	}
}

func TestRecoverKeypairUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "-instance: required"},
		{[]string{"-instance", "i-0123456789abcdef0"}, "-key-out: required"},
		{[]string{"-resume"}, "-journal: required"},
		{[]string{"-resume", "-rollback", "-journal", "j"}, "choose one"},
	} {
		code, _, errOut := runArgs(tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errOut)
		}
	}
	if code, _, _ := runArgs("-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}

// A bad -strategy is named by its flag (exit 2), before any AWS call.
func TestRecoverKeypairBadStrategy(t *testing.T) {
	launch(t)
	code, _, errOut := runArgs("-instance", "i-0123456789abcdef0", "-dry-run", "-strategy", "reboot")
	if code != 2 || !strings.Contains(errOut, "-strategy \"reboot\"") {
		t.Errorf("exit %d: %q", code, errOut)
	}
}
