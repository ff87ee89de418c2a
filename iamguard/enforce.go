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

	"github.com/awsguard/awsguard"
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
func EnforceMFAPolicyDocument() *awsguard.PolicyDocument {
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{
		{Sid: "AllowListActions", Effect: "Allow",
			Action:   awsguard.StringList("iam:GetAccountPasswordPolicy", "iam:ListUsers", "iam:ListVirtualMFADevices"),
			Resource: awsguard.StringValue("*")},
		{Sid: "AllowUserToCreateVirtualMFADevice", Effect: "Allow",
			Action:   awsguard.StringList("iam:CreateVirtualMFADevice"),
			Resource: awsguard.StringValue("arn:aws:iam::*:mfa/*")},
		{Sid: "AllowUserToManageTheirOwnMFA", Effect: "Allow",
			Action:   awsguard.StringList("iam:EnableMFADevice", "iam:GetMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"),
			Resource: awsguard.StringValue(ownUserARN)},
		{Sid: "AllowUserToDeactivateTheirOwnMFAOnlyWhenUsingMFA", Effect: "Allow",
			Action:    awsguard.StringList("iam:DeactivateMFADevice"),
			Resource:  awsguard.StringList(ownUserARN),
			Condition: map[string]map[string]awsguard.Strings{"Bool": {"aws:MultiFactorAuthPresent": awsguard.StringValue("true")}}},
		{Sid: "AllowUserToChangeTheirOwnPassword", Effect: "Allow",
			Action:   awsguard.StringList("iam:ChangePassword", "iam:GetUser"),
			Resource: awsguard.StringValue(ownUserARN)},
		{Sid: "BlockMostAccessUnlessSignedInWithMFA", Effect: "Deny",
			NotAction: awsguard.StringList("iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
				"iam:GetAccountPasswordPolicy", "iam:GetMFADevice", "iam:GetUser", "iam:ListMFADevices",
				"iam:ListUsers", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"),
			Resource:  awsguard.StringValue("*"),
			Condition: map[string]map[string]awsguard.Strings{"BoolIfExists": {"aws:MultiFactorAuthPresent": awsguard.StringValue("false")}}},
	}}}
}

// EnforceMFAOptions tunes EnforceMFA. The zero value means the defaults.
type EnforceMFAOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per action; nil discards.
	Logger *slog.Logger
	// PolicyName is the managed policy's name; default EnforceMFAPolicyName.
	PolicyName string
	// Path is the managed policy's path; default "/".
	Path string
}

// RemoveEnforceMFAOptions tunes RemoveEnforceMFA: EnforceMFAOptions (to
// name the policy), KeepPolicy and AllowWeaken.
type RemoveEnforceMFAOptions struct {
	EnforceMFAOptions
	// KeepPolicy makes RemoveEnforceMFA only detach the policy, never
	// delete it.
	KeepPolicy bool
	// AllowWeaken lets RemoveEnforceMFA detach the policy from a group,
	// which lets the group's members work without MFA (the action is
	// marked Weakening). Without it that plan is refused with an
	// *awsguard.WeakeningError and nothing changes.
	AllowWeaken bool
}

// The kinds of the actions of EnforceMFA and RemoveEnforceMFA.
const (
	ActionCreatePolicy        = "create-policy"
	ActionCreatePolicyVersion = "create-policy-version"
	ActionDeletePolicyVersion = "delete-policy-version"
	ActionDeletePolicy        = "delete-policy"
	ActionAttachGroupPolicy   = "attach-group-policy"
	ActionDetachGroupPolicy   = "detach-group-policy"
)

