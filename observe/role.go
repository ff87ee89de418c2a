package observe

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// AgentRoleIAMAPI is the part of *iam.Client that EnsureAgentRole calls:
// iam:GetRole, iam:ListAttachedRolePolicies, iam:GetInstanceProfile, and
// to change: iam:CreateRole (with iam:TagRole), iam:UpdateAssumeRolePolicy,
// iam:AttachRolePolicy, iam:CreateInstanceProfile (with
// iam:TagInstanceProfile) and iam:AddRoleToInstanceProfile; associating
// the profile with an instance needs iam:PassRole on the role.
type AgentRoleIAMAPI interface {
	GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	CreateInstanceProfile(ctx context.Context, in *iam.CreateInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.CreateInstanceProfileOutput, error)
	AddRoleToInstanceProfile(ctx context.Context, in *iam.AddRoleToInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.AddRoleToInstanceProfileOutput, error)
}

// AgentRoleEC2API is the part of *ec2.Client that EnsureAgentRole calls
// when it associates the profile with an instance:
// ec2:DescribeIamInstanceProfileAssociations, and to change:
// ec2:AssociateIamInstanceProfile and
// ec2:ReplaceIamInstanceProfileAssociation.
type AgentRoleEC2API interface {
	DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2.DescribeIamInstanceProfileAssociationsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeIamInstanceProfileAssociationsOutput, error)
	AssociateIamInstanceProfile(ctx context.Context, in *ec2.AssociateIamInstanceProfileInput, optFns ...func(*ec2.Options)) (*ec2.AssociateIamInstanceProfileOutput, error)
	ReplaceIamInstanceProfileAssociation(ctx context.Context, in *ec2.ReplaceIamInstanceProfileAssociationInput, optFns ...func(*ec2.Options)) (*ec2.ReplaceIamInstanceProfileAssociationOutput, error)
}

var (
	_ AgentRoleIAMAPI = (*iam.Client)(nil)
	_ AgentRoleEC2API = (*ec2.Client)(nil)
)

// AgentRoleClients are the clients of EnsureAgentRole. EC2 is needed only
// with AgentRole.InstanceID.
type AgentRoleClients struct {
	IAM AgentRoleIAMAPI
	EC2 AgentRoleEC2API
}

// AgentRole asks for the CloudWatch agent's role and instance profile.
type AgentRole struct {
	// Name is the role's and the instance profile's name; default
	// "awsguard-cloudwatch-agent".
	Name string
	// SSM also attaches AmazonSSMManagedInstanceCore, so that SSM Run
	// Command can install and configure the agent.
	SSM bool
	// InstanceID, if set, is the instance the profile is associated with.
	InstanceID string
	// ReplaceAssociation lets an instance that has another instance
	// profile get this one instead. Without it such an instance stops the
	// operation before any change (ErrProfileAssociated).
	ReplaceAssociation bool
	// Partition is the ARN partition of the managed policies; default "aws".
	Partition string
}

// RolePath is the IAM path of the roles and instance profiles observe
// creates.
const RolePath = "/awsguard/"

// The managed policies of the agent's role.
const (
	PolicyCloudWatchAgent = "CloudWatchAgentServerPolicy"
	PolicySSMCore         = "AmazonSSMManagedInstanceCore"
)

// ErrProfileAssociated means the instance has another instance profile and
// AgentRole.ReplaceAssociation was not set. Nothing was changed.
var ErrProfileAssociated = errors.New("observe: the instance has another instance profile")

// The action kinds of EnsureAgentRole.
const (
	ActionCreateRole       = "create-role"
	ActionUpdateTrust      = "update-trust-policy"
	ActionAttachPolicy     = "attach-policy"
	ActionCreateProfile    = "create-instance-profile"
	ActionAddRoleToProfile = "add-role-to-profile"
	ActionAssociate        = "associate-profile"
	ActionReplaceAssoc     = "replace-profile-association"
)

// AgentRoleResult is what EnsureAgentRole did (or would do).
type AgentRoleResult struct {
	awsguard.Plan
	RoleARN    string `json:"role_arn"`
	ProfileARN string `json:"instance_profile_arn"`
	// AssociationID is the instance's profile association, once made.
	AssociationID string `json:"association_id,omitempty"`
}

var roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func (r AgentRole) withDefaults() AgentRole {
	if r.Name == "" {
		r.Name = "awsguard-cloudwatch-agent"
	}
	if r.Partition == "" {
		r.Partition = "aws"
	}
	return r
}

func (r AgentRole) policies() []string {
	p := []string{"arn:" + r.Partition + ":iam::aws:policy/" + PolicyCloudWatchAgent}
	if r.SSM {
		p = append(p, "arn:"+r.Partition+":iam::aws:policy/"+PolicySSMCore)
	}
	return p
}

// AgentTrustPolicy is the role's trust policy: EC2 instances assume it.
func AgentTrustPolicy() *awsguard.PolicyDocument {
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Effect:    "Allow",
		Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{"Service": awsguard.StringValue("ec2.amazonaws.com")}},
		Action:    awsguard.StringValue("sts:AssumeRole"),
	}}}}
}

// AgentTrustPolicyJSON is AgentTrustPolicy as IAM takes it.
func AgentTrustPolicyJSON() string {
	s, _ := AgentTrustPolicy().JSON()
	return s
}

func iamNotFound(err error) bool {
	var nf *iamtypes.NoSuchEntityException
	return errors.As(err, &nf)
}

func iamTagMap(tags []iamtypes.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return m
}

func iamTags() []iamtypes.Tag {
	return []iamtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)}}
}

