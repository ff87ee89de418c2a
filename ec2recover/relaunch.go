package ec2recover

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// The kinds of the relaunch strategy's actions.
const (
	ActionImportKeyPair   = "import-key-pair"
	ActionCreateImage     = "create-image"
	ActionLaunchCopy      = "launch-copy"
	ActionMoveElasticIP   = "move-elastic-ip"
	ActionStopOld         = "stop-old"
	ActionTerminateOld    = "terminate-old"
	ActionDeregisterImage = "deregister-image"
	ActionUnmarkCopy      = "unmark-copy"
)

func planRelaunch(rec *Recovery, r *Record) {
	id := r.InstanceID
	add := func(kind, call, res, detail, why string) {
		rec.Add(awsguard.Action{Kind: kind, Call: call, Resource: res, Detail: detail, Why: why})
	}
	add(ActionMarkInstance, "ec2:CreateTags", id, "tag "+id+" "+TagRecovery+"="+r.ID, "leftovers can be found without the journal")
	add(ActionImportKeyPair, "ec2:ImportKeyPair", r.KeyPairName, "import the new public key as key pair "+r.KeyPairName, "the copy launches with it")
	detail := "create an image of " + id + " without a reboot"
	if r.Reboot {
		detail = "create an image of " + id + " (rebooting it for a consistent file system)"
	}
	add(ActionCreateImage, "ec2:CreateImage", id, detail, "the copy is launched from it")
	add(ActionLaunchCopy, "ec2:RunInstances", r.SubnetID, "launch a copy of "+id+" with key pair "+r.KeyPairName+": same type, subnet, security groups, instance profile, tags, metadata options and user data", "")
	if r.ElasticIPAllocationID != "" {
		add(ActionMoveElasticIP, "ec2:AssociateAddress", r.ElasticIPAllocationID, "move Elastic IP "+r.ElasticIP+" to the copy", "clients keep the address")
	}
	if r.TerminateOld {
		add(ActionTerminateOld, "ec2:TerminateInstances", id, "terminate "+id, "Options.TerminateOld")
	} else if r.PriorState == "running" {
		add(ActionStopOld, "ec2:StopInstances", id, "stop "+id+" (kept, stopped)", "the copy replaces it")
	}
	if !r.KeepImage {
		add(ActionDeregisterImage, "ec2:DeregisterImage,ec2:DeleteSnapshot", "", "deregister the image and delete its snapshots", "not asked to keep it (Options.KeepImage)")
	}
	add(ActionUnmarkCopy, "ec2:DeleteTags", "", "remove "+TagRecovery+" from the copy", "the recovery is over")
	if !r.TerminateOld {
		add(ActionUnmarkInstance, "ec2:DeleteTags", id, "remove "+TagRecovery+" from "+id, "the recovery is over")
	}
}

func (x *executor) relaunchStep(ctx context.Context, kind string) (bool, error) {
	r, api := x.r, x.c.EC2
	switch kind {
	case ActionImportKeyPair:
		_, err := api.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String(r.KeyPairName), PublicKeyMaterial: []byte(r.PublicKey),
			TagSpecifications: tagSpec(types.ResourceTypeKeyPair, r.ID, "key-pair")})
		if awserr.HasCode(err, "InvalidKeyPair.Duplicate") {
			return true, nil
		}
		return false, wrap(err, "import key pair %s", r.KeyPairName)
	case ActionCreateImage:
		return false, x.createImage(ctx)
	case ActionLaunchCopy:
		return false, x.launchCopy(ctx)
	case ActionMoveElasticIP:
		_, err := api.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(r.ElasticIPAllocationID), InstanceId: aws.String(r.CopyInstanceID), AllowReassociation: aws.Bool(true)})
		return false, wrap(err, "move Elastic IP %s to %s", r.ElasticIP, r.CopyInstanceID)
	case ActionStopOld:
		return x.stopTarget(ctx)
	case ActionTerminateOld:
		if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{r.InstanceID}}); err != nil {
			return false, wrap(err, "terminate %s", r.InstanceID)
		}
		return false, x.waitInstance(ctx, r.InstanceID, "terminated")
	case ActionDeregisterImage:
		return x.deregisterImage(ctx)
	case ActionUnmarkCopy:
		if r.CopyInstanceID == "" {
			return true, nil
		}
		_, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{r.CopyInstanceID},
			Tags: []types.Tag{{Key: aws.String(TagRecovery)}, {Key: aws.String(TagRecoveryRole)}}})
		return false, wrap(err, "untag %s", r.CopyInstanceID)
	}
	return x.repairStep(ctx, kind)
}

func (x *executor) findImage(ctx context.Context) (*types.Image, error) {
	out, err := x.c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}, Filters: byTag(x.r.ID, "image")})
	if err != nil {
		return nil, wrap(err, "find the recovery's image")
	}
	for i := range out.Images {
		if out.Images[i].State != types.ImageStateDeregistered {
			return &out.Images[i], nil
		}
	}
	return nil, nil
}

