package ec2recover

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// SSMManagedPolicyARN is the policy the helper's temporary role gets.
const SSMManagedPolicyARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"

func planRepair(rec *Recovery, r *Record) {
	id, vol := r.InstanceID, r.RootVolumeID
	add := func(kind, call, res, detail, why string) {
		rec.Add(awsguard.Action{Kind: kind, Call: call, Resource: res, Detail: detail, Why: why})
	}
	add(ActionMarkInstance, "ec2:CreateTags", id, "tag "+id+" "+TagRecovery+"="+r.ID, "leftovers can be found without the journal")
	add(ActionSnapshotRoot, "ec2:CreateSnapshot", vol, "snapshot root volume "+vol, "a copy before the first detach")
	if r.HelperProfileOwned {
		add(ActionCreateHelperProfile, "iam:CreateRole,iam:AttachRolePolicy,iam:CreateInstanceProfile,iam:AddRoleToInstanceProfile", r.HelperProfile,
			"create role and instance profile "+r.HelperProfile+" with AmazonSSMManagedInstanceCore", "the helper runs the injection through SSM Run Command")
	}
	add(ActionCreateHelperGroup, "ec2:CreateSecurityGroup", r.HelperVPCID, "create a security group without inbound rules for the helper", "no SSH, no inbound access to the helper")
	add(ActionLaunchHelper, "ec2:RunInstances", r.HelperSubnetID, "launch helper "+r.HelperInstanceType+" from "+r.HelperImageID+" in "+r.HelperSubnetID+" ("+r.AvailabilityZone+")", "a volume attaches only within its AZ")
	if r.PriorState == "running" {
		add(ActionStopInstance, "ec2:StopInstances", id, "stop "+id, "the root volume detaches only from a stopped instance")
	}
	add(ActionDetachRoot, "ec2:DetachVolume", vol, "detach root volume "+vol+" from "+id+" ("+r.RootDeviceName+")", "")
	add(ActionAttachToHelper, "ec2:AttachVolume", vol, "attach "+vol+" to the helper as "+HelperDevice, "")
	add(ActionInjectKey, "ssm:SendCommand,ssm:GetCommandInvocation", vol, "append the public key to the login user's authorized_keys on "+vol, "the key pair is lost")
	add(ActionDetachFromHelper, "ec2:DetachVolume", vol, "detach "+vol+" from the helper", "")
	add(ActionReattachRoot, "ec2:AttachVolume", vol, "reattach "+vol+" to "+id+" as "+r.RootDeviceName, "the instance's own root device name")
	if r.PriorState == "running" {
		add(ActionStartInstance, "ec2:StartInstances", id, "start "+id, "it was running")
	}
	add(ActionTerminateHelper, "ec2:TerminateInstances", "", "terminate the helper", "")
	add(ActionDeleteHelperGroup, "ec2:DeleteSecurityGroup", "", "delete the helper's security group", "")
	if r.HelperProfileOwned {
		add(ActionDeleteHelperProfile, "iam:RemoveRoleFromInstanceProfile,iam:DeleteInstanceProfile,iam:DetachRolePolicy,iam:DeleteRole", r.HelperProfile,
			"delete instance profile and role "+r.HelperProfile, "")
	}
	if !r.KeepSnapshot {
		add(ActionDeleteSnapshot, "ec2:DeleteSnapshot", "", "delete the snapshot of "+vol, "not asked to keep it (Options.KeepSnapshot)")
	}
	add(ActionUnmarkInstance, "ec2:DeleteTags", id, "remove "+TagRecovery+" from "+id, "the recovery is over")
}

func planSSM(rec *Recovery, r *Record) {
	rec.Add(awsguard.Action{Kind: ActionInjectKey, Call: "ssm:SendCommand,ssm:GetCommandInvocation", Resource: r.InstanceID,
		Detail: "append the public key to the login user's authorized_keys on " + r.InstanceID + " through Run Command", Why: "its SSM agent is online"})
}