// EnsureAgentRole keeps the CloudWatch agent's role in place: a role of
// path RolePath that EC2 instances assume, with CloudWatchAgentServerPolicy
// (and AmazonSSMManagedInstanceCore on request), in an instance profile of
// the same name, both tagged as observe's; and, with InstanceID, the
// profile associated with the instance. An instance with another profile
// keeps it unless ReplaceAssociation (ErrProfileAssociated, nothing
// changed). Policies attached by hand are left alone.
//
// A new instance profile is not usable by EC2 for some seconds: the
// association is retried on InvalidParameterValue for up to
// Options.MaxWait (default 1 minute). A role or profile of the name that
// observe did not create stops the operation before any change
// (ErrNotManaged). DryRun returns the plan; a second run makes no
// mutating call. Permissions: those of AgentRoleIAMAPI and AgentRoleEC2API.
func EnsureAgentRole(ctx context.Context, c AgentRoleClients, want AgentRole, optFns ...func(*Options)) (*AgentRoleResult, error) {
	const op = "observe.EnsureAgentRole"
	want = want.withDefaults()
	switch {
	case c.IAM == nil:
		return nil, inputErr(op, "AgentRoleClients.IAM", "nil", "an IAM client")
	case !roleNameRE.MatchString(want.Name):
		return nil, inputErr(op, "AgentRole.Name", want.Name, "1 to 64 of letters, digits and +=,.@_-")
	case want.InstanceID != "" && !instanceRE.MatchString(want.InstanceID):
		return nil, inputErr(op, "AgentRole.InstanceID", want.InstanceID, "an EC2 instance ID")
	case want.InstanceID != "" && c.EC2 == nil:
		return nil, inputErr(op, "AgentRoleClients.EC2", "nil", "an EC2 client when AgentRole.InstanceID is set")
	case want.Partition != "aws" && want.Partition != "aws-cn" && want.Partition != "aws-us-gov":
		return nil, inputErr(op, "AgentRole.Partition", want.Partition, "aws, aws-cn or aws-us-gov")
	}
	o := options(optFns)
	res := &AgentRoleResult{Plan: awsguard.Plan{Operation: op, Resource: "role/" + want.Name, DryRun: o.DryRun}}
	trust := AgentTrustPolicy()

	// Read the role, its policies, the profile and the instance.
	role, err := c.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(want.Name)})
	if err != nil && !iamNotFound(err) {
		return nil, fmt.Errorf("observe: get role %s: %w", want.Name, err)
	}
	var attached []string
	if err == nil {
		res.RoleARN = aws.ToString(role.Role.Arn)
		if !isManaged(iamTagMap(role.Role.Tags)) {
			res.Reason = awsguard.ReasonRefused
			return res, fmt.Errorf("%w: role %s", ErrNotManaged, res.RoleARN)
		}
		p := iam.NewListAttachedRolePoliciesPaginator(c.IAM, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(want.Name)})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("observe: list policies of role %s: %w", want.Name, err)
			}
			for _, ap := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(ap.PolicyArn))
			}
		}
		if d, err := awsguard.ParsePolicyDocument(aws.ToString(role.Role.AssumeRolePolicyDocument)); err != nil || !d.Equivalent(trust) {
			res.Add(awsguard.Action{Kind: ActionUpdateTrust, Call: "iam:UpdateAssumeRolePolicy", Resource: res.RoleARN,
				Detail: "let only EC2 instances assume role " + want.Name, Why: "the trust policy differs"})
		}
	} else {
		res.Add(awsguard.Action{Kind: ActionCreateRole, Call: "iam:CreateRole", Resource: want.Name,
			Detail: "create role " + RolePath + want.Name + " for EC2 instances, tagged " + TagManaged, Why: "no role of the name"})
	}
	for _, p := range want.policies() {
		if !slices.Contains(attached, p) {
			res.Add(awsguard.Action{Kind: ActionAttachPolicy, Call: "iam:AttachRolePolicy", Resource: p,
				Detail: "attach " + p + " to role " + want.Name, Why: "the role lacks it"})
		}
	}
	prof, err := c.IAM.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(want.Name)})
	if err != nil && !iamNotFound(err) {
		return nil, fmt.Errorf("observe: get instance profile %s: %w", want.Name, err)
	}
	if err == nil {
		res.ProfileARN = aws.ToString(prof.InstanceProfile.Arn)
		if !isManaged(iamTagMap(prof.InstanceProfile.Tags)) {
			res.Reason = awsguard.ReasonRefused
			res.Actions = nil
			return res, fmt.Errorf("%w: instance profile %s", ErrNotManaged, res.ProfileARN)
		}
		if !slices.ContainsFunc(prof.InstanceProfile.Roles, func(r iamtypes.Role) bool { return aws.ToString(r.RoleName) == want.Name }) {
			if len(prof.InstanceProfile.Roles) > 0 {
				res.Reason = awsguard.ReasonRefused
				res.Actions = nil
				return res, fmt.Errorf("%w: instance profile %s holds role %s", ErrNotManaged, res.ProfileARN, aws.ToString(prof.InstanceProfile.Roles[0].RoleName))
			}
			res.Add(awsguard.Action{Kind: ActionAddRoleToProfile, Call: "iam:AddRoleToInstanceProfile", Resource: want.Name,
				Detail: "put role " + want.Name + " in instance profile " + want.Name, Why: "the profile holds no role"})
		}
	} else {
		res.Add(awsguard.Action{Kind: ActionCreateProfile, Call: "iam:CreateInstanceProfile", Resource: want.Name,
			Detail: "create instance profile " + RolePath + want.Name + ", tagged " + TagManaged, Why: "no instance profile of the name"})
		res.Add(awsguard.Action{Kind: ActionAddRoleToProfile, Call: "iam:AddRoleToInstanceProfile", Resource: want.Name,
			Detail: "put role " + want.Name + " in instance profile " + want.Name, Why: "a new profile holds no role"})
	}
	var current *ec2types.IamInstanceProfileAssociation
	if want.InstanceID != "" {
		out, err := c.EC2.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{
			Filters: []ec2types.Filter{{Name: aws.String("instance-id"), Values: []string{want.InstanceID}},
				{Name: aws.String("state"), Values: []string{"associating", "associated"}}}})
		if err != nil {
			return nil, fmt.Errorf("observe: describe profile associations of %s: %w", want.InstanceID, err)
		}
		for i, a := range out.IamInstanceProfileAssociations {
			if aws.ToString(a.InstanceId) == want.InstanceID && (a.State == ec2types.IamInstanceProfileAssociationStateAssociated || a.State == ec2types.IamInstanceProfileAssociationStateAssociating) {
				current = &out.IamInstanceProfileAssociations[i]
			}
		}
		switch {
		case current == nil:
			res.Add(awsguard.Action{Kind: ActionAssociate, Call: "ec2:AssociateIamInstanceProfile", Resource: want.InstanceID,
				Detail: "give instance " + want.InstanceID + " instance profile " + want.Name, Why: "the instance has no instance profile"})
		case profileName(current) == want.Name:
			res.AssociationID = aws.ToString(current.AssociationId)
		case !want.ReplaceAssociation:
			res.Reason = awsguard.ReasonRefused
			res.Actions = nil
			return res, fmt.Errorf("%w: %s has %s (set ReplaceAssociation to replace it)", ErrProfileAssociated, want.InstanceID, aws.ToString(current.IamInstanceProfile.Arn))
		default:
			res.Add(awsguard.Action{Kind: ActionReplaceAssoc, Call: "ec2:ReplaceIamInstanceProfileAssociation", Resource: want.InstanceID,
				Detail: "replace instance profile " + aws.ToString(current.IamInstanceProfile.Arn) + " of " + want.InstanceID + " with " + want.Name,
				Why:    "asked to replace the instance's profile"})
		}
	}

	wait := o.MaxWait
	if wait <= 0 {
		wait = time.Minute
	}
	err = res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionCreateRole, ActionUpdateTrust:
			doc, err := trust.JSON()
			if err != nil {
				return err
			}
			if a.Kind == ActionUpdateTrust {
				_, err = c.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(want.Name), PolicyDocument: aws.String(doc)})
				return wrapStep("update trust policy of "+want.Name, err)
			}
			out, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(want.Name), Path: aws.String(RolePath),
				AssumeRolePolicyDocument: aws.String(doc), Description: aws.String("awsguard: the CloudWatch agent's role"), Tags: iamTags()})
			if err != nil {
				return wrapStep("create role "+want.Name, err)
			}
			res.RoleARN = aws.ToString(out.Role.Arn)
			a.Resource = res.RoleARN
		case ActionAttachPolicy:
			_, err := c.IAM.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(want.Name), PolicyArn: aws.String(a.Resource)})
			return wrapStep("attach "+a.Resource, err)
		case ActionCreateProfile:
			out, err := c.IAM.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String(want.Name),
				Path: aws.String(RolePath), Tags: iamTags()})
			if err != nil {
				return wrapStep("create instance profile "+want.Name, err)
			}
			res.ProfileARN = aws.ToString(out.InstanceProfile.Arn)
		case ActionAddRoleToProfile:
			_, err := c.IAM.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(want.Name), RoleName: aws.String(want.Name)})
			return wrapStep("add role to instance profile "+want.Name, err)
		case ActionAssociate, ActionReplaceAssoc:
			spec := &ec2types.IamInstanceProfileSpecification{Name: aws.String(want.Name)}
			_, err := poll.Until(ctx, poll.Options{MaxWait: wait, MinDelay: o.minDelay()}, func(ctx context.Context, _ int) (bool, error) {
				var err error
				if a.Kind == ActionAssociate {
					var out *ec2.AssociateIamInstanceProfileOutput
					out, err = c.EC2.AssociateIamInstanceProfile(ctx, &ec2.AssociateIamInstanceProfileInput{InstanceId: aws.String(want.InstanceID), IamInstanceProfile: spec})
					if err == nil {
						res.AssociationID = aws.ToString(out.IamInstanceProfileAssociation.AssociationId)
					}
				} else {
					var out *ec2.ReplaceIamInstanceProfileAssociationOutput
					out, err = c.EC2.ReplaceIamInstanceProfileAssociation(ctx, &ec2.ReplaceIamInstanceProfileAssociationInput{AssociationId: current.AssociationId, IamInstanceProfile: spec})
					if err == nil {
						res.AssociationID = aws.ToString(out.IamInstanceProfileAssociation.AssociationId)
					}
				}
				if awserr.HasCode(err, "InvalidParameterValue") {
					return false, nil // the new profile has not reached EC2 yet
				}
				return err == nil, err
			})
			return wrapStep(a.Kind+" "+want.InstanceID, err)
		default:
			return fmt.Errorf("unknown action %q", a.Kind)
		}
		return nil
	}, o.apply(op))
	return res, err
}

func profileName(a *ec2types.IamInstanceProfileAssociation) string {
	if a.IamInstanceProfile == nil {
		return ""
	}
	s := aws.ToString(a.IamInstanceProfile.Arn)
	return s[strings.LastIndexByte(s, '/')+1:]
}

func wrapStep(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
