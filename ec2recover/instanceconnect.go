package ec2recover

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
)

// CheckInstanceConnect is the ID of the EC2 Instance Connect check.
const CheckInstanceConnect = "ec2.instance_connect"

// InstanceConnectEC2 is the part of *ec2.Client that AuditInstanceConnect
// and DisableInstanceConnect call: ec2:DescribeInstances and
// ec2:DescribeImages.
type InstanceConnectEC2 interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	DescribeImages(context.Context, *ec2.DescribeImagesInput, ...func(*ec2.Options)) (*ec2.DescribeImagesOutput, error)
}

// InstanceConnectIAM is the part of *iam.Client that AuditInstanceConnect
// calls: iam:GetAccountAuthorizationDetails.
type InstanceConnectIAM interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

var (
	_ InstanceConnectEC2 = (*ec2.Client)(nil)
	_ InstanceConnectIAM = (*iam.Client)(nil)
)

// OSFamily is what AuditInstanceConnect and DisableInstanceConnect make of
// an instance's image.
type OSFamily string

// The OS families.
const (
	FamilyAmazonLinux2    OSFamily = "amazon-linux-2"
	FamilyAmazonLinux2023 OSFamily = "amazon-linux-2023"
	FamilyUbuntu          OSFamily = "ubuntu"
	FamilyDebian          OSFamily = "debian"
	FamilyRedHat          OSFamily = "redhat"
	FamilyWindows         OSFamily = "windows"
	FamilyOther           OSFamily = "other"
)

var ubuntuRE = regexp.MustCompile(`ubuntu[-/a-z]*-(\d\d)\.(\d\d)`)

var ubuntuCodenames = map[string]int{"focal": 20, "jammy": 22, "noble": 24, "oracular": 24, "plucky": 25, "questing": 25,
	"bionic": 18, "xenial": 16, "trusty": 14}

// ImageFamily names the OS family of an image from its name and platform
// details, and whether the family ships the EC2 Instance Connect agent
// (Amazon Linux 2 and 2023, Ubuntu 20.04 and later).
func ImageFamily(imageName, platformDetails string) (OSFamily, bool) {
	n := strings.ToLower(imageName)
	switch {
	case strings.Contains(strings.ToLower(platformDetails), "windows") || strings.HasPrefix(n, "windows"):
		return FamilyWindows, false
	case strings.HasPrefix(n, "al2023") || strings.Contains(n, "amzn2023"):
		return FamilyAmazonLinux2023, true
	case strings.HasPrefix(n, "amzn2"):
		return FamilyAmazonLinux2, true
	case strings.HasPrefix(n, "amzn"):
		return FamilyRedHat, false // Amazon Linux 1
	case strings.Contains(n, "ubuntu"):
		if m := ubuntuRE.FindStringSubmatch(n); m != nil {
			major, _ := strconv.Atoi(m[1])
			return FamilyUbuntu, major >= 20
		}
		for code, major := range ubuntuCodenames {
			if strings.Contains(n, code) {
				return FamilyUbuntu, major >= 20
			}
		}
		return FamilyUbuntu, false
	case strings.HasPrefix(n, "debian"):
		return FamilyDebian, false
	case strings.HasPrefix(n, "rhel"), strings.HasPrefix(n, "centos"), strings.HasPrefix(n, "rocky"), strings.HasPrefix(n, "fedora"), strings.HasPrefix(n, "almalinux"):
		return FamilyRedHat, false
	}
	return FamilyOther, false
}

// InstanceConnectOptions tune AuditInstanceConnect.
type InstanceConnectOptions struct {
	// Account and Region go into the findings.
	Account, Region string
	// InstanceIDs limits the audit to these instances; default all.
	InstanceIDs []string
	Now         func() time.Time
}

