package iamguard_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/fault"
)

func TestEnsureGroupFix(t *testing.T) {
	ctx := context.Background()
	env, api := fixEnv(t)
	for _, u := range []string{"alice", "bob", "carol"} {
		fixUser(t, api, u)
	}
	p1 := fixPolicy(t, api, "p1", "s3:GetObject")
	p2 := fixPolicy(t, api, "p2", "ec2:Describe*")
	want := iamguard.Group{Name: "dev", PolicyARNs: []string{p1, p2, p1}, Members: []string{"alice", "bob"}}

	dry, err := iamguard.EnsureGroup(ctx, api, want, func(o *iamguard.GroupOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	wantSteps := []string{
		"iam:CreateGroup group/dev /",
		"iam:AttachGroupPolicy group/dev " + p1,
		"iam:AttachGroupPolicy group/dev " + p2,
		"iam:AddUserToGroup group/dev user/alice",
		"iam:AddUserToGroup group/dev user/bob",
	}
	if d := cmp.Diff(wantSteps, fixSteps(dry)); d != "" {
		t.Errorf("dry-run plan (-want +got):\n%s", d)
	}
	if dry.Applied || dry.Reason != "dry run: nothing changed" || fixGroupExists(t, api, "dev") {
		t.Fatalf("dry run changed something: %+v", dry)
	}

	got, err := iamguard.EnsureGroup(ctx, api, want)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantSteps, fixSteps(got)); d != "" {
		t.Errorf("applied plan differs from the dry run (-want +got):\n%s", d)
	}
	if !got.Applied || !got.Steps[4].Done {
		t.Errorf("plan not marked applied: %+v", got)
	}
	if d := cmp.Diff([]string{"alice", "bob"}, fixMembers(t, api, "dev")); d != "" {
		t.Errorf("members (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{p1, p2}, fixGroupPolicies(t, api, "dev")); d != "" {
		t.Errorf("policies (-want +got):\n%s", d)
	}
	fixAssertIdle(t, fixMust(iamguard.EnsureGroup(ctx, api, want))(t), nil)

	// Additive by default; exclusive removes what is not listed.
	more := iamguard.Group{Name: "dev", PolicyARNs: []string{p2}, Members: []string{"carol"}}
	fixMust(iamguard.EnsureGroup(ctx, api, more))(t)
	if d := cmp.Diff([]string{"alice", "bob", "carol"}, fixMembers(t, api, "dev")); d != "" {
		t.Errorf("additive members (-want +got):\n%s", d)
	}
	more.ExclusiveMembers, more.ExclusivePolicies = true, true
	ex := fixMust(iamguard.EnsureGroup(ctx, api, more))(t)
	if d := cmp.Diff([]string{
		"iam:RemoveUserFromGroup group/dev user/alice",
		"iam:RemoveUserFromGroup group/dev user/bob",
		"iam:DetachGroupPolicy group/dev " + p1,
	}, fixSteps(ex)); d != "" {
		t.Errorf("exclusive plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"carol"}, fixMembers(t, api, "dev")); d != "" {
		t.Errorf("exclusive members (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{p2}, fixGroupPolicies(t, api, "dev")); d != "" {
		t.Errorf("exclusive policies (-want +got):\n%s", d)
	}

	// RemoveGroup undoes it, including an inline policy; users and
	// policies stay.
	fixMust(iamguard.EnsureSelfServicePolicy(ctx, api, "dev"))(t)
	rm := fixMust(iamguard.RemoveGroup(ctx, api, "dev"))(t)
	if d := cmp.Diff([]string{
		"iam:RemoveUserFromGroup group/dev user/carol",
		"iam:DetachGroupPolicy group/dev " + p2,
		"iam:DeleteGroupPolicy group/dev " + iamguard.SelfServicePolicyName,
		"iam:DeleteGroup group/dev",
	}, fixSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	if fixGroupExists(t, api, "dev") {
		t.Error("group still exists")
	}
	fixMust(api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("carol")}))(t)
	fixMust(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(p2)}))(t)
	fixAssertIdle(t, fixMust(iamguard.RemoveGroup(ctx, api, "dev"))(t), nil)
	_ = env
}

func TestEnsureGroupRefusesBadInputFix(t *testing.T) {
	ctx := context.Background()
	env, plain := fixEnv(t)
	fixUser(t, plain, "alice")
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
			_, err := iamguard.EnsureGroup(ctx, fixFaultyClient(env, probe), tt.group)
			var fe *iamguard.InvalidFieldError
			if !errors.As(err, &fe) || !errors.Is(err, iamguard.ErrInvalidField) || fe.Field != tt.field {
				t.Fatalf("err = %v, want an InvalidFieldError on %s", err, tt.field)
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
	if fixGroupExists(t, plain, "dev") {
		t.Error("the group was created although a member does not exist")
	}
	// So does a policy that does not exist.
	_, err = iamguard.EnsureGroup(ctx, plain, iamguard.Group{Name: "dev", PolicyARNs: []string{"arn:aws:iam::123456789012:policy/ghost"}})
	if err == nil || fixGroupExists(t, plain, "dev") {
		t.Fatalf("err = %v, group exists = %v; want an error and no group", err, fixGroupExists(t, plain, "dev"))
	}
}

func TestEnsureGroupSweepFix(t *testing.T) {
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		fixUser(t, api, "alice"+ns)
		fixUser(t, api, "bob"+ns)
		fixPolicy(t, api, "p1"+ns, "s3:GetObject")
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		return iamguard.EnsureGroup(ctx, api, iamguard.Group{Name: "dev" + ns, PolicyARNs: []string{fixARN("p1" + ns)}, Members: []string{"alice" + ns, "bob" + ns}})
	}, func(t *testing.T, api *iam.Client, ns string) {
		if d := cmp.Diff([]string{"alice" + ns, "bob" + ns}, fixMembers(t, api, "dev"+ns)); d != "" {
			t.Errorf("members (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{fixARN("p1" + ns)}, fixGroupPolicies(t, api, "dev"+ns)); d != "" {
			t.Errorf("policies (-want +got):\n%s", d)
		}
	})
}

func TestRemoveGroupSweepFix(t *testing.T) {
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		fixUser(t, api, "alice"+ns)
		p1 := fixPolicy(t, api, "p1"+ns, "s3:GetObject")
		fixMust(iamguard.EnsureGroup(context.Background(), api, iamguard.Group{Name: "dev" + ns, PolicyARNs: []string{p1}, Members: []string{"alice" + ns}}))(t)
		fixMust(iamguard.EnsureSelfServicePolicy(context.Background(), api, "dev"+ns))(t)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		return iamguard.RemoveGroup(ctx, api, "dev"+ns)
	}, func(t *testing.T, api *iam.Client, ns string) {
		if fixGroupExists(t, api, "dev"+ns) {
			t.Error("group still exists")
		}
		if gs := fixGroupsOf(t, api, "alice"+ns); len(gs) != 0 {
			t.Errorf("alice still in %v", gs)
		}
	})
}

