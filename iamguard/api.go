package iamguard

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// The interfaces below are the parts of *iam.Client that each operation
// calls, one per operation and named after it. Each holds exactly the
// calls its operation makes, composed from the SDK's own one-call
// interfaces (iam.ListMFADevicesAPIClient, ...) where the SDK has one, so
// that *iam.Client satisfies them all and a test fake is small. Each is
// also the list of IAM permissions its operation needs: the operation's
// documentation lists them, and a test proves the two lists agree.

// FetchCredentialReportAPI is the part of *iam.Client that
// FetchCredentialReport calls.
type FetchCredentialReportAPI interface {
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// passwordPolicyReader reads the account password policy.
type passwordPolicyReader interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}

// AuditAPI is the part of *iam.Client that Audit calls.
type AuditAPI interface {
	FetchCredentialReportAPI
	iam.GetAccountAuthorizationDetailsAPIClient
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
}

// VerifyUserAPI is the part of *iam.Client that VerifyUser calls to
// re-check one user live, without the credential report.
type VerifyUserAPI interface {
	iam.GetUserAPIClient
	iam.ListMFADevicesAPIClient
	iam.ListAccessKeysAPIClient
	iam.ListAttachedUserPoliciesAPIClient
	iam.ListUserPoliciesAPIClient
	iam.ListGroupsForUserAPIClient
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
}

// EnablePasswordPolicyAPI is the part of *iam.Client that
// EnablePasswordPolicy calls.
type EnablePasswordPolicyAPI interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	UpdateAccountPasswordPolicy(ctx context.Context, in *iam.UpdateAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccountPasswordPolicyOutput, error)
}

// RestorePasswordPolicyAPI is the part of *iam.Client that
// RestorePasswordPolicy calls: EnablePasswordPolicy's calls, and
// DeleteAccountPasswordPolicy for a restore to no policy.
type RestorePasswordPolicyAPI interface {
	EnablePasswordPolicyAPI
	DeleteAccountPasswordPolicy(ctx context.Context, in *iam.DeleteAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccountPasswordPolicyOutput, error)
}

// CreateVirtualMFAAPI is the part of *iam.Client that CreateVirtualMFA
// calls.
type CreateVirtualMFAAPI interface {
	iam.ListMFADevicesAPIClient
	iam.ListVirtualMFADevicesAPIClient
	CreateVirtualMFADevice(ctx context.Context, in *iam.CreateVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.CreateVirtualMFADeviceOutput, error)
	DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
}

// ActivateVirtualMFAAPI is the part of *iam.Client that
// ActivateVirtualMFA calls.
type ActivateVirtualMFAAPI interface {
	iam.ListMFADevicesAPIClient
	iam.ListVirtualMFADevicesAPIClient
	EnableMFADevice(ctx context.Context, in *iam.EnableMFADeviceInput, optFns ...func(*iam.Options)) (*iam.EnableMFADeviceOutput, error)
}

// DeleteVirtualMFAAPI is the part of *iam.Client that DeleteVirtualMFA
// calls.
type DeleteVirtualMFAAPI interface {
	iam.ListMFADevicesAPIClient
	iam.ListVirtualMFADevicesAPIClient
	DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
	DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
}

