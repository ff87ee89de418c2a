package iamguard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// moto does not evaluate policies faithfully (MOTO.md), so the documents
// are checked structurally.
func TestEnforceMFAPolicyDocument(t *testing.T) {
	d := iamguard.EnforceMFAPolicyDocument()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	var deny *awsguard.Statement
	allowed := map[string]bool{}
	for i, st := range d.Statement.List {
		switch st.Effect {
		case "Deny":
			if deny != nil {
				t.Fatal("more than one Deny statement")
			}
			deny = &d.Statement.List[i]
		case "Allow":
			for _, a := range st.Action.Values {
				if strings.Contains(a, "*") {
					t.Errorf("%s allows a wildcard action %s", st.Sid, a)
				}
				allowed[a] = true
			}
			for _, r := range st.Resource.Values {
				if strings.HasPrefix(r, "arn:aws:iam::*:user/") && r != "arn:aws:iam::*:user/${aws:username}" {
					t.Errorf("%s reaches other users: %s", st.Sid, r)
				}
			}
			if slices.Contains(st.Action.Values, "iam:DeactivateMFADevice") {
				if got := st.Condition["Bool"]["aws:MultiFactorAuthPresent"].Values; !slices.Equal(got, []string{"true"}) {
					t.Errorf("DeactivateMFADevice allowed without MFA: %v", st.Condition)
				}
			}
		default:
			t.Errorf("effect %q", st.Effect)
		}
	}
	if deny == nil {
		t.Fatal("no Deny statement")
	}
	if d.Version != "2012-10-17" {
		t.Errorf("version %q: ${aws:username} needs 2012-10-17", d.Version)
	}
	if !deny.Action.IsZero() || deny.NotAction.IsZero() || !slices.Equal(deny.Resource.Values, []string{"*"}) {
		t.Errorf("deny statement must use NotAction on *: %+v", deny)
	}
	if got := deny.Condition["BoolIfExists"]["aws:MultiFactorAuthPresent"].Values; !slices.Equal(got, []string{"false"}) || len(deny.Condition) != 1 {
		t.Errorf("deny condition = %v, want BoolIfExists aws:MultiFactorAuthPresent false", deny.Condition)
	}
	// What stays possible without MFA is exactly enrolment, password
	// change and getting an MFA session, and each is also allowed.
	wantExempt := []string{"iam:ChangePassword", "iam:CreateVirtualMFADevice", "iam:EnableMFADevice",
		"iam:GetAccountPasswordPolicy", "iam:GetMFADevice", "iam:GetUser", "iam:ListMFADevices",
		"iam:ListUsers", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken"}
	if d := cmp.Diff(wantExempt, deny.NotAction.Values); d != "" {
		t.Errorf("NotAction (-want +got):\n%s", d)
	}
	for _, a := range wantExempt {
		if a != "sts:GetSessionToken" && !allowed[a] {
			t.Errorf("%s is exempt from the deny but never allowed", a)
		}
	}
	if slices.Contains(deny.NotAction.Values, "iam:DeactivateMFADevice") || slices.Contains(deny.NotAction.Values, "iam:DeleteVirtualMFADevice") {
		t.Error("removing MFA must need MFA")
	}
}

func TestEnforceMFA(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createGroup(t, api, "dev")
	createGroup(t, api, "ops")
	arn := "arn:aws:iam::123456789012:policy/" + iamguard.EnforceMFAPolicyName

	dry := must(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops", "dev"}, func(o *iamguard.EnforceMFAOptions) { o.DryRun = true }))(t)
	wantSteps := []string{
		"iam:CreatePolicy policy/awsguard-enforce-mfa: create managed policy awsguard-enforce-mfa (deny all but MFA self-service without MFA)",
		"iam:AttachGroupPolicy group/dev: attach awsguard-enforce-mfa to group dev",
		"iam:AttachGroupPolicy group/ops: attach awsguard-enforce-mfa to group ops",
	}
	if d := cmp.Diff(wantSteps, planSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if len(groupPoliciesOf(t, api, "dev")) != 0 {
		t.Fatal("dry run attached the policy")
	}
	p := must(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t)
	if d := cmp.Diff(wantSteps, planSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	for _, g := range []string{"dev", "ops"} {
		if d := cmp.Diff([]string{arn}, groupPoliciesOf(t, api, g)); d != "" {
			t.Errorf("%s policies (-want +got):\n%s", g, d)
		}
	}
	pol := must(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t)
	v := must(api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId}))(t)
	stored := must(awsguard.ParsePolicyDocument(aws.ToString(v.PolicyVersion.Document)))(t)
	if !stored.Equivalent(iamguard.EnforceMFAPolicyDocument()) {
		t.Errorf("stored document differs: %s", toJSON(t, stored))
	}
	assertIdle(t, must(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)

	// A document changed by hand is put back as a new default version.
	must(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))(t)
	fix := must(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t)
	if d := cmp.Diff([]string{"iam:CreatePolicyVersion policy/awsguard-enforce-mfa: restore awsguard's document of policy/awsguard-enforce-mfa as its default version"}, planSteps(fix)); d != "" {
		t.Errorf("drift plan (-want +got):\n%s", d)
	}
	assertIdle(t, must(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)

	// A missing group stops before any change.
	if _, err := iamguard.EnforceMFA(ctx, api, []string{"dev", "ghost"}); !errors.Is(err, iamguard.ErrGroupNotFound) {
		t.Errorf("err = %v, want ErrGroupNotFound", err)
	}
	if _, err := iamguard.EnforceMFA(ctx, api, []string{"bad group"}); !errors.Is(err, awsguard.ErrInvalidInput) {
		t.Errorf("err = %v, want ErrInvalidInput", err)
	}

	// Removal: detached from dev only, the policy stays for ops.
	// Detaching lets members work without MFA: refused unless allowed.
	refused, err := iamguard.RemoveEnforceMFA(ctx, api, []string{"dev"})
	var we *awsguard.WeakeningError
	if !errors.As(err, &we) || len(we.Actions) != 1 || we.Actions[0].Resource != "group/dev" || refused.Reason != awsguard.ReasonRefused {
		t.Fatalf("RemoveEnforceMFA without AllowWeaken = %+v, %v; want a WeakeningError naming group/dev", refused, err)
	}
	if d := cmp.Diff([]string{arn}, groupPoliciesOf(t, api, "dev")); d != "" {
		t.Errorf("a refused removal changed dev (-want +got):\n%s", d)
	}
	rm := must(iamguard.RemoveEnforceMFA(ctx, api, []string{"dev"}, enforceAllowWeaken))(t)
	if d := cmp.Diff([]string{"iam:DetachGroupPolicy group/dev: detach awsguard-enforce-mfa from group dev"}, planSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	// Then from ops: the policy is no longer used and is deleted with its
	// old versions.
	rm = must(iamguard.RemoveEnforceMFA(ctx, api, []string{"ops", "ghost"}, enforceAllowWeaken))(t)
	if d := cmp.Diff([]string{
		"iam:DetachGroupPolicy group/ops: detach awsguard-enforce-mfa from group ops",
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa: delete version v1 of policy/awsguard-enforce-mfa",
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa: delete version v2 of policy/awsguard-enforce-mfa",
		"iam:DeletePolicy policy/awsguard-enforce-mfa: delete managed policy " + arn,
	}, planSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	if _, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err == nil {
		t.Error("policy still exists")
	}
	assertIdle(t, must(iamguard.RemoveEnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)
}

func enforceAllowWeaken(o *iamguard.RemoveEnforceMFAOptions) { o.AllowWeaken = true }

// At five versions, the oldest non-default one makes room.
func TestEnforceMFAVersionLimit(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createGroup(t, api, "dev")
	must(iamguard.EnforceMFA(ctx, api, nil))(t) // awsguard's policy, v1
	arn := policyARN(iamguard.EnforceMFAPolicyName)
	for _, a := range []string{"s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage"} {
		must(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + a + `","Resource":"*"}]}`)}))(t)
	}
	p := must(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t)
	if d := cmp.Diff([]string{
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa: delete version v1 of policy/awsguard-enforce-mfa",
		"iam:CreatePolicyVersion policy/awsguard-enforce-mfa: restore awsguard's document of policy/awsguard-enforce-mfa as its default version",
		"iam:AttachGroupPolicy group/dev: attach awsguard-enforce-mfa to group dev",
	}, planSteps(p)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	assertIdle(t, must(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t), nil)
}

func TestEnforceMFASweep(t *testing.T) {
	opt := func(ns string) func(*iamguard.EnforceMFAOptions) {
		return func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "enforce" + ns }
	}
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createGroup(t, api, "a"+ns)
		createGroup(t, api, "b"+ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		return iamguard.EnforceMFA(ctx, api, []string{"a" + ns, "b" + ns}, opt(ns))
	}, func(t *testing.T, api *iam.Client, ns string) {
		for _, g := range []string{"a" + ns, "b" + ns} {
			if d := cmp.Diff([]string{policyARN("enforce" + ns)}, groupPoliciesOf(t, api, g)); d != "" {
				t.Errorf("%s (-want +got):\n%s", g, d)
			}
		}
		vs := must(api.ListPolicyVersions(context.Background(), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(policyARN("enforce" + ns))}))(t)
		if len(vs.Versions) != 1 {
			t.Errorf("%d versions, want 1", len(vs.Versions))
		}
	})
}

func TestRemoveEnforceMFASweep(t *testing.T) {
	opt := func(ns string) func(*iamguard.EnforceMFAOptions) {
		return func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "enforce" + ns }
	}
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createGroup(t, api, "a"+ns)
		createGroup(t, api, "b"+ns)
		must(iamguard.EnforceMFA(context.Background(), api, []string{"a" + ns, "b" + ns}, opt(ns)))(t)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		return iamguard.RemoveEnforceMFA(ctx, api, []string{"a" + ns, "b" + ns}, func(o *iamguard.RemoveEnforceMFAOptions) {
			opt(ns)(&o.EnforceMFAOptions)
			o.AllowWeaken = true
		})
	}, func(t *testing.T, api *iam.Client, ns string) {
		for _, g := range []string{"a" + ns, "b" + ns} {
			if ps := groupPoliciesOf(t, api, g); len(ps) != 0 {
				t.Errorf("%s still has %v", g, ps)
			}
		}
		if _, err := api.GetPolicy(context.Background(), &iam.GetPolicyInput{PolicyArn: aws.String(policyARN("enforce" + ns))}); err == nil {
			t.Error("policy still exists")
		}
	})
}