// fixMoveWatch wraps the client and, after every call MoveUser makes,
// checks that the user is in at least one of the two groups.
type fixMoveWatch struct {
	*iam.Client
	check func(op string)
}

func (w fixMoveWatch) AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error) {
	out, err := w.Client.AddUserToGroup(ctx, in, optFns...)
	w.check("AddUserToGroup")
	return out, err
}

func (w fixMoveWatch) RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error) {
	out, err := w.Client.RemoveUserFromGroup(ctx, in, optFns...)
	w.check("RemoveUserFromGroup")
	return out, err
}

func TestMoveUserFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixUser(t, api, "alice")
	fixGroup(t, api, "sales", "alice")
	fixGroup(t, api, "other", "alice")
	fixGroup(t, api, "eng")

	dry := fixMust(iamguard.MoveUser(ctx, api, "alice", "sales", "eng", func(o *iamguard.GroupOptions) { o.DryRun = true }))(t)
	wantSteps := []string{"iam:AddUserToGroup group/eng user/alice", "iam:RemoveUserFromGroup group/sales user/alice"}
	if d := cmp.Diff(wantSteps, fixSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"other", "sales"}, fixGroupsOf(t, api, "alice")); d != "" {
		t.Errorf("dry run changed groups (-want +got):\n%s", d)
	}
	p := fixMust(iamguard.MoveUser(ctx, api, "alice", "sales", "eng"))(t)
	if d := cmp.Diff(wantSteps, fixSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"eng", "other"}, fixGroupsOf(t, api, "alice")); d != "" {
		t.Errorf("groups after move (-want +got):\n%s", d)
	}
	fixAssertIdle(t, fixMust(iamguard.MoveUser(ctx, api, "alice", "sales", "eng"))(t), nil)

	for _, tt := range []struct {
		name           string
		user, from, to string
		want           error
	}{
		{"same group", "alice", "eng", "eng", iamguard.ErrInvalidField},
		{"bad user", "al ice", "eng", "sales", iamguard.ErrInvalidField},
		{"missing user", "ghost", "eng", "sales", iamguard.ErrUserNotFound},
		{"missing target", "alice", "eng", "nowhere", iamguard.ErrGroupNotFound},
	} {
		if _, err := iamguard.MoveUser(ctx, api, tt.user, tt.from, tt.to); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if d := cmp.Diff([]string{"eng", "other"}, fixGroupsOf(t, api, "alice")); d != "" {
		t.Errorf("refused moves changed groups (-want +got):\n%s", d)
	}
}

