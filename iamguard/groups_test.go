package iamguard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/fault"
)

func TestEnsureGroup(t *testing.T) {
	ctx := context.Background()
	env, api := motoIAM(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		createUser(t, api, u)
	}
	p1 := createPolicy(t, api, "p1", "s3:GetObject")
	p2 := createPolicy(t, api, "p2", "ec2:Describe*")
	want := iamguard.Group{Name: "dev", PolicyARNs: []string{p1, p2, p1}, Members: []string{"alice", "bob"}}

	dry, err := iamguard.EnsureGroup(ctx, api, want, func(o *iamguard.GroupOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := []string{
		"iam:CreateGroup group/dev: create group dev (path /)",
		"iam:AttachGroupPolicy group/dev: attach p1 to group dev",
		"iam:AttachGroupPolicy group/dev: attach p2 to group dev",
		"iam:AddUserToGroup group/dev: add alice to group dev",
		"iam:AddUserToGroup group/dev: add bob to group dev",
	}
	if d := cmp.Diff(wantSteps, planSteps(dry)); d != "" {
		t.Errorf("dry-run plan (-want +got):\n%s", d)
	}
	if dry.Applied || dry.Reason != awsguard.ReasonDryRun || groupExists(t, api, "dev") {
		t.Fatalf("dry run changed something: %+v", dry)
	}

	got, err := iamguard.EnsureGroup(ctx, api, want)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantSteps, planSteps(got)); d != "" {
		t.Errorf("applied plan differs from the dry run (-want +got):\n%s", d)
	}
	if !got.Applied || got.Actions[4].Outcome != awsguard.OutcomeDone {
		t.Errorf("plan not marked applied: %+v", got)
	}
	if d := cmp.Diff([]string{"alice", "bob"}, membersOf(t, api, "dev")); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{p1, p2}, groupPoliciesOf(t, api, "dev")); d != "" {
		t.Errorf("policies (-want +got):\n%s", d)
	}
	assertIdle(t, must(iamguard.EnsureGroup(ctx, api, want))(t), nil)

	// Additive by default; exclusive removes what is not listed.
	more := iamguard.Group{Name: "dev", PolicyARNs: []string{p2}, Members: []string{"carol"}}
	must(iamguard.EnsureGroup(ctx, api, more))(t)
	if d := cmp.Diff([]string{"alice", "bob", "carol"}, membersOf(t, api, "dev")); d != "" {
		t.Errorf("additive members (-want +got):\n%s", d)
	}
	more.ExclusiveMembers, more.ExclusivePolicies = true, true
	ex := must(iamguard.EnsureGroup(ctx, api, more))(t)
	if d := cmp.Diff([]string{
		"iam:RemoveUserFromGroup group/dev: remove alice from group dev",
		"iam:RemoveUserFromGroup group/dev: remove bob from group dev",
		"iam:DetachGroupPolicy group/dev: detach p1 from group dev",
	}, planSteps(ex)); d != "" {
		t.Errorf("exclusive plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"carol"}, membersOf(t, api, "dev")); d != "" {
		t.Errorf("exclusive members (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{p2}, groupPoliciesOf(t, api, "dev")); d != "" {
		t.Errorf("exclusive policies (-want +got):\n%s", d)
	}

	// RemoveGroup undoes it, including an inline policy; users and
	// policies stay.
	must(iamguard.EnsureSelfServicePolicy(ctx, api, "dev"))(t)
	rm := must(iamguard.RemoveGroup(ctx, api, "dev"))(t)
	if d := cmp.Diff([]string{
		"iam:RemoveUserFromGroup group/dev: remove carol from group dev",
		"iam:DetachGroupPolicy group/dev: detach p2 from group dev",
		"iam:DeleteGroupPolicy group/dev: delete inline policy " + iamguard.SelfServicePolicyName + " of group dev",
		"iam:DeleteGroup group/dev: delete group dev",
	}, planSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	if groupExists(t, api, "dev") {
		t.Error("group still exists")
	}
	must(api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")}))(t)
	must(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(p2)}))(t)
	assertIdle(t, must(iamguard.RemoveGroup(ctx, api, "dev"))(t), nil)
	_ = env
}

func TestEnsureGroupRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	env, plain := motoIAM(t)
	createUser(t, plain, "alice")
	long := make([]byte, 129)
	for i := range long {
		long[i] = 'g'
	}
	tests := []struct {
		name  string
		group iamguard.Group
		field string
	}{
		{"empty name", iamguard.Group{}, "Group.Name"},
		{"long name", iamguard.Group{Name: string(long)}, "Group.Name"},
		{"bad char", iamguard.Group{Name: "dev ops"}, "Group.Name"},
		{"bad path", iamguard.Group{Name: "dev", Path: "nopath"}, "Group.Path"},
		{"bad arn", iamguard.Group{Name: "dev", PolicyARNs: []string{"ReadOnlyAccess"}}, "Group.PolicyARNs[0]"},
		{"bad member", iamguard.Group{Name: "dev", Members: []string{"alice", "bob/x"}}, "Group.Members[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probe := fault.New()
			_, err := iamguard.EnsureGroup(ctx, faultyClient(env, probe), tt.group)
			var fe *awsguard.InputError
			if !errors.As(err, &fe) || !errors.Is(err, awsguard.ErrInvalidInput) || fe.Field != tt.field || fe.Operation != "iamguard.EnsureGroup" {
				t.Fatalf("err = %v, want an InputError of iamguard.EnsureGroup on %s", err, tt.field)
			}
			if n := len(probe.Calls()); n != 0 {
				t.Errorf("%d API calls made before validation failed", n)
			}
		})
	}
	// A member that does not exist stops the run before any change.
	_, err := iamguard.EnsureGroup(ctx, plain, iamguard.Group{Name: "dev", Members: []string{"alice", "ghost"}})
	if !errors.Is(err, iamguard.ErrUserNotFound) {
		t.Fatalf("err = %v, want ErrUserNotFound", err)
	}
	if groupExists(t, plain, "dev") {
		t.Error("the group was created although a member does not exist")
	}
	// So does a policy that does not exist.
	_, err = iamguard.EnsureGroup(ctx, plain, iamguard.Group{Name: "dev", PolicyARNs: []string{"arn:aws:iam::123456789012:policy/ghost"}})
	if err == nil || groupExists(t, plain, "dev") {
		t.Fatalf("err = %v, group exists = %v; want an error and no group", err, groupExists(t, plain, "dev"))
	}
}

