package ec2recover_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// Recover access to an instance, with the key written 0600 before
// anything in AWS changes and every step journaled.
func ExampleRecoverLostKeyPair() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return
	}
	rec, err := ec2recover.RecoverLostKeyPair(ctx, ec2recover.ClientsFromConfig(cfg), "i-0123456789abcdef0", func(o *ec2recover.Options) {
		o.KeyFile = "recovered.pem"
		o.Journal = ec2recover.FileJournal{Path: "recovery.json"}
	})
	var se *awsguard.StepError
	switch {
	case errors.Is(err, ec2recover.ErrRefused):
		fmt.Println("nothing changed:", err)
	case errors.As(err, &se):
		fmt.Println("step", se.Step, "failed; rolled back:", se.RolledBack, "to do:", se.ToDo)
	case err == nil:
		fmt.Println(rec.Strategy, rec.Downtime, rec.NewPublicIP, rec.Key.Fingerprint)
	}
}

// The strategy choice is a pure function of what the preflight read.
func ExampleChoose() {
	f := ec2recover.Facts{
		InstanceID: "i-0123456789abcdef0", InstanceState: "running", Platform: "linux",
		RootDeviceType: "ebs", RootDeviceName: "/dev/xvda", SSM: ec2recover.SSMNotManaged,
		ProductCodes: []string{"marketplace-code"},
		ImageName:    "al2023-ami-2023.6", CloudInit: true, LoginUser: "ec2-user",
	}
	s, err := ec2recover.Choose(ec2recover.StrategyAuto, ec2recover.Assess(f))
	fmt.Println(s, err)
	for _, c := range ec2recover.Assess(f) {
		fmt.Printf("%s possible=%v\n", c.Strategy, c.Possible)
	}
	// Output:
	// userdata <nil>
	// ssm possible=false
	// userdata possible=true
	// repair possible=false
	// relaunch possible=false
}

// The injection script prints one report line that the Go side reads back.
func ExampleParseScriptOutput() {
	r, found := ec2recover.ParseScriptOutput("mounting...\nec2recover-result: ok user=ec2-user uid=1000 gid=1000 home=/home/ec2-user action=appended fs=xfs device=/dev/nvme1n1p1 selinux=none\n")
	fmt.Println(found, r.OK, r.Fields["user"], r.Fields["fs"], r.Fields["action"])
	// Output: true true ec2-user xfs appended
}
