package iamguard_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// The self-service policy grants only actions on the caller's own user
// (or own MFA device), plus two read-only account-wide actions.
func TestSelfServicePolicyDocument(t *testing.T) {
	d := iamguard.SelfServicePolicyDocument()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	accountWide := []string{"iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"}
	var actions []string
	for _, st := range d.Statement.List {
		if st.Effect != "Allow" || !st.NotAction.IsZero() || !st.NotResource.IsZero() {
			t.Errorf("%s: only plain Allow statements expected", st.Sid)
		}
		for _, a := range st.Action.Values {
			if !strings.HasPrefix(a, "iam:") || strings.ContainsAny(a, "*?") {
				t.Errorf("%s: action %s", st.Sid, a)
			}
			actions = append(actions, a)
		}
		for _, r := range st.Resource.Values {
			if r == "*" {
				for _, a := range st.Action.Values {
					if !slices.Contains(accountWide, a) {
						t.Errorf("%s: %s on every resource", st.Sid, a)
					}
				}
				continue
			}
			if r != "arn:aws:iam::*:user/${aws:username}" && r != "arn:aws:iam::*:mfa/${aws:username}" {
				t.Errorf("%s: resource %s is not the caller's own", st.Sid, r)
			}
		}
	}
	slices.Sort(actions)
	want := []string{"iam:ChangePassword", "iam:CreateAccessKey", "iam:CreateVirtualMFADevice", "iam:DeactivateMFADevice",
		"iam:DeleteAccessKey", "iam:DeleteVirtualMFADevice", "iam:EnableMFADevice", "iam:GetAccessKeyLastUsed",
		"iam:GetAccountPasswordPolicy", "iam:GetMFADevice", "iam:GetUser", "iam:ListAccessKeys", "iam:ListMFADevices",
		"iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "iam:UpdateAccessKey"}
	if d := cmp.Diff(want, actions); d != "" {
		t.Errorf("actions (-want +got):\n%s", d)
	}
}

func TestEnsureSelfServicePolicy(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createGroup(t, api, "staff")
	dry := must(iamguard.EnsureSelfServicePolicy(ctx, api, "staff", func(o *iamguard.SelfServiceOptions) { o.DryRun = true }))(t)
	want := []string{"iam:PutGroupPolicy group/staff: put inline policy " + iamguard.SelfServicePolicyName + " (self-service credentials) on group staff"}
	if d := cmp.Diff(want, planSteps(dry)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	names := func() []string {
		return must(api.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("staff")}))(t).PolicyNames
	}
	if len(names()) != 0 {
		t.Fatal("dry run put the policy")
	}
	p := must(iamguard.EnsureSelfServicePolicy(ctx, api, "staff"))(t)
	if d := cmp.Diff(want, planSteps(p)); d != "" {
		t.Errorf("applied (-want +got):\n%s", d)
	}
	out := must(api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("staff"), PolicyName: aws.String(iamguard.SelfServicePolicyName)}))(t)
	stored := must(awsguard.ParsePolicyDocument(aws.ToString(out.PolicyDocument)))(t)
	if !stored.Equivalent(iamguard.SelfServicePolicyDocument()) {
		t.Errorf("stored = %s", toJSON(t, stored))
	}
	assertIdle(t, must(iamguard.EnsureSelfServicePolicy(ctx, api, "staff"))(t), nil)

	// Drift is put back.
	must(api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("staff"), PolicyName: aws.String(iamguard.SelfServicePolicyName),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*"}}`)}))(t)
	if p := must(iamguard.EnsureSelfServicePolicy(ctx, api, "staff"))(t); len(p.Actions) != 1 {
		t.Errorf("drift not repaired: %v", planSteps(p))
	}
	if _, err := iamguard.EnsureSelfServicePolicy(ctx, api, "ghost"); !errors.Is(err, iamguard.ErrGroupNotFound) {
		t.Errorf("err = %v, want ErrGroupNotFound", err)
	}
	if _, err := iamguard.EnsureSelfServicePolicy(ctx, api, "staff", func(o *iamguard.SelfServiceOptions) { o.PolicyName = "bad name" }); !errors.Is(err, awsguard.ErrInvalidInput) || !strings.Contains(err.Error(), "SelfServiceOptions.PolicyName") {
		t.Errorf("err = %v, want an InputError on SelfServiceOptions.PolicyName", err)
	}

	rm := must(iamguard.RemoveSelfServicePolicy(ctx, api, "staff"))(t)
	if d := cmp.Diff([]string{"iam:DeleteGroupPolicy group/staff: delete inline policy " + iamguard.SelfServicePolicyName + " of group staff"}, planSteps(rm)); d != "" {
		t.Errorf("remove (-want +got):\n%s", d)
	}
	if len(names()) != 0 {
		t.Error("policy still there")
	}
	assertIdle(t, must(iamguard.RemoveSelfServicePolicy(ctx, api, "staff"))(t), nil)
}

func TestSelfServiceSweep(t *testing.T) {
	check := func(t *testing.T, api *iam.Client, ns string, want bool) {
		out := must(api.ListGroupPolicies(context.Background(), &iam.ListGroupPoliciesInput{GroupName: aws.String("staff" + ns)}))(t)
		if got := slices.Contains(out.PolicyNames, iamguard.SelfServicePolicyName); got != want {
			t.Errorf("policy present = %v, want %v", got, want)
		}
	}
	t.Run("ensure", func(t *testing.T) {
		sweep(t, func(t *testing.T, api *iam.Client, ns string) { createGroup(t, api, "staff"+ns) },
			func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
				return iamguard.EnsureSelfServicePolicy(ctx, api, "staff"+ns)
			}, func(t *testing.T, api *iam.Client, ns string) { check(t, api, ns, true) })
	})
	t.Run("remove", func(t *testing.T) {
		sweep(t, func(t *testing.T, api *iam.Client, ns string) {
			createGroup(t, api, "staff"+ns)
			must(iamguard.EnsureSelfServicePolicy(context.Background(), api, "staff"+ns))(t)
		}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
			return iamguard.RemoveSelfServicePolicy(ctx, api, "staff"+ns)
		}, func(t *testing.T, api *iam.Client, ns string) { check(t, api, ns, false) })
	})
}
