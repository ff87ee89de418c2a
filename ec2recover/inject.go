package ec2recover

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// injectOnHelper runs the injection script on the helper, against the
// attached root volume.
func (x *executor) injectOnHelper(ctx context.Context) error {
	r := x.r
	script := Script(ScriptParams{VolumeID: r.RootVolumeID, Device: HelperDevice, MountDir: "/mnt/ec2recover-" + r.ID,
		PublicKey: r.PublicKey, LoginUser: r.LoginUser, Replace: r.ReplaceKeys})
	return x.runScript(ctx, r.HelperInstanceID, script)
}

// injectLive runs the injection script on the running instance itself.
func (x *executor) injectLive(ctx context.Context) error {
	r := x.r
	script := Script(ScriptParams{Live: true, PublicKey: r.PublicKey, LoginUser: r.LoginUser, Replace: r.ReplaceKeys})
	return x.runScript(ctx, r.InstanceID, script)
}

func (x *executor) runScript(ctx context.Context, instance, script string) error {
	r := x.r
	in := &ssm.SendCommandInput{
		DocumentName:   aws.String("AWS-RunShellScript"),
		InstanceIds:    []string{instance},
		Comment:        aws.String("ec2recover " + r.ID + ": add an SSH public key"),
		Parameters:     map[string][]string{"commands": {script}, "executionTimeout": {"600"}},
		TimeoutSeconds: aws.Int32(600),
	}
	var cmdID string
	// The helper's agent registers with SSM a while after boot; until then
	// SendCommand answers InvalidInstanceId.
	_, err := poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) {
		out, err := x.c.SSM.SendCommand(ctx, in)
		if awserr.HasCode(err, "InvalidInstanceId") {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		cmdID = aws.ToString(out.Command.CommandId)
		return true, nil
	})
	if err != nil {
		return wrap(err, "send the injection command to %s (is its SSM agent online?)", instance)
	}
	var inv *ssm.GetCommandInvocationOutput
	_, err = poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) {
		out, err := x.c.SSM.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(cmdID), InstanceId: aws.String(instance)})
		if awserr.HasCode(err, "InvocationDoesNotExist") {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		inv = out
		switch out.Status {
		case ssmtypes.CommandInvocationStatusPending, ssmtypes.CommandInvocationStatusInProgress, ssmtypes.CommandInvocationStatusDelayed:
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return wrap(err, "wait for command %s on %s", cmdID, instance)
	}
	res, found := ParseScriptOutput(aws.ToString(inv.StandardOutputContent))
	if inv.Status != ssmtypes.CommandInvocationStatusSuccess {
		if found && !res.OK {
			return fmt.Errorf("%w: step %s: %s (command %s on %s)", ErrInjection, res.Step, res.Message, cmdID, instance)
		}
		return fmt.Errorf("%w: command %s on %s: %s (exit code %d)", ErrCommandFailed, cmdID, instance, inv.Status, inv.ResponseCode)
	}
	if found && !res.OK {
		return fmt.Errorf("%w: step %s: %s (command %s on %s)", ErrInjection, res.Step, res.Message, cmdID, instance)
	}
	r.Injected = true
	if found {
		x.rec.LoginUser = res.Fields["user"]
		r.LoginUser = res.Fields["user"]
	} else {
		x.rec.Warnings = append(x.rec.Warnings, "command "+cmdID+" succeeded without report lines: the login user is not known")
	}
	return x.save(ctx)
}
