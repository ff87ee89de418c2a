package ec2recover_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/awsguard/awsguard/ec2recover"
)

// ready is an EBS-backed Linux instance that every strategy could use,
// but for its SSM agent.
func ready() ec2recover.Facts {
	return ec2recover.Facts{
		InstanceID: "i-0123456789abcdef0", InstanceState: "running", Platform: "linux", ImageName: "al2023-ami-2023.6",
		AvailabilityZone: "us-east-1a", RootDeviceName: "/dev/xvda", RootDeviceType: "ebs", RootVolumeID: "vol-1",
		SSM: ec2recover.SSMUnknown, CloudInit: true, HelperImageID: "ami-1", HelperSubnetID: "subnet-1", HelperProfile: true,
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edit     func(*ec2recover.Facts)
		allowASG bool
		want     ec2recover.State
	}{
		{"running", func(*ec2recover.Facts) {}, false, ec2recover.StateReady},
		{"stopped", func(f *ec2recover.Facts) { f.InstanceState = "stopped" }, false, ec2recover.StateReady},
		{"stopping", func(f *ec2recover.Facts) { f.InstanceState = "stopping" }, false, ec2recover.StateTransitional},
		{"pending", func(f *ec2recover.Facts) { f.InstanceState = "pending" }, false, ec2recover.StateTransitional},
		{"terminated", func(f *ec2recover.Facts) { f.InstanceState = "terminated" }, false, ec2recover.StateGone},
		{"windows", func(f *ec2recover.Facts) { f.Platform = "windows" }, false, ec2recover.StateWindows},
		{"instance store", func(f *ec2recover.Facts) { f.RootDeviceType = "instance-store" }, false, ec2recover.StateInstanceStore},
		{"auto scaling", func(f *ec2recover.Facts) { f.AutoScalingGroup = "web" }, false, ec2recover.StateAutoScaled},
		{"auto scaling allowed", func(f *ec2recover.Facts) { f.AutoScalingGroup = "web" }, true, ec2recover.StateReady},
		{"unfinished recovery", func(f *ec2recover.Facts) { f.RecoveryID = "rk-1" }, false, ec2recover.StateInProgress},
		{"terminated beats unfinished", func(f *ec2recover.Facts) { f.RecoveryID = "rk-1"; f.InstanceState = "terminated" }, false, ec2recover.StateGone},
	} {
		f := ready()
		tc.edit(&f)
		if got := ec2recover.Classify(f, tc.allowASG); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Auto's choice over preflight states: the least disruptive strategy
// possible, and for each one passed over the reason.
func TestChooseAuto(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*ec2recover.Facts)
		asked  ec2recover.Strategy
		want   ec2recover.Strategy
		refuse []string // substrings of the refusal, when refused
	}{
		{"ssm online", func(f *ec2recover.Facts) { f.SSM = ec2recover.SSMOnline }, ec2recover.StrategyAuto, ec2recover.StrategySSM, nil},
		{"ssm online but stopped", func(f *ec2recover.Facts) { f.SSM, f.InstanceState = ec2recover.SSMOnline, "stopped" }, ec2recover.StrategyAuto, ec2recover.StrategyRepair, nil},
		{"ssm unknown", func(*ec2recover.Facts) {}, ec2recover.StrategyAuto, ec2recover.StrategyRepair, nil},
		{"ssm offline", func(f *ec2recover.Facts) { f.SSM = ec2recover.SSMOffline }, ec2recover.StrategyAuto, ec2recover.StrategyRepair, nil},
		{"marketplace, ssm online", func(f *ec2recover.Facts) { f.SSM, f.ProductCodes = ec2recover.SSMOnline, []string{"abc"} }, ec2recover.StrategyAuto, ec2recover.StrategySSM, nil},
		{"marketplace", func(f *ec2recover.Facts) { f.ProductCodes = []string{"abc"} }, ec2recover.StrategyAuto, "", []string{"marketplace product codes (abc)", "ssm: the instance is not an SSM managed instance"}},
		{"kms unusable", func(f *ec2recover.Facts) {
			f.RootEncrypted, f.RootKMSKeyID, f.KMS, f.KMSDetail = true, "arn:aws:kms:us-east-1:1:key/k", ec2recover.KMSUnusable, "AccessDeniedException"
		}, ec2recover.StrategyAuto, "", []string{"KMS key arn:aws:kms:us-east-1:1:key/k that the caller cannot use (AccessDeniedException)"}},
		{"kms unchecked", func(f *ec2recover.Facts) { f.RootEncrypted, f.KMS = true, ec2recover.KMSUnchecked }, ec2recover.StrategyRepair, "", []string{"no KMS client"}},
		{"kms usable", func(f *ec2recover.Facts) { f.RootEncrypted, f.KMS = true, ec2recover.KMSUsable }, ec2recover.StrategyAuto, ec2recover.StrategyRepair, nil},
		{"no helper subnet", func(f *ec2recover.Facts) { f.HelperProblem = "no subnet for the helper in us-east-1a" }, ec2recover.StrategyAuto, ec2recover.StrategyRelaunch, nil},
		{"no helper subnet, repair asked", func(f *ec2recover.Facts) { f.HelperProblem = "no subnet for the helper in us-east-1a" }, ec2recover.StrategyRepair, "", []string{"repair: no subnet for the helper"}},
		{"login user known", func(f *ec2recover.Facts) { f.LoginUser = "ec2-user" }, ec2recover.StrategyAuto, ec2recover.StrategyUserData, nil},
		{"login user known, no cloud-init", func(f *ec2recover.Facts) { f.LoginUser, f.CloudInit = "ec2-user", false }, ec2recover.StrategyAuto, ec2recover.StrategyRepair, nil},
		{"login user known, ssm online", func(f *ec2recover.Facts) { f.LoginUser, f.SSM = "ec2-user", ec2recover.SSMOnline }, ec2recover.StrategyAuto, ec2recover.StrategySSM, nil},
		{"marketplace, login user known", func(f *ec2recover.Facts) { f.LoginUser, f.ProductCodes = "ubuntu", []string{"abc"} }, ec2recover.StrategyAuto, ec2recover.StrategyUserData, nil},
		{"userdata asked, login user unknown", func(*ec2recover.Facts) {}, ec2recover.StrategyUserData, "", []string{"give Options.LoginUser"}},
		{"no helper profile", func(f *ec2recover.Facts) { f.HelperProfile = false }, ec2recover.StrategyRepair, "", []string{"instance profile"}},
		{"ssm asked, not managed", func(f *ec2recover.Facts) { f.SSM = ec2recover.SSMNotManaged }, ec2recover.StrategySSM, "", []string{"ssm: the instance is not an SSM managed instance with its agent online (SSM: not-managed)"}},
		{"repair asked though ssm online", func(f *ec2recover.Facts) { f.SSM = ec2recover.SSMOnline }, ec2recover.StrategyRepair, ec2recover.StrategyRepair, nil},
	} {
		f := ready()
		tc.edit(&f)
		got, err := ec2recover.Choose(tc.asked, ec2recover.Assess(f))
		if tc.refuse == nil {
			if err != nil || got != tc.want {
				t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		if !errors.Is(err, ec2recover.ErrRefused) {
			t.Errorf("%s: %q, %v; want ErrRefused", tc.name, got, err)
			continue
		}
		for _, s := range tc.refuse {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %v; want it to say %q", tc.name, err, s)
			}
		}
	}
}

func TestStateStrings(t *testing.T) {
	for s := ec2recover.StateReady; s <= ec2recover.StateInProgress; s++ {
		if strings.HasPrefix(s.String(), "State(") {
			t.Errorf("state %d has no name", int(s))
		}
	}
}