// EnforceMFAAPI is the part of *iam.Client that EnforceMFA calls.
type EnforceMFAAPI interface {
	iam.ListPoliciesAPIClient
	iam.GetPolicyAPIClient
	iam.ListPolicyVersionsAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	GetPolicyVersion(ctx context.Context, in *iam.GetPolicyVersionInput, optFns ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	CreatePolicy(ctx context.Context, in *iam.CreatePolicyInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	CreatePolicyVersion(ctx context.Context, in *iam.CreatePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.CreatePolicyVersionOutput, error)
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
}

// RemoveEnforceMFAAPI is the part of *iam.Client that RemoveEnforceMFA
// calls.
type RemoveEnforceMFAAPI interface {
	iam.ListPoliciesAPIClient
	iam.GetPolicyAPIClient
	iam.ListPolicyVersionsAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	iam.ListEntitiesForPolicyAPIClient
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
	DeletePolicy(ctx context.Context, in *iam.DeletePolicyInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
}

// EnsureGroupAPI is the part of *iam.Client that EnsureGroup calls.
type EnsureGroupAPI interface {
	iam.GetGroupAPIClient
	iam.GetUserAPIClient
	iam.GetPolicyAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	CreateGroup(ctx context.Context, in *iam.CreateGroupInput, optFns ...func(*iam.Options)) (*iam.CreateGroupOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
}

// RemoveGroupAPI is the part of *iam.Client that RemoveGroup calls.
type RemoveGroupAPI interface {
	iam.GetGroupAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	iam.ListGroupPoliciesAPIClient
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	DeleteGroupPolicy(ctx context.Context, in *iam.DeleteGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupPolicyOutput, error)
	DeleteGroup(ctx context.Context, in *iam.DeleteGroupInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupOutput, error)
}

// MoveUserAPI is the part of *iam.Client that MoveUser calls.
type MoveUserAPI interface {
	iam.ListGroupsForUserAPIClient
	iam.GetGroupAPIClient
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
}

// MoveUserPoliciesToGroupAPI is the part of *iam.Client that
// MoveUserPoliciesToGroup calls.
type MoveUserPoliciesToGroupAPI interface {
	iam.ListGroupsForUserAPIClient
	iam.ListAttachedUserPoliciesAPIClient
	iam.ListUserPoliciesAPIClient
	iam.ListAttachedGroupPoliciesAPIClient
	AddUserToGroup(ctx context.Context, in *iam.AddUserToGroupInput, optFns ...func(*iam.Options)) (*iam.AddUserToGroupOutput, error)
	GetUserPolicy(ctx context.Context, in *iam.GetUserPolicyInput, optFns ...func(*iam.Options)) (*iam.GetUserPolicyOutput, error)
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	AttachGroupPolicy(ctx context.Context, in *iam.AttachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	PutGroupPolicy(ctx context.Context, in *iam.PutGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.PutGroupPolicyOutput, error)
	DetachUserPolicy(ctx context.Context, in *iam.DetachUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DeleteUserPolicy(ctx context.Context, in *iam.DeleteUserPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
}

// groupPolicyGetter reads one inline group policy.
type groupPolicyGetter interface {
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
}

// EnsureSelfServicePolicyAPI is the part of *iam.Client that
// EnsureSelfServicePolicy calls.
type EnsureSelfServicePolicyAPI interface {
	iam.GetGroupAPIClient
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	PutGroupPolicy(ctx context.Context, in *iam.PutGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.PutGroupPolicyOutput, error)
}

// RemoveSelfServicePolicyAPI is the part of *iam.Client that
// RemoveSelfServicePolicy calls.
type RemoveSelfServicePolicyAPI interface {
	GetGroupPolicy(ctx context.Context, in *iam.GetGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.GetGroupPolicyOutput, error)
	DeleteGroupPolicy(ctx context.Context, in *iam.DeleteGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteGroupPolicyOutput, error)
}

// policyVersionDeleter deletes one version of a managed policy: the one call of a step shared by several operations.
type policyVersionDeleter interface {
	DeletePolicyVersion(ctx context.Context, in *iam.DeletePolicyVersionInput, optFns ...func(*iam.Options)) (*iam.DeletePolicyVersionOutput, error)
}

// groupMemberRemover removes a user from a group: the one call of a step shared by several operations.
type groupMemberRemover interface {
	RemoveUserFromGroup(ctx context.Context, in *iam.RemoveUserFromGroupInput, optFns ...func(*iam.Options)) (*iam.RemoveUserFromGroupOutput, error)
}

// groupPolicyDetacher detaches a managed policy from a group: the one call of a step shared by several operations.
type groupPolicyDetacher interface {
	DetachGroupPolicy(ctx context.Context, in *iam.DetachGroupPolicyInput, optFns ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
}

// mfaDeviceDeleter deletes a virtual MFA device: the one call of a step shared by several operations.
type mfaDeviceDeleter interface {
	DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
}

var (
	_ FetchCredentialReportAPI   = (*iam.Client)(nil)
	_ AuditAPI                   = (*iam.Client)(nil)
	_ VerifyUserAPI              = (*iam.Client)(nil)
	_ EnablePasswordPolicyAPI    = (*iam.Client)(nil)
	_ RestorePasswordPolicyAPI   = (*iam.Client)(nil)
	_ CreateVirtualMFAAPI        = (*iam.Client)(nil)
	_ ActivateVirtualMFAAPI      = (*iam.Client)(nil)
	_ DeleteVirtualMFAAPI        = (*iam.Client)(nil)
	_ EnforceMFAAPI              = (*iam.Client)(nil)
	_ RemoveEnforceMFAAPI        = (*iam.Client)(nil)
	_ EnsureGroupAPI             = (*iam.Client)(nil)
	_ RemoveGroupAPI             = (*iam.Client)(nil)
	_ MoveUserAPI                = (*iam.Client)(nil)
	_ MoveUserPoliciesToGroupAPI = (*iam.Client)(nil)
	_ EnsureSelfServicePolicyAPI = (*iam.Client)(nil)
	_ RemoveSelfServicePolicyAPI = (*iam.Client)(nil)
)
