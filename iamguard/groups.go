package iamguard

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// Group is the wanted state of an IAM group for EnsureGroup.
type Group struct {
	// Name is the group's name (1 to 128 of letters, digits and +=,.@_-).
	Name string
	// Path is used when the group is created; default "/". The path of an
	// existing group is left as it is.
	Path string
	// PolicyARNs are the managed policies the group must have attached.
	PolicyARNs []string
	// Members are the users the group must hold. They must exist.
	Members []string
	// ExclusivePolicies makes EnsureGroup detach managed policies not in
	// PolicyARNs. By default others are left attached.
	ExclusivePolicies bool
	// ExclusiveMembers makes EnsureGroup remove users not in Members. By
	// default others stay.
	ExclusiveMembers bool
}

// GroupAPI is the part of *iam.Client that EnsureGroup and RemoveGroup
// call.
type GroupAPI interface {
	GetGroup(ctx context.Context, in *iam.GetGroupInput, optFns ...func(*iam.Options)) (*iam.GetGroupOutput, error)
	CreateGroup(ctx context.Context, in *iam.CreateGroupInput, optFns ...func(*iam.Options)) (*iam.CreateGroupOutput, error)
	DeleteGroup(ctx context.Context, in *iam.DeleteGroupInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupOutput, error)
	GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetPolicy(ctx context.Context, in *iam.GetPolicyInput, optFns ...func(*iam.Options)) (*iam.GetPolicyOutput, error)
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	ListGroupPolicies(ctx context.Context, in *iam.ListGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListGroupPoliciesOutput, error)
	DeleteGroupPolicy(ctx context.Context, in *iam.DeleteGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupPolicyOutput, error)
}

var _ GroupAPI = (*iam.Client)(nil)

// GroupOptions tunes the group operations. The zero value means the
// defaults.
type GroupOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per step; nil discards.
	Logger *slog.Logger
}

func groupOptions(optFns []func(*GroupOptions)) GroupOptions {
	var o GroupOptions
	for _, f := range optFns {
		f(&o)
	}
	return o
}

func (g *Group) validate() error {
	if err := fixCheckGroup("Group.Name", g.Name); err != nil {
		return err
	}
	if g.Path != "" {
		if err := fixCheckPath("Group.Path", g.Path); err != nil {
			return err
		}
	}
	for i, a := range g.PolicyARNs {
		if err := fixCheckPolicyARN(fmt.Sprintf("Group.PolicyARNs[%d]", i), a); err != nil {
			return err
		}
	}
	for i, u := range g.Members {
		if err := fixCheckUser(fmt.Sprintf("Group.Members[%d]", i), u); err != nil {
			return err
		}
	}
	return nil
}

// fixGroupMembers returns the group's members; ok is false when the group
// does not exist.
func fixGroupMembers(ctx context.Context, api fixGroupGetter, group string) (members []string, ok bool, err error) {
	p := iam.NewGetGroupPaginator(api, &iam.GetGroupInput{GroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if fixIsNoSuchEntity(err) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("iamguard: get group %s: %w", group, err)
		}
		for _, u := range page.Users {
			members = append(members, aws.ToString(u.UserName))
		}
	}
	return members, true, nil
}

