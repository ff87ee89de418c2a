package iamguard

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
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

// GroupOptions tunes EnsureGroup, RemoveGroup, MoveUser and
// MoveUserPoliciesToGroup. The zero value means the defaults.
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

var policyARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\x21-\x7E]+$`)

func checkPolicyARN(op, field, v string) error {
	if len(v) > 2048 {
		return inputError(op, field, v[:64]+"...", "a managed policy ARN of at most 2048 characters")
	}
	return checkName(policyARNRE, op, field, v, `a managed policy ARN, arn:aws:iam::(aws|ACCOUNT):policy/NAME`)
}

// policyName is the last part of a managed policy ARN, for the words of
// an action.
func policyName(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func (g *Group) validate(op string) error {
	if err := checkGroup(op, "Group.Name", g.Name); err != nil {
		return err
	}
	if g.Path != "" {
		if err := checkPath(op, "Group.Path", g.Path); err != nil {
			return err
		}
	}
	for i, a := range g.PolicyARNs {
		if err := checkPolicyARN(op, fmt.Sprintf("Group.PolicyARNs[%d]", i), a); err != nil {
			return err
		}
	}
	for i, u := range g.Members {
		if err := checkUser(op, fmt.Sprintf("Group.Members[%d]", i), u); err != nil {
			return err
		}
	}
	return nil
}

// The kinds of the actions of the group operations (and
// ActionAttachGroupPolicy, ActionDetachGroupPolicy).
const (
	ActionCreateGroup         = "create-group"
	ActionDeleteGroup         = "delete-group"
	ActionAddUserToGroup      = "add-user-to-group"
	ActionRemoveUserFromGroup = "remove-user-from-group"
	ActionPutGroupPolicy      = "put-group-policy"
	ActionDeleteGroupPolicy   = "delete-group-policy"
	ActionDetachUserPolicy    = "detach-user-policy"
	ActionDeleteUserPolicy    = "delete-user-policy"
)

func addToGroupAction(group, user, why string) awsguard.Action {
	return awsguard.Action{Kind: ActionAddUserToGroup, Call: "iam:AddUserToGroup", Resource: "group/" + group,
		Detail: "add " + user + " to group " + group, Why: why}
}

func removeFromGroupAction(group, user, why string) awsguard.Action {
	return awsguard.Action{Kind: ActionRemoveUserFromGroup, Call: "iam:RemoveUserFromGroup", Resource: "group/" + group,
		Detail: "remove " + user + " from group " + group, Why: why}
}

func attachGroupPolicyAction(group, arn, why string) awsguard.Action {
	return awsguard.Action{Kind: ActionAttachGroupPolicy, Call: "iam:AttachGroupPolicy", Resource: "group/" + group,
		Detail: "attach " + policyName(arn) + " to group " + group, Why: why}
}

func detachGroupPolicyAction(group, arn, why string) awsguard.Action {
	return awsguard.Action{Kind: ActionDetachGroupPolicy, Call: "iam:DetachGroupPolicy", Resource: "group/" + group,
		Detail: "detach " + policyName(arn) + " from group " + group, Why: why}
}

// groupMembers returns the group's members; ok is false when the group
// does not exist.
func groupMembers(ctx context.Context, api iam.GetGroupAPIClient, group string) (members []string, ok bool, err error) {
	p := iam.NewGetGroupPaginator(api, &iam.GetGroupInput{GroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchEntity(err) {
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
func EnsureGroup(ctx context.Context, api EnsureGroupAPI, g Group, optFns ...func(*GroupOptions)) (*awsguard.Plan, error) {
	const op = "EnsureGroup"
	o := groupOptions(optFns)
	if err := g.validate(op); err != nil {
		return nil, err
	}
	path := g.Path
	if path == "" {
		path = "/"
	}
	name := g.Name
	res := "group/" + name
	pl := newPlanner(op, res, o.DryRun)
	members, exists, err := groupMembers(ctx, api, name)
	if err != nil {
		return nil, err
	}
	var attached []string
	if exists {
		attached, err = groupPolicies(ctx, api, name, func(string, string) bool { return true })
		if err != nil {
			return nil, err
		}
	} else {
		pl.add(awsguard.Action{Kind: ActionCreateGroup, Call: "iam:CreateGroup", Resource: res,
			Detail: "create group " + name + " (path " + path + ")", Why: "the group does not exist"}, func(ctx context.Context) error {
			_, err := api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name), Path: aws.String(path)})
			if isAlreadyExists(err) { // created by a retried call
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
		pl.add(attachGroupPolicyAction(name, arn, "the group lacks the policy"), func(ctx context.Context) error {
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
			if isNoSuchEntity(err) {
				return nil, fmt.Errorf("iamguard: member %s: %w: %w", u, ErrUserNotFound, err)
			}
			return nil, fmt.Errorf("iamguard: get user %s: %w", u, err)
		}
		pl.add(addToGroupAction(name, u, "the user is not a member"), func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String(u)})
			return err
		})
	}
	if g.ExclusiveMembers {
		for _, u := range members {
			if slices.Contains(g.Members, u) {
				continue
			}
			pl.add(removeFromGroupAction(name, u, "ExclusiveMembers: not in Members"), removeFromGroup(api, name, u))
		}
	}
	if g.ExclusivePolicies {
		for _, arn := range attached {
			if slices.Contains(g.PolicyARNs, arn) {
				continue
			}
			pl.add(detachGroupPolicyAction(name, arn, "ExclusivePolicies: not in PolicyARNs"), detachGroupPolicy(api, name, arn))
		}
	}
	return pl.apply(ctx, o.Logger, false)
}

func removeFromGroup(api groupMemberRemover, group, user string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
		if isNoSuchEntity(err) { // not a member any more
			return nil
		}
		return err
	}
}

func detachGroupPolicy(api groupPolicyDetacher, group, arn string) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)})
		if isNoSuchEntity(err) {
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
func RemoveGroup(ctx context.Context, api RemoveGroupAPI, name string, optFns ...func(*GroupOptions)) (*awsguard.Plan, error) {
	const op = "RemoveGroup"
	o := groupOptions(optFns)
	if err := checkGroup(op, "name", name); err != nil {
		return nil, err
	}
	res := "group/" + name
	pl := newPlanner(op, res, o.DryRun)
	pl.plan.Reason = awsguard.ReasonNothingToRemove
	members, exists, err := groupMembers(ctx, api, name)
	if err != nil {
		return nil, err
	}
	if !exists {
		return pl.apply(ctx, o.Logger, false)
	}
	attached, err := groupPolicies(ctx, api, name, func(string, string) bool { return true })
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
	const why = "a group is deleted once empty"
	for _, u := range members {
		pl.add(removeFromGroupAction(name, u, why), removeFromGroup(api, name, u))
	}
	for _, arn := range attached {
		pl.add(detachGroupPolicyAction(name, arn, why), detachGroupPolicy(api, name, arn))
	}
	for _, pn := range inline {
		pl.add(awsguard.Action{Kind: ActionDeleteGroupPolicy, Call: "iam:DeleteGroupPolicy", Resource: res,
			Detail: "delete inline policy " + pn + " of group " + name, Why: why}, func(ctx context.Context) error {
			_, err := api.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(name), PolicyName: aws.String(pn)})
			if isNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	pl.add(awsguard.Action{Kind: ActionDeleteGroup, Call: "iam:DeleteGroup", Resource: res,
		Detail: "delete group " + name}, func(ctx context.Context) error {
		_, err := api.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String(name)})
		if isNoSuchEntity(err) {
			return nil
		}
		return err
	})
	return pl.apply(ctx, o.Logger, false)
}

func groupsForUser(ctx context.Context, api iam.ListGroupsForUserAPIClient, user string) ([]string, error) {
	var groups []string
	p := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchEntity(err) {
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
func MoveUser(ctx context.Context, api MoveUserAPI, user, from, to string, optFns ...func(*GroupOptions)) (*awsguard.Plan, error) {
	const op = "MoveUser"
	o := groupOptions(optFns)
	if err := checkUser(op, "user", user); err != nil {
		return nil, err
	}
	if err := checkGroup(op, "from", from); err != nil {
		return nil, err
	}
	if err := checkGroup(op, "to", to); err != nil {
		return nil, err
	}
	if from == to {
		return nil, inputError(op, "to", to, "a group other than from")
	}
	pl := newPlanner(op, "user/"+user, o.DryRun)
	groups, err := groupsForUser(ctx, api, user)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(groups, to) {
		if err := groupMustExist(ctx, api, to); err != nil {
			return nil, err
		}
		pl.add(addToGroupAction(to, user, "the user moves to "+to), func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(to), UserName: aws.String(user)})
			return err
		})
	}
	if slices.Contains(groups, from) {
		pl.add(removeFromGroupAction(from, user, "the user moves from "+from+", once in "+to), removeFromGroup(api, from, user))
	}
	return pl.apply(ctx, o.Logger, false)
}

// rawDocument returns a policy document as IAM took it: Get*Policy
// answers URL-encoded.
func rawDocument(s string) string {
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
func MoveUserPoliciesToGroup(ctx context.Context, api MoveUserPoliciesToGroupAPI, user, group string, optFns ...func(*GroupOptions)) (*awsguard.Plan, error) {
	const op = "MoveUserPoliciesToGroup"
	o := groupOptions(optFns)
	if err := checkUser(op, "user", user); err != nil {
		return nil, err
	}
	if err := checkGroup(op, "group", group); err != nil {
		return nil, err
	}
	pl := newPlanner(op, "user/"+user, o.DryRun)
	groups, err := groupsForUser(ctx, api, user)
	if err != nil {
		return nil, err
	}
	onGroup, err := groupPolicies(ctx, api, group, func(string, string) bool { return true })
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
		return pl.apply(ctx, o.Logger, false)
	}
	ures, gres := "user/"+user, "group/"+group
	if !slices.Contains(groups, group) {
		pl.add(addToGroupAction(group, user, "the user gets the group's permissions, which take over the user's own"), func(ctx context.Context) error {
			_, err := api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
			return err
		})
	}
	for _, arn := range managed {
		if slices.Contains(onGroup, arn) {
			continue
		}
		pl.add(attachGroupPolicyAction(group, arn, "a policy of "+user+" moves to the group"), func(ctx context.Context) error {
			_, err := api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(group), PolicyArn: aws.String(arn)})
			return err
		})
	}
	for _, name := range inline {
		out, err := api.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("iamguard: get policy %s of user %s: %w", name, user, err)
		}
		raw := rawDocument(aws.ToString(out.PolicyDocument))
		gout, err := api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
		switch {
		case isNoSuchEntity(err):
			pl.add(awsguard.Action{Kind: ActionPutGroupPolicy, Call: "iam:PutGroupPolicy", Resource: gres,
				Detail: "copy inline policy " + name + " of " + user + " to group " + group,
				Why:    "an inline policy of " + user + " moves to the group"}, func(ctx context.Context) error {
				_, err := api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name), PolicyDocument: aws.String(raw)})
				return err
			})
		case err != nil:
			return nil, fmt.Errorf("iamguard: get policy %s of group %s: %w", name, group, err)
		default:
			graw := rawDocument(aws.ToString(gout.PolicyDocument))
			if graw == raw {
				break
			}
			ud, uerr := awsguard.ParsePolicyDocument(raw)
			gd, gerr := awsguard.ParsePolicyDocument(graw)
			if uerr != nil || gerr != nil || !ud.Equivalent(gd) {
				return nil, fmt.Errorf("iamguard: inline policy %s of user %s: group %s has one of that name: %w", name, user, group, ErrPolicyConflict)
			}
		}
	}
	for _, arn := range managed {
		pl.add(awsguard.Action{Kind: ActionDetachUserPolicy, Call: "iam:DetachUserPolicy", Resource: ures,
			Detail: "detach " + policyName(arn) + " from user " + user, Why: "the group holds it now"}, func(ctx context.Context) error {
			_, err := api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String(user), PolicyArn: aws.String(arn)})
			if isNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	for _, name := range inline {
		pl.add(awsguard.Action{Kind: ActionDeleteUserPolicy, Call: "iam:DeleteUserPolicy", Resource: ures,
			Detail: "delete inline policy " + name + " of user " + user, Why: "the group holds a copy now"}, func(ctx context.Context) error {
			_, err := api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String(name)})
			if isNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	return pl.apply(ctx, o.Logger, false)
}