func (o *EnforceMFAOptions) validate(op string, groups []string) ([]string, error) {
	if o.PolicyName == "" {
		o.PolicyName = EnforceMFAPolicyName
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if err := checkPolicyName(op, "EnforceMFAOptions.PolicyName", o.PolicyName); err != nil {
		return nil, err
	}
	if err := checkPath(op, "EnforceMFAOptions.Path", o.Path); err != nil {
		return nil, err
	}
	var gs []string
	for i, g := range groups {
		if err := checkGroup(op, fmt.Sprintf("groups[%d]", i), g); err != nil {
			return nil, err
		}
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	return gs, nil
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

// checkOwnPolicy returns ErrPolicyConflict unless the managed policy
// arn was created by awsguard.
func checkOwnPolicy(ctx context.Context, api iam.GetPolicyAPIClient, arn string) error {
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

// findManagedPolicy finds a customer managed policy by path and name.
func findManagedPolicy(ctx context.Context, api iam.ListPoliciesAPIClient, path, name string) (*types.Policy, error) {
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

// groupPolicies returns the ARNs of the group's attached managed policies
// that match; ErrGroupNotFound if the group does not exist.
func groupPolicies(ctx context.Context, api iam.ListAttachedGroupPoliciesAPIClient, group string, match func(arn, name string) bool) ([]string, error) {
	var arns []string
	p := iam.NewListAttachedGroupPoliciesPaginator(api, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchEntity(err) {
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
// iam:ListPolicyVersions, iam:CreatePolicy, iam:CreatePolicyVersion,
// iam:DeletePolicyVersion, iam:ListAttachedGroupPolicies,
// iam:AttachGroupPolicy. CreatePolicy with tags is also authorized as
// iam:TagPolicy, which is no call of its own: grant it too.
func EnforceMFA(ctx context.Context, api EnforceMFAAPI, groups []string, optFns ...func(*EnforceMFAOptions)) (*awsguard.Plan, error) {
	const op = "EnforceMFA"
	var o EnforceMFAOptions
	for _, f := range optFns {
		f(&o)
	}
	groups, err := o.validate(op, groups)
	if err != nil {
		return nil, err
	}
	want := EnforceMFAPolicyDocument()
	doc, err := want.JSON()
	if err != nil {
		return nil, err
	}
	polRes := "policy" + o.Path + o.PolicyName
	pl := newPlanner(op, polRes, o.DryRun)
	pol, err := findManagedPolicy(ctx, api, o.Path, o.PolicyName)
	if err != nil {
		return nil, err
	}
	arn := "" // set by the create step when the policy is new
	if pol == nil {
		pl.add(awsguard.Action{Kind: ActionCreatePolicy, Call: "iam:CreatePolicy", Resource: polRes,
			Detail: "create managed policy " + o.PolicyName + " (deny all but MFA self-service without MFA)",
			Why:    "the policy does not exist"}, func(ctx context.Context) error {
			out, err := api.CreatePolicy(ctx, &iam.CreatePolicyInput{
				PolicyName: aws.String(o.PolicyName), Path: aws.String(o.Path), PolicyDocument: aws.String(doc),
				Description: aws.String(enforceMFADescription),
				Tags:        []types.Tag{{Key: aws.String(ManagedTagKey), Value: aws.String(ManagedTagValue)}},
			})
			if isAlreadyExists(err) { // created by a retried call, or by someone else meanwhile
				p, ferr := findManagedPolicy(ctx, api, o.Path, o.PolicyName)
				if ferr != nil || p == nil {
					return err
				}
				if cerr := checkOwnPolicy(ctx, api, aws.ToString(p.Arn)); cerr != nil {
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
		if err := checkOwnPolicy(ctx, api, arn); err != nil {
			return nil, err
		}
		if err := planPolicyVersion(ctx, api, pl, arn, aws.ToString(pol.DefaultVersionId), want, doc); err != nil {
			return nil, err
		}
	}
	for _, g := range groups {
		var attached []string
		if pol != nil {
			attached, err = groupPolicies(ctx, api, g, func(a, _ string) bool { return a == arn })
		} else {
			_, err = groupPolicies(ctx, api, g, func(string, string) bool { return false })
		}
		if err != nil {
			return nil, err
		}
		if len(attached) > 0 {
			continue
		}
		pl.add(awsguard.Action{Kind: ActionAttachGroupPolicy, Call: "iam:AttachGroupPolicy", Resource: "group/" + g,
			Detail: "attach " + o.PolicyName + " to group " + g, Why: "the group lacks the policy"}, func(ctx context.Context) error {
			_, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(g), PolicyArn: aws.String(arn)})
			return err
		})
	}
	return pl.apply(ctx, o.Logger, false)
}

// planPolicyVersion adds the steps that make want the default version
// of the managed policy, if it is not.
func planPolicyVersion(ctx context.Context, api EnforceMFAAPI, pl *planner, arn, defaultID string, want *awsguard.PolicyDocument, doc string) error {
	v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(defaultID)})
	if err != nil {
		return fmt.Errorf("iamguard: get policy %s version %s: %w", arn, defaultID, err)
	}
	if cur, err := awsguard.ParsePolicyDocument(aws.ToString(v.PolicyVersion.Document)); err == nil && want.Equivalent(cur) {
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
			pl.add(awsguard.Action{Kind: ActionDeletePolicyVersion, Call: "iam:DeletePolicyVersion", Resource: pl.plan.Resource,
				Detail: "delete version " + id + " of " + pl.plan.Resource,
				Why:    "the policy has the maximum of five versions"}, deletePolicyVersion(api, arn, id))
		}
	}
	pl.add(awsguard.Action{Kind: ActionCreatePolicyVersion, Call: "iam:CreatePolicyVersion", Resource: pl.plan.Resource,
		Detail: "restore awsguard's document of " + pl.plan.Resource + " as its default version",
		Why:    "the default version was edited"}, func(ctx context.Context) error {
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
// Detaching the policy lets the group's members work without MFA: those
// actions are marked Weakening and the plan is refused
// (*awsguard.WeakeningError, nothing changed) unless AllowWeaken is set.
// This is the explicit undo of EnforceMFA; pass AllowWeaken only when
// asked to lift the enforcement.
//
// IAM permissions: iam:ListPolicies, iam:GetPolicy, iam:ListAttachedGroupPolicies,
// iam:DetachGroupPolicy, iam:ListEntitiesForPolicy, iam:ListPolicyVersions,
// iam:DeletePolicyVersion, iam:DeletePolicy.
func RemoveEnforceMFA(ctx context.Context, api RemoveEnforceMFAAPI, groups []string, optFns ...func(*RemoveEnforceMFAOptions)) (*awsguard.Plan, error) {
	const op = "RemoveEnforceMFA"
	var o RemoveEnforceMFAOptions
	for _, f := range optFns {
		f(&o)
	}
	groups, err := o.validate(op, groups)
	if err != nil {
		return nil, err
	}
	polRes := "policy" + o.Path + o.PolicyName
	pl := newPlanner(op, polRes, o.DryRun)
	pl.plan.Reason = awsguard.ReasonNothingToRemove
	pol, err := findManagedPolicy(ctx, api, o.Path, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if pol == nil {
		return pl.apply(ctx, o.Logger, o.AllowWeaken)
	}
	arn := aws.ToString(pol.Arn)
	if err := checkOwnPolicy(ctx, api, arn); err != nil {
		return nil, err
	}
	detached := map[string]bool{}
	for _, g := range groups {
		attached, err := groupPolicies(ctx, api, g, func(a, _ string) bool { return a == arn })
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
		pl.add(awsguard.Action{Kind: ActionDetachGroupPolicy, Call: "iam:DetachGroupPolicy", Resource: "group/" + g,
			Detail: "detach " + o.PolicyName + " from group " + g, Why: "MFA is no longer to be enforced on the group",
			Weakening: true}, detachGroupPolicy(api, g, arn))
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
					pl.add(awsguard.Action{Kind: ActionDeletePolicyVersion, Call: "iam:DeletePolicyVersion", Resource: polRes,
						Detail: "delete version " + id + " of " + polRes, Why: "a policy is deleted after its other versions"},
						deletePolicyVersion(api, arn, id))
				}
			}
			pl.add(awsguard.Action{Kind: ActionDeletePolicy, Call: "iam:DeletePolicy", Resource: polRes,
				Detail: "delete managed policy " + arn, Why: "nothing has it attached any more"}, func(ctx context.Context) error {
				_, err := api.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
				if isNoSuchEntity(err) {
					return nil
				}
				return err
			})
		}
	}
	return pl.apply(ctx, o.Logger, o.AllowWeaken)
}

func deletePolicyVersion(api policyVersionDeleter, arn, id string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(id)})
		if isNoSuchEntity(err) {
			return nil
		}
		return err
	}
}