// EnsureGroup brings the group to the wanted state: it creates the group
// if missing, attaches the managed policies it lacks and adds the members
// it lacks; with ExclusivePolicies or ExclusiveMembers it also detaches
// other policies and removes other members (after adding, never before).
// Input is checked first: names, ARNs, and that every member to add and
// every policy to attach exists (ErrUserNotFound, or the IAM error for a
// missing policy), so a bad value changes nothing. A second run changes
// nothing. RemoveGroup undoes it.
//
// IAM permissions: iam:GetGroup, iam:CreateGroup, iam:GetUser,
// iam:GetPolicy, iam:ListAttachedGroupPolicies, iam:AttachGroupPolicy,
// iam:AddUserToGroup, and with the Exclusive fields
// iam:DetachGroupPolicy, iam:RemoveUserFromGroup.
func EnsureGroup(ctx context.Context, api GroupAPI, g Group, optFns ...func(*GroupOptions)) (*ActionPlan, error) {
	o := groupOptions(optFns)
	if err := g.validate(); err != nil {
		return nil, err
	}
	path := g.Path
	if path == "" {
		path = "/"
	}
	name := g.Name
	res := "group/" + name
	plan := &ActionPlan{Operation: "EnsureGroup", Resource: res, DryRun: o.DryRun}
	members, exists, err := fixGroupMembers(ctx, api, name)
	if err != nil {
		return nil, err
	}
	var attached []string
	if exists {
		attached, err = fixGroupHasPolicy(ctx, api, name, func(string, string) bool { return true })
		if err != nil {
			return nil, err
		}
	} else {
		plan.add("iam:CreateGroup", res, path, func(ctx context.Context) error {
			_, err := api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name), Path: aws.String(path)})
			if fixIsAlreadyExists(err) { // created by a retried call
				return nil
			}
			return err
		})
	}
	var seen []string
	for _, arn := range g.PolicyARNs {
		if slices.Contains(attached, arn) || slices.Contains(seen, arn) {
			continue
		}
		seen = append(seen, arn)
		if _, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err != nil {
			return nil, fmt.Errorf("iamguard: policy %s: %w", arn, err)
		}
		plan.add("iam:AttachGroupPolicy", res, arn, func(ctx context.Context) error {
			_, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(name), PolicyArn: aws.String(arn)})
			return err
		})
	}
	seen = nil
	for _, u := range g.Members {
		if slices.Contains(members, u) || slices.Contains(seen, u) {
			continue
		}
		seen = append(seen, u)
		if _, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(u)}); err != nil {
			if fixIsNoSuchEntity(err) {
				return nil, fmt.Errorf("iamguard: member %s: %w: %w", u, ErrUserNotFound, err)
			}
			return nil, fmt.Errorf("iamguard: get user %s: %w", u, err)
		}
		plan.add("iam:AddUserToGroup", res, "user/"+u, func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String(u)})
			return err
		})
	}
	if g.ExclusiveMembers {
		for _, u := range members {
			if slices.Contains(g.Members, u) {
				continue
			}
			plan.add("iam:RemoveUserFromGroup", res, "user/"+u, fixRemoveFromGroup(api, name, u))
		}
	}
	if g.ExclusivePolicies {
		for _, arn := range attached {
			if slices.Contains(g.PolicyARNs, arn) {
				continue
			}
			plan.add("iam:DetachGroupPolicy", res, arn, fixDetachGroupPolicy(api, name, arn))
		}
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

func fixRemoveFromGroup(api interface {
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
}, group, user string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
		if fixIsNoSuchEntity(err) { // not a member any more
			return nil
		}
		return err
	}
}

func fixDetachGroupPolicy(api interface {
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
}, group, arn string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)})
		if fixIsNoSuchEntity(err) {
			return nil
		}
		return err
	}
}

// RemoveGroup deletes the group: it removes its members, detaches its
// managed policies, deletes its inline policies, then deletes the group.
// The users and the policies themselves stay. A missing group means
// nothing to do.
//
// IAM permissions: iam:GetGroup, iam:ListAttachedGroupPolicies,
// iam:ListGroupPolicies, iam:RemoveUserFromGroup, iam:DetachGroupPolicy,
// iam:DeleteGroupPolicy, iam:DeleteGroup.
func RemoveGroup(ctx context.Context, api GroupAPI, name string, optFns ...func(*GroupOptions)) (*ActionPlan, error) {
	o := groupOptions(optFns)
	if err := fixCheckGroup("name", name); err != nil {
		return nil, err
	}
	res := "group/" + name
	plan := &ActionPlan{Operation: "RemoveGroup", Resource: res, DryRun: o.DryRun}
	members, exists, err := fixGroupMembers(ctx, api, name)
	if err != nil {
		return nil, err
	}
	if !exists {
		return plan, plan.run(ctx, fixLogger(o.Logger))
	}
	attached, err := fixGroupHasPolicy(ctx, api, name, func(string, string) bool { return true })
	if err != nil {
		return nil, err
	}
	var inline []string
	p := iam.NewListGroupPoliciesPaginator(api, &iam.ListGroupPoliciesInput{GroupName: aws.String(name)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: list inline policies of group %s: %w", name, err)
		}
		inline = append(inline, page.PolicyNames...)
	}
	for _, u := range members {
		plan.add("iam:RemoveUserFromGroup", res, "user/"+u, fixRemoveFromGroup(api, name, u))
	}
	for _, arn := range attached {
		plan.add("iam:DetachGroupPolicy", res, arn, fixDetachGroupPolicy(api, name, arn))
	}
	for _, pn := range inline {
		plan.add("iam:DeleteGroupPolicy", res, pn, func(ctx context.Context) error {
			_, err := api.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(pn)})
			if fixIsNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	plan.add("iam:DeleteGroup", res, "", func(ctx context.Context) error {
		_, err := api.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(name)})
		if fixIsNoSuchEntity(err) {
			return nil
		}
		return err
	})
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