func TestEnsureGroupSweep(t *testing.T) {
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createUser(t, api, "alice"+ns)
		createUser(t, api, "bob"+ns)
		createPolicy(t, api, "p1"+ns, "s3:GetObject")
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		return iamguard.EnsureGroup(ctx, api, iamguard.Group{Name: "dev" + ns, PolicyARNs: []string{policyARN("p1" + ns)}, Members: []string{"alice" + ns, "bob" + ns}})
	}, func(t *testing.T, api *iam.Client, ns string) {
		if d := cmp.Diff([]string{"alice" + ns, "bob" + ns}, membersOf(t, api, "dev"+ns)); d != "" {
			t.Errorf("members (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{policyARN("p1" + ns)}, groupPoliciesOf(t, api, "dev"+ns)); d != "" {
			t.Errorf("policies (-want +got):\n%s", d)
		}
	})
}

func TestRemoveGroupSweep(t *testing.T) {
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createUser(t, api, "alice"+ns)
		p1 := createPolicy(t, api, "p1"+ns, "s3:GetObject")
		must(iamguard.EnsureGroup(context.Background(), api, iamguard.Group{Name: "dev" + ns, PolicyARNs: []string{p1}, Members: []string{"alice" + ns}}))(t)
		must(iamguard.EnsureSelfServicePolicy(context.Background(), api, "dev"+ns))(t)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		return iamguard.RemoveGroup(ctx, api, "dev"+ns)
	}, func(t *testing.T, api *iam.Client, ns string) {
		if groupExists(t, api, "dev"+ns) {
			t.Error("group still exists")
		}
		if gs := groupsOf(t, api, "alice"+ns); len(gs) != 0 {
			t.Errorf("alice still in %v", gs)
		}
	})
}

// moveWatch wraps the client and, after every call MoveUser makes,
// checks that the user is in at least one of the two groups.
type moveWatch struct {
	*iam.Client
	check func(op string)
}

func (w moveWatch) AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error) {
	out, err := w.Client.AddUserToGroup(ctx, in, optFns...)
	w.check("AddUserToGroup")
	return out, err
}

func (w moveWatch) RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error) {
	out, err := w.Client.RemoveUserFromGroup(ctx, in, optFns...)
	w.check("RemoveUserFromGroup")
	return out, err
}

