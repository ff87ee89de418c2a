package iamguard

import (
	"errors"
	"fmt"
	"strings"
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

// Sentinels of the MFA, group and self-service operations. Match them with
// errors.Is; the errors that carry them say which field, step or resource.
var (
	// ErrInvalidField marks input refused before any API call; the error is
	// an *InvalidFieldError that names the field and the allowed values.
	ErrInvalidField = errors.New("invalid field")
	// ErrMFACode marks an authentication code that is not six digits, or
	// that IAM refused (InvalidAuthenticationCode).
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

// InvalidFieldError says which input field was refused and what it allows.
// It matches ErrInvalidField with errors.Is.
type InvalidFieldError struct {
	Field string // the field or argument, such as "user" or "Group.Members[2]"
	Value string // the value refused (never a secret)
	Want  string // what the field allows
}

func (e *InvalidFieldError) Error() string {
	return fmt.Sprintf("iamguard: invalid %s %q: want %s", e.Field, e.Value, e.Want)
}

// Is makes errors.Is(err, ErrInvalidField) true.
func (e *InvalidFieldError) Is(target error) bool { return target == ErrInvalidField }

// PlanStepError is returned when a step of a plan fails. Steps before it are
// done and were not rolled back: every operation of this package is
// idempotent, so running it again carries out only what is left.
type PlanStepError struct {
	Operation string
	// Step is the step that failed.
	Step PlanStep
	// Done are the steps carried out before it.
	Done []PlanStep
	Err  error
}

func (e *PlanStepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "iamguard: %s: step %s failed", e.Operation, e.Step)
	if len(e.Done) == 0 {
		b.WriteString(" (no step done; nothing changed)")
	} else {
		fmt.Fprintf(&b, " after %d step(s) done (kept; run again to finish)", len(e.Done))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *PlanStepError) Unwrap() error { return e.Err }