func recoveryTags(id, role string) []types.Tag {
	return []types.Tag{{Key: aws.String(TagRecovery), Value: aws.String(id)}, {Key: aws.String(TagRecoveryRole), Value: aws.String(role)}}
}

func tagSpec(rt types.ResourceType, id, role string) []types.TagSpecification {
	tags := recoveryTags(id, role)
	tags = append(tags, types.Tag{Key: aws.String("Name"), Value: aws.String("ec2recover " + role + " " + id)})
	return []types.TagSpecification{{ResourceType: rt, Tags: tags}}
}

func byTag(id, role string) []types.Filter {
	return []types.Filter{
		{Name: aws.String("tag:" + TagRecovery), Values: []string{id}},
		{Name: aws.String("tag:" + TagRecoveryRole), Values: []string{role}},
	}
}

// repairStep carries out one step of the root-volume repair. Each step
// reads the live state first and does only what is left, so that a
// re-run after a lost response converges. skipped is true when nothing
// was left to do.
func (x *executor) repairStep(ctx context.Context, kind string) (skipped bool, err error) {
	r, api := x.r, x.c.EC2
	switch kind {
	case ActionMarkInstance:
		_, err = api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{r.InstanceID}, Tags: recoveryTags(r.ID, "target")})
		return false, wrap(err, "tag instance %s", r.InstanceID)
	case ActionSnapshotRoot:
		return false, x.snapshot(ctx)
	case ActionCreateHelperProfile:
		return false, x.createProfile(ctx)
	case ActionCreateHelperGroup:
		return false, x.createGroup(ctx)
	case ActionLaunchHelper:
		return false, x.launchHelper(ctx)
	case ActionStopInstance:
		return x.stopTarget(ctx)
	case ActionDetachRoot:
		return x.detachRoot(ctx, r.InstanceID)
	case ActionAttachToHelper:
		return x.attachVolume(ctx, r.HelperInstanceID, HelperDevice)
	case ActionDetachFromHelper:
		return x.detachRoot(ctx, r.HelperInstanceID)
	case ActionReattachRoot:
		return x.attachVolume(ctx, r.InstanceID, r.RootDeviceName)
	case ActionStartInstance:
		return x.startTarget(ctx)
	case ActionTerminateHelper:
		return x.terminateHelpers(ctx)
	case ActionDeleteHelperGroup:
		return x.deleteGroups(ctx)
	case ActionDeleteHelperProfile:
		return x.deleteProfile(ctx)
	case ActionDeleteSnapshot:
		return x.deleteSnapshots(ctx)
	case ActionUnmarkInstance:
		_, err = api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{r.InstanceID},
			Tags: []types.Tag{{Key: aws.String(TagRecovery)}, {Key: aws.String(TagRecoveryRole)}}})
		return false, wrap(err, "untag instance %s", r.InstanceID)
	}
	return false, fmt.Errorf("ec2recover: unknown step %s", kind)
}

func wrap(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("ec2recover: "+format+": %w", append(a, err)...)
}

func (x *executor) save(ctx context.Context) error { return saveRecord(ctx, x.o.Journal, x.r, x.o.Now) }

func (x *executor) snapshot(ctx context.Context) error {
	r := x.r
	if r.SnapshotID == "" && r.SnapshotAttempted {
		// An earlier CreateSnapshot may have taken effect unanswered.
		id, err := x.findSnapshot(ctx)
		if err != nil {
			return err
		}
		r.SnapshotID = id
	}
	if r.SnapshotID == "" {
		r.SnapshotAttempted = true
		if err := x.save(ctx); err != nil {
			return err
		}
		out, err := x.c.EC2.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{
			VolumeId:          aws.String(r.RootVolumeID),
			Description:       aws.String("ec2recover " + r.ID + ": root volume of " + r.InstanceID + " before key recovery"),
			TagSpecifications: tagSpec(types.ResourceTypeSnapshot, r.ID, "snapshot"),
		})
		if err != nil {
			return wrap(err, "snapshot root volume %s", r.RootVolumeID)
		}
		r.SnapshotID = aws.ToString(out.SnapshotId)
		if err := x.save(ctx); err != nil {
			return err
		}
	}
	w := ec2.NewSnapshotCompletedWaiter(x.c.EC2, func(o *ec2.SnapshotCompletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = x.o.Wait.MinDelay, x.o.Wait.MaxDelay
	})
	return waitErr(w.Wait(ctx, &ec2.DescribeSnapshotsInput{SnapshotIds: []string{r.SnapshotID}}, x.o.Wait.MaxWait), "snapshot %s completed", r.SnapshotID)
}

