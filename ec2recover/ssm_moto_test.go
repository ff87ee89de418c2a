package ec2recover_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// guestSSM is the emulator's SSM with the in-guest part faked: which
// instances have their agent online, and what the script printed.
type guestSSM struct {
	ec2recover.RecoverSSM
	online map[string]bool
	// output, if set, replaces the invocation's status and output.
	status ssmtypes.CommandInvocationStatus
	output string
	sent   []ssm.SendCommandInput
}

func (g *guestSSM) DescribeInstanceInformation(ctx context.Context, in *ssm.DescribeInstanceInformationInput, _ ...func(*ssm.Options)) (*ssm.DescribeInstanceInformationOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := &ssm.DescribeInstanceInformationOutput{}
	for _, f := range in.Filters {
		for _, id := range f.Values {
			if g.online[id] {
				out.InstanceInformationList = append(out.InstanceInformationList, ssmtypes.InstanceInformation{InstanceId: aws.String(id), PingStatus: ssmtypes.PingStatusOnline})
			}
		}
	}
	return out, nil
}

func (g *guestSSM) SendCommand(ctx context.Context, in *ssm.SendCommandInput, opts ...func(*ssm.Options)) (*ssm.SendCommandOutput, error) {
	g.sent = append(g.sent, *in)
	return g.RecoverSSM.SendCommand(ctx, in, opts...)
}

func (g *guestSSM) GetCommandInvocation(ctx context.Context, in *ssm.GetCommandInvocationInput, opts ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error) {
	out, err := g.RecoverSSM.GetCommandInvocation(ctx, in, opts...)
	if err == nil && g.status != "" {
		out.Status, out.StandardOutputContent = g.status, aws.String(g.output)
		if g.status != ssmtypes.CommandInvocationStatusSuccess {
			out.ResponseCode = 1
		}
	}
	return out, err
}

// Auto picks SSM for an instance whose agent is online: one Run Command,
// nothing stops, nothing is created, the login user comes from the report.
func TestSSMOnlineMoto(t *testing.T) {
	w := newWorld(t, "running")
	c := w.clients()
	g := &guestSSM{RecoverSSM: c.SSM, online: map[string]bool{w.target: true}, status: ssmtypes.CommandInvocationStatusSuccess,
		output: "ec2recover-result: ok user=ubuntu uid=1000 gid=1000 home=/home/ubuntu action=appended fs=live device= selinux=none\n"}
	c.SSM = g
	before := w.instance(w.target)
	rec, err := ec2recover.RecoverLostKeyPair(context.Background(), c, w.target, w.opts()...)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Strategy != ec2recover.StrategySSM || rec.NewPublicIP || rec.LoginUser != "ubuntu" || len(rec.Actions) != 1 || !rec.Applied {
		t.Errorf("strategy %s new IP %v user %q actions %d applied %v", rec.Strategy, rec.NewPublicIP, rec.LoginUser, len(rec.Actions), rec.Applied)
	}
	if len(g.sent) != 1 || g.sent[0].InstanceIds[0] != w.target || !strings.Contains(g.sent[0].Parameters["commands"][0], rec.Key.PublicKey) {
		t.Errorf("commands sent: %+v", g.sent)
	}
	after := w.instance(w.target)
	if aws.ToString(after.PublicIpAddress) != aws.ToString(before.PublicIpAddress) {
		t.Errorf("public IP changed: %s -> %s", aws.ToString(before.PublicIpAddress), aws.ToString(after.PublicIpAddress))
	}
	w.checkRestored("after SSM", "running", false)
}

// A script that reports a failure fails the recovery with its step, and
// the repair is rolled back: the instance ends as it began.
func TestRepairInjectionFailsMoto(t *testing.T) {
	w := newWorld(t, "running")
	c := w.clients()
	c.SSM = &guestSSM{RecoverSSM: c.SSM, status: ssmtypes.CommandInvocationStatusFailed,
		output: "ec2recover-result: fail step=user msg=none of ec2-user ubuntu admin centos rocky fedora bitnami is in /etc/passwd: give the login user\n"}
	rec, err := ec2recover.RecoverLostKeyPair(context.Background(), c, w.target, w.opts(repair)...)
	var se *awsguard.StepError
	if !errors.Is(err, ec2recover.ErrInjection) || !errors.As(err, &se) || se.Step != ec2recover.ActionInjectKey || len(se.RolledBack) == 0 || se.ToDo != "" {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "give the login user") || !rec.RolledBack {
		t.Errorf("err = %v, rolled back %v", err, rec.RolledBack)
	}
	t.Logf("%v", err)
	w.checkRestored("after the failed injection", "running", false)
}
