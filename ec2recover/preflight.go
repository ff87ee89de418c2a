package ec2recover

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard/internal/awserr"
)

// Strategy is a way to put a new public key on an instance.
type Strategy string

// The strategies, from the least disruptive to the most.
const (
	// StrategyAuto picks the least disruptive strategy the preflight
	// finds possible, in the order of the constants below.
	StrategyAuto Strategy = "auto"
	// StrategySSM appends the key through SSM Run Command on the running
	// instance: no downtime. Needs the instance's SSM agent online.
	StrategySSM Strategy = "ssm"
	// StrategyUserData adds the key through a one-boot cloud-init user
	// data document, then restores the original user data.
	StrategyUserData Strategy = "userdata"
	// StrategyRepair moves the root volume to a helper instance in the
	// same AZ, appends the key there and moves it back.
	StrategyRepair Strategy = "repair"
	// StrategyRelaunch makes an image of the instance and launches a copy
	// with the new key.
	StrategyRelaunch Strategy = "relaunch"
)

// Strategies lists the concrete strategies in Auto's order of preference.
var Strategies = []Strategy{StrategySSM, StrategyUserData, StrategyRepair, StrategyRelaunch}

// implemented are the strategies this version carries out. Auto never
// picks another, and asking for another is refused with its reason.
var implemented = map[Strategy]bool{StrategySSM: true, StrategyUserData: true, StrategyRepair: true, StrategyRelaunch: true}

func (s Strategy) valid() bool { return s == StrategyAuto || slices.Contains(Strategies, s) }

// Downtime says what a strategy costs the instance's users.
func (s Strategy) Downtime() string {
	switch s {
	case StrategySSM:
		return "none: nothing stops"
	case StrategyUserData:
		return "two stops and starts (a few minutes)"
	case StrategyRepair:
		return "one stop and start, the root volume away meanwhile (about 5 to 15 minutes)"
	case StrategyRelaunch:
		return "the instance is replaced by a copy with a new instance ID and private IP where taken"
	}
	return ""
}

// State names what the preflight found the instance to be, before any
// strategy is weighed.
type State int

// The states of an instance. Only StateReady goes on to a strategy.
const (
	// StateReady: an EBS-backed Linux instance, running or stopped, with
	// no unfinished recovery: the strategies are weighed.
	StateReady State = iota + 1
	// StateTransitional: pending, stopping or shutting down. Wait and run
	// again.
	StateTransitional
	// StateGone: terminated.
	StateGone
	// StateWindows: a Windows instance. Key pairs there only decrypt the
	// Administrator password: reset it with EC2Launch v2 / EC2Rescue
	// (AWSSupport-ResetAccess) instead.
	StateWindows
	// StateInstanceStore: the root device is an instance store volume,
	// lost on stop: no strategy that stops or moves it is safe.
	StateInstanceStore
	// StateAutoScaled: the instance belongs to an Auto Scaling group,
	// which may replace it while it is stopped; refused unless
	// Options.AllowAutoScaling.
	StateAutoScaled
	// StateInProgress: the instance carries the tag of an unfinished
	// recovery: Resume or Rollback it.
	StateInProgress
)

var stateNames = map[State]string{
	StateReady:         "ready",
	StateTransitional:  "transitional",
	StateGone:          "gone",
	StateWindows:       "windows",
	StateInstanceStore: "instance-store",
	StateAutoScaled:    "auto-scaled",
	StateInProgress:    "in-progress",
}

func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// SSMStatus is what the preflight learnt of the instance's SSM agent.
type SSMStatus string

// The SSM statuses.
const (
	SSMOnline     SSMStatus = "online"
	SSMOffline    SSMStatus = "offline" // managed, agent not answering
	SSMNotManaged SSMStatus = "not-managed"
	// SSMUnknown: DescribeInstanceInformation failed (denied, or not
	// implemented by an emulator); the instance is treated as not managed.
	SSMUnknown SSMStatus = "unknown"
)