// waitErr wraps a waiter's error: API errors keep their type; the
// waiter's own failures (plain strings) get ErrWaitTimeout.
func waitErr(err error, format string, a ...any) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ec2recover: wait for "+format+": %w", append(a, err)...)
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		return fmt.Errorf("ec2recover: wait for "+format+": %w", append(a, err)...)
	}
	return fmt.Errorf("%w: "+format+": %w", append(append([]any{ErrWaitTimeout}, a...), err)...)
}

func (x *executor) createProfile(ctx context.Context) error {
	r, api := x.r, x.c.IAM
	if api == nil {
		return errors.New("ec2recover: no IAM client to create the helper's instance profile")
	}
	name := r.HelperProfile
	trust := awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Effect:    "Allow",
		Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{"Service": awsguard.StringValue("ec2.amazonaws.com")}},
		Action:    awsguard.StringValue("sts:AssumeRole"),
	}}}}
	doc, err := trust.JSON()
	if err != nil {
		return err
	}
	tags := []iamtypes.Tag{{Key: aws.String(TagRecovery), Value: aws.String(r.ID)}, {Key: aws.String(TagRecoveryRole), Value: aws.String("helper-role")}}
	_, err = api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc),
		Description: aws.String("ec2recover " + r.ID + ": temporary role of the key recovery helper"), Tags: tags})
	if err != nil && !awserr.HasCode(err, "EntityAlreadyExists") {
		return wrap(err, "create role %s", name)
	}
	if _, err := api.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(SSMManagedPolicyARN)}); err != nil {
		return wrap(err, "attach AmazonSSMManagedInstanceCore to %s", name)
	}
	_, err = api.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Tags: tags})
	if err != nil && !awserr.HasCode(err, "EntityAlreadyExists") {
		return wrap(err, "create instance profile %s", name)
	}
	prof, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
	if err != nil {
		return wrap(err, "read instance profile %s", name)
	}
	for _, role := range prof.InstanceProfile.Roles {
		if aws.ToString(role.RoleName) == name {
			return nil
		}
	}
	_, err = api.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(name)})
	return wrap(err, "add role %s to its instance profile", name)
}

func (x *executor) createGroup(ctx context.Context) error {
	r := x.r
	name := "ec2recover-" + r.ID
	if r.HelperSecurityGroupID == "" {
		out, err := x.c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{
			{Name: aws.String("group-name"), Values: []string{name}}, {Name: aws.String("vpc-id"), Values: []string{r.HelperVPCID}}}})
		if err != nil {
			return wrap(err, "find the helper's security group")
		}
		if len(out.SecurityGroups) > 0 {
			r.HelperSecurityGroupID = aws.ToString(out.SecurityGroups[0].GroupId)
			return x.save(ctx)
		}
		cg, err := x.c.EC2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{
			GroupName: aws.String(name), VpcId: aws.String(r.HelperVPCID),
			Description:       aws.String("ec2recover " + r.ID + ": helper, no inbound rules"),
			TagSpecifications: tagSpec(types.ResourceTypeSecurityGroup, r.ID, "helper-group"),
		})
		if err != nil {
			return wrap(err, "create the helper's security group")
		}
		r.HelperSecurityGroupID = aws.ToString(cg.GroupId)
		return x.save(ctx)
	}
	return nil
}