// AuditInstanceConnect reports, per instance (check ec2.instance_connect,
// ISMS-P 2.6.6), whether EC2 Instance Connect can be used on it: its OS
// family ships the agent (from the image's name and platform details) and
// some user, group or role of the account is allowed
// ec2-instance-connect:SendSSHPublicKey (from
// iam:GetAccountAuthorizationDetails; a principal whose grant is denied
// outright, by a Deny on the action for Resource "*" without conditions in
// its own policies or, for a user, its groups', does not count; other
// conditions are not weighed, so a grant found is a grant to review). FAIL: usable, a
// remote access path beside the key pairs; PASS: the agent is not
// shipped or nobody is allowed; NOT_APPLICABLE: Windows. The remediation
// is DisableInstanceConnect.
func AuditInstanceConnect(ctx context.Context, ec2api InstanceConnectEC2, iamapi InstanceConnectIAM, optFns ...func(*InstanceConnectOptions)) (*awsguard.Report, error) {
	var o InstanceConnectOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	for i, id := range o.InstanceIDs {
		if !instanceIDRE.MatchString(id) {
			return nil, &awsguard.InputError{Operation: "ec2recover.AuditInstanceConnect", Field: fmt.Sprintf("InstanceConnectOptions.InstanceIDs[%d]", i), Value: id, Allowed: "an EC2 instance ID"}
		}
	}
	grantees, err := instanceConnectGrantees(ctx, iamapi)
	if err != nil {
		return nil, err
	}
	insts, err := listInstances(ctx, ec2api, o.InstanceIDs)
	if err != nil {
		return nil, err
	}
	names, err := imageNames(ctx, ec2api, insts)
	if err != nil {
		return nil, err
	}
	var fs []awsguard.Finding
	for _, i := range insts {
		id := aws.ToString(i.InstanceId)
		fam, agent := ImageFamily(names[aws.ToString(i.ImageId)], aws.ToString(i.PlatformDetails))
		if i.Platform == types.PlatformValuesWindows {
			fam, agent = FamilyWindows, false
		}
		f := awsguard.Finding{
			Check: CheckInstanceConnect, Severity: awsguard.SeverityMedium, Account: o.Account, Region: o.Region, Resource: id,
			Controls: []string{"ISMS-P:2.6.6"}, Remediation: "ec2recover.DisableInstanceConnect",
			Evidence: map[string]string{
				"image_name": names[aws.ToString(i.ImageId)], "os_family": string(fam),
				"agent_shipped": strconv.FormatBool(agent), "granted_to": strings.Join(grantees, ","),
			},
		}
		switch {
		case fam == FamilyWindows:
			f.Status, f.Title = awsguard.StatusNotApplicable, "Instance "+id+" runs Windows: no EC2 Instance Connect"
		case agent && len(grantees) > 0:
			f.Status, f.Title = awsguard.StatusFail, fmt.Sprintf("EC2 Instance Connect can be used on %s (%s; %d principals allowed)", id, fam, len(grantees))
		case agent:
			f.Status, f.Title = awsguard.StatusPass, "Instance "+id+" ships the EC2 Instance Connect agent, but nobody is allowed SendSSHPublicKey"
		default:
			f.Status, f.Title = awsguard.StatusPass, "Instance "+id+" does not ship the EC2 Instance Connect agent ("+string(fam)+")"
		}
		fs = append(fs, f)
	}
	return awsguard.NewReport(o.Now().UTC(), fs...), nil
}

func listInstances(ctx context.Context, api InstanceConnectEC2, ids []string) ([]types.Instance, error) {
	in := &ec2.DescribeInstancesInput{InstanceIds: ids}
	if len(ids) == 0 {
		in.Filters = []types.Filter{{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}
	}
	var out []types.Instance
	p := ec2.NewDescribeInstancesPaginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("ec2recover: describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			out = append(out, r.Instances...)
		}
	}
	return out, nil
}

func imageNames(ctx context.Context, api InstanceConnectEC2, insts []types.Instance) (map[string]string, error) {
	var ids []string
	for _, i := range insts {
		if id := aws.ToString(i.ImageId); id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	names := map[string]string{}
	if len(ids) == 0 {
		return names, nil
	}
	// Images that no longer exist are simply not returned.
	out, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []types.Filter{{Name: aws.String("image-id"), Values: ids}}})
	if err != nil {
		return nil, fmt.Errorf("ec2recover: describe images: %w", err)
	}
	for _, im := range out.Images {
		names[aws.ToString(im.ImageId)] = aws.ToString(im.Name)
	}
	return names, nil
}