// KMSStatus is what the preflight learnt of an encrypted root's key.
type KMSStatus string

// The KMS statuses.
const (
	KMSNone      KMSStatus = ""          // not encrypted
	KMSUsable    KMSStatus = "usable"    // an AWS managed key, or a customer key DescribeKey shows Enabled
	KMSUnusable  KMSStatus = "unusable"  // denied, disabled, pending deletion or gone
	KMSUnchecked KMSStatus = "unchecked" // a customer key and no KMS client to check it
)

// Facts are what the preflight read of the instance; the pure functions
// Classify and Assess decide from them alone.
type Facts struct {
	InstanceID       string    `json:"instance_id"`
	InstanceState    string    `json:"instance_state"`
	Platform         string    `json:"platform"` // "linux" or "windows"
	PlatformDetails  string    `json:"platform_details,omitempty"`
	InstanceType     string    `json:"instance_type,omitempty"`
	Architecture     string    `json:"architecture,omitempty"`
	ImageID          string    `json:"image_id,omitempty"`
	ImageName        string    `json:"image_name,omitempty"`
	AvailabilityZone string    `json:"availability_zone"`
	SubnetID         string    `json:"subnet_id,omitempty"`
	VPCID            string    `json:"vpc_id,omitempty"`
	RootDeviceName   string    `json:"root_device_name"`
	RootDeviceType   string    `json:"root_device_type"`
	RootVolumeID     string    `json:"root_volume_id,omitempty"`
	RootEncrypted    bool      `json:"root_encrypted,omitempty"`
	RootKMSKeyID     string    `json:"root_kms_key_id,omitempty"`
	KMS              KMSStatus `json:"kms,omitempty"`
	KMSDetail        string    `json:"kms_detail,omitempty"`
	// ProductCodes are the marketplace product codes of the instance and
	// its image.
	ProductCodes          []string  `json:"product_codes,omitempty"`
	AutoScalingGroup      string    `json:"auto_scaling_group,omitempty"`
	SSM                   SSMStatus `json:"ssm"`
	SSMDetail             string    `json:"ssm_detail,omitempty"`
	PublicIP              string    `json:"public_ip,omitempty"`
	ElasticIP             string    `json:"elastic_ip,omitempty"`
	ElasticIPAllocationID string    `json:"elastic_ip_allocation_id,omitempty"`
	// CloudInit is true when the image's name names a Linux family that
	// ships cloud-init.
	CloudInit bool `json:"cloud_init,omitempty"`
	// LoginUser is Options.LoginUser, or the default user of the image's
	// family; empty when neither is known.
	LoginUser string `json:"login_user,omitempty"`
	// HelperImageID and HelperSubnetID are the root-volume repair's
	// helper; HelperProblem says why there is none.
	HelperImageID  string `json:"helper_image_id,omitempty"`
	HelperSubnetID string `json:"helper_subnet_id,omitempty"`
	HelperVPCID    string `json:"helper_vpc_id,omitempty"`
	HelperProblem  string `json:"helper_problem,omitempty"`
	// HelperProfile is true when the helper can get an instance profile
	// (one given, or an IAM client to make one).
	HelperProfile bool `json:"helper_profile,omitempty"`
	// RecoveryID is the value of TagRecovery on the instance: an
	// unfinished recovery.
	RecoveryID string `json:"recovery_id,omitempty"`
}

// Consideration is one strategy as the preflight weighed it.
type Consideration struct {
	Strategy Strategy `json:"strategy"`
	Possible bool     `json:"possible"`
	// Reason says why it is not possible (empty when it is).
	Reason string `json:"reason,omitempty"`
}