func (x *executor) findHelpers(ctx context.Context) ([]types.Instance, error) {
	out, err := x.c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: append(byTag(x.r.ID, "helper"),
		types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped", "shutting-down"}})})
	if err != nil {
		return nil, wrap(err, "find the recovery's helper")
	}
	var hs []types.Instance
	for _, res := range out.Reservations {
		hs = append(hs, res.Instances...)
	}
	return hs, nil
}

func (x *executor) launchHelper(ctx context.Context) error {
	r := x.r
	hs, err := x.findHelpers(ctx)
	if err != nil {
		return err
	}
	if len(hs) > 0 {
		r.HelperInstanceID = aws.ToString(hs[0].InstanceId)
	} else {
		in := &ec2.RunInstancesInput{
			ImageId: aws.String(r.HelperImageID), InstanceType: types.InstanceType(r.HelperInstanceType),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(r.HelperSubnetID), SecurityGroupIds: []string{r.HelperSecurityGroupID},
			IamInstanceProfile:                &types.IamInstanceProfileSpecification{Name: aws.String(r.HelperProfile)},
			ClientToken:                       aws.String(r.ID + "-helper"),
			MetadataOptions:                   &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateRequired},
			TagSpecifications:                 tagSpec(types.ResourceTypeInstance, r.ID, "helper"),
			InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		}
		var out *ec2.RunInstancesOutput
		// A new instance profile takes seconds to be usable by EC2.
		_, err := poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) {
			var err error
			out, err = x.c.EC2.RunInstances(ctx, in)
			if r.HelperProfileOwned && awserr.HasCode(err, "InvalidParameterValue") && strings.Contains(strings.ToLower(errMessage(err)), "instance profile") {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return wrap(err, "launch the helper")
		}
		r.HelperInstanceID = aws.ToString(out.Instances[0].InstanceId)
		if err := x.save(ctx); err != nil {
			return err
		}
	}
	w := ec2.NewInstanceRunningWaiter(x.c.EC2, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = x.o.Wait.MinDelay, x.o.Wait.MaxDelay
	})
	return waitErr(w.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{r.HelperInstanceID}}, x.o.Wait.MaxWait), "helper %s running", r.HelperInstanceID)
}

func errMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func (x *executor) pollOpts() poll.Options {
	return poll.Options{MinDelay: x.o.Wait.MinDelay, MaxDelay: x.o.Wait.MaxDelay, MaxWait: x.o.Wait.MaxWait}
}

func (x *executor) waitInstance(ctx context.Context, id, state string) error {
	in := &ec2.DescribeInstancesInput{InstanceIds: []string{id}}
	min, maxd, wait := x.o.Wait.MinDelay, x.o.Wait.MaxDelay, x.o.Wait.MaxWait
	var err error
	switch state {
	case "running":
		err = ec2.NewInstanceRunningWaiter(x.c.EC2, func(o *ec2.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = min, maxd }).Wait(ctx, in, wait)
	case "stopped":
		err = ec2.NewInstanceStoppedWaiter(x.c.EC2, func(o *ec2.InstanceStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = min, maxd }).Wait(ctx, in, wait)
	case "terminated":
		err = ec2.NewInstanceTerminatedWaiter(x.c.EC2, func(o *ec2.InstanceTerminatedWaiterOptions) { o.MinDelay, o.MaxDelay = min, maxd }).Wait(ctx, in, wait)
	}
	return waitErr(err, "instance %s %s", id, state)
}

func (x *executor) stopTarget(ctx context.Context) (bool, error) {
	inst, err := describeInstance(ctx, x.c.EC2, x.r.InstanceID)
	if err != nil {
		return false, err
	}
	st := inst.State.Name
	if st == types.InstanceStateNameStopped {
		return true, nil
	}
	if st == types.InstanceStateNameRunning || st == types.InstanceStateNamePending {
		if _, err := x.c.EC2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{x.r.InstanceID}}); err != nil {
			return false, wrap(err, "stop %s", x.r.InstanceID)
		}
	}
	return false, x.waitInstance(ctx, x.r.InstanceID, "stopped")
}

