package iamguard

import "errors"

// The sentinels of this package. Match them with errors.Is; the errors
// returned wrap the SDK's errors too, so errors.As still reaches
// smithy.APIError and the IAM exception types.
//
// The kinds of failure every package shares are the root package's: input
// refused before any call is an *awsguard.InputError (errors.Is
// awsguard.ErrInvalidInput), a failed step of a plan an
// *awsguard.StepError, a refused weakening an *awsguard.WeakeningError
// (errors.Is awsguard.ErrWeakening).
var (
	// ErrCredentialReportTimeout means the credential report was not
	// ready within ReportWait.
	ErrCredentialReportTimeout = errors.New("iamguard: credential report not ready in time")

	// ErrMalformedCredentialReport means the credential report could not
	// be parsed: a required column is missing, or a value is not what AWS
	// writes.
	ErrMalformedCredentialReport = errors.New("iamguard: malformed credential report")

	// ErrAuditIncomplete means Audit could not read one of its sources.
	// Audit then still returns its report, in which the checks that depend
	// on the missing source carry StatusError findings, and an error that
	// wraps this sentinel and each cause.
	ErrAuditIncomplete = errors.New("iamguard: audit incomplete")

	// ErrMFACode marks an authentication code that is not six digits (the
	// error is then also an *awsguard.InputError), or that IAM refused
	// (InvalidAuthenticationCode).
	ErrMFACode = errors.New("invalid MFA authentication code")
	// ErrMFADeviceNotFound marks a virtual MFA device that does not exist
	// or is not pending for the user.
	ErrMFADeviceNotFound = errors.New("virtual MFA device not found")
	// ErrMFAAssignedElsewhere marks a virtual MFA device that is assigned
	// to a user other than the one named.
	ErrMFAAssignedElsewhere = errors.New("virtual MFA device assigned to another user")
	// ErrGroupNotFound marks a group that must exist and does not.
	ErrGroupNotFound = errors.New("group not found")
	// ErrUserNotFound marks a user that must exist and does not.
	ErrUserNotFound = errors.New("user not found")
	// ErrPolicyConflict marks a policy awsguard will not overwrite: an
	// inline policy of the same name that holds a different document, or a
	// customer managed policy of the wanted name and path that awsguard did
	// not create (it has neither the tag awsguard:managed=true nor
	// awsguard's description).
	ErrPolicyConflict = errors.New("policy name already used by a different document")
)
