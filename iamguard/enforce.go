package iamguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// EnforceMFAPolicyName is the default name of the customer managed policy
// that EnforceMFA creates.
const EnforceMFAPolicyName = "awsguard-enforce-mfa"

// EnforceMFAPolicyDocument returns AWS's documented "Force_MFA" policy
// (BlockMostAccessUnlessSignedInWithMFA) with one addition, changing one's
// own password, so that a new console user can set a password and then
// enrol an MFA device:
//
//   - allow listing users and virtual MFA devices and reading the password
//     policy; creating a virtual MFA device; enabling, listing and resyncing
//     one's own MFA devices; changing one's own password;
//   - allow deactivating one's own MFA device only when signed in with MFA;
//   - deny every action except those (NotAction) unless signed in with MFA
//     (BoolIfExists aws:MultiFactorAuthPresent false). sts:GetSessionToken
//     stays allowed so that CLI users can get an MFA session; long-term
//     access keys used without one are denied.
func EnforceMFAPolicyDocument() *PolicyDocument {
	return &PolicyDocument{Version: PolicyVersion2012, Statement: Statements{List: []Statement{
		{Sid: "AllowListActions", Effect: "Allow",
			Action:   StringList("iam:GetAccountPasswordPolicy", "iam:ListUsers", "iam:ListVirtualMFADevices"),
			Resource: StringValue("*")},
		{Sid: "AllowUserToCreateVirtualMFADevice", Effect: "Allow",
			Action:   StringList("iam:CreateVirtualMFADevice"),
			Resource: StringValue("arn:aws:iam::*:mfa/*")},
		{Sid: "AllowUserToManageTheirOwnMFA", Effect: "Allow",
			Action:   StringList("iam:EnableMFADevice", "iam:GetMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"),
			Resource: StringValue(fixOwnUserARN)},
		{Sid: "AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA", Effect: "Allow",
			Action:    StringList("iam:DeactivateMFADevice"),
			Resource:  StringList(fixOwnUserARN),
			Condition: map[string]map[string]Strings{"Bool": {"aws:MultiFactorAuthPresent": StringValue("true")}}},
		{Sid: "AllowUserToChangeTheirOwnPassword", Effect: "Allow",
			Action:   StringList("iam:ChangePassword", "iam:GetUser"),
			Resource: StringValue(fixOwnUserARN)},
		{Sid: "BlockMostAccessUnlessSignedInWithMFA", Effect: "Deny",
			NotAction: StringList("iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
				"iam:GetAccountPasswordPolicy", "iam:GetMFADevice", "iam:GetUser", "iam:ListMFADevices",
				"iam:ListUsers", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"),
			Resource:  StringValue("*"),
			Condition: map[string]map[string]Strings{"BoolIfExists": {"aws:MultiFactorAuthPresent": StringValue("false")}}},
	}}}
}

// EnforceMFAAPI is the part of *iam.Client that EnforceMFA and
// RemoveEnforceMFA call.
type EnforceMFAAPI interface {
	ListPolicies(ctx context.Context, in *iam.ListPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	ListPolicyVersions(ctx context.Context, in *iam.ListPolicyVersionsInput, optFns ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error)
	CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(ctx context.Context, in *iam.DeletePolicyInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	ListEntitiesForPolicy(ctx context.Context, in *iam.ListEntitiesForPolicyInput, optFns ...func(*iam.Options)) (*iam.ListEntitiesForPolicyOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
}

var _ EnforceMFAAPI = (*iam.Client)(nil)

// EnforceMFAOptions tunes EnforceMFA and RemoveEnforceMFA. The zero value
// means the defaults.
type EnforceMFAOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per step; nil discards.
	Logger *slog.Logger
	// PolicyName is the managed policy's name; default EnforceMFAPolicyName.
	PolicyName string
	// Path is the managed policy's path; default "/".
	Path string
	// KeepPolicy makes RemoveEnforceMFA only detach the policy, never
	// delete it.
	KeepPolicy bool
}

func enforceOptions(groups []string, optFns []func(*EnforceMFAOptions)) (EnforceMFAOptions, []string, error) {
	var o EnforceMFAOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.PolicyName == "" {
		o.PolicyName = EnforceMFAPolicyName
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if err := fixCheckPolicyName("PolicyName", o.PolicyName); err != nil {
		return o, nil, err
	}
	if err := fixCheckPath("Path", o.Path); err != nil {
		return o, nil, err
	}
	var gs []string
	for i, g := range groups {
		if err := fixCheckGroup(fmt.Sprintf("groups[%d]", i), g); err != nil {
			return o, nil, err
		}
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return o, gs, nil
}

// The marks of a managed policy that awsguard created: the tag
// ManagedTagKey=ManagedTagValue (set at creation since this version) or
// the description that EnforceMFA has always set. ListPolicies returns
// neither; GetPolicy returns both.
const (
	// ManagedTagKey and ManagedTagValue are the tag that awsguard puts on
	// the managed policies it creates; EnforceMFA and RemoveEnforceMFA
	// change only a policy that carries it (or awsguard's description).
	ManagedTagKey   = "awsguard:managed"
	ManagedTagValue = "true"

	enforceMFADescription = "awsguard: deny everything but MFA self-management unless signed in with MFA"
)

// fixCheckOwnPolicy returns ErrPolicyConflict unless the managed policy
// arn was created by awsguard.
func fixCheckOwnPolicy(ctx context.Context, api EnforceMFAAPI, arn string) error {
	out, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("iamguard: get policy %s: %w", arn, err)
	}
	if out.Policy != nil {
		for _, t := range out.Policy.Tags {
			if aws.ToString(t.Key) == ManagedTagKey && aws.ToString(t.Value) == ManagedTagValue {
				return nil
			}
		}
		if aws.ToString(out.Policy.Description) == enforceMFADescription {
			return nil
		}
	}
	return fmt.Errorf("iamguard: policy %s exists and was not created by awsguard (no tag %s=%s): %w; choose another PolicyName or Path",
		arn, ManagedTagKey, ManagedTagValue, ErrPolicyConflict)
}

// fixManagedPolicy finds a customer managed policy by path and name.
func fixManagedPolicy(ctx context.Context, api EnforceMFAAPI, path, name string) (*types.Policy, error) {
	p := iam.NewListPoliciesPaginator(api, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, PathPrefix: aws.String(path)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: list policies: %w", err)
		}
		for _, pol := range page.Policies {
			if aws.ToString(pol.PolicyName) == name && aws.ToString(pol.Path) == path {
				return &pol, nil
			}
		}
	}
	return nil, nil
}

// fixGroupHasPolicy reports whether the group has the managed policy
// attached; ErrGroupNotFound if the group does not exist.
func fixGroupHasPolicy(ctx context.Context, api interface {
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
}, group string, match func(arn, name string) bool) ([]string, error) {
	var arns []string
	p := iam.NewListAttachedGroupPoliciesPaginator(api, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if fixIsNoSuchEntity(err) {
			return nil, fmt.Errorf("iamguard: group %s: %w: %w", group, ErrGroupNotFound, err)
		}
		if err != nil {
			return nil, fmt.Errorf("iamguard: list policies of group %s: %w", group, err)
		}
		for _, ap := range page.AttachedPolicies {
			if match(aws.ToString(ap.PolicyArn), aws.ToString(ap.PolicyName)) {
				arns = append(arns, aws.ToString(ap.PolicyArn))
			}
		}
	}
	return arns, nil
}

// EnforceMFA ensures the customer managed policy EnforceMFAPolicyDocument
// (named EnforceMFAPolicyName under "/" unless Options say otherwise)
// exists with exactly that document as its default version, and is
// attached to each group. It creates the policy with the tag
// awsguard:managed=true (ManagedTagKey) and awsguard's description, and
// changes only a policy that carries one of them: a policy of that name
// and path that awsguard did not create gives ErrPolicyConflict before
// any change. Its own policy with another document (edited by hand) gets
// a new default version (the oldest non-default version is deleted first
// when the policy already has the maximum of five). Every group must exist
// (ErrGroupNotFound, nothing changed). A second run changes nothing.
//
// Caution: members of the groups lose all access not signed in with MFA,
// including API calls with long-term access keys (use sts:GetSessionToken
// with MFA). Do not attach it to the group of the automation itself.
//
// IAM permissions: iam:ListPolicies, iam:GetPolicy, iam:GetPolicyVersion,
// iam:ListPolicyVersions, iam:CreatePolicy, iam:TagPolicy (to tag it at
// creation), iam:CreatePolicyVersion, iam:DeletePolicyVersion,
// iam:ListAttachedGroupPolicies, iam:AttachGroupPolicy.
func EnforceMFA(ctx context.Context, api EnforceMFAAPI, groups []string, optFns ...func(*EnforceMFAOptions)) (*ActionPlan, error) {
	o, groups, err := enforceOptions(groups, optFns)
	if err != nil {
		return nil, err
	}
	want := EnforceMFAPolicyDocument()
	doc, err := want.JSON()
	if err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "EnforceMFA", Resource: "policy" + o.Path + o.PolicyName, DryRun: o.DryRun}
	pol, err := fixManagedPolicy(ctx, api, o.Path, o.PolicyName)
	if err != nil {
		return nil, err
	}
	arn := "" // set by the create step when the policy is new
	if pol == nil {
		plan.add("iam:CreatePolicy", plan.Resource, "", func(ctx context.Context) error {
			out, err := api.CreatePolicy(ctx, &iam.CreatePolicyInput{
				PolicyName: aws.String(o.PolicyName), Path: aws.String(o.Path), PolicyDocument: aws.String(doc),
				Description: aws.String(enforceMFADescription),
				Tags:        []types.Tag{{Key: aws.String(ManagedTagKey), Value: aws.String(ManagedTagValue)}},
			})
			if fixIsAlreadyExists(err) { // created by a retried call, or by someone else meanwhile
				p, ferr := fixManagedPolicy(ctx, api, o.Path, o.PolicyName)
				if ferr != nil || p == nil {
					return err
				}
				if cerr := fixCheckOwnPolicy(ctx, api, aws.ToString(p.Arn)); cerr != nil {
					return cerr
				}
				arn = aws.ToString(p.Arn)
				return nil
			}
			if err != nil {
				return err
			}
			arn = aws.ToString(out.Policy.Arn)
			return nil
		})
	} else {
		arn = aws.ToString(pol.Arn)
		if err := fixCheckOwnPolicy(ctx, api, arn); err != nil {
			return nil, err
		}
		if err := fixPlanPolicyVersion(ctx, api, plan, arn, aws.ToString(pol.DefaultVersionId), want, doc); err != nil {
			return nil, err
		}
	}
	for _, g := range groups {
		var attached []string
		if pol != nil {
			attached, err = fixGroupHasPolicy(ctx, api, g, func(a, _ string) bool { return a == arn })
		} else {
			_, err = fixGroupHasPolicy(ctx, api, g, func(string, string) bool { return false })
		}
		if err != nil {
			return nil, err
		}
		if len(attached) > 0 {
			continue
		}
		detail := arn
		if detail == "" {
			detail = plan.Resource
		}
		plan.add("iam:AttachGroupPolicy", "group/"+g, detail, func(ctx context.Context) error {
			_, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(arn)})
			return err
		})
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

// fixPlanPolicyVersion adds the steps that make want the default version
// of the managed policy, if it is not.
func fixPlanPolicyVersion(ctx context.Context, api EnforceMFAAPI, plan *ActionPlan, arn, defaultID string, want *PolicyDocument, doc string) error {
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(defaultID)})
	if err != nil {
		return fmt.Errorf("iamguard: get policy %s version %s: %w", arn, defaultID, err)
	}
	if cur, err := ParsePolicyDocument(aws.ToString(v.PolicyVersion.Document)); err == nil && want.Equivalent(cur) {
		return nil
	}
	var versions []types.PolicyVersion
	p := iam.NewListPolicyVersionsPaginator(api, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("iamguard: list versions of policy %s: %w", arn, err)
		}
		versions = append(versions, page.Versions...)
	}
	if len(versions) >= 5 {
		var oldest *types.PolicyVersion
		for i := range versions {
			pv := &versions[i]
			if pv.IsDefaultVersion {
				continue
			}
			if oldest == nil || aws.ToTime(pv.CreateDate).Before(aws.ToTime(oldest.CreateDate)) {
				oldest = pv
			}
		}
		if oldest != nil {
			id := aws.ToString(oldest.VersionId)
			plan.add("iam:DeletePolicyVersion", plan.Resource, id, func(ctx context.Context) error {
				_, err := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(id)})
				if fixIsNoSuchEntity(err) {
					return nil
				}
				return err
			})
		}
	}
	plan.add("iam:CreatePolicyVersion", plan.Resource, "set as default", func(ctx context.Context) error {
		_, err := api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc), SetAsDefault: true})
		return err
	})
	return nil
}