func (x *executor) startTarget(ctx context.Context) (bool, error) {
	inst, err := describeInstance(ctx, x.c.EC2, x.r.InstanceID)
	if err != nil {
		return false, err
	}
	switch inst.State.Name {
	case types.InstanceStateNameRunning:
		return true, nil
	case types.InstanceStateNameStopping:
		if err := x.waitInstance(ctx, x.r.InstanceID, "stopped"); err != nil {
			return false, err
		}
		fallthrough
	case types.InstanceStateNameStopped:
		if _, err := x.c.EC2.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: []string{x.r.InstanceID}}); err != nil {
			return false, wrap(err, "start %s", x.r.InstanceID)
		}
	}
	return false, x.waitInstance(ctx, x.r.InstanceID, "running")
}

// volume returns the root volume and the instance and device it is
// attached to ("" when available).
func (x *executor) volume(ctx context.Context) (state types.VolumeState, instance, device string, err error) {
	out, err := x.c.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{x.r.RootVolumeID}})
	if err != nil {
		return "", "", "", wrap(err, "describe root volume %s", x.r.RootVolumeID)
	}
	if len(out.Volumes) != 1 {
		return "", "", "", errState("root volume %s not found", x.r.RootVolumeID)
	}
	v := out.Volumes[0]
	for _, a := range v.Attachments {
		if a.State == types.VolumeAttachmentStateAttached || a.State == types.VolumeAttachmentStateAttaching || a.State == types.VolumeAttachmentStateDetaching {
			return v.State, aws.ToString(a.InstanceId), aws.ToString(a.Device), nil
		}
	}
	return v.State, "", "", nil
}

func (x *executor) waitVolume(ctx context.Context, available bool) error {
	in := &ec2.DescribeVolumesInput{VolumeIds: []string{x.r.RootVolumeID}}
	min, maxd := x.o.Wait.MinDelay, x.o.Wait.MaxDelay
	if available {
		return waitErr(ec2.NewVolumeAvailableWaiter(x.c.EC2, func(o *ec2.VolumeAvailableWaiterOptions) { o.MinDelay, o.MaxDelay = min, maxd }).Wait(ctx, in, x.o.Wait.MaxWait),
			"volume %s available", x.r.RootVolumeID)
	}
	return waitErr(ec2.NewVolumeInUseWaiter(x.c.EC2, func(o *ec2.VolumeInUseWaiterOptions) { o.MinDelay, o.MaxDelay = min, maxd }).Wait(ctx, in, x.o.Wait.MaxWait),
		"volume %s in use", x.r.RootVolumeID)
}

// detachRoot detaches the root volume from instance from, if attached there.
func (x *executor) detachRoot(ctx context.Context, from string) (bool, error) {
	_, inst, dev, err := x.volume(ctx)
	if err != nil {
		return false, err
	}
	switch {
	case inst == "":
		return true, x.waitVolume(ctx, true)
	case inst != from:
		if from == x.r.InstanceID && inst == x.r.HelperInstanceID {
			return true, nil // already moved on
		}
		return false, errState("root volume %s is attached to %s (%s), not %s", x.r.RootVolumeID, inst, dev, from)
	}
	if _, err := x.c.EC2.DetachVolume(ctx, &ec2.DetachVolumeInput{VolumeId: aws.String(x.r.RootVolumeID), InstanceId: aws.String(from), Device: aws.String(dev)}); err != nil {
		return false, wrap(err, "detach %s from %s", x.r.RootVolumeID, from)
	}
	return false, x.waitVolume(ctx, true)
}

