package ec2recover_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/awstest"
)

// targetImage is a moto Amazon Linux AMI whose root device is /dev/xvda.
const targetImage = "ami-760aaa0f"

// world is one test's emulated account with a target instance.
type world struct {
	t       testing.TB
	env     *awstest.Env
	cfg     aws.Config
	ec2     *ec2.Client
	iam     *iam.Client
	target  string
	rootVol string
	rootDev string
	dir     string
}

func newWorld(t testing.TB, state string) *world {
	t.Helper()
	env := awstest.New(t)
	cfg := env.Config()
	w := &world{t: t, env: env, cfg: cfg, ec2: ec2.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), dir: t.TempDir()}
	w.target, w.rootVol, w.rootDev = w.launch(state)
	return w
}

// launch starts a target instance with an explicit mapping for the AMI's
// root device (see MOTO.md) and returns its ID, root volume and device.
func (w *world) launch(state string) (string, string, string) {
	w.t.Helper()
	ctx := context.Background()
	out, err := w.ec2.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(targetImage), InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement:           &types.Placement{AvailabilityZone: aws.String("us-east-1a")},
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(8)}}},
		TagSpecifications:   []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	})
	if err != nil {
		w.t.Fatalf("launch target: %v", err)
	}
	inst := out.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if state == "stopped" {
		if _, err := w.ec2.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{id}}); err != nil {
			w.t.Fatal(err)
		}
	}
	i := w.instance(id)
	for _, m := range i.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == aws.ToString(i.RootDeviceName) {
			return id, aws.ToString(m.Ebs.VolumeId), aws.ToString(i.RootDeviceName)
		}
	}
	w.t.Fatalf("target %s has no root volume: %+v", id, i.BlockDeviceMappings)
	return "", "", ""
}

func (w *world) instance(id string) types.Instance {
	w.t.Helper()
	out, err := w.ec2.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil || len(out.Reservations) == 0 {
		w.t.Fatalf("describe %s: %v", id, err)
	}
	return out.Reservations[0].Instances[0]
}

// clients returns the recovery's clients with the given extra API options
// (fault injectors, call counters) on every client.
func (w *world) clients(opts ...func(*middleware.Stack) error) ec2recover.Clients {
	cfg := w.cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, opts...)
	return ec2recover.ClientsFromConfig(cfg)
}

var fastWait = ec2recover.WaitOptions{MinDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond, MaxWait: 20 * time.Second}

func (w *world) opts(extra ...func(*ec2recover.Options)) []func(*ec2recover.Options) {
	return append([]func(*ec2recover.Options){func(o *ec2recover.Options) {
		o.Wait = fastWait
		o.Journal = ec2recover.FileJournal{Path: filepath.Join(w.dir, "journal.json")}
	}}, extra...)
}

// checkRestored asserts what must hold after a recovery or a rollback:
// the same root volume at the original device, the instance in the wanted
// state, no helper alive, no available volume, nothing tagged by a
// recovery left (but the snapshot when kept).
func (w *world) checkRestored(label, wantState string, keepSnapshot bool) {
	w.t.Helper()
	ctx := context.Background()
	i := w.instance(w.target)
	if got := string(i.State.Name); got != wantState {
		w.t.Errorf("%s: target is %s, want %s", label, got, wantState)
	}
	if aws.ToString(i.RootDeviceName) != w.rootDev {
		w.t.Errorf("%s: root device name %s, want %s", label, aws.ToString(i.RootDeviceName), w.rootDev)
	}
	var atRoot string
	for _, m := range i.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == w.rootDev && m.Ebs != nil {
			atRoot = aws.ToString(m.Ebs.VolumeId)
		}
	}
	if atRoot != w.rootVol || len(i.BlockDeviceMappings) != 1 {
		w.t.Errorf("%s: volumes of the target %+v, want %s at %s alone", label, mappings(i), w.rootVol, w.rootDev)
	}
	for _, t := range i.Tags {
		if k := aws.ToString(t.Key); k == ec2recover.TagRecovery || k == ec2recover.TagRecoveryRole {
			w.t.Errorf("%s: target still tagged %s=%s", label, k, aws.ToString(t.Value))
		}
	}
	vols, err := w.ec2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("status"), Values: []string{"available"}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, v := range vols.Volumes {
		w.t.Errorf("%s: volume %s left available", label, aws.ToString(v.VolumeId))
	}
	insts, err := w.ec2.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{ec2recover.TagRecovery}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range insts.Reservations {
		for _, h := range r.Instances {
			if h.State.Name != types.InstanceStateNameTerminated {
				w.t.Errorf("%s: helper %s is %s", label, aws.ToString(h.InstanceId), h.State.Name)
			}
		}
	}
	// Every snapshot a recovery makes (the repair's, the relaunch image's)
	// is of the root volume: a volume filter is far cheaper than a tag one.
	snaps, err := w.ec2.DescribeSnapshots(ctx, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{w.rootVol}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	tagged := 0
	for _, s := range snaps.Snapshots {
		for _, tg := range s.Tags {
			if aws.ToString(tg.Key) == ec2recover.TagRecovery {
				tagged++
			}
		}
	}
	if keepSnapshot && tagged != 1 {
		w.t.Errorf("%s: %d recovery snapshots, want the one kept", label, tagged)
	}
	if !keepSnapshot && len(snaps.Snapshots) != 0 {
		w.t.Errorf("%s: %d snapshots of the root volume left (%d tagged by a recovery)", label, len(snaps.Snapshots), tagged)
	}
	sgs, err := w.ec2.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{ec2recover.TagRecovery}}}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, g := range sgs.SecurityGroups {
		w.t.Errorf("%s: security group %s left", label, aws.ToString(g.GroupId))
	}
	profs, err := w.iam.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, p := range profs.InstanceProfiles {
		w.t.Errorf("%s: instance profile %s left", label, aws.ToString(p.InstanceProfileName))
	}
	roles, err := w.iam.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/")})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range roles.Roles {
		if len(aws.ToString(r.RoleName)) > 17 && aws.ToString(r.RoleName)[:17] == "awsguard-recovery" {
			w.t.Errorf("%s: role %s left", label, aws.ToString(r.RoleName))
		}
	}
}

func mappings(i types.Instance) map[string]string {
	m := map[string]string{}
	for _, b := range i.BlockDeviceMappings {
		if b.Ebs != nil {
			m[aws.ToString(b.DeviceName)] = aws.ToString(b.Ebs.VolumeId)
		}
	}
	return m
}

// dispose terminates the target and deletes its root volume, so that the
// emulator's state stays small over a sweep.
func (w *world) dispose() {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.ec2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{w.target}}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.ec2.DeleteVolume(ctx, &ec2.DeleteVolumeInput{VolumeId: aws.String(w.rootVol)}); err != nil {
		w.t.Fatalf("delete root volume of the disposed target: %v", err)
	}
}
