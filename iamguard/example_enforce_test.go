package iamguard_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard/iamguard"
)

// dryRunIAM is an iamguard.EnforceMFAAPI for an account without
// awsguard's policy, whose groups have no policy attached; it refuses
// every change, which a dry run never asks for.
type dryRunIAM struct{}

var errChange = errors.New("a dry run changes nothing")

func (dryRunIAM) ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error) {
	return &iam.ListPoliciesOutput{}, nil
}

func (dryRunIAM) ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error) {
	return &iam.ListAttachedGroupPoliciesOutput{}, nil
}

func (dryRunIAM) GetPolicy(context.Context, *iam.GetPolicyInput, ...func(*iam.Options)) (*iam.GetPolicyOutput, error) {
	return nil, errChange
}

func (dryRunIAM) ListPolicyVersions(context.Context, *iam.ListPolicyVersionsInput, ...func(*iam.Options)) (*iam.ListPolicyVersionsOutput, error) {
	return nil, errChange
}

func (dryRunIAM) GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error) {
	return nil, errChange
}

func (dryRunIAM) CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error) {
	return nil, errChange
}

func (dryRunIAM) CreatePolicyVersion(context.Context, *iam.CreatePolicyVersionInput, ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error) {
	return nil, errChange
}

func (dryRunIAM) DeletePolicyVersion(context.Context, *iam.DeletePolicyVersionInput, ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error) {
	return nil, errChange
}

func (dryRunIAM) AttachGroupPolicy(context.Context, *iam.AttachGroupPolicyInput, ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error) {
	return nil, errChange
}

var _ iamguard.EnforceMFAAPI = dryRunIAM{}

// EnforceMFA planned first (DryRun): the policy that denies everything
// but MFA self-management to sessions without MFA, and its attachment to
// each group. The plan is what an apply would carry out; nothing changes.
func ExampleEnforceMFA() {
	plan, err := iamguard.EnforceMFA(context.Background(), dryRunIAM{}, []string{"developers", "operators"},
		func(o *iamguard.EnforceMFAOptions) { o.DryRun = true })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plan.Reason)
	for _, line := range plan.Describe() {
		fmt.Println(line)
	}
	// Output:
	// dry run
	// create managed policy awsguard-enforce-mfa (deny all but MFA self-service without MFA)
	// attach awsguard-enforce-mfa to group developers
	// attach awsguard-enforce-mfa to group operators
}
