package observe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// TeardownIAMAPI is the part of *iam.Client that Teardown calls for the
// agent's role: iam:ListInstanceProfiles, iam:GetInstanceProfile (for its tags),
// iam:ListRoles, iam:ListRoleTags, iam:ListAttachedRolePolicies,
// iam:ListRolePolicies, and to remove: iam:RemoveRoleFromInstanceProfile,
// iam:DeleteInstanceProfile, iam:DetachRolePolicy, iam:DeleteRolePolicy
// and iam:DeleteRole. It looks only under RolePath.
type TeardownIAMAPI interface {
	ListInstanceProfiles(ctx context.Context, in *iam.ListInstanceProfilesInput, optFns ...func(*iam.Options)) (*iam.ListInstanceProfilesOutput, error)
	GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	ListRoles(ctx context.Context, in *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	ListRoleTags(ctx context.Context, in *iam.ListRoleTagsInput, optFns ...func(*iam.Options)) (*iam.ListRoleTagsOutput, error)
	ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	RemoveRoleFromInstanceProfile(ctx context.Context, in *iam.RemoveRoleFromInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.RemoveRoleFromInstanceProfileOutput, error)
	DeleteInstanceProfile(ctx context.Context, in *iam.DeleteInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.DeleteInstanceProfileOutput, error)
	DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
}

// TeardownEC2API is the part of *ec2.Client that Teardown calls to take
// observe's instance profiles off instances:
// ec2:DescribeIamInstanceProfileAssociations and
// ec2:DisassociateIamInstanceProfile.
type TeardownEC2API interface {
	DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2.DescribeIamInstanceProfileAssociationsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeIamInstanceProfileAssociationsOutput, error)
	DisassociateIamInstanceProfile(ctx context.Context, in *ec2.DisassociateIamInstanceProfileInput, optFns ...func(*ec2.Options)) (*ec2.DisassociateIamInstanceProfileOutput, error)
}

var (
	_ TeardownIAMAPI = (*iam.Client)(nil)
	_ TeardownEC2API = (*ec2.Client)(nil)
)

// The action kinds of Teardown for the agent's role, in order.
const (
	ActionDisassociate      = "disassociate-profile"
	ActionRemoveFromProfile = "remove-role-from-profile"
	ActionDeleteProfile     = "delete-instance-profile"
	ActionDetachPolicy      = "detach-policy"
	ActionDeleteInline      = "delete-inline-policy"
	ActionDeleteRole        = "delete-role"
)

// ourPolicies are the managed policies EnsureAgentRole attaches, by name.
var ourPolicies = []string{PolicyCloudWatchAgent, PolicySSMCore}

