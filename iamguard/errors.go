package iamguard

import (
	"errors"
	"fmt"
)

// Sentinel errors of the audit and password-policy operations. Match them
// with errors.Is; the errors returned wrap the SDK's errors too, so
// errors.As still reaches smithy.APIError and the IAM exception types.
var (
	// ErrInvalidPasswordPolicy is matched by every *PasswordPolicyError:
	// a field of a wanted password policy is out of range. Nothing was
	// called.
	ErrInvalidPasswordPolicy = errors.New("iamguard: invalid password policy")

	// ErrInvalidAuditOptions means an AuditOptions value is out of range.
	// Nothing was called.
	ErrInvalidAuditOptions = errors.New("iamguard: invalid audit options")

	// ErrCredentialReportTimeout means the credential report was not
	// ready within AuditOptions.ReportWait.
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
)

// PasswordPolicyError names the field of a password policy that is out of
// range and the range allowed. It matches ErrInvalidPasswordPolicy.
type PasswordPolicyError struct {
	// Field is the PasswordPolicy field name, such as "MinimumPasswordLength".
	Field string
	// Value is the value given.
	Value int32
	// Allowed describes the allowed values, such as "6..128".
	Allowed string
}

func (e *PasswordPolicyError) Error() string {
	return fmt.Sprintf("iamguard: password policy: %s = %d, want %s", e.Field, e.Value, e.Allowed)
}

// Is makes errors.Is(err, ErrInvalidPasswordPolicy) true.
func (e *PasswordPolicyError) Is(target error) bool { return target == ErrInvalidPasswordPolicy }