// Classify names the instance's state from the facts alone.
func Classify(f Facts, allowAutoScaling bool) State {
	switch {
	case f.InstanceState == "terminated":
		return StateGone
	case f.RecoveryID != "":
		return StateInProgress
	case f.InstanceState != "running" && f.InstanceState != "stopped":
		return StateTransitional
	case f.Platform == "windows":
		return StateWindows
	case f.RootDeviceType != "ebs":
		return StateInstanceStore
	case f.AutoScalingGroup != "" && !allowAutoScaling:
		return StateAutoScaled
	}
	return StateReady
}

// Assess weighs every strategy on a ready instance, from the facts alone.
func Assess(f Facts) []Consideration {
	out := make([]Consideration, 0, len(Strategies))
	for _, s := range Strategies {
		r := refusal(s, f)
		if r == "" && !implemented[s] {
			r = "not available in this version of ec2recover"
		}
		out = append(out, Consideration{Strategy: s, Possible: r == "", Reason: r})
	}
	return out
}

func refusal(s Strategy, f Facts) string {
	moves := s == StrategyRepair || s == StrategyRelaunch
	switch {
	case s == StrategySSM && f.InstanceState != "running":
		return "the instance is " + f.InstanceState + "; Run Command needs it running"
	case s == StrategySSM && f.SSM != SSMOnline:
		d := "the instance is not an SSM managed instance with its agent online (SSM: " + string(f.SSM)
		if f.SSMDetail != "" {
			d += ", " + f.SSMDetail
		}
		return d + ")"
	case s == StrategyUserData && !f.CloudInit:
		return "cannot tell that the image (" + orUnknown(f.ImageName) + ") ships cloud-init"
	case s == StrategyUserData && f.LoginUser == "":
		return "cannot tell the login user of the image (" + orUnknown(f.ImageName) + "): give Options.LoginUser"
	case moves && len(f.ProductCodes) > 0:
		return "the root volume carries marketplace product codes (" + strings.Join(f.ProductCodes, ", ") + "), which may not be moved to another instance or image"
	case moves && f.KMS == KMSUnusable:
		return "the root volume is encrypted with KMS key " + f.RootKMSKeyID + " that the caller cannot use (" + f.KMSDetail + ")"
	case moves && f.KMS == KMSUnchecked:
		return "the root volume is encrypted with customer managed KMS key " + f.RootKMSKeyID + " and no KMS client was given to check it"
	case s == StrategyRepair && f.HelperProblem != "":
		return f.HelperProblem
	case s == StrategyRepair && !f.HelperProfile:
		return "no IAM client to make the helper's instance profile, and none given (Options.HelperInstanceProfile)"
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Choose picks the strategy to use: the one asked for if it is possible,
// or with StrategyAuto the first possible in the order of Strategies. The
// error matches ErrRefused and lists each strategy's reason.
func Choose(asked Strategy, cs []Consideration) (Strategy, error) {
	var why []string
	for _, c := range cs {
		if asked != StrategyAuto && c.Strategy != asked {
			continue
		}
		if c.Possible {
			return c.Strategy, nil
		}
		why = append(why, string(c.Strategy)+": "+c.Reason)
	}
	return "", fmt.Errorf("%w: %s", ErrRefused, strings.Join(why, "; "))
}

// stateRefusal is the ErrRefused error of a state other than StateReady.
func stateRefusal(st State, f Facts) error {
	var why string
	switch st {
	case StateGone:
		return fmt.Errorf("%w: %s is terminated", ErrInstanceNotFound, f.InstanceID)
	case StateInProgress:
		return fmt.Errorf("%w: %s carries %s=%s: Resume or Rollback that recovery (its journal), or run RecoverLeftovers", ErrRecoveryInProgress, f.InstanceID, TagRecovery, f.RecoveryID)
	case StateTransitional:
		why = "the instance is " + f.InstanceState + ": wait until it is running or stopped and run again"
	case StateWindows:
		why = "a Windows instance: a key pair there only decrypts the Administrator password; reset that password instead (EC2Launch v2 or EC2Rescue, the AWSSupport-ResetAccess runbook, or Systems Manager Session Manager)"
	case StateInstanceStore:
		why = "the root device is an instance store volume, lost on stop, and cannot be moved: use SSM if its agent is online, else nothing safe is possible"
	case StateAutoScaled:
		why = "the instance belongs to Auto Scaling group " + f.AutoScalingGroup + ", which may replace it while it is stopped: put it in Standby or suspend the group's health checks, then run again with Options.AllowAutoScaling"
	}
	return fmt.Errorf("%w: %s: %s", ErrRefused, f.InstanceID, why)
}

// cloudInitFamilies are image name prefixes of Linux families that ship
// cloud-init.
var cloudInitFamilies = []string{"amzn", "al2023", "ubuntu/", "debian", "rhel", "RHEL", "centos", "CentOS", "rocky", "Rocky", "fedora", "Fedora", "suse", "almalinux", "AlmaLinux"}

// readFacts is the preflight: it reads only.
func readFacts(ctx context.Context, c Clients, id string, o *Options, needHelper bool) (Facts, error) {
	f := Facts{InstanceID: id}
	inst, err := describeInstance(ctx, c.EC2, id)
	if err != nil {
		return f, err
	}
	f.InstanceState = string(inst.State.Name)
	f.Platform = "linux"
	if inst.Platform == types.PlatformValuesWindows || strings.Contains(strings.ToLower(aws.ToString(inst.PlatformDetails)), "windows") {
		f.Platform = "windows"
	}
	f.PlatformDetails = aws.ToString(inst.PlatformDetails)
	f.InstanceType = string(inst.InstanceType)
	f.Architecture = string(inst.Architecture)
	f.ImageID = aws.ToString(inst.ImageId)
	if inst.Placement != nil {
		f.AvailabilityZone = aws.ToString(inst.Placement.AvailabilityZone)
	}
	f.SubnetID, f.VPCID = aws.ToString(inst.SubnetId), aws.ToString(inst.VpcId)
	f.RootDeviceName = aws.ToString(inst.RootDeviceName)
	f.RootDeviceType = string(inst.RootDeviceType)
	f.PublicIP = aws.ToString(inst.PublicIpAddress)
	for _, pc := range inst.ProductCodes {
		if pc.ProductCodeType == types.ProductCodeValuesMarketplace || pc.ProductCodeType == "" {
			f.ProductCodes = append(f.ProductCodes, aws.ToString(pc.ProductCodeId))
		}
	}
	for _, t := range inst.Tags {
		switch aws.ToString(t.Key) {
		case "aws:autoscaling:groupName":
			f.AutoScalingGroup = aws.ToString(t.Value)
		case TagRecovery:
			f.RecoveryID = aws.ToString(t.Value)
		}
	}
	for _, m := range inst.BlockDeviceMappings {
		if aws.ToString(m.DeviceName) == f.RootDeviceName && m.Ebs != nil {
			f.RootVolumeID = aws.ToString(m.Ebs.VolumeId)
		}
	}
	if f.InstanceState == "terminated" {
		return f, nil
	}
	if f.RootDeviceType == "ebs" && f.RootVolumeID == "" {
		f.RootDeviceType = "ebs (root volume not attached)"
	}
	if f.RootVolumeID != "" {
		out, err := c.EC2.DescribeVolumes(ctx, &ec2.DescribeVolumesInput{VolumeIds: []string{f.RootVolumeID}})
		if err != nil {
			return f, fmt.Errorf("ec2recover: describe root volume %s: %w", f.RootVolumeID, err)
		}
		if len(out.Volumes) == 1 {
			v := out.Volumes[0]
			f.RootEncrypted = aws.ToBool(v.Encrypted)
			f.RootKMSKeyID = aws.ToString(v.KmsKeyId)
		}
		if f.RootEncrypted {
			f.KMS, f.KMSDetail = checkKMS(ctx, c.KMS, f.RootKMSKeyID)
		}
	}
	if f.ImageID != "" {
		out, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{f.ImageID}})
		if err != nil && !awserr.HasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Unavailable") {
			return f, fmt.Errorf("ec2recover: describe image %s: %w", f.ImageID, err)
		}
		if err == nil && len(out.Images) == 1 {
			img := out.Images[0]
			f.ImageName = aws.ToString(img.Name)
			for _, pc := range img.ProductCodes {
				if id := aws.ToString(pc.ProductCodeId); !slices.Contains(f.ProductCodes, id) {
					f.ProductCodes = append(f.ProductCodes, id)
				}
			}
		}
	}
	for _, p := range cloudInitFamilies {
		if strings.HasPrefix(f.ImageName, p) {
			f.CloudInit = true
		}
	}
	f.LoginUser = o.LoginUser
	if f.LoginUser == "" {
		f.LoginUser = defaultUser(f.ImageName)
	}
	if f.AutoScalingGroup == "" && c.AutoScaling != nil {
		out, err := c.AutoScaling.DescribeAutoScalingInstances(ctx, &autoscaling.DescribeAutoScalingInstancesInput{InstanceIds: []string{id}})
		if err != nil {
			return f, fmt.Errorf("ec2recover: describe auto scaling membership of %s: %w", id, err)
		}
		if len(out.AutoScalingInstances) > 0 {
			f.AutoScalingGroup = aws.ToString(out.AutoScalingInstances[0].AutoScalingGroupName)
		}
	}
	f.SSM, f.SSMDetail = checkSSM(ctx, c.SSM, id)
	addr, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: []types.Filter{{Name: aws.String("instance-id"), Values: []string{id}}}})
	if err != nil {
		return f, fmt.Errorf("ec2recover: describe elastic IPs of %s: %w", id, err)
	}
	if len(addr.Addresses) > 0 {
		f.ElasticIP = aws.ToString(addr.Addresses[0].PublicIp)
		f.ElasticIPAllocationID = aws.ToString(addr.Addresses[0].AllocationId)
	}
	f.HelperProfile = o.HelperInstanceProfile != "" || c.IAM != nil
	if needHelper && f.Platform == "linux" {
		f.HelperSubnetID, f.HelperVPCID, f.HelperImageID, f.HelperProblem, err = findHelper(ctx, c, f, o)
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func describeInstance(ctx context.Context, api RecoverEC2, id string) (*types.Instance, error) {
	out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if awserr.HasCode(err, "InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed") {
		return nil, fmt.Errorf("%w: %s: %w", ErrInstanceNotFound, id, err)
	}
	if err != nil {
		return nil, fmt.Errorf("ec2recover: describe instance %s: %w", id, err)
	}
	for _, r := range out.Reservations {
		for i := range r.Instances {
			if aws.ToString(r.Instances[i].InstanceId) == id {
				return &r.Instances[i], nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrInstanceNotFound, id)
}

func checkSSM(ctx context.Context, api RecoverSSM, id string) (SSMStatus, string) {
	out, err := api.DescribeInstanceInformation(ctx, &ssm.DescribeInstanceInformationInput{
		Filters: []ssmtypes.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: []string{id}}},
	})
	if err != nil {
		if ctx.Err() != nil {
			return SSMUnknown, ctx.Err().Error()
		}
		return SSMUnknown, "DescribeInstanceInformation failed: " + errSummary(err)
	}
	for _, ii := range out.InstanceInformationList {
		if aws.ToString(ii.InstanceId) != id {
			continue
		}
		if ii.PingStatus == ssmtypes.PingStatusOnline {
			return SSMOnline, ""
		}
		return SSMOffline, "agent " + string(ii.PingStatus)
	}
	return SSMNotManaged, ""
}

func checkKMS(ctx context.Context, api RecoverKMS, keyID string) (KMSStatus, string) {
	if api == nil {
		if strings.HasSuffix(keyID, "alias/aws/ebs") {
			return KMSUsable, "AWS managed key"
		}
		return KMSUnchecked, "no KMS client"
	}
	out, err := api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return KMSUnusable, "DescribeKey failed: " + errSummary(err)
	}
	md := out.KeyMetadata
	if md == nil {
		return KMSUnusable, "DescribeKey returned no metadata"
	}
	if md.KeyManager == kmstypes.KeyManagerTypeAws {
		return KMSUsable, "AWS managed key"
	}
	if md.KeyState != kmstypes.KeyStateEnabled {
		return KMSUnusable, "key state " + string(md.KeyState)
	}
	return KMSUsable, "customer managed key, Enabled"
}

