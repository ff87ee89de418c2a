package ec2recover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/internal/awserr"
)

// The results of a dry run's permission check.
const (
	// PermissionAllowed: EC2 answered DryRunOperation to the call made
	// with DryRun set: the caller may make it.
	PermissionAllowed = "allowed"
	// PermissionDenied: EC2 answered UnauthorizedOperation (AccessDenied
	// from some emulators): the run would fail at this step.
	PermissionDenied = "denied"
	// PermissionNotChecked: the call has no dry run (IAM, SSM), or the
	// resource it acts on exists only during the run (the helper, the
	// snapshot, the image).
	PermissionNotChecked = "not-checked"
)

// PermissionCheck is what a dry run learnt of one API action the plan
// needs.
type PermissionCheck struct {
	// Action is the IAM action, such as "ec2:StopInstances".
	Action string `json:"action"`
	// Step is the kind of the first plan action making the call.
	Step string `json:"step"`
	// Resource is what the check's call named, when it was made.
	Resource string `json:"resource,omitempty"`
	// Result is PermissionAllowed, PermissionDenied or PermissionNotChecked.
	Result string `json:"result"`
	// Detail says why a call was not checked, or what EC2 answered.
	Detail string `json:"detail,omitempty"`
}

// dryRunCall makes one EC2 call with DryRun set.
type dryRunCall func(ctx context.Context, api RecoverEC2) error

// checkPermissions asks EC2, with DryRun set, about every mutating EC2
// call of the plan whose resource exists before the run, and records the
// answers in rec.Permissions. It fails with ErrPermissionMissing naming
// every denied action, and with the cause when EC2 answered anything but
// allowed or denied.
func checkPermissions(ctx context.Context, api RecoverEC2, rec *Recovery, r *Record, f *Facts) error {
	seen := map[string]bool{}
	var denied []string
	for _, a := range rec.Actions {
		for _, call := range strings.Split(a.Call, ",") {
			if call == "" || seen[call] || readCall(call) {
				continue
			}
			seen[call] = true
			pc := PermissionCheck{Action: call, Step: a.Kind, Result: PermissionNotChecked}
			do, res, why := dryRunFor(call, a.Kind, r, f)
			if do == nil {
				pc.Detail = why
				rec.Permissions = append(rec.Permissions, pc)
				continue
			}
			pc.Resource = res
			err := do(ctx, api)
			switch {
			case awserr.HasCode(err, "DryRunOperation"):
				pc.Result = PermissionAllowed
			case awserr.HasCode(err, "UnauthorizedOperation", "AccessDenied"):
				pc.Result, pc.Detail = PermissionDenied, awserr.Code(err)
				denied = append(denied, call+" ("+a.Kind+")")
			case err == nil:
				return fmt.Errorf("ec2recover: dry run: %s on %s answered success to a call with DryRun set", call, res)
			default:
				return fmt.Errorf("ec2recover: dry run: check %s on %s: %w", call, res, err)
			}
			rec.Permissions = append(rec.Permissions, pc)
		}
	}
	if len(denied) > 0 {
		rec.Warnings = append(rec.Warnings, "the caller lacks permission for "+strings.Join(denied, ", "))
		return fmt.Errorf("%w: %s: %s", ErrPermissionMissing, r.InstanceID, strings.Join(denied, ", "))
	}
	return nil
}

func readCall(call string) bool {
	_, op, _ := strings.Cut(call, ":")
	return strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List")
}

