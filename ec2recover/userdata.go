package ec2recover

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/poll"
)

// The kinds of the user-data strategy's actions that the repair does not
// share.
const (
	ActionSaveUserData    = "save-user-data"
	ActionSetUserData     = "set-user-data"
	ActionBootWithKey     = "boot-with-key"
	ActionConfirmKey      = "confirm-key"
	ActionStopAfterBoot   = "stop-after-boot"
	ActionRestoreUserData = "restore-user-data"
)

// MaxUserData is the size EC2 allows user data before base64.
const MaxUserData = 16 * 1024

// defaultUsers maps image name prefixes to the login user cloud-init
// makes on them.
var defaultUsers = []struct{ prefix, user string }{
	{"amzn", "ec2-user"}, {"al2023", "ec2-user"}, {"ubuntu/", "ubuntu"}, {"debian", "admin"},
	{"rhel", "ec2-user"}, {"RHEL", "ec2-user"}, {"centos", "centos"}, {"CentOS", "centos"},
	{"rocky", "rocky"}, {"Rocky", "rocky"}, {"fedora", "fedora"}, {"Fedora", "fedora"},
	{"suse", "ec2-user"}, {"almalinux", "ec2-user"}, {"AlmaLinux", "ec2-user"},
}

func defaultUser(imageName string) string {
	for _, d := range defaultUsers {
		if strings.HasPrefix(imageName, d.prefix) {
			return d.user
		}
	}
	return ""
}

func planUserData(rec *Recovery, r *Record) {
	id := r.InstanceID
	add := func(kind, call, detail, why string) {
		rec.Add(awsguard.Action{Kind: kind, Call: call, Resource: id, Detail: detail, Why: why})
	}
	add(ActionMarkInstance, "ec2:CreateTags", "tag "+id+" "+TagRecovery+"="+r.ID, "leftovers can be found without the journal")
	add(ActionSaveUserData, "ec2:DescribeInstanceAttribute", "save the user data of "+id+" in the journal", "it is restored byte for byte")
	if r.PriorState == "running" {
		add(ActionStopInstance, "ec2:StopInstances", "stop "+id, "user data changes only while stopped")
	}
	add(ActionSetUserData, "ec2:ModifyInstanceAttribute", "set a one-boot cloud-init document adding the key for "+r.LoginUser, "")
	add(ActionBootWithKey, "ec2:StartInstances", "start "+id+" and wait for its status checks", "cloud-init adds the key at boot")
	add(ActionConfirmKey, "ec2:GetConsoleOutput", "wait for the key's confirmation on the console", "")
	add(ActionStopAfterBoot, "ec2:StopInstances", "stop "+id+" again", "user data changes only while stopped")
	add(ActionRestoreUserData, "ec2:ModifyInstanceAttribute,ec2:DescribeInstanceAttribute", "restore the original user data of "+id+" and check it byte for byte", "")
	if r.PriorState == "running" {
		add(ActionStartInstance, "ec2:StartInstances", "start "+id, "it was running")
	}
	add(ActionUnmarkInstance, "ec2:DeleteTags", "remove "+TagRecovery+" from "+id, "the recovery is over")
}

// cloudConfig is the user data that adds the key at the next boot, and
// prints the confirmation marker on the console.
func cloudConfig(r *Record) []byte {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"==ec2recover==\"\nMIME-Version: 1.0\n\n")
	b.WriteString("--==ec2recover==\nContent-Type: text/cloud-config; charset=\"us-ascii\"\n\n#cloud-config\n")
	b.WriteString("cloud_final_modules:\n - [users-groups, always]\n - [scripts-user, always]\n")
	fmt.Fprintf(&b, "users:\n - name: %s\n   ssh_authorized_keys:\n    - %s\n", r.LoginUser, q(r.PublicKey))
	b.WriteString("\n--==ec2recover==\nContent-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\n")
	fmt.Fprintf(&b, "H=$(getent passwd %s | cut -d: -f6)\n", shellQuote(r.LoginUser))
	fmt.Fprintf(&b, "if grep -qxF -- %s \"$H/.ssh/authorized_keys\"; then echo '%s ok user=%s id=%s' > /dev/console; "+
		"else echo '%s fail step=cloud-init msg=key not in authorized_keys id=%s' > /dev/console; fi\n",
		shellQuote(r.PublicKey), ResultPrefix, r.LoginUser, r.ID, ResultPrefix, r.ID)
	b.WriteString("--==ec2recover==--\n")
	return []byte(b.String())
}