func planIAMTeardown(ctx context.Context, api TeardownIAMAPI, ec TeardownEC2API, o TeardownOptions, res *TeardownResult) ([]teardownStep, error) {
	var steps []teardownStep
	// Roles first, to know which are kept.
	type roleInfo struct {
		name, arn        string
		attached, inline []string
	}
	var roles []roleInfo
	kept := map[string]bool{}
	rp := iam.NewListRolesPaginator(api, &iam.ListRolesInput{PathPrefix: aws.String(RolePath)})
	for rp.HasMorePages() {
		out, err := rp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list roles: %w", err)
		}
		for _, r := range out.Roles {
			name := aws.ToString(r.RoleName)
			tags, err := api.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("observe: list tags of role %s: %w", name, err)
			}
			if !isManaged(iamTagMap(tags.Tags)) {
				continue
			}
			ri := roleInfo{name: name, arn: aws.ToString(r.Arn)}
			ap := iam.NewListAttachedRolePoliciesPaginator(api, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
			for ap.HasMorePages() {
				page, err := ap.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("observe: list policies of role %s: %w", name, err)
				}
				for _, p := range page.AttachedPolicies {
					ri.attached = append(ri.attached, aws.ToString(p.PolicyArn))
				}
			}
			ip := iam.NewListRolePoliciesPaginator(api, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
			for ip.HasMorePages() {
				page, err := ip.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("observe: list inline policies of role %s: %w", name, err)
				}
				ri.inline = append(ri.inline, page.PolicyNames...)
			}
			var others []string
			for _, p := range ri.attached {
				if !slices.Contains(ourPolicies, p[strings.LastIndexByte(p, '/')+1:]) || !strings.Contains(p, ":iam::aws:policy/") {
					others = append(others, p)
				}
			}
			for _, p := range ri.inline {
				if p != TrailRolePolicyName {
					others = append(others, p)
				}
			}
			if len(others) > 0 {
				keep := !o.RemoveChanged
				kept[name] = keep
				res.Changed = append(res.Changed, ChangedResource{Resource: ri.arn, Kept: keep, Change: "policies added by hand: " + strings.Join(others, ", ")})
				if keep {
					res.Warnings = append(res.Warnings, "role "+name+" and its instance profile kept: policies were added by hand ("+strings.Join(others, ", ")+")")
				}
			}
			roles = append(roles, ri)
		}
	}
	// Instance profiles: off the instances, roles out, deleted.
	var assocs []ec2types.IamInstanceProfileAssociation
	assocsRead := false
	pp := iam.NewListInstanceProfilesPaginator(api, &iam.ListInstanceProfilesInput{PathPrefix: aws.String(RolePath)})
	for pp.HasMorePages() {
		out, err := pp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: list instance profiles: %w", err)
		}
		for _, p := range out.InstanceProfiles {
			name, profARN := aws.ToString(p.InstanceProfileName), aws.ToString(p.Arn)
			got, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("observe: get instance profile %s: %w", name, err)
			}
			if !isManaged(iamTagMap(got.InstanceProfile.Tags)) {
				continue
			}
			if slices.ContainsFunc(p.Roles, func(r iamtypes.Role) bool { return kept[aws.ToString(r.RoleName)] }) {
				continue
			}
			if ec == nil {
				res.Warnings = append(res.Warnings, "instance profile "+name+" kept: no EC2 client to take it off instances")
				for _, r := range p.Roles {
					kept[aws.ToString(r.RoleName)] = true
				}
				continue
			}
			if !assocsRead {
				assocsRead = true
				if assocs, err = readAssociations(ctx, ec); err != nil {
					return nil, err
				}
			}
			for _, a := range assocs {
				if a.IamInstanceProfile == nil || aws.ToString(a.IamInstanceProfile.Arn) != profARN {
					continue
				}
				id, inst := aws.ToString(a.AssociationId), aws.ToString(a.InstanceId)
				steps = append(steps, teardownStep{
					action: awsguard.Action{Kind: ActionDisassociate, Call: "ec2:DisassociateIamInstanceProfile", Resource: id,
						Detail: "take instance profile " + name + " off instance " + inst},
					do: func(ctx context.Context) error {
						_, err := ec.DisassociateIamInstanceProfile(ctx, &ec2.DisassociateIamInstanceProfileInput{AssociationId: aws.String(id)})
						if err != nil && !strings.Contains(strings.ToLower(awserr.Code(err)), "notfound") {
							return fmt.Errorf("disassociate %s from %s: %w", name, inst, err)
						}
						return nil
					},
				})
			}
			for _, r := range p.Roles {
				role := aws.ToString(r.RoleName)
				steps = append(steps, teardownStep{
					action: awsguard.Action{Kind: ActionRemoveFromProfile, Call: "iam:RemoveRoleFromInstanceProfile", Resource: name + "/" + role,
						Detail: "take role " + role + " out of instance profile " + name},
					do: func(ctx context.Context) error {
						_, err := api.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(role)})
						if err != nil && !iamNotFound(err) {
							return fmt.Errorf("remove role %s from instance profile %s: %w", role, name, err)
						}
						return nil
					},
				})
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteProfile, Call: "iam:DeleteInstanceProfile", Resource: profARN, Detail: "delete instance profile " + name},
				do: func(ctx context.Context) error {
					_, err := api.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String(name)})
					if err != nil && !iamNotFound(err) {
						return fmt.Errorf("delete instance profile %s: %w", name, err)
					}
					return nil
				},
			})
		}
	}
	// Roles: policies off, then the role.
	for _, r := range roles {
		if kept[r.name] {
			continue
		}
		for _, p := range r.attached {
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDetachPolicy, Call: "iam:DetachRolePolicy", Resource: r.name + "/" + p,
					Detail: "detach " + p + " from role " + r.name},
				do: func(ctx context.Context) error {
					_, err := api.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(r.name), PolicyArn: aws.String(p)})
					if err != nil && !iamNotFound(err) {
						return fmt.Errorf("detach %s from role %s: %w", p, r.name, err)
					}
					return nil
				},
			})
		}
		for _, p := range r.inline {
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteInline, Call: "iam:DeleteRolePolicy", Resource: r.name + "/" + p,
					Detail: "delete inline policy " + p + " of role " + r.name},
				do: func(ctx context.Context) error {
					_, err := api.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(r.name), PolicyName: aws.String(p)})
					if err != nil && !iamNotFound(err) {
						return fmt.Errorf("delete inline policy %s of role %s: %w", p, r.name, err)
					}
					return nil
				},
			})
		}
		steps = append(steps, teardownStep{
			action: awsguard.Action{Kind: ActionDeleteRole, Call: "iam:DeleteRole", Resource: r.arn, Detail: "delete role " + r.name},
			do: func(ctx context.Context) error {
				_, err := api.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(r.name)})
				if err != nil && !iamNotFound(err) {
					return fmt.Errorf("delete role %s: %w", r.name, err)
				}
				return nil
			},
		})
	}
	return steps, nil
}

func readAssociations(ctx context.Context, ec TeardownEC2API) ([]ec2types.IamInstanceProfileAssociation, error) {
	var out []ec2types.IamInstanceProfileAssociation
	p := ec2.NewDescribeIamInstanceProfileAssociationsPaginator(ec, &ec2.DescribeIamInstanceProfileAssociationsInput{
		Filters: []ec2types.Filter{{Name: aws.String("state"), Values: []string{"associating", "associated"}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: describe instance profile associations: %w", err)
		}
		out = append(out, page.IamInstanceProfileAssociations...)
	}
	return out, nil
}