// RemoveEnforceMFA undoes EnforceMFA for the groups: it detaches the
// policy from each of them, then, unless KeepPolicy is set, deletes the
// policy (its non-default versions first) when no user, group or role has
// it attached any more. Groups that do not exist or do not have it attached
// need nothing. A policy of that name and path that awsguard did not
// create is left alone (ErrPolicyConflict, nothing changed). A second run
// changes nothing.
//
// IAM permissions: iam:ListPolicies, iam:GetPolicy, iam:ListAttachedGroupPolicies,
// iam:DetachGroupPolicy, iam:ListEntitiesForPolicy, iam:ListPolicyVersions,
// iam:DeletePolicyVersion, iam:DeletePolicy.
func RemoveEnforceMFA(ctx context.Context, api EnforceMFAAPI, groups []string, optFns ...func(*EnforceMFAOptions)) (*ActionPlan, error) {
	o, groups, err := enforceOptions(groups, optFns)
	if err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "RemoveEnforceMFA", Resource: "policy" + o.Path + o.PolicyName, DryRun: o.DryRun}
	pol, err := fixManagedPolicy(ctx, api, o.Path, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if pol == nil {
		return plan, plan.run(ctx, fixLogger(o.Logger))
	}
	arn := aws.ToString(pol.Arn)
	if err := fixCheckOwnPolicy(ctx, api, arn); err != nil {
		return nil, err
	}
	detached := map[string]bool{}
	for _, g := range groups {
		attached, err := fixGroupHasPolicy(ctx, api, g, func(a, _ string) bool { return a == arn })
		if errors.Is(err, ErrGroupNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(attached) == 0 {
			continue
		}
		detached[g] = true
		plan.add("iam:DetachGroupPolicy", "group/"+g, arn, func(ctx context.Context) error {
			_, err := api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(arn)})
			if fixIsNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	if !o.KeepPolicy {
		others := 0
		p := iam.NewListEntitiesForPolicyPaginator(api, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("iamguard: list entities of policy %s: %w", arn, err)
			}
			others += len(page.PolicyUsers) + len(page.PolicyRoles)
			for _, g := range page.PolicyGroups {
				if !detached[aws.ToString(g.GroupName)] {
					others++
				}
			}
		}
		if others == 0 {
			vp := iam.NewListPolicyVersionsPaginator(api, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})
			for vp.HasMorePages() {
				page, err := vp.NextPage(ctx)
				if err != nil {
					return nil, fmt.Errorf("iamguard: list versions of policy %s: %w", arn, err)
				}
				for _, v := range page.Versions {
					if v.IsDefaultVersion {
						continue
					}
					id := aws.ToString(v.VersionId)
					plan.add("iam:DeletePolicyVersion", plan.Resource, id, func(ctx context.Context) error {
						_, err := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(id)})
						if fixIsNoSuchEntity(err) {
							return nil
						}
						return err
					})
				}
			}
			plan.add("iam:DeletePolicy", plan.Resource, arn, func(ctx context.Context) error {
				_, err := api.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
				if fixIsNoSuchEntity(err) {
					return nil
				}
				return err
			})
		}
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}
