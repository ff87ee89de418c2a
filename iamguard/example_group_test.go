package iamguard_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/iamguard"
)

// memIAM is an in-memory iamguard.EnsureGroupAPI and
// iamguard.EnforceMFAAPI: groups with their members and attached
// policies, users, and customer managed policies with their default
// version. It keeps what the calls change, so a second run sees the first.
type memIAM struct {
	users    []string
	groups   map[string]*memGroup
	policies map[string]*memPolicy // by ARN
}

type memGroup struct{ members, policies []string }

type memPolicy struct {
	name, path, doc, description string
	tags                         []types.Tag
}

func newMemIAM(users ...string) *memIAM {
	return &memIAM{users: users, groups: map[string]*memGroup{}, policies: map[string]*memPolicy{}}
}

func noSuchEntity(what string) error {
	return &types.NoSuchEntityException{Message: aws.String(what + " not found")}
}

func (m *memIAM) GetGroup(_ context.Context, in *iam.GetGroupInput, _ ...func(*iam.Options)) (*iam.GetGroupOutput, error) {
	g, ok := m.groups[aws.ToString(in.GroupName)]
	if !ok {
		return nil, noSuchEntity("group")
	}
	out := &iam.GetGroupOutput{Group: &types.Group{GroupName: in.GroupName}}
	for _, u := range g.members {
		out.Users = append(out.Users, types.User{UserName: aws.String(u)})
	}
	return out, nil
}

func (m *memIAM) CreateGroup(_ context.Context, in *iam.CreateGroupInput, _ ...func(*iam.Options)) (*iam.CreateGroupOutput, error) {
	m.groups[aws.ToString(in.GroupName)] = &memGroup{}
	return &iam.CreateGroupOutput{Group: &types.Group{GroupName: in.GroupName, Path: in.Path}}, nil
}

func (m *memIAM) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	if !slices.Contains(m.users, aws.ToString(in.UserName)) {
		return nil, noSuchEntity("user")
	}
	return &iam.GetUserOutput{User: &types.User{UserName: in.UserName}}, nil
}

func (m *memIAM) AddUserToGroup(_ context.Context, in *iam.AddUserToGroupInput, _ ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error) {
	g := m.groups[aws.ToString(in.GroupName)]
	g.members = append(g.members, aws.ToString(in.UserName))
	return &iam.AddUserToGroupOutput{}, nil
}

func (m *memIAM) RemoveUserFromGroup(_ context.Context, in *iam.RemoveUserFromGroupInput, _ ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error) {
	g := m.groups[aws.ToString(in.GroupName)]
	g.members = slices.DeleteFunc(g.members, func(u string) bool { return u == aws.ToString(in.UserName) })
	return &iam.RemoveUserFromGroupOutput{}, nil
}

func (m *memIAM) ListAttachedGroupPolicies(_ context.Context, in *iam.ListAttachedGroupPoliciesInput, _ ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	g, ok := m.groups[aws.ToString(in.GroupName)]
	if !ok {
		return nil, noSuchEntity("group")
	}
	out := &iam.ListAttachedGroupPoliciesOutput{}
	for _, arn := range g.policies {
		out.AttachedPolicies = append(out.AttachedPolicies, types.AttachedPolicy{PolicyArn: aws.String(arn)})
	}
	return out, nil
}

func (m *memIAM) AttachGroupPolicy(_ context.Context, in *iam.AttachGroupPolicyInput, _ ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error) {
	g := m.groups[aws.ToString(in.GroupName)]
	g.policies = append(g.policies, aws.ToString(in.PolicyArn))
	return &iam.AttachGroupPolicyOutput{}, nil
}

func (m *memIAM) DetachGroupPolicy(_ context.Context, in *iam.DetachGroupPolicyInput, _ ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error) {
	g := m.groups[aws.ToString(in.GroupName)]
	g.policies = slices.DeleteFunc(g.policies, func(a string) bool { return a == aws.ToString(in.PolicyArn) })
	return &iam.DetachGroupPolicyOutput{}, nil
}

func (m *memIAM) ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	out := &iam.ListPoliciesOutput{}
	for arn, p := range m.policies {
		if p.doc == "" { // an AWS managed policy, not listed with Scope Local
			continue
		}
		out.Policies = append(out.Policies, types.Policy{Arn: aws.String(arn), PolicyName: aws.String(p.name),
			Path: aws.String(p.path), DefaultVersionId: aws.String("v1")})
	}
	return out, nil
}

