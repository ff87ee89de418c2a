package inspect

import "errors"

// Sentinel errors. Match them with errors.Is; the errors returned wrap the
// SDK's errors too, so errors.As still reaches smithy.APIError and the
// services' typed exceptions. Input refused before any call is an
// *awsguard.InputError (errors.Is(err, awsguard.ErrInvalidInput)); a failed
// step of a change is an *awsguard.StepError.
var (
	// ErrAuditIncomplete means AuditNetwork (or a report of Inspector)
	// could not read one of its sources. The report it still returns holds
	// StatusError findings for the checks that depend on it.
	ErrAuditIncomplete = errors.New("inspect: audit incomplete")

	// ErrTooManyPages means a paginated list went on past the page bound
	// (Options.MaxPages): a service that keeps returning a NextToken.
	ErrTooManyPages = errors.New("inspect: too many pages")

	// ErrWaitTimeout means Enable or Disable did not see every resource
	// type reach the wanted status within Options.MaxWait.
	ErrWaitTimeout = errors.New("inspect: Inspector status not reached in time")

	// ErrNotFound means the instance or security group named does not
	// exist in the region.
	ErrNotFound = errors.New("inspect: resource not found")

	// ErrRecordConflict means a security group carries a record of a
	// revoked rule that this package cannot read: it will not guess what to
	// restore.
	ErrRecordConflict = errors.New("inspect: unreadable record of a revoked rule")
)
