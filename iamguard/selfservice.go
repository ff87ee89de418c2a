package iamguard

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// SelfServicePolicyName is the default name of the inline group policy
// that EnsureSelfServicePolicy writes.
const SelfServicePolicyName = "awsguard-self-service-credentials"

const (
	fixOwnUserARN = "arn:aws:iam::*:user/${aws:username}"
	fixOwnMFAARN  = "arn:aws:iam::*:mfa/${aws:username}"
)

// SelfServicePolicyDocument returns the self-service credentials policy:
// a user may read the account's password policy and list virtual MFA
// devices, and manage only their own password, access keys and virtual MFA
// device (named after the user), through ${aws:username}. Deactivating
// one's MFA needs an MFA-signed-in session. It grants nothing else.
func SelfServicePolicyDocument() *PolicyDocument {
	return &PolicyDocument{Version: PolicyVersion2012, Statement: Statements{List: []Statement{
		{Sid: "AllowViewAccountInfo", Effect: "Allow",
			Action:   StringList("iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"),
			Resource: StringValue("*")},
		{Sid: "AllowManageOwnPassword", Effect: "Allow",
			Action:   StringList("iam:ChangePassword", "iam:GetUser"),
			Resource: StringValue(fixOwnUserARN)},
		{Sid: "AllowManageOwnAccessKeys", Effect: "Allow",
			Action:   StringList("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"),
			Resource: StringValue(fixOwnUserARN)},
		{Sid: "AllowManageOwnVirtualMFADevice", Effect: "Allow",
			Action:   StringList("iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"),
			Resource: StringValue(fixOwnMFAARN)},
		{Sid: "AllowManageOwnUserMFA", Effect: "Allow",
			Action:   StringList("iam:EnableMFADevice", "iam:GetMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"),
			Resource: StringValue(fixOwnUserARN)},
		{Sid: "AllowDeactivateOwnMFAOnlyWhenSignedInWithMFA", Effect: "Allow",
			Action:    StringList("iam:DeactivateMFADevice"),
			Resource:  StringValue(fixOwnUserARN),
			Condition: map[string]map[string]Strings{"Bool": {"aws:MultiFactorAuthPresent": StringValue("true")}}},
	}}}
}

// SelfServiceAPI is the part of *iam.Client that EnsureSelfServicePolicy
// and RemoveSelfServicePolicy call.
type SelfServiceAPI interface {
	GetGroup(ctx context.Context, in *iam.GetGroupInput, optFns ...func(*iam.Options)) (*iam.GetGroupOutput, error)
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	PutGroupPolicy(ctx context.Context, in *iam.PutGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.PutGroupPolicyOutput, error)
	DeleteGroupPolicy(ctx context.Context, in *iam.DeleteGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupPolicyOutput, error)
}

var _ SelfServiceAPI = (*iam.Client)(nil)

// SelfServiceOptions tunes EnsureSelfServicePolicy and
// RemoveSelfServicePolicy. The zero value means the defaults.
type SelfServiceOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per step; nil discards.
	Logger *slog.Logger
	// PolicyName is the inline policy's name; default SelfServicePolicyName.
	PolicyName string
}

func selfServiceOptions(optFns []func(*SelfServiceOptions)) SelfServiceOptions {
	var o SelfServiceOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.PolicyName == "" {
		o.PolicyName = SelfServicePolicyName
	}
	return o
}

// EnsureSelfServicePolicy puts the self-service credentials policy
// (SelfServicePolicyDocument) on the group as an inline policy, so that its
// members can change their own password, access keys and MFA and nothing
// else. An inline policy of the same name with another document is
// replaced: the name belongs to awsguard. The group must exist
// (ErrGroupNotFound). A second run finds the policy in place and changes
// nothing.
//
// IAM permissions: iam:GetGroupPolicy, iam:GetGroup, iam:PutGroupPolicy.
func EnsureSelfServicePolicy(ctx context.Context, api SelfServiceAPI, group string, optFns ...func(*SelfServiceOptions)) (*ActionPlan, error) {
	o := selfServiceOptions(optFns)
	if err := fixCheckGroup("group", group); err != nil {
		return nil, err
	}
	if err := fixCheckPolicyName("PolicyName", o.PolicyName); err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "EnsureSelfServicePolicy", Resource: "group/" + group, DryRun: o.DryRun}
	want := SelfServicePolicyDocument()
	doc, err := want.JSON()
	if err != nil {
		return nil, err
	}
	cur, found, err := fixGetGroupPolicy(ctx, api, group, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if !found {
		if err := fixGroupMustExist(ctx, api, group); err != nil {
			return nil, err
		}
	}
	if !found || !want.Equivalent(cur) {
		plan.add("iam:PutGroupPolicy", "group/"+group, o.PolicyName, func(ctx context.Context) error {
			_, err := api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
				GroupName: aws.String(group), PolicyName: aws.String(o.PolicyName), PolicyDocument: aws.String(doc)})
			return err
		})
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

// RemoveSelfServicePolicy deletes the self-service inline policy from the
// group. A group without it (or no group) means nothing to do.
//
// IAM permissions: iam:GetGroupPolicy, iam:DeleteGroupPolicy.
func RemoveSelfServicePolicy(ctx context.Context, api SelfServiceAPI, group string, optFns ...func(*SelfServiceOptions)) (*ActionPlan, error) {
	o := selfServiceOptions(optFns)
	if err := fixCheckGroup("group", group); err != nil {
		return nil, err
	}
	if err := fixCheckPolicyName("PolicyName", o.PolicyName); err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "RemoveSelfServicePolicy", Resource: "group/" + group, DryRun: o.DryRun}
	_, found, err := fixGetGroupPolicy(ctx, api, group, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if found {
		plan.add("iam:DeleteGroupPolicy", "group/"+group, o.PolicyName, func(ctx context.Context) error {
			_, err := api.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(o.PolicyName)})
			if fixIsNoSuchEntity(err) { // gone already, perhaps by a retried call
				return nil
			}
			return err
		})
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

type fixGroupPolicyGetter interface {
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
}

// fixGetGroupPolicy reads an inline group policy; found is false when the
// group or the policy does not exist.
func fixGetGroupPolicy(ctx context.Context, api fixGroupPolicyGetter, group, name string) (*PolicyDocument, bool, error) {
	out, err := api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
	if fixIsNoSuchEntity(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("iamguard: get policy %s of group %s: %w", name, group, err)
	}
	doc, err := ParsePolicyDocument(aws.ToString(out.PolicyDocument))
	if err != nil {
		// An unreadable document is treated as different: it is replaced.
		return &PolicyDocument{}, true, nil
	}
	return doc, true, nil
}

type fixGroupGetter interface {
	GetGroup(ctx context.Context, in *iam.GetGroupInput, optFns ...func(*iam.Options)) (*iam.GetGroupOutput, error)
}

func fixGroupMustExist(ctx context.Context, api fixGroupGetter, group string) error {
	_, err := api.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)})
	if fixIsNoSuchEntity(err) {
		return fmt.Errorf("iamguard: group %s: %w: %w", group, ErrGroupNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("iamguard: get group %s: %w", group, err)
	}
	return nil
}