// MoveUserAPI is the part of *iam.Client that MoveUser calls.
type MoveUserAPI interface {
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	GetGroup(ctx context.Context, in *iam.GetGroupInput, optFns ...func(*iam.Options)) (*iam.GetGroupOutput, error)
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
}

var _ MoveUserAPI = (*iam.Client)(nil)

type fixUserGroupsLister interface {
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
}

func fixGroupsForUser(ctx context.Context, api fixUserGroupsLister, user string) ([]string, error) {
	var groups []string
	p := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if fixIsNoSuchEntity(err) {
			return nil, fmt.Errorf("iamguard: user %s: %w: %w", user, ErrUserNotFound, err)
		}
		if err != nil {
			return nil, fmt.Errorf("iamguard: list groups of user %s: %w", user, err)
		}
		for _, g := range page.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	return groups, nil
}

// MoveUser moves a user from one group to another, for a change of
// department: it adds the user to the new group first and only then
// removes them from the old one, so that the user is in at least one of
// the two at every moment and their access never drops to nothing. If the
// removal fails the user is left in both groups; running MoveUser again
// finishes. The user and the group "to" must exist (ErrUserNotFound,
// ErrGroupNotFound). A user already in "to" and not in "from" needs
// nothing.
//
// IAM permissions: iam:ListGroupsForUser, iam:GetGroup,
// iam:AddUserToGroup, iam:RemoveUserFromGroup.
func MoveUser(ctx context.Context, api MoveUserAPI, user, from, to string, optFns ...func(*GroupOptions)) (*ActionPlan, error) {
	o := groupOptions(optFns)
	if err := fixCheckUser("user", user); err != nil {
		return nil, err
	}
	if err := fixCheckGroup("from", from); err != nil {
		return nil, err
	}
	if err := fixCheckGroup("to", to); err != nil {
		return nil, err
	}
	if from == to {
		return nil, &InvalidFieldError{Field: "to", Value: to, Want: "a group other than from"}
	}
	plan := &ActionPlan{Operation: "MoveUser", Resource: "user/" + user, DryRun: o.DryRun}
	groups, err := fixGroupsForUser(ctx, api, user)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(groups, to) {
		if err := fixGroupMustExist(ctx, api, to); err != nil {
			return nil, err
		}
		plan.add("iam:AddUserToGroup", "group/"+to, "user/"+user, func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(to), UserName: aws.String(user)})
			return err
		})
	}
	if slices.Contains(groups, from) {
		plan.add("iam:RemoveUserFromGroup", "group/"+from, "user/"+user, fixRemoveFromGroup(api, from, user))
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

// UserPoliciesAPI is the part of *iam.Client that MoveUserPoliciesToGroup
// calls.
type UserPoliciesAPI interface {
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	ListAttachedGroupPolicies(ctx context.Context, in *iam.ListAttachedGroupPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	PutGroupPolicy(ctx context.Context, in *iam.PutGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.PutGroupPolicyOutput, error)
}

var _ UserPoliciesAPI = (*iam.Client)(nil)

// fixRawDocument returns a policy document as IAM took it: Get*Policy
// answers URL-encoded.
func fixRawDocument(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		return s
	}
	if u, err := url.PathUnescape(t); err == nil {
		return u
	}
	return s
}

// MoveUserPoliciesToGroup moves the policies attached directly to a user
// onto a group (CIS 1.15, ISMS-P 2.5.1: permissions only through groups).
// In order: it adds the user to the group, attaches the user's managed
// policies to the group and copies the user's inline policies to group
// inline policies of the same name; only after all of that succeeded does
// it detach and delete them from the user, so the user never loses a
// permission on the way. Everything the group gets, all its members get:
// check the plan (DryRun) first. A group inline policy of the same name
// with another document stops the move before any change
// (ErrPolicyConflict). The user and the group must exist. A second run
// changes nothing.
//
// IAM permissions: iam:ListGroupsForUser, iam:AddUserToGroup,
// iam:ListAttachedUserPolicies, iam:ListUserPolicies, iam:GetUserPolicy,
// iam:ListAttachedGroupPolicies, iam:GetGroupPolicy,
// iam:AttachGroupPolicy, iam:PutGroupPolicy, iam:DetachUserPolicy,
// iam:DeleteUserPolicy.
func MoveUserPoliciesToGroup(ctx context.Context, api UserPoliciesAPI, user, group string, optFns ...func(*GroupOptions)) (*ActionPlan, error) {
	o := groupOptions(optFns)
	if err := fixCheckUser("user", user); err != nil {
		return nil, err
	}
	if err := fixCheckGroup("group", group); err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "MoveUserPoliciesToGroup", Resource: "user/" + user, DryRun: o.DryRun}
	groups, err := fixGroupsForUser(ctx, api, user)
	if err != nil {
		return nil, err
	}
	onGroup, err := fixGroupHasPolicy(ctx, api, group, func(string, string) bool { return true })
	if err != nil {
		return nil, err
	}
	var managed []string
	mp := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: list policies of user %s: %w", user, err)
		}
		for _, ap := range page.AttachedPolicies {
			managed = append(managed, aws.ToString(ap.PolicyArn))
		}
	}
	var inline []string
	ip := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(user)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: list inline policies of user %s: %w", user, err)
		}
		inline = append(inline, page.PolicyNames...)
	}
	if len(managed) == 0 && len(inline) == 0 {
		return plan, plan.run(ctx, fixLogger(o.Logger))
	}
	ures, gres := "user/"+user, "group/"+group
	if !slices.Contains(groups, group) {
		plan.add("iam:AddUserToGroup", gres, ures, func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
			return err
		})
	}
	for _, arn := range managed {
		if slices.Contains(onGroup, arn) {
			continue
		}
		plan.add("iam:AttachGroupPolicy", gres, arn, func(ctx context.Context) error {
			_, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)})
			return err
		})
	}
	for _, name := range inline {
		out, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("iamguard: get policy %s of user %s: %w", name, user, err)
		}
		raw := fixRawDocument(aws.ToString(out.PolicyDocument))
		gout, err := api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
		switch {
		case fixIsNoSuchEntity(err):
			plan.add("iam:PutGroupPolicy", gres, name, func(ctx context.Context) error {
				_, err := api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name), PolicyDocument: aws.String(raw)})
				return err
			})
		case err != nil:
			return nil, fmt.Errorf("iamguard: get policy %s of group %s: %w", name, group, err)
		default:
			graw := fixRawDocument(aws.ToString(gout.PolicyDocument))
			if graw == raw {
				break
			}
			ud, uerr := ParsePolicyDocument(raw)
			gd, gerr := ParsePolicyDocument(graw)
			if uerr != nil || gerr != nil || !ud.Equivalent(gd) {
				return nil, fmt.Errorf("iamguard: inline policy %s of user %s: group %s has one of that name: %w", name, user, group, ErrPolicyConflict)
			}
		}
	}
	for _, arn := range managed {
		plan.add("iam:DetachUserPolicy", ures, arn, func(ctx context.Context) error {
			_, err := api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)})
			if fixIsNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	for _, name := range inline {
		plan.add("iam:DeleteUserPolicy", ures, name, func(ctx context.Context) error {
			_, err := api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
			if fixIsNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}