// Interrupted anywhere, MoveUser never leaves the user in neither group,
// and a re-run finishes the move.
func TestMoveUserSweepFix(t *testing.T) {
	var plain *iam.Client
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		plain = api
		fixUser(t, api, "alice"+ns)
		fixGroup(t, api, "sales"+ns, "alice"+ns)
		fixGroup(t, api, "eng"+ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		w := fixMoveWatch{Client: api, check: func(op string) {
			if gs := fixGroupsOf(t, plain, "alice"+ns); len(gs) == 0 {
				t.Errorf("after %s alice is in no group", op)
			}
		}}
		return iamguard.MoveUser(ctx, w, "alice"+ns, "sales"+ns, "eng"+ns)
	}, func(t *testing.T, api *iam.Client, ns string) {
		if d := cmp.Diff([]string{"eng" + ns}, fixGroupsOf(t, api, "alice"+ns)); d != "" {
			t.Errorf("groups (-want +got):\n%s", d)
		}
	})
}

func fixUserPolicies(t *testing.T, api *iam.Client, user string) (managed, inline []string) {
	t.Helper()
	ctx := context.Background()
	m := fixMust(api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(user)}))(t)
	for _, p := range m.AttachedPolicies {
		managed = append(managed, aws.ToString(p.PolicyArn))
	}
	i := fixMust(api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(user)}))(t)
	return managed, i.PolicyNames
}

const fixInlineDoc = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:*:*:a+b"}}`

func fixPoliciesSetup(t *testing.T, api *iam.Client, ns string) (p1, p2 string) {
	t.Helper()
	ctx := context.Background()
	fixUser(t, api, "alice"+ns)
	fixGroup(t, api, "dev"+ns)
	p1 = fixPolicy(t, api, "p1"+ns, "s3:GetObject")
	p2 = fixPolicy(t, api, "p2"+ns, "ec2:Describe*")
	for _, p := range []string{p1, p2} {
		fixMust(api.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice" + ns), PolicyArn: aws.String(p)}))(t)
	}
	fixMust(api.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice" + ns), PolicyName: aws.String("queue"), PolicyDocument: aws.String(fixInlineDoc)}))(t)
	return p1, p2
}

// fixPolicyWatch checks after each mutating call that alice still holds
// every permission, directly or through her group.
type fixPolicyWatch struct {
	*iam.Client
	check func(op string)
}

func (w fixPolicyWatch) DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error) {
	out, err := w.Client.DetachUserPolicy(ctx, in, optFns...)
	w.check("DetachUserPolicy")
	return out, err
}

func (w fixPolicyWatch) DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error) {
	out, err := w.Client.DeleteUserPolicy(ctx, in, optFns...)
	w.check("DeleteUserPolicy")
	return out, err
}

func TestMoveUserPoliciesToGroupFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	p1, p2 := fixPoliciesSetup(t, api, "")
	wantSteps := []string{
		"iam:AddUserToGroup group/dev user/alice",
		"iam:AttachGroupPolicy group/dev " + p1,
		"iam:AttachGroupPolicy group/dev " + p2,
		"iam:PutGroupPolicy group/dev queue",
		"iam:DetachUserPolicy user/alice " + p1,
		"iam:DetachUserPolicy user/alice " + p2,
		"iam:DeleteUserPolicy user/alice queue",
	}
	dry := fixMust(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev", func(o *iamguard.GroupOptions) { o.DryRun = true }))(t)
	if d := cmp.Diff(wantSteps, fixSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	p := fixMust(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev"))(t)
	if d := cmp.Diff(wantSteps, fixSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	fixCheckPoliciesMoved(t, api, "")
	fixAssertIdle(t, fixMust(iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev"))(t), nil)
}

func fixCheckPoliciesMoved(t *testing.T, api *iam.Client, ns string) {
	t.Helper()
	p1, p2 := fixARN("p1"+ns), fixARN("p2"+ns)
	m, i := fixUserPolicies(t, api, "alice"+ns)
	if len(m)+len(i) != 0 {
		t.Errorf("alice still has direct policies %v %v", m, i)
	}
	if d := cmp.Diff([]string{p1, p2}, fixGroupPolicies(t, api, "dev"+ns)); d != "" {
		t.Errorf("group policies (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"dev" + ns}, fixGroupsOf(t, api, "alice"+ns)); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
	out := fixMust(api.GetGroupPolicy(context.Background(), &iam.GetGroupPolicyInput{GroupName: aws.String("dev" + ns), PolicyName: aws.String("queue")}))(t)
	got := fixMust(iamguard.ParsePolicyDocument(aws.ToString(out.PolicyDocument)))(t)
	want := fixMust(iamguard.ParsePolicyDocument(fixInlineDoc))(t)
	if fixJSON(t, got) != fixJSON(t, want) {
		t.Errorf("copied inline policy = %s, want %s", fixJSON(t, got), fixJSON(t, want))
	}
}

func TestMoveUserPoliciesConflictFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixPoliciesSetup(t, api, "")
	other := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}`
	fixMust(api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("dev"), PolicyName: aws.String("queue"), PolicyDocument: aws.String(other)}))(t)
	_, err := iamguard.MoveUserPoliciesToGroup(ctx, api, "alice", "dev")
	if !errors.Is(err, iamguard.ErrPolicyConflict) {
		t.Fatalf("err = %v, want ErrPolicyConflict", err)
	}
	m, i := fixUserPolicies(t, api, "alice")
	if len(m) != 2 || len(i) != 1 || len(fixGroupsOf(t, api, "alice")) != 0 {
		t.Errorf("a refused move changed state: managed %v inline %v", m, i)
	}
}

func TestMoveUserPoliciesSweepFix(t *testing.T) {
	var plain *iam.Client
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		plain = api
		fixPoliciesSetup(t, api, ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		user, group := "alice"+ns, "dev"+ns
		w := fixPolicyWatch{Client: api, check: func(op string) {
			// Every permission alice had is still hers: on her, or on a
			// group she is in.
			m, i := fixUserPolicies(t, plain, user)
			inDev := len(fixGroupsOf(t, plain, user)) == 1
			var onGroup []string
			if inDev {
				onGroup = fixGroupPolicies(t, plain, group)
			}
			for _, p := range []string{fixARN("p1" + ns), fixARN("p2" + ns)} {
				if !fixContains(m, p) && !fixContains(onGroup, p) {
					t.Errorf("after %s alice lost %s", op, p)
				}
			}
			if !fixContains(i, "queue") {
				if _, err := plain.GetGroupPolicy(context.Background(), &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String("queue")}); err != nil || !inDev {
					t.Errorf("after %s alice lost inline policy queue (%v)", op, err)
				}
			}
		}}
		return iamguard.MoveUserPoliciesToGroup(ctx, w, user, group)
	}, func(t *testing.T, api *iam.Client, ns string) {
		fixCheckPoliciesMoved(t, api, ns)
	})
}

func fixContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