// sendEffect reports whether a policy document allows
// ec2-instance-connect:SendSSHPublicKey, and whether it denies it
// outright: a Deny statement matching the action on every resource
// ("*") without conditions. A Deny limited to some resources or by a
// condition leaves the grant standing, as it does on AWS for the rest.
func sendEffect(doc string) (allows, denies bool) {
	d, err := awsguard.ParsePolicyDocument(doc)
	if err != nil {
		return false, false
	}
	const action = "ec2-instance-connect:sendsshpublickey"
	matches := func(st awsguard.Statement) bool {
		for _, a := range st.Action.Values {
			if ok, _ := path.Match(strings.ToLower(a), action); ok {
				return true
			}
		}
		if !st.NotAction.IsZero() {
			for _, a := range st.NotAction.Values {
				if ok, _ := path.Match(strings.ToLower(a), action); ok {
					return false
				}
			}
			return true
		}
		return false
	}
	for _, st := range d.Statement.List {
		if !matches(st) {
			continue
		}
		switch st.Effect {
		case "Allow":
			allows = true
		case "Deny":
			if len(st.Condition) == 0 && st.NotResource.IsZero() && slices.Contains(st.Resource.Values, "*") {
				denies = true
			}
		}
	}
	return allows, denies
}

// instanceConnectGrantees lists the ARNs of the users, groups and roles
// whose policies allow SendSSHPublicKey and do not deny it outright (a
// user's groups' denies count for the user).
func instanceConnectGrantees(ctx context.Context, api InstanceConnectIAM) ([]string, error) {
	managedAllow, managedDeny := map[string]bool{}, map[string]bool{}
	var users []iamtypes.UserDetail
	var groups []iamtypes.GroupDetail
	var roles []iamtypes.RoleDetail
	in := &iam.GetAccountAuthorizationDetailsInput{}
	for {
		out, err := api.GetAccountAuthorizationDetails(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ec2recover: read the account's authorization details: %w", err)
		}
		for _, p := range out.Policies {
			for _, v := range p.PolicyVersionList {
				if v.IsDefaultVersion {
					allow, deny := sendEffect(aws.ToString(v.Document))
					managedAllow[aws.ToString(p.Arn)], managedDeny[aws.ToString(p.Arn)] = allow, deny
				}
			}
		}
		users, groups, roles = append(users, out.UserDetailList...), append(groups, out.GroupDetailList...), append(roles, out.RoleDetailList...)
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			break
		}
		in.Marker = out.Marker
	}
	effect := func(inline []iamtypes.PolicyDetail, attached []iamtypes.AttachedPolicy) (allow, deny bool) {
		for _, p := range inline {
			a, d := sendEffect(aws.ToString(p.PolicyDocument))
			allow, deny = allow || a, deny || d
		}
		for _, p := range attached {
			allow, deny = allow || managedAllow[aws.ToString(p.PolicyArn)], deny || managedDeny[aws.ToString(p.PolicyArn)]
		}
		return allow, deny
	}
	groupDenies := map[string]bool{}
	var out []string
	for _, g := range groups {
		allow, deny := effect(g.GroupPolicyList, g.AttachedManagedPolicies)
		groupDenies[aws.ToString(g.GroupName)] = deny
		if allow && !deny {
			out = append(out, aws.ToString(g.Arn))
		}
	}
	for _, u := range users {
		allow, deny := effect(u.UserPolicyList, u.AttachedManagedPolicies)
		for _, g := range u.GroupList {
			deny = deny || groupDenies[g]
		}
		if allow && !deny {
			out = append(out, aws.ToString(u.Arn))
		}
	}
	for _, r := range roles {
		if allow, deny := effect(r.RolePolicyList, r.AttachedManagedPolicies); allow && !deny {
			out = append(out, aws.ToString(r.Arn))
		}
	}
	slices.Sort(out)
	return out, nil
}