func (x *executor) createImage(ctx context.Context) error {
	r := x.r
	if r.ImageID == "" && r.ImageAttempted {
		img, err := x.findImage(ctx)
		if err != nil {
			return err
		}
		if img != nil {
			r.ImageID = aws.ToString(img.ImageId)
		}
	}
	if r.ImageID == "" {
		r.ImageAttempted = true
		if err := x.save(ctx); err != nil {
			return err
		}
		out, err := x.c.EC2.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(r.InstanceID), Name: aws.String("ec2recover-" + r.ID),
			Description: aws.String("ec2recover " + r.ID + ": image of " + r.InstanceID + " for a relaunch with a new key"),
			NoReboot:    aws.Bool(!r.Reboot),
			// The image's snapshots are tagged once it is available (moto
			// 5.2.1 fails a CreateImage that tags snapshots too).
			TagSpecifications: tagSpec(types.ResourceTypeImage, r.ID, "image")})
		if err != nil {
			return wrap(err, "create an image of %s", r.InstanceID)
		}
		r.ImageID = aws.ToString(out.ImageId)
		if err := x.save(ctx); err != nil {
			return err
		}
	}
	w := ec2.NewImageAvailableWaiter(x.c.EC2, func(o *ec2.ImageAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = x.o.Wait.MinDelay, x.o.Wait.MaxDelay
	})
	return waitErr(w.Wait(ctx, &ec2.DescribeImagesInput{ImageIds: []string{r.ImageID}}, x.o.Wait.MaxWait), "image %s available", r.ImageID)
}

func (x *executor) findCopies(ctx context.Context) ([]types.Instance, error) {
	out, err := x.c.EC2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: append(byTag(x.r.ID, "copy"),
		types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}})})
	if err != nil {
		return nil, wrap(err, "find the recovery's copy")
	}
	var is []types.Instance
	for _, res := range out.Reservations {
		is = append(is, res.Instances...)
	}
	return is, nil
}

// copiesToTerminate are the recovery's copies still alive: those tagged
// as its copy, and the one the journal names, which has lost its tags
// when the run failed after unmark-copy.
func (x *executor) copiesToTerminate(ctx context.Context) ([]string, error) {
	tagged, err := x.findCopies(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, c := range tagged {
		ids = append(ids, aws.ToString(c.InstanceId))
	}
	if id := x.r.CopyInstanceID; id != "" && !slices.Contains(ids, id) {
		c, err := describeInstance(ctx, x.c.EC2, id)
		if errors.Is(err, ErrInstanceNotFound) {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		if st := c.State.Name; st != types.InstanceStateNameTerminated && st != types.InstanceStateNameShuttingDown {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

func (x *executor) launchCopy(ctx context.Context) error {
	r := x.r
	copies, err := x.findCopies(ctx)
	if err != nil {
		return err
	}
	if len(copies) > 0 {
		r.CopyInstanceID = aws.ToString(copies[0].InstanceId)
	} else {
		old, err := describeInstance(ctx, x.c.EC2, r.InstanceID)
		if err != nil {
			return err
		}
		ud, err := x.userData(ctx)
		if err != nil {
			return err
		}
		in := &ec2.RunInstancesInput{
			ImageId: aws.String(r.ImageID), InstanceType: old.InstanceType, KeyName: aws.String(r.KeyPairName),
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), ClientToken: aws.String(r.ID + "-copy"),
			SubnetId: old.SubnetId, EbsOptimized: old.EbsOptimized,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: copyTags(old.Tags, r.ID)}},
		}
		if ud != "" {
			in.UserData = aws.String(ud)
		}
		for _, g := range old.SecurityGroups {
			in.SecurityGroupIds = append(in.SecurityGroupIds, aws.ToString(g.GroupId))
		}
		if old.IamInstanceProfile != nil {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: old.IamInstanceProfile.Arn}
		}
		if m := old.MetadataOptions; m != nil {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: m.HttpTokens, HttpPutResponseHopLimit: m.HttpPutResponseHopLimit,
				HttpEndpoint: m.HttpEndpoint, InstanceMetadataTags: m.InstanceMetadataTags}
		}
		if old.Monitoring != nil && old.Monitoring.State == types.MonitoringStateEnabled {
			in.Monitoring = &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)}
		}
		out, err := x.c.EC2.RunInstances(ctx, in)
		if err != nil {
			return wrap(err, "launch the copy of %s", r.InstanceID)
		}
		r.CopyInstanceID = aws.ToString(out.Instances[0].InstanceId)
		x.rec.CopyInstanceID = r.CopyInstanceID
		if err := x.save(ctx); err != nil {
			return err
		}
	}
	x.rec.CopyInstanceID = r.CopyInstanceID
	return x.waitInstance(ctx, r.CopyInstanceID, "running")
}