// dryRunFor returns the DryRun call that checks call for the plan step
// kind, and the resource it names; or nil and why it cannot be checked.
func dryRunFor(call, kind string, r *Record, f *Facts) (dryRunCall, string, string) {
	dry, id, vol := aws.Bool(true), r.InstanceID, r.RootVolumeID
	switch call {
	case "ec2:CreateTags":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{DryRun: dry, Resources: []string{id}, Tags: recoveryTags(r.ID, "target")})
			return err
		}, id, ""
	case "ec2:DeleteTags":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{DryRun: dry, Resources: []string{id}, Tags: []types.Tag{{Key: aws.String(TagRecovery)}}})
			return err
		}, id, ""
	case "ec2:StopInstances":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.StopInstances(ctx, &ec2.StopInstancesInput{DryRun: dry, InstanceIds: []string{id}})
			return err
		}, id, ""
	case "ec2:StartInstances":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.StartInstances(ctx, &ec2.StartInstancesInput{DryRun: dry, InstanceIds: []string{id}})
			return err
		}, id, ""
	case "ec2:CreateSnapshot":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{DryRun: dry, VolumeId: aws.String(vol), TagSpecifications: tagSpec(types.ResourceTypeSnapshot, r.ID, "snapshot")})
			return err
		}, vol, ""
	case "ec2:DetachVolume":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.DetachVolume(ctx, &ec2.DetachVolumeInput{DryRun: dry, VolumeId: aws.String(vol), InstanceId: aws.String(id)})
			return err
		}, vol, ""
	case "ec2:AttachVolume":
		// The helper does not exist yet: the reattachment to the target
		// under its root device stands for both attachments.
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.AttachVolume(ctx, &ec2.AttachVolumeInput{DryRun: dry, VolumeId: aws.String(vol), InstanceId: aws.String(id), Device: aws.String(r.RootDeviceName)})
			return err
		}, vol + " on " + id, ""
	case "ec2:ModifyInstanceAttribute":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.ModifyInstanceAttribute(ctx, &ec2.ModifyInstanceAttributeInput{DryRun: dry, InstanceId: aws.String(id), UserData: &types.SecureBlobAttributeValue{Value: []byte("#cloud-config\n")}})
			return err
		}, id, ""
	}
	return dryRunCreate(call, kind, r, f)
}

// dryRunCreate is dryRunFor for the calls that make something new.
func dryRunCreate(call, kind string, r *Record, f *Facts) (dryRunCall, string, string) {
	dry, id := aws.Bool(true), r.InstanceID
	switch {
	case call == "ec2:CreateSecurityGroup" && r.HelperVPCID != "":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{DryRun: dry, GroupName: aws.String("ec2recover-" + r.ID), VpcId: aws.String(r.HelperVPCID),
				Description: aws.String("ec2recover " + r.ID + ": helper, no inbound rules")})
			return err
		}, r.HelperVPCID, ""
	case call == "ec2:RunInstances" && kind == ActionLaunchHelper:
		// Without the helper's group and profile, which do not exist yet
		// (iam:PassRole is not checked).
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.RunInstances(ctx, &ec2.RunInstancesInput{DryRun: dry, ImageId: aws.String(r.HelperImageID), InstanceType: types.InstanceType(r.HelperInstanceType),
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(r.HelperSubnetID), TagSpecifications: tagSpec(types.ResourceTypeInstance, r.ID, "helper")})
			return err
		}, r.HelperImageID + " in " + r.HelperSubnetID, ""
	case call == "ec2:RunInstances" && f.ImageID != "":
		// The copy's image does not exist yet: the instance's own image
		// stands for it, in the instance's subnet.
		return func(ctx context.Context, api RecoverEC2) error {
			in := &ec2.RunInstancesInput{DryRun: dry, ImageId: aws.String(f.ImageID), InstanceType: types.InstanceType(f.InstanceType),
				MinCount: aws.Int32(1), MaxCount: aws.Int32(1), TagSpecifications: tagSpec(types.ResourceTypeInstance, r.ID, "copy")}
			if f.SubnetID != "" {
				in.SubnetId = aws.String(f.SubnetID)
			}
			_, err := api.RunInstances(ctx, in)
			return err
		}, f.ImageID, ""
	case call == "ec2:CreateImage":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.CreateImage(ctx, &ec2.CreateImageInput{DryRun: dry, InstanceId: aws.String(id), Name: aws.String("ec2recover-" + r.ID), NoReboot: aws.Bool(!r.Reboot)})
			return err
		}, id, ""
	case call == "ec2:ImportKeyPair":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{DryRun: dry, KeyName: aws.String(r.KeyPairName), PublicKeyMaterial: []byte(dryRunPublicKey)})
			return err
		}, r.KeyPairName, ""
	case call == "ec2:AssociateAddress" && r.ElasticIPAllocationID != "":
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.AssociateAddress(ctx, &ec2.AssociateAddressInput{DryRun: dry, AllocationId: aws.String(r.ElasticIPAllocationID), InstanceId: aws.String(id), AllowReassociation: aws.Bool(true)})
			return err
		}, r.ElasticIPAllocationID, ""
	case call == "ec2:TerminateInstances" && kind == ActionTerminateOld:
		return func(ctx context.Context, api RecoverEC2) error {
			_, err := api.TerminateInstances(ctx, &ec2.TerminateInstancesInput{DryRun: dry, InstanceIds: []string{id}})
			return err
		}, id, ""
	case strings.HasPrefix(call, "ec2:"):
		return nil, "", "its resource exists only during the run"
	}
	return nil, "", "the service has no dry run"
}