func (m *memIAM) GetPolicy(_ context.Context, in *iam.GetPolicyInput, _ ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	p, ok := m.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("policy")
	}
	return &iam.GetPolicyOutput{Policy: &types.Policy{Arn: in.PolicyArn, PolicyName: aws.String(p.name),
		Description: aws.String(p.description), Tags: p.tags}}, nil
}

func (m *memIAM) CreatePolicy(_ context.Context, in *iam.CreatePolicyInput, _ ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	arn := "arn:aws:iam::123456789012:policy" + aws.ToString(in.Path) + aws.ToString(in.PolicyName)
	m.policies[arn] = &memPolicy{name: aws.ToString(in.PolicyName), path: aws.ToString(in.Path),
		doc: aws.ToString(in.PolicyDocument), description: aws.ToString(in.Description), tags: in.Tags}
	return &iam.CreatePolicyOutput{Policy: &types.Policy{Arn: aws.String(arn), PolicyName: in.PolicyName}}, nil
}

func (m *memIAM) GetPolicyVersion(_ context.Context, in *iam.GetPolicyVersionInput, _ ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	p, ok := m.policies[aws.ToString(in.PolicyArn)]
	if !ok {
		return nil, noSuchEntity("policy")
	}
	return &iam.GetPolicyVersionOutput{PolicyVersion: &types.PolicyVersion{Document: aws.String(p.doc),
		VersionId: aws.String("v1"), IsDefaultVersion: true}}, nil
}

func (m *memIAM) ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	return &iam.ListPolicyVersionsOutput{Versions: []types.PolicyVersion{{VersionId: aws.String("v1"), IsDefaultVersion: true}}}, nil
}

func (m *memIAM) CreatePolicyVersion(_ context.Context, in *iam.CreatePolicyVersionInput, _ ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	m.policies[aws.ToString(in.PolicyArn)].doc = aws.ToString(in.PolicyDocument)
	return &iam.CreatePolicyVersionOutput{PolicyVersion: &types.PolicyVersion{VersionId: aws.String("v1")}}, nil
}

func (m *memIAM) DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	return &iam.DeletePolicyVersionOutput{}, nil
}

var (
	_ iamguard.EnsureGroupAPI = (*memIAM)(nil)
	_ iamguard.EnforceMFAAPI  = (*memIAM)(nil)
)

// EnsureGroup creates a missing group, attaches the managed policies it
// lacks and adds the members it lacks. Run again, it finds the group as
// wanted and changes nothing.
func ExampleEnsureGroup() {
	const readOnly = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	api := newMemIAM("alice", "bob")
	api.policies[readOnly] = &memPolicy{name: "ReadOnlyAccess", path: "/"}
	g := iamguard.Group{Name: "auditors", PolicyARNs: []string{readOnly}, Members: []string{"alice", "bob"}}
	for range 2 {
		plan, err := iamguard.EnsureGroup(context.Background(), api, g)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(plan.Reason)
		for _, line := range plan.Describe() {
			fmt.Println(" ", line)
		}
	}
	// Output:
	// applied
	//   create group auditors (path /)
	//   attach ReadOnlyAccess to group auditors
	//   add alice to group auditors
	//   add bob to group auditors
	// already compliant
}

// EnforceMFA applied: it creates awsguard's managed policy (tagged
// awsguard:managed=true) and attaches it to each group. A second run
// finds the policy with the same document, attached everywhere, and
// changes nothing.
func ExampleEnforceMFA_apply() {
	api := newMemIAM()
	api.groups["developers"] = &memGroup{}
	api.groups["operators"] = &memGroup{}
	for range 2 {
		plan, err := iamguard.EnforceMFA(context.Background(), api, []string{"developers", "operators"})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(plan.Reason)
		for _, a := range plan.Actions {
			fmt.Printf("  %s: %s\n", a.Outcome, a)
		}
	}
	// Output:
	// applied
	//   done: create managed policy awsguard-enforce-mfa (deny all but MFA self-service without MFA)
	//   done: attach awsguard-enforce-mfa to group developers
	//   done: attach awsguard-enforce-mfa to group operators
	// already compliant
}