func TestMoveUser(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	createGroup(t, api, "sales", "alice")
	createGroup(t, api, "other", "alice")
	createGroup(t, api, "eng")

	dry := must(iamguard.MoveUser(ctx, api, "alice", "sales", "eng", func(o *iamguard.GroupOptions) { o.DryRun = true }))(t)
	wantSteps := []string{"iam:AddUserToGroup group/eng: add alice to group eng", "iam:RemoveUserFromGroup group/sales: remove alice from group sales"}
	if d := cmp.Diff(wantSteps, planSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"other", "sales"}, groupsOf(t, api, "alice")); d != "" {
		t.Errorf("dry run changed groups (-want +got):\n%s", d)
	}
	p := must(iamguard.MoveUser(ctx, api, "alice", "sales", "eng"))(t)
	if d := cmp.Diff(wantSteps, planSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"eng", "other"}, groupsOf(t, api, "alice")); d != "" {
		t.Errorf("groups after move (-want +got):\n%s", d)
	}
	assertIdle(t, must(iamguard.MoveUser(ctx, api, "alice", "sales", "eng"))(t), nil)

	for _, tt := range []struct {
		name           string
		user, from, to string
		want           error
	}{
		{"same group", "alice", "eng", "eng", awsguard.ErrInvalidInput},
		{"bad user", "al ice", "eng", "sales", awsguard.ErrInvalidInput},
		{"missing user", "ghost", "eng", "sales", iamguard.ErrUserNotFound},
		{"missing target", "alice", "eng", "nowhere", iamguard.ErrGroupNotFound},
	} {
		if _, err := iamguard.MoveUser(ctx, api, tt.user, tt.from, tt.to); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if d := cmp.Diff([]string{"eng", "other"}, groupsOf(t, api, "alice")); d != "" {
		t.Errorf("refused moves changed groups (-want +got):\n%s", d)
	}
}

// Interrupted anywhere, MoveUser never leaves the user in neither group,
// and a re-run finishes the move.
func TestMoveUserSweep(t *testing.T) {
	var plain *iam.Client
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		plain = api
		createUser(t, api, "alice"+ns)
		createGroup(t, api, "sales"+ns, "alice"+ns)
		createGroup(t, api, "eng"+ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		w := moveWatch{Client: api, check: func(op string) {
			if gs := groupsOf(t, plain, "alice"+ns); len(gs) == 0 {
				t.Errorf("after %s alice is in no group", op)
			}
		}}
		return iamguard.MoveUser(ctx, w, "alice"+ns, "sales"+ns, "eng"+ns)
	}, func(t *testing.T, api *iam.Client, ns string) {
		if d := cmp.Diff([]string{"eng" + ns}, groupsOf(t, api, "alice"+ns)); d != "" {
			t.Errorf("groups (-want +got):\n%s", d)
		}
	})
}

func userPoliciesOf(t *testing.T, api *iam.Client, user string) (managed, inline []string) {
	t.Helper()
	ctx := context.Background()
	m := must(api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)}))(t)
	for _, p := range m.AttachedPolicies {
		managed = append(managed, aws.ToString(p.PolicyArn))
	}
	i := must(api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)}))(t)
	return managed, i.PolicyNames
}

const inlineDoc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:*:a+b"}}`

func policiesSetup(t *testing.T, api *iam.Client, ns string) (p1, p2 string) {
	t.Helper()
	ctx := context.Background()
	createUser(t, api, "alice"+ns)
	createGroup(t, api, "dev"+ns)
	p1 = createPolicy(t, api, "p1"+ns, "s3:GetObject")
	p2 = createPolicy(t, api, "p2"+ns, "ec2:Describe*")
	for _, p := range []string{p1, p2} {
		must(api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice" + ns), PolicyArn: aws.String(p)}))(t)
	}
	must(api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice" + ns), PolicyName: aws.String("queue"), PolicyDocument: aws.String(inlineDoc)}))(t)
	return p1, p2
}

// policyWatch checks after each mutating call that alice still holds
// every permission, directly or through her group.
type policyWatch struct {
	*iam.Client
	check func(op string)
}

func (w policyWatch) DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error) {
	out, err := w.Client.DetachUserPolicy(ctx, in, optFns...)
	w.check("DetachUserPolicy")
	return out, err
}

func (w policyWatch) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	out, err := w.Client.DeleteUserPolicy(ctx, in, optFns...)
	w.check("DeleteUserPolicy")
	return out, err
}

