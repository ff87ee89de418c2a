package iamguard

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
)

// SelfServicePolicyName is the default name of the inline group policy
// that EnsureSelfServicePolicy writes.
const SelfServicePolicyName = "awsguard-self-service-credentials"

const (
	ownUserARN = "arn:aws:iam::*:user/${aws:username}"
	ownMFAARN  = "arn:aws:iam::*:mfa/${aws:username}"
)

// SelfServicePolicyDocument returns the self-service credentials policy:
// a user may read the account's password policy and list virtual MFA
// devices, and manage only their own password, access keys and virtual MFA
// device (named after the user), through ${aws:username}. Deactivating
// one's MFA needs an MFA-signed-in session. It grants nothing else.
func SelfServicePolicyDocument() *awsguard.PolicyDocument {
	return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{
		{Sid: "AllowViewAccountInfo", Effect: "Allow",
			Action:   awsguard.StringList("iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"),
			Resource: awsguard.StringValue("*")},
		{Sid: "AllowManageOwnPassword", Effect: "Allow",
			Action:   awsguard.StringList("iam:ChangePassword", "iam:GetUser"),
			Resource: awsguard.StringValue(ownUserARN)},
		{Sid: "AllowManageOwnAccessKeys", Effect: "Allow",
			Action:   awsguard.StringList("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed", "iam:ListAccessKeys", "iam:UpdateAccessKey"),
			Resource: awsguard.StringValue(ownUserARN)},
		{Sid: "AllowManageOwnVirtualMFADevice", Effect: "Allow",
			Action:   awsguard.StringList("iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"),
			Resource: awsguard.StringValue(ownMFAARN)},
		{Sid: "AllowManageOwnUserMFA", Effect: "Allow",
			Action:   awsguard.StringList("iam:EnableMFADevice", "iam:GetMFADevice", "iam:ListMFADevices", "iam:ResyncMFADevice"),
			Resource: awsguard.StringValue(ownUserARN)},
		{Sid: "AllowDeactivateOwnMFAOnlyWhenSignedInWithMFA", Effect: "Allow",
			Action:    awsguard.StringList("iam:DeactivateMFADevice"),
			Resource:  awsguard.StringValue(ownUserARN),
			Condition: map[string]map[string]awsguard.Strings{"Bool": {"aws:MultiFactorAuthPresent": awsguard.StringValue("true")}}},
	}}}
}

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

func selfServiceOptions(op, group string, optFns []func(*SelfServiceOptions)) (SelfServiceOptions, error) {
	var o SelfServiceOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.PolicyName == "" {
		o.PolicyName = SelfServicePolicyName
	}
	if err := checkGroup(op, "group", group); err != nil {
		return o, err
	}
	return o, checkPolicyName(op, "SelfServiceOptions.PolicyName", o.PolicyName)
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
func EnsureSelfServicePolicy(ctx context.Context, api EnsureSelfServicePolicyAPI, group string, optFns ...func(*SelfServiceOptions)) (*awsguard.Plan, error) {
	const op = "EnsureSelfServicePolicy"
	o, err := selfServiceOptions(op, group, optFns)
	if err != nil {
		return nil, err
	}
	pl := newPlanner(op, "group/"+group, o.DryRun)
	want := SelfServicePolicyDocument()
	doc, err := want.JSON()
	if err != nil {
		return nil, err
	}
	cur, found, err := getGroupPolicy(ctx, api, group, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if !found {
		if err := groupMustExist(ctx, api, group); err != nil {
			return nil, err
		}
	}
	if !found || !want.Equivalent(cur) {
		why := "the group lacks the policy"
		if found {
			why = "the group's policy of that name holds another document"
		}
		pl.add(awsguard.Action{Kind: ActionPutGroupPolicy, Call: "iam:PutGroupPolicy", Resource: "group/" + group,
			Detail: "put inline policy " + o.PolicyName + " (self-service credentials) on group " + group, Why: why}, func(ctx context.Context) error {
			_, err := api.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{
				GroupName: aws.String(group), PolicyName: aws.String(o.PolicyName), PolicyDocument: aws.String(doc)})
			return err
		})
	}
	return pl.apply(ctx, o.Logger, false)
}

// RemoveSelfServicePolicy deletes the self-service inline policy from the
// group. A group without it (or no group) means nothing to do.
//
// IAM permissions: iam:GetGroupPolicy, iam:DeleteGroupPolicy.
func RemoveSelfServicePolicy(ctx context.Context, api RemoveSelfServicePolicyAPI, group string, optFns ...func(*SelfServiceOptions)) (*awsguard.Plan, error) {
	const op = "RemoveSelfServicePolicy"
	o, err := selfServiceOptions(op, group, optFns)
	if err != nil {
		return nil, err
	}
	pl := newPlanner(op, "group/"+group, o.DryRun)
	pl.plan.Reason = awsguard.ReasonNothingToRemove
	_, found, err := getGroupPolicy(ctx, api, group, o.PolicyName)
	if err != nil {
		return nil, err
	}
	if found {
		pl.add(awsguard.Action{Kind: ActionDeleteGroupPolicy, Call: "iam:DeleteGroupPolicy", Resource: "group/" + group,
			Detail: "delete inline policy " + o.PolicyName + " of group " + group}, func(ctx context.Context) error {
			_, err := api.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(o.PolicyName)})
			if isNoSuchEntity(err) { // gone already, perhaps by a retried call
				return nil
			}
			return err
		})
	}
	return pl.apply(ctx, o.Logger, false)
}

// getGroupPolicy reads an inline group policy; found is false when the
// group or the policy does not exist.
func getGroupPolicy(ctx context.Context, api groupPolicyGetter, group, name string) (*awsguard.PolicyDocument, bool, error) {
	out, err := api.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String(group), PolicyName: aws.String(name)})
	if isNoSuchEntity(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("iamguard: get policy %s of group %s: %w", name, group, err)
	}
	doc, err := awsguard.ParsePolicyDocument(aws.ToString(out.PolicyDocument))
	if err != nil {
		// An unreadable document is treated as different: it is replaced.
		return &awsguard.PolicyDocument{}, true, nil
	}
	return doc, true, nil
}

// groupMustExist returns ErrGroupNotFound unless the group exists.
func groupMustExist(ctx context.Context, api iam.GetGroupAPIClient, group string) error {
	_, err := api.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)})
	if isNoSuchEntity(err) {
		return fmt.Errorf("iamguard: group %s: %w: %w", group, ErrGroupNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("iamguard: get group %s: %w", group, err)
	}
	return nil
}