// dryRunPublicKey is the key material of the ImportKeyPair check (a dry
// run generates no key).
const dryRunPublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH3r0mLlIsPUnS+bRUTM7OsqT6IBapk+8m2UXrAOdsTS ec2recover-dry-run"

// DryRunActions returns the IAM actions a dry run of strategy s makes
// (StrategyAuto: of any strategy), sorted: the preflight's reads, and the
// mutating EC2 actions it checks with DryRun set (which EC2 evaluates as
// the action itself). kms:DescribeKey is called only for a root encrypted
// with a customer managed key; a denied ssm:DescribeInstanceInformation
// reads as SSMUnknown.
func DryRunActions(s Strategy) []string {
	acts := []string{"ec2:DescribeInstances", "ec2:DescribeVolumes", "ec2:DescribeImages", "ec2:DescribeAddresses",
		"autoscaling:DescribeAutoScalingInstances", "ssm:DescribeInstanceInformation", "kms:DescribeKey"}
	if s == StrategyAuto || s == StrategyRepair {
		acts = append(acts, "ec2:DescribeSubnets", "ssm:GetParameter")
	}
	strategies := []Strategy{s}
	if s == StrategyAuto {
		strategies = Strategies
	}
	f := &Facts{ImageID: "ami-00000000", InstanceType: "t3.micro", SubnetID: "subnet-00000000"}
	for _, st := range strategies {
		r := &Record{ID: "rk-000000000000", InstanceID: "i-00000000", Strategy: st, PriorState: "running", RootVolumeID: "vol-00000000",
			RootDeviceName: "/dev/xvda", HelperImageID: "ami-00000000", HelperSubnetID: "subnet-00000000", HelperVPCID: "vpc-00000000",
			HelperInstanceType: "t3.micro", HelperProfile: "p", HelperProfileOwned: true, KeyPairName: "k",
			ElasticIPAllocationID: "eipalloc-00000000", LoginUser: "ec2-user"}
		rec := &Recovery{}
		switch st {
		case StrategySSM:
			planSSM(rec, r)
		case StrategyUserData:
			planUserData(rec, r)
		case StrategyRepair:
			planRepair(rec, r)
		case StrategyRelaunch:
			planRelaunch(rec, r)
		}
		for _, a := range rec.Actions {
			for _, call := range strings.Split(a.Call, ",") {
				if do, _, _ := dryRunFor(call, a.Kind, r, f); do != nil && !readCall(call) {
					acts = append(acts, call)
				}
			}
		}
	}
	slices.Sort(acts)
	return slices.Compact(acts)
}