// attachVolume attaches the root volume to instance to as device.
func (x *executor) attachVolume(ctx context.Context, to, device string) (bool, error) {
	if to == "" {
		return false, errState("no helper instance recorded")
	}
	_, inst, dev, err := x.volume(ctx)
	if err != nil {
		return false, err
	}
	switch {
	case inst == to && dev == device:
		return true, x.waitVolume(ctx, false)
	case inst != "":
		return false, errState("root volume %s is attached to %s as %s, want %s as %s", x.r.RootVolumeID, inst, dev, to, device)
	}
	if _, err := x.c.EC2.AttachVolume(ctx, &ec2.AttachVolumeInput{VolumeId: aws.String(x.r.RootVolumeID), InstanceId: aws.String(to), Device: aws.String(device)}); err != nil {
		return false, wrap(err, "attach %s to %s as %s", x.r.RootVolumeID, to, device)
	}
	return false, x.waitVolume(ctx, false)
}

func (x *executor) terminateHelpers(ctx context.Context) (bool, error) {
	hs, err := x.findHelpers(ctx)
	if err != nil {
		return false, err
	}
	if len(hs) == 0 {
		return true, nil
	}
	var ids []string
	for _, h := range hs {
		ids = append(ids, aws.ToString(h.InstanceId))
	}
	// A root volume still on a helper is never terminated with it.
	if _, inst, _, err := x.volume(ctx); err != nil {
		return false, err
	} else if inst != "" && inst != x.r.InstanceID {
		return false, errState("root volume %s is still attached to %s", x.r.RootVolumeID, inst)
	}
	if _, err := x.c.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		return false, wrap(err, "terminate helper %s", strings.Join(ids, ","))
	}
	for _, id := range ids {
		if err := x.waitInstance(ctx, id, "terminated"); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (x *executor) deleteGroups(ctx context.Context) (bool, error) {
	out, err := x.c.EC2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: byTag(x.r.ID, "helper-group")})
	if err != nil {
		return false, wrap(err, "find the helper's security group")
	}
	if len(out.SecurityGroups) == 0 {
		return true, nil
	}
	for _, g := range out.SecurityGroups {
		id := aws.ToString(g.GroupId)
		// The terminated helper's network interface lets go of the group
		// with a delay.
		_, err := poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) {
			_, err := x.c.EC2.DeleteSecurityGroup(ctx, &ec2.DeleteSecurityGroupInput{GroupId: aws.String(id)})
			if awserr.HasCode(err, "DependencyViolation") {
				return false, nil
			}
			if awserr.HasCode(err, "InvalidGroup.NotFound") {
				return true, nil
			}
			return err == nil, err
		})
		if err != nil {
			return false, wrap(err, "delete security group %s", id)
		}
	}
	return false, nil
}

func (x *executor) deleteProfile(ctx context.Context) (bool, error) {
	r, api := x.r, x.c.IAM
	if !r.HelperProfileOwned {
		return true, nil
	}
	if api == nil {
		return false, errors.New("ec2recover: no IAM client to delete the helper's instance profile")
	}
	name := aws.String(r.HelperProfile)
	gone := func(err error) bool { return awserr.HasCode(err, "NoSuchEntity") }
	prof, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: name})
	if err != nil && !gone(err) {
		return false, wrap(err, "read instance profile %s", r.HelperProfile)
	}
	if err == nil {
		for _, role := range prof.InstanceProfile.Roles {
			if _, err := api.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: name, RoleName: role.RoleName}); err != nil && !gone(err) {
				return false, wrap(err, "remove role %s from instance profile %s", aws.ToString(role.RoleName), r.HelperProfile)
			}
		}
		if _, err := api.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: name}); err != nil && !gone(err) {
			return false, wrap(err, "delete instance profile %s", r.HelperProfile)
		}
	}
	if _, err := api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: aws.String(SSMManagedPolicyARN)}); err != nil && !gone(err) {
		return false, wrap(err, "detach policy from role %s", r.HelperProfile)
	}
	if _, err := api.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name}); err != nil && !gone(err) {
		return false, wrap(err, "delete role %s", r.HelperProfile)
	}
	return false, nil
}