// A policy of the wanted name and path that awsguard did not create is not
// taken over: EnforceMFA and RemoveEnforceMFA stop with ErrPolicyConflict
// and change nothing. One awsguard created (tag, or the description of
// earlier versions) is managed.
func TestEnforceMFAForeignPolicy(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createGroup(t, api, "dev")
	arn := createPolicy(t, api, iamguard.EnforceMFAPolicyName, "s3:GetObject")
	for _, a := range []string{"s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage"} {
		must(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + a + `","Resource":"*"}]}`)}))(t)
	}
	must(api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("dev"), PolicyArn: aws.String(arn)}))(t)
	versions := func() []string {
		vs := must(api.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))(t)
		var out []string
		for _, v := range vs.Versions {
			out = append(out, fmt.Sprintf("%s default=%v", aws.ToString(v.VersionId), v.IsDefaultVersion))
		}
		slices.Sort(out)
		return out
	}
	before := versions()

	for _, dry := range []bool{true, false} {
		p, err := iamguard.EnforceMFA(ctx, api, []string{"dev"}, func(o *iamguard.EnforceMFAOptions) { o.DryRun = dry })
		if !errors.Is(err, iamguard.ErrPolicyConflict) || p != nil {
			t.Fatalf("EnforceMFA (dry run %v) = %v, %v; want ErrPolicyConflict", dry, p, err)
		}
		if !strings.Contains(err.Error(), arn) || !strings.Contains(err.Error(), "awsguard:managed") {
			t.Errorf("error should name the policy and the marker: %v", err)
		}
	}
	if _, err := iamguard.RemoveEnforceMFA(ctx, api, []string{"dev"}); !errors.Is(err, iamguard.ErrPolicyConflict) {
		t.Fatalf("RemoveEnforceMFA err = %v, want ErrPolicyConflict", err)
	}
	if d := cmp.Diff(before, versions()); d != "" {
		t.Errorf("versions changed (-before +after):\n%s", d)
	}
	if d := cmp.Diff([]string{arn}, groupPoliciesOf(t, api, "dev")); d != "" {
		t.Errorf("dev policies (-want +got):\n%s", d)
	}

	// A policy created by an earlier awsguard (its description, no tag) is
	// awsguard's.
	const old = "old-enforce"
	oldARN := aws.ToString(must(api.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(old),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		Description:    aws.String("awsguard: deny everything but MFA self-management unless signed in with MFA")}))(t).Policy.Arn)
	p := must(iamguard.EnforceMFA(ctx, api, []string{"dev"}, func(o *iamguard.EnforceMFAOptions) { o.PolicyName = old }))(t)
	if d := cmp.Diff([]string{
		"iam:CreatePolicyVersion policy/old-enforce: restore awsguard's document of policy/old-enforce as its default version",
		"iam:AttachGroupPolicy group/dev: attach old-enforce to group dev",
	}, planSteps(p)); d != "" {
		t.Errorf("plan for awsguard's older policy (-want +got):\n%s", d)
	}
	if !slices.Contains(groupPoliciesOf(t, api, "dev"), oldARN) {
		t.Errorf("dev lacks %s: %v", oldARN, groupPoliciesOf(t, api, "dev"))
	}

	// The policy EnforceMFA creates carries the tag.
	must(iamguard.EnforceMFA(ctx, api, nil, func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "fresh" }))(t)
	got := must(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(policyARN("fresh"))}))(t)
	var tags []string
	for _, tg := range got.Policy.Tags {
		tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if d := cmp.Diff([]string{"awsguard:managed=true"}, tags); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
}

// The policy documents keep the string-or-list and single-statement shapes
// on a round trip.
func TestPolicyDocumentShapes(t *testing.T) {
	d, err := awsguard.ParsePolicyDocument(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ChangePassword","Resource":["arn:aws:iam::*:user/${aws:username}"]}}`)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Statement.List[0]
	if got := fmt.Sprintf("%v %v %v %v", st.Effect, st.Action.Values, st.Action.Single, st.Resource.Single); got != "Allow [iam:ChangePassword] true false" {
		t.Errorf("statement = %s", got)
	}
	want := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ChangePassword","Resource":["arn:aws:iam::*:user/${aws:username}"]}}`
	if got := toJSON(t, d); got != want { // the same shape back: one string stays one string
		t.Errorf("JSON = %s, want %s", got, want)
	}
}
