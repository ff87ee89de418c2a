package iamguard

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// AuditAPI is the part of *iam.Client that Audit calls. It doubles as the
// list of IAM permissions Audit needs: iam:GenerateCredentialReport,
// iam:GetCredentialReport, iam:GetAccountPasswordPolicy,
// iam:GetAccountSummary and iam:GetAccountAuthorizationDetails.
type AuditAPI interface {
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	GetAccountSummary(ctx context.Context, in *iam.GetAccountSummaryInput, optFns ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error)
	GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, optFns ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

// CredentialReportAPI is the part of *iam.Client that FetchCredentialReport
// calls: iam:GenerateCredentialReport and iam:GetCredentialReport.
type CredentialReportAPI interface {
	GenerateCredentialReport(ctx context.Context, in *iam.GenerateCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(ctx context.Context, in *iam.GetCredentialReportInput, optFns ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
}

// VerifyUserAPI is the part of *iam.Client that VerifyUser calls to re-check
// one user live, without the credential report: iam:GetUser,
// iam:GetLoginProfile, iam:ListMFADevices, iam:ListAccessKeys,
// iam:GetAccessKeyLastUsed, iam:ListAttachedUserPolicies,
// iam:ListUserPolicies and iam:ListGroupsForUser.
type VerifyUserAPI interface {
	GetUser(ctx context.Context, in *iam.GetUserInput, optFns ...func(*iam.Options)) (*iam.GetUserOutput, error)
	GetLoginProfile(ctx context.Context, in *iam.GetLoginProfileInput, optFns ...func(*iam.Options)) (*iam.GetLoginProfileOutput, error)
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, optFns ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, optFns ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListAttachedUserPolicies(ctx context.Context, in *iam.ListAttachedUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedUserPoliciesOutput, error)
	ListUserPolicies(ctx context.Context, in *iam.ListUserPoliciesInput, optFns ...func(*iam.Options)) (*iam.ListUserPoliciesOutput, error)
	ListGroupsForUser(ctx context.Context, in *iam.ListGroupsForUserInput, optFns ...func(*iam.Options)) (*iam.ListGroupsForUserOutput, error)
}

// PasswordPolicyAPI is the part of *iam.Client that EnablePasswordPolicy
// calls: iam:GetAccountPasswordPolicy and iam:UpdateAccountPasswordPolicy.
type PasswordPolicyAPI interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
	UpdateAccountPasswordPolicy(ctx context.Context, in *iam.UpdateAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAccountPasswordPolicyOutput, error)
}

// PasswordPolicyRestoreAPI is the part of *iam.Client that
// RestorePasswordPolicy calls: PasswordPolicyAPI's calls plus
// iam:DeleteAccountPasswordPolicy (used when there was no policy before).
type PasswordPolicyRestoreAPI interface {
	PasswordPolicyAPI
	DeleteAccountPasswordPolicy(ctx context.Context, in *iam.DeleteAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteAccountPasswordPolicyOutput, error)
}

var (
	_ AuditAPI                 = (*iam.Client)(nil)
	_ CredentialReportAPI      = (*iam.Client)(nil)
	_ VerifyUserAPI            = (*iam.Client)(nil)
	_ PasswordPolicyAPI        = (*iam.Client)(nil)
	_ PasswordPolicyRestoreAPI = (*iam.Client)(nil)
)