func errSummary(err error) string {
	if c := awserr.Code(err); c != "" {
		return c
	}
	return err.Error()
}

// DefaultHelperImageParameter is the SSM public parameter that names the
// current Amazon Linux 2023 AMI, the default helper image.
const DefaultHelperImageParameter = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

func findHelper(ctx context.Context, c Clients, f Facts, o *Options) (subnet, vpc, image, problem string, err error) {
	subnet = o.HelperSubnetID
	if subnet == "" {
		subnet = f.SubnetID
	}
	in := &ec2.DescribeSubnetsInput{SubnetIds: []string{subnet}}
	if subnet == "" {
		in = &ec2.DescribeSubnetsInput{Filters: []types.Filter{
			{Name: aws.String("availability-zone"), Values: []string{f.AvailabilityZone}},
			{Name: aws.String("default-for-az"), Values: []string{"true"}},
		}}
	}
	out, err := c.EC2.DescribeSubnets(ctx, in)
	if awserr.HasCode(err, "InvalidSubnetID.NotFound") || (err == nil && len(out.Subnets) == 0) {
		if subnet == "" {
			return "", "", "", "no subnet for the helper in " + f.AvailabilityZone + " (give Options.HelperSubnetID)", nil
		}
		return "", "", "", "helper subnet " + subnet + " does not exist", nil
	}
	if err != nil {
		return "", "", "", "", fmt.Errorf("ec2recover: describe the helper's subnet: %w", err)
	}
	sn := out.Subnets[0]
	subnet, vpc = aws.ToString(sn.SubnetId), aws.ToString(sn.VpcId)
	if az := aws.ToString(sn.AvailabilityZone); az != f.AvailabilityZone {
		return "", "", "", "helper subnet " + subnet + " is in " + az + ", the instance in " + f.AvailabilityZone + ": a volume attaches only within its AZ", nil
	}
	image = o.HelperImageID
	if image == "" {
		param := o.HelperImageParameter
		if param == "" {
			param = DefaultHelperImageParameter
		}
		p, err := c.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(param)})
		if awserr.HasCode(err, "ParameterNotFound") {
			return subnet, vpc, "", "no helper image: SSM parameter " + param + " does not exist (give Options.HelperImageID)", nil
		}
		if err != nil {
			return "", "", "", "", fmt.Errorf("ec2recover: read helper image parameter %s: %w", param, err)
		}
		image = aws.ToString(p.Parameter.Value)
	}
	img, err := c.EC2.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{image}})
	if awserr.HasCode(err, "InvalidAMIID.NotFound", "InvalidAMIID.Malformed", "InvalidAMIID.Unavailable") || (err == nil && len(img.Images) == 0) {
		return subnet, vpc, "", "helper image " + image + " does not exist in this region", nil
	}
	if err != nil {
		return "", "", "", "", fmt.Errorf("ec2recover: describe helper image %s: %w", image, err)
	}
	if st := img.Images[0].State; st != "" && st != types.ImageStateAvailable {
		return subnet, vpc, "", "helper image " + image + " is " + string(st), nil
	}
	return subnet, vpc, image, "", nil
}