func (x *executor) userDataStep(ctx context.Context, kind string) (bool, error) {
	r, api := x.r, x.c.EC2
	switch kind {
	case ActionSaveUserData:
		if r.UserDataSaved {
			return true, nil
		}
		v, err := x.userData(ctx)
		if err != nil {
			return false, err
		}
		r.OriginalUserData, r.UserDataSaved = v, true
		return false, x.save(ctx)
	case ActionSetUserData:
		doc := cloudConfig(r)
		if cur, err := x.userData(ctx); err != nil {
			return false, err
		} else if cur == base64.StdEncoding.EncodeToString(doc) {
			return true, nil
		}
		_, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(r.InstanceID), UserData: &types.SecureBlobAttributeValue{Value: doc}})
		return false, wrap(err, "set user data of %s", r.InstanceID)
	case ActionBootWithKey:
		skipped, err := x.startTarget(ctx)
		if err != nil {
			return false, err
		}
		w := ec2.NewInstanceStatusOkWaiter(api, func(o *ec2.InstanceStatusOkWaiterOptions) {
			o.MinDelay, o.MaxDelay = x.o.Wait.MinDelay, x.o.Wait.MaxDelay
		})
		return skipped, waitErr(w.Wait(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{r.InstanceID}}, x.o.Wait.MaxWait), "status checks of %s", r.InstanceID)
	case ActionConfirmKey:
		return false, x.confirmOnConsole(ctx)
	case ActionStopAfterBoot:
		return x.stopTarget(ctx)
	case ActionRestoreUserData:
		return x.restoreUserData(ctx)
	}
	return x.repairStep(ctx, kind)
}

func (x *executor) userData(ctx context.Context) (string, error) {
	out, err := x.c.EC2.DescribeInstanceAttribute(ctx, &ec2.DescribeInstanceAttributeInput{InstanceId: aws.String(x.r.InstanceID), Attribute: types.InstanceAttributeNameUserData})
	if err != nil {
		return "", wrap(err, "read user data of %s", x.r.InstanceID)
	}
	if out.UserData == nil {
		return "", nil
	}
	return aws.ToString(out.UserData.Value), nil
}

func (x *executor) restoreUserData(ctx context.Context) (bool, error) {
	r := x.r
	if !r.UserDataSaved {
		return true, nil
	}
	cur, err := x.userData(ctx)
	if err != nil {
		return false, err
	}
	if cur == r.OriginalUserData {
		return true, nil
	}
	orig, err := base64.StdEncoding.DecodeString(r.OriginalUserData)
	if err != nil {
		return false, fmt.Errorf("%w: the journal's user data is not base64: %v", ErrJournalMismatch, err)
	}
	if _, err := x.c.EC2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(r.InstanceID),
		UserData: &types.SecureBlobAttributeValue{Value: append([]byte{}, orig...)}}); err != nil {
		return false, wrap(err, "restore user data of %s", r.InstanceID)
	}
	if cur, err = x.userData(ctx); err != nil {
		return false, err
	}
	if cur != r.OriginalUserData {
		return false, errState("the user data of %s reads back %d bytes (base64), not the original %d", r.InstanceID, len(cur), len(r.OriginalUserData))
	}
	return false, nil
}

// confirmOnConsole polls the console output for the marker the boot
// script prints.
func (x *executor) confirmOnConsole(ctx context.Context) error {
	r := x.r
	var res ScriptResult
	_, err := poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) {
		out, err := x.c.EC2.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(r.InstanceID), Latest: aws.Bool(true)})
		if err != nil {
			return false, err
		}
		text, _ := base64.StdEncoding.DecodeString(aws.ToString(out.Output))
		for _, line := range strings.Split(string(text), "\n") {
			if !strings.Contains(line, "id="+r.ID) {
				continue
			}
			if got, found := ParseScriptOutput(line); found {
				res = got
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("%w: no confirmation from cloud-init on the console of %s: %w", ErrInjection, r.InstanceID, err)
	}
	if !res.OK {
		return fmt.Errorf("%w: cloud-init on %s: %s", ErrInjection, r.InstanceID, res.Message)
	}
	r.Injected = true
	x.rec.LoginUser = r.LoginUser
	return x.save(ctx)
}

// rollbackUserData restores the original user data (stopping the
// instance for it if need be) and returns the instance to its prior state.
func (x *executor) rollbackUserData(ctx context.Context) ([]string, error) {
	r := x.r
	var undone []string
	if r.UserDataSaved {
		cur, err := x.userData(ctx)
		if err != nil {
			return undone, err
		}
		if cur != r.OriginalUserData {
			if skipped, err := x.stopTarget(ctx); err != nil {
				return undone, err
			} else if !skipped {
				undone = append(undone, "stopped "+r.InstanceID+" to restore its user data")
			}
			if _, err := x.restoreUserData(ctx); err != nil {
				return undone, err
			}
			undone = append(undone, "restored the original user data of "+r.InstanceID)
		}
	}
	if r.PriorState == "running" {
		skipped, err := x.startTarget(ctx)
		if err != nil {
			return undone, err
		}
		if !skipped {
			undone = append(undone, "started "+r.InstanceID)
		}
	} else if skipped, err := x.stopTarget(ctx); err != nil {
		return undone, err
	} else if !skipped {
		undone = append(undone, "stopped "+r.InstanceID)
	}
	if _, err := x.repairStep(ctx, ActionUnmarkInstance); err != nil {
		return undone, err
	}
	undone = append(undone, "removed "+TagRecovery+" from "+r.InstanceID)
	r.Phase = PhaseRolledBack
	return undone, x.save(ctx)
}
