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

	"github.com/awsguard/awsguard/iamguard"
)

// moto does not evaluate policies faithfully (MOTO.md), so the documents
// are checked structurally.
func TestEnforceMFAPolicyDocumentFix(t *testing.T) {
	d := iamguard.EnforceMFAPolicyDocument()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	var deny *iamguard.Statement
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

func TestEnforceMFAFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixGroup(t, api, "dev")
	fixGroup(t, api, "ops")
	arn := "arn:aws:iam::123456789012:policy/" + iamguard.EnforceMFAPolicyName

	dry := fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops", "dev"}, func(o *iamguard.EnforceMFAOptions) { o.DryRun = true }))(t)
	wantSteps := []string{
		"iam:CreatePolicy policy/awsguard-enforce-mfa",
		"iam:AttachGroupPolicy group/dev policy/awsguard-enforce-mfa",
		"iam:AttachGroupPolicy group/ops policy/awsguard-enforce-mfa",
	}
	if d := cmp.Diff(wantSteps, fixSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if len(fixGroupPolicies(t, api, "dev")) != 0 {
		t.Fatal("dry run attached the policy")
	}
	p := fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t)
	if d := cmp.Diff(wantSteps, fixSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	for _, g := range []string{"dev", "ops"} {
		if d := cmp.Diff([]string{arn}, fixGroupPolicies(t, api, g)); d != "" {
			t.Errorf("%s policies (-want +got):\n%s", g, d)
		}
	}
	pol := fixMust(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t)
	v := fixMust(api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: pol.Policy.DefaultVersionId}))(t)
	stored := fixMust(iamguard.ParsePolicyDocument(aws.ToString(v.PolicyVersion.Document)))(t)
	if !stored.Equivalent(iamguard.EnforceMFAPolicyDocument()) {
		t.Errorf("stored document differs: %s", fixJSON(t, stored))
	}
	fixAssertIdle(t, fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)

	// A document changed by hand is put back as a new default version.
	fixMust(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))(t)
	fix := fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t)
	if d := cmp.Diff([]string{"iam:CreatePolicyVersion policy/awsguard-enforce-mfa set as default"}, fixSteps(fix)); d != "" {
		t.Errorf("drift plan (-want +got):\n%s", d)
	}
	fixAssertIdle(t, fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)

	// A missing group stops before any change.
	if _, err := iamguard.EnforceMFA(ctx, api, []string{"dev", "ghost"}); !errors.Is(err, iamguard.ErrGroupNotFound) {
		t.Errorf("err = %v, want ErrGroupNotFound", err)
	}
	if _, err := iamguard.EnforceMFA(ctx, api, []string{"bad group"}); !errors.Is(err, iamguard.ErrInvalidField) {
		t.Errorf("err = %v, want ErrInvalidField", err)
	}

	// Removal: detached from dev only, the policy stays for ops.
	rm := fixMust(iamguard.RemoveEnforceMFA(ctx, api, []string{"dev"}))(t)
	if d := cmp.Diff([]string{"iam:DetachGroupPolicy group/dev " + arn}, fixSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	// Then from ops: the policy is no longer used and is deleted with its
	// old versions.
	rm = fixMust(iamguard.RemoveEnforceMFA(ctx, api, []string{"ops", "ghost"}))(t)
	if d := cmp.Diff([]string{
		"iam:DetachGroupPolicy group/ops " + arn,
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa v1",
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa v2",
		"iam:DeletePolicy policy/awsguard-enforce-mfa " + arn,
	}, fixSteps(rm)); d != "" {
		t.Errorf("remove plan (-want +got):\n%s", d)
	}
	if _, err := api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)}); err == nil {
		t.Error("policy still exists")
	}
	fixAssertIdle(t, fixMust(iamguard.RemoveEnforceMFA(ctx, api, []string{"dev", "ops"}))(t), nil)
}