// copyTags are the old instance's tags, less those AWS reserves, plus the
// recovery's.
func copyTags(tags []types.Tag, id string) []types.Tag {
	out := recoveryTags(id, "copy")
	for _, t := range tags {
		k := aws.ToString(t.Key)
		if strings.HasPrefix(k, "aws:") || k == TagRecovery || k == TagRecoveryRole {
			continue
		}
		out = append(out, t)
	}
	return out
}

func (x *executor) deregisterImage(ctx context.Context) (bool, error) {
	r := x.r
	var img *types.Image
	if r.ImageID != "" {
		out, err := x.c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{r.ImageID}})
		if err != nil && !awserr.HasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
			return false, wrap(err, "describe image %s", r.ImageID)
		}
		if err == nil && len(out.Images) == 1 && out.Images[0].State != types.ImageStateDeregistered {
			img = &out.Images[0]
		}
	} else if r.ImageAttempted {
		var err error
		if img, err = x.findImage(ctx); err != nil {
			return false, err
		}
	}
	if img == nil {
		return true, nil
	}
	id := aws.ToString(img.ImageId)
	if _, err := x.c.EC2.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(id)}); err != nil && !awserr.HasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
		return false, wrap(err, "deregister image %s", id)
	}
	for _, m := range img.BlockDeviceMappings {
		if m.Ebs == nil || m.Ebs.SnapshotId == nil {
			continue
		}
		if _, err := x.c.EC2.DeleteSnapshot(ctx, &ec2.DeleteSnapshotInput{SnapshotId: m.Ebs.SnapshotId}); err != nil && !awserr.HasCode(err, "InvalidSnapshot.NotFound") {
			return false, wrap(err, "delete snapshot %s of image %s", aws.ToString(m.Ebs.SnapshotId), id)
		}
	}
	return false, nil
}

// rollbackRelaunch terminates the copy, moves the Elastic IP back,
// returns the old instance to its prior state and removes the image, its
// snapshots, the key pair and the tags.
func (x *executor) rollbackRelaunch(ctx context.Context) ([]string, error) {
	r, api := x.r, x.c.EC2
	var undone []string
	if r.ElasticIPAllocationID != "" {
		addr, err := api.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{r.ElasticIPAllocationID}})
		if err != nil {
			return undone, wrap(err, "describe Elastic IP %s", r.ElasticIP)
		}
		if len(addr.Addresses) == 1 && aws.ToString(addr.Addresses[0].InstanceId) != r.InstanceID {
			if old, err := describeInstance(ctx, api, r.InstanceID); err != nil {
				return undone, err
			} else if old.State.Name == types.InstanceStateNameTerminated {
				return undone, errState("%s is terminated: the Elastic IP stays on the copy", r.InstanceID)
			}
			if _, err := api.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: aws.String(r.ElasticIPAllocationID), InstanceId: aws.String(r.InstanceID), AllowReassociation: aws.Bool(true)}); err != nil {
				return undone, wrap(err, "move Elastic IP %s back to %s", r.ElasticIP, r.InstanceID)
			}
			undone = append(undone, "moved Elastic IP "+r.ElasticIP+" back to "+r.InstanceID)
		}
	}
	if r.PriorState == "running" {
		if skipped, err := x.startTarget(ctx); err != nil {
			return undone, err
		} else if !skipped {
			undone = append(undone, "started "+r.InstanceID)
		}
	}
	copies, err := x.copiesToTerminate(ctx)
	if err != nil {
		return undone, err
	}
	for _, id := range copies {
		if _, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
			return undone, wrap(err, "terminate the copy %s", id)
		}
		if err := x.waitInstance(ctx, id, "terminated"); err != nil {
			return undone, err
		}
		undone = append(undone, "terminated the copy "+id)
	}
	if skipped, err := x.deregisterImage(ctx); err != nil {
		return undone, err
	} else if !skipped {
		undone = append(undone, "deregistered the image and deleted its snapshots")
	}
	if _, err := api.DeleteKeyPair(ctx, &ec2.DeleteKeyPairInput{KeyName: aws.String(r.KeyPairName)}); err != nil && !awserr.HasCode(err, "InvalidKeyPair.NotFound") {
		return undone, wrap(err, "delete key pair %s", r.KeyPairName)
	}
	undone = append(undone, "deleted key pair "+r.KeyPairName)
	if _, err := x.repairStep(ctx, ActionUnmarkInstance); err != nil {
		return undone, err
	}
	undone = append(undone, "removed "+TagRecovery+" from "+r.InstanceID)
	r.Phase = PhaseRolledBack
	return undone, x.save(ctx)
}