// findSnapshot returns the snapshot tagged by the recovery, or "". It
// lists the root volume's snapshots and matches the tags itself (a filter
// on the volume is much cheaper than one on tags).
func (x *executor) findSnapshot(ctx context.Context) (string, error) {
	out, err := x.c.EC2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{x.r.RootVolumeID}}}})
	if err != nil {
		return "", wrap(err, "find the recovery's snapshot")
	}
	for _, sn := range out.Snapshots {
		if hasTag(sn.Tags, TagRecovery, x.r.ID) && hasTag(sn.Tags, TagRecoveryRole, "snapshot") {
			return aws.ToString(sn.SnapshotId), nil
		}
	}
	return "", nil
}

func hasTag(tags []types.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

func (x *executor) deleteSnapshots(ctx context.Context) (bool, error) {
	r := x.r
	if r.SnapshotID == "" && r.SnapshotAttempted {
		id, err := x.findSnapshot(ctx)
		if err != nil {
			return false, err
		}
		r.SnapshotID = id
	}
	if r.SnapshotID == "" {
		return true, nil
	}
	_, err := x.c.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: aws.String(r.SnapshotID)})
	if err != nil && !awserr.HasCode(err, "InvalidSnapshot.NotFound") {
		return false, wrap(err, "delete snapshot %s", r.SnapshotID)
	}
	r.SnapshotID, r.SnapshotAttempted = "", false
	return err != nil, x.save(ctx)
}

// rollback returns the instance to where it was: the root volume back
// under its own device name, the instance in its prior state, and every
// resource tagged by the recovery removed (the snapshot kept only when
// asked). Each step reads the live state, so it may run again.
func (x *executor) rollback(ctx context.Context) ([]string, error) {
	var undone []string
	r := x.r
	step := func(what string, f func() (bool, error)) error {
		skipped, err := f()
		if err != nil {
			return err
		}
		if !skipped {
			undone = append(undone, what)
		}
		return nil
	}
	steps := []struct {
		what string
		f    func() (bool, error)
	}{
		{"detached root volume " + r.RootVolumeID + " from the helper", func() (bool, error) {
			_, inst, _, err := x.volume(ctx)
			if err != nil || inst == "" || inst == r.InstanceID {
				return true, err
			}
			if r.HelperInstanceID == "" {
				r.HelperInstanceID = inst
			}
			if inst != r.HelperInstanceID {
				return false, errState("root volume %s is attached to %s, neither the instance nor the helper", r.RootVolumeID, inst)
			}
			return x.detachRoot(ctx, inst)
		}},
		{"reattached root volume " + r.RootVolumeID + " to " + r.InstanceID + " as " + r.RootDeviceName, func() (bool, error) {
			return x.attachVolume(ctx, r.InstanceID, r.RootDeviceName)
		}},
		{"returned " + r.InstanceID + " to " + r.PriorState, func() (bool, error) {
			if r.PriorState != "running" {
				return true, nil
			}
			return x.startTarget(ctx)
		}},
		{"terminated the helper", func() (bool, error) { return x.terminateHelpers(ctx) }},
		{"deleted the helper's security group", func() (bool, error) { return x.deleteGroups(ctx) }},
		{"deleted instance profile and role " + r.HelperProfile, func() (bool, error) { return x.deleteProfile(ctx) }},
		{"deleted the snapshot", func() (bool, error) {
			if r.KeepSnapshot {
				return true, nil
			}
			return x.deleteSnapshots(ctx)
		}},
		{"removed " + TagRecovery + " from " + r.InstanceID, func() (bool, error) {
			return x.repairStep(ctx, ActionUnmarkInstance)
		}},
	}
	for _, s := range steps {
		if err := step(s.what, s.f); err != nil {
			return undone, err
		}
	}
	r.Phase = PhaseRolledBack
	if err := x.save(ctx); err != nil {
		return undone, err
	}
	return undone, nil
}

func pollUntil(ctx context.Context, x *executor, check func(context.Context) (bool, error)) (int, error) {
	return poll.Until(ctx, x.pollOpts(), func(ctx context.Context, _ int) (bool, error) { return check(ctx) })
}