// At five versions, the oldest non-default one makes room.
func TestEnforceMFAVersionLimitFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixGroup(t, api, "dev")
	fixMust(iamguard.EnforceMFA(ctx, api, nil))(t) // awsguard's policy, v1
	arn := fixARN(iamguard.EnforceMFAPolicyName)
	for _, a := range []string{"s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage"} {
		fixMust(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + a + `","Resource":"*"}]}`)}))(t)
	}
	p := fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t)
	if d := cmp.Diff([]string{
		"iam:DeletePolicyVersion policy/awsguard-enforce-mfa v1",
		"iam:CreatePolicyVersion policy/awsguard-enforce-mfa set as default",
		"iam:AttachGroupPolicy group/dev " + arn,
	}, fixSteps(p)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	fixAssertIdle(t, fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev"}))(t), nil)
}

func TestEnforceMFASweepFix(t *testing.T) {
	opt := func(ns string) func(*iamguard.EnforceMFAOptions) {
		return func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "enforce" + ns }
	}
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		fixGroup(t, api, "a"+ns)
		fixGroup(t, api, "b"+ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		return iamguard.EnforceMFA(ctx, api, []string{"a" + ns, "b" + ns}, opt(ns))
	}, func(t *testing.T, api *iam.Client, ns string) {
		for _, g := range []string{"a" + ns, "b" + ns} {
			if d := cmp.Diff([]string{fixARN("enforce" + ns)}, fixGroupPolicies(t, api, g)); d != "" {
				t.Errorf("%s (-want +got):\n%s", g, d)
			}
		}
		vs := fixMust(api.ListPolicyVersions(context.Background(), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(fixARN("enforce" + ns))}))(t)
		if len(vs.Versions) != 1 {
			t.Errorf("%d versions, want 1", len(vs.Versions))
		}
	})
}

func TestRemoveEnforceMFASweepFix(t *testing.T) {
	opt := func(ns string) func(*iamguard.EnforceMFAOptions) {
		return func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "enforce" + ns }
	}
	fixSweep(t, func(t *testing.T, api *iam.Client, ns string) {
		fixGroup(t, api, "a"+ns)
		fixGroup(t, api, "b"+ns)
		fixMust(iamguard.EnforceMFA(context.Background(), api, []string{"a" + ns, "b" + ns}, opt(ns)))(t)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*iamguard.ActionPlan, error) {
		return iamguard.RemoveEnforceMFA(ctx, api, []string{"a" + ns, "b" + ns}, opt(ns))
	}, func(t *testing.T, api *iam.Client, ns string) {
		for _, g := range []string{"a" + ns, "b" + ns} {
			if ps := fixGroupPolicies(t, api, g); len(ps) != 0 {
				t.Errorf("%s still has %v", g, ps)
			}
		}
		if _, err := api.GetPolicy(context.Background(), &iam.GetPolicyInput{PolicyArn: aws.String(fixARN("enforce" + ns))}); err == nil {
			t.Error("policy still exists")
		}
	})
}

// A policy of the wanted name and path that awsguard did not create is not
// taken over: EnforceMFA and RemoveEnforceMFA stop with ErrPolicyConflict
// and change nothing. One awsguard created (tag, or the description of
// earlier versions) is managed.
func TestEnforceMFAForeignPolicyFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixGroup(t, api, "dev")
	arn := fixPolicy(t, api, iamguard.EnforceMFAPolicyName, "s3:GetObject")
	for _, a := range []string{"s3:PutObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage"} {
		fixMust(api.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), SetAsDefault: true,
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + a + `","Resource":"*"}]}`)}))(t)
	}
	fixMust(api.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("dev"), PolicyArn: aws.String(arn)}))(t)
	versions := func() []string {
		vs := fixMust(api.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))(t)
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
	if d := cmp.Diff([]string{arn}, fixGroupPolicies(t, api, "dev")); d != "" {
		t.Errorf("dev policies (-want +got):\n%s", d)
	}

	// A policy created by an earlier awsguard (its description, no tag) is
	// awsguard's.
	const old = "old-enforce"
	oldARN := aws.ToString(fixMust(api.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(old),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
		Description:    aws.String("awsguard: deny everything but MFA self-management unless signed in with MFA")}))(t).Policy.Arn)
	p := fixMust(iamguard.EnforceMFA(ctx, api, []string{"dev"}, func(o *iamguard.EnforceMFAOptions) { o.PolicyName = old }))(t)
	if d := cmp.Diff([]string{
		"iam:CreatePolicyVersion policy/old-enforce set as default",
		"iam:AttachGroupPolicy group/dev " + oldARN,
	}, fixSteps(p)); d != "" {
		t.Errorf("plan for awsguard's older policy (-want +got):\n%s", d)
	}

	// The policy EnforceMFA creates carries the tag.
	fixMust(iamguard.EnforceMFA(ctx, api, nil, func(o *iamguard.EnforceMFAOptions) { o.PolicyName = "fresh" }))(t)
	got := fixMust(api.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(fixARN("fresh"))}))(t)
	var tags []string
	for _, tg := range got.Policy.Tags {
		tags = append(tags, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if d := cmp.Diff([]string{"awsguard:managed=true"}, tags); d != "" {
		t.Errorf("tags (-want +got):\n%s", d)
	}
}