func TestMoveUserPoliciesToGroup(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	p1, p2 := policiesSetup(t, api, "")
	wantSteps := []string{
		"iam:AddUserToGroup group/dev: add alice to group dev",
		"iam:AttachGroupPolicy group/dev: attach " + lastPart(p1) + " to group dev",
		"iam:AttachGroupPolicy group/dev: attach " + lastPart(p2) + " to group dev",
		"iam:PutGroupPolicy group/dev: copy inline policy queue of alice to group dev",
		"iam:DetachUserPolicy user/alice: detach " + lastPart(p1) + " from user alice",
		"iam:DetachUserPolicy user/alice: detach " + lastPart(p2) + " from user alice",
		"iam:DeleteUserPolicy user/alice: delete inline policy queue of user alice",
	}
	dry := must(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev", func(o *iamguard.GroupOptions) { o.DryRun = true }))(t)
	if d := cmp.Diff(wantSteps, planSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	p := must(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev"))(t)
	if d := cmp.Diff(wantSteps, planSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	checkPoliciesMoved(t, api, "")
	assertIdle(t, must(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev"))(t), nil)
}

func checkPoliciesMoved(t *testing.T, api *iam.Client, ns string) {
	t.Helper()
	p1, p2 := policyARN("p1"+ns), policyARN("p2"+ns)
	m, i := userPoliciesOf(t, api, "alice"+ns)
	if len(m)+len(i) != 0 {
		t.Errorf("alice still has direct policies %v %v", m, i)
	}
	if d := cmp.Diff([]string{p1, p2}, groupPoliciesOf(t, api, "dev"+ns)); d != "" {
		t.Errorf("group policies (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"dev" + ns}, groupsOf(t, api, "alice"+ns)); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	out := must(api.GetGroupPolicy(context.Background(), &iam.GetGroupPolicyInput{GroupName: aws.String("dev" + ns), PolicyName: aws.String("queue")}))(t)
	got := must(awsguard.ParsePolicyDocument(aws.ToString(out.PolicyDocument)))(t)
	want := must(awsguard.ParsePolicyDocument(inlineDoc))(t)
	if toJSON(t, got) != toJSON(t, want) {
		t.Errorf("copied inline policy = %s, want %s", toJSON(t, got), toJSON(t, want))
	}
}

func TestMoveUserPoliciesConflict(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	policiesSetup(t, api, "")
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`
	must(api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("dev"), PolicyName: aws.String("queue"), PolicyDocument: aws.String(other)}))(t)
	_, err := iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev")
	if !errors.Is(err, iamguard.ErrPolicyConflict) {
		t.Fatalf("err = %v, want ErrPolicyConflict", err)
	}
	m, i := userPoliciesOf(t, api, "alice")
	if len(m) != 2 || len(i) != 1 || len(groupsOf(t, api, "alice")) != 0 {
		t.Errorf("a refused move changed state: managed %v inline %v", m, i)
	}
}

func TestMoveUserPoliciesSweep(t *testing.T) {
	var plain *iam.Client
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		plain = api
		policiesSetup(t, api, ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		user, group := "alice"+ns, "dev"+ns
		w := policyWatch{Client: api, check: func(op string) {
			// Every permission alice had is still hers: on her, or on a
			// group she is in.
			m, i := userPoliciesOf(t, plain, user)
			inDev := len(groupsOf(t, plain, user)) == 1
			var onGroup []string
			if inDev {
				onGroup = groupPoliciesOf(t, plain, group)
			}
			for _, p := range []string{policyARN("p1" + ns), policyARN("p2" + ns)} {
				if !containsAll(m, p) && !containsAll(onGroup, p) {
					t.Errorf("after %s alice lost %s", op, p)
				}
			}
			if !containsAll(i, "queue") {
				if _, err := plain.GetGroupPolicy(context.Background(), &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String("queue")}); err != nil || !inDev {
					t.Errorf("after %s alice lost inline policy queue (%v)", op, err)
				}
			}
		}}
		return iamguard.MoveUserPoliciesToGroup(ctx, w, user, group)
	}, func(t *testing.T, api *iam.Client, ns string) {
		checkPoliciesMoved(t, api, ns)
	})
}

func containsAll(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
