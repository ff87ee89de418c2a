package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func launchIn(t *testing.T, env *awstest.Env) string {
	t.Helper()
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

// A dry run prints the plan; a repair, run as a user holding only the
// policy -print-policy prints for it (moto enforcing authentication),
// writes the key 0600 and prints nothing of it.
func TestRecoverKeypair(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	id := launchIn(t, env)
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
	asUser(t, env, "recoverer", clitest.PrintPolicy(t, "recover-keypair", run, "-instance", id, "-strategy", "repair", "-key-out", key))
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

// asUser creates the IAM user user holding doc alone, enforces
// authentication, and points the configuration chain at the emulator
// with the user's key.
func asUser(t *testing.T, env *awstest.Env, user string, doc *awsguard.PolicyDocument) {
	t.Helper()
	ctx := context.Background()
	admin := iam.NewFromConfig(env.Config())
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	k, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	clitest.PutUserPolicy(t, admin, user, "recover-keypair", doc)
	env.EnforceAuth()
	env.SetEnv(aws.ToString(k.AccessKey.AccessKeyId), aws.ToString(k.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
}

// recover-keypair -dry-run runs as a user holding exactly the dry-run
// policy it prints (the preflight's reads, and the EC2 actions it checks
// with DryRun set), and fails without any one of them: a denied DryRun
// check is a failed dry run. Two actions of the printed policy are left
// off the user's, because moto cannot show them needed:
// ssm:DescribeInstanceInformation (moto does not implement it, and a
// denial reads as "SSM unknown" anyway) and kms:DescribeKey (called only
// for a root encrypted with a customer managed key).
func TestLeastPrivilegeDryRun(t *testing.T) {
	env := awstest.New(t)
	id := launchIn(t, env)
	doc := clitest.PrintPolicy(t, "recover-keypair", run, "-instance", id, "-strategy", "repair", "-dry-run")
	for _, a := range []string{"ssm:DescribeInstanceInformation", "kms:DescribeKey"} {
		if !slices.Contains(clitest.Actions(doc), a) {
			t.Fatalf("the dry-run policy lacks %s: %v", a, clitest.Actions(doc))
		}
		doc = clitest.Without(doc, a)
	}
	clitest.LeastPrivilegeAsUser(t, env, "planner", doc, func(t *testing.T, _ *iam.Client, allowed bool) bool {
		r := runRK(t, "-instance", id, "-strategy", "repair", "-dry-run", "-format", "json")
		if allowed && r.Code != 0 {
			t.Logf("with the printed policy: code %d, %s", r.Code, r.Stderr)
		}
		if !allowed && r.Code == 0 {
			t.Logf("denied: code %d, stderr %q", r.Code, r.Stderr)
		}
		return r.Code == 0
	})
}
