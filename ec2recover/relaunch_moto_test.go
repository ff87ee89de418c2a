package ec2recover_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// dress gives the target what a relaunch must carry over: a security
// group, an instance profile, tags, user data and an Elastic IP.
func (w *world) dress() (sg, profileARN, allocID, eip string) {
	w.t.Helper()
	ctx := context.Background()
	i := w.instance(w.target)
	g, err := w.ec2.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: i.VpcId})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ec2.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{InstanceId: aws.String(w.target), Groups: []string{aws.ToString(g.GroupId)}}); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.iam.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ec2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(w.target),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: p.InstanceProfile.Arn}}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ec2.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{w.target}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}); err != nil {
		w.t.Fatal(err)
	}
	a, err := w.ec2.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ec2.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: aws.String(w.target)}); err != nil {
		w.t.Fatal(err)
	}
	w.setUserData(originalUserData)
	return aws.ToString(g.GroupId), aws.ToString(p.InstanceProfile.Arn), aws.ToString(a.AllocationId), aws.ToString(a.PublicIp)
}

// A relaunch on moto: the copy carries the subnet, security groups,
// instance profile, type, tags, user data and Elastic IP, runs with the
// imported key pair; the old instance is left stopped; the image and its
// snapshots are gone; no recovery tag is left.
func TestRelaunchMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "running")
	sg, profile, alloc, eip := w.dress()
	old := w.instance(w.target)
	rec, err := ec2recover.RecoverLostKeyPair(ctx, w.bootClients(), w.target, w.opts(func(o *ec2recover.Options) { o.Strategy = ec2recover.StrategyRelaunch })...)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Strategy != ec2recover.StrategyRelaunch || rec.Reason != awsguard.ReasonApplied || rec.CopyInstanceID == "" || rec.NewPublicIP {
		t.Fatalf("strategy %s reason %s copy %q new IP %v", rec.Strategy, rec.Reason, rec.CopyInstanceID, rec.NewPublicIP)
	}
	cp := w.instance(rec.CopyInstanceID)
	if cp.State.Name != types.InstanceStateNameRunning || aws.ToString(cp.KeyName) == "" || cp.InstanceType != old.InstanceType ||
		aws.ToString(cp.SubnetId) != aws.ToString(old.SubnetId) {
		t.Errorf("copy: state %s key %q type %s subnet %s", cp.State.Name, aws.ToString(cp.KeyName), cp.InstanceType, aws.ToString(cp.SubnetId))
	}
	if len(cp.SecurityGroups) != 1 || aws.ToString(cp.SecurityGroups[0].GroupId) != sg {
		t.Errorf("copy security groups %+v, want %s", cp.SecurityGroups, sg)
	}
	if cp.IamInstanceProfile == nil || aws.ToString(cp.IamInstanceProfile.Arn) != profile {
		t.Errorf("copy profile %+v, want %s", cp.IamInstanceProfile, profile)
	}
	tags := map[string]string{}
	for _, tg := range cp.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["team"] != "blue" || tags["Name"] != "web" {
		t.Errorf("copy tags %v", tags)
	}
	if _, ok := tags[ec2recover.TagRecovery]; ok {
		t.Errorf("copy still tagged: %v", tags)
	}
	if aws.ToString(cp.PublicIpAddress) != eip {
		t.Errorf("copy public IP %s, want the Elastic IP %s", aws.ToString(cp.PublicIpAddress), eip)
	}
	addr, err := w.ec2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{AllocationIds: []string{alloc}})
	if err != nil || aws.ToString(addr.Addresses[0].InstanceId) != rec.CopyInstanceID {
		t.Errorf("Elastic IP on %v (%v)", addr, err)
	}
	kp, err := w.ec2.DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{KeyNames: []string{aws.ToString(cp.KeyName)}})
	if err != nil || len(kp.KeyPairs) != 1 {
		t.Errorf("key pair %s: %v", aws.ToString(cp.KeyName), err)
	}
	w.target = rec.CopyInstanceID
	w.checkUserData("copy", originalUserData)
	if st := w.instance(aws.ToString(old.InstanceId)).State.Name; st != types.InstanceStateNameStopped {
		t.Errorf("old instance %s", st)
	}
	imgs, err := w.ec2.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range imgs.Images {
		t.Errorf("image %s left", aws.ToString(im.ImageId))
	}
	snaps, err := w.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{w.rootVol}}}})
	if err != nil || len(snaps.Snapshots) != 0 {
		t.Errorf("snapshots left: %v %v", snaps, err)
	}
	insts, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{ec2recover.TagRecovery}}}})
	if err != nil || len(insts.Reservations) != 0 {
		t.Errorf("instances still tagged: %v %v", insts, err)
	}
}

func (w *world) checkNoImages(label string) {
	w.t.Helper()
	imgs, err := w.ec2.DescribeImages(context.Background(), &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, im := range imgs.Images {
		w.t.Errorf("%s: image %s left", label, aws.ToString(im.ImageId))
	}
}

// checkNoCopies asserts that no copy is alive (the target has no key
// pair; a copy has the recovery's), tagged or not.
func (w *world) checkNoCopies(label string) {
	w.t.Helper()
	all, err := w.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{Filters: []types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range all.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.KeyName) != "" {
				w.t.Errorf("%s: copy %s left %s", label, aws.ToString(i.InstanceId), i.State.Name)
			}
		}
	}
}

// checkRelaunched asserts a finished relaunch: the old instance stopped,
// one running copy (terminated afterwards, to keep the state small) with
// the original user data, no image, nothing tagged by the recovery.
func (w *world) checkRelaunched(label string) {
	w.t.Helper()
	ctx := context.Background()
	if st := w.instance(w.target).State.Name; st != types.InstanceStateNameStopped {
		w.t.Errorf("%s: old instance %s", label, st)
	}
	all, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"running", "pending"}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	var copies []string
	for _, r := range all.Reservations {
		for _, i := range r.Instances {
			if aws.ToString(i.KeyName) != "" {
				copies = append(copies, aws.ToString(i.InstanceId))
			}
		}
	}
	if len(copies) != 1 {
		w.t.Errorf("%s: running copies %v, want one", label, copies)
	}
	old := w.target
	for _, c := range copies {
		w.target = c
		w.checkUserData(label+" (copy)", originalUserData)
	}
	w.target = old
	w.checkNoImages(label)
	insts, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{ec2recover.TagRecovery}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range insts.Reservations {
		for _, i := range r.Instances {
			if i.State.Name != types.InstanceStateNameTerminated {
				w.t.Errorf("%s: %s still tagged", label, aws.ToString(i.InstanceId))
			}
		}
	}
	if len(copies) > 0 {
		if _, err := w.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: copies}); err != nil {
			w.t.Fatal(err)
		}
	}
}
