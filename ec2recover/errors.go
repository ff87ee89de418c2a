package ec2recover

import "errors"

// Sentinel errors. Match them with errors.Is. Errors that carry them say
// which instance, strategy or step; AWS errors are wrapped with %w, so
// errors.As still reaches smithy.APIError and the SDK's types.
var (
	// ErrRefused: the preflight found no strategy it may use (or the one
	// asked for is not possible) on the instance. Nothing was changed; the
	// error lists each strategy with the reason it was refused.
	ErrRefused = errors.New("ec2recover: no recovery strategy is possible")
	// ErrInstanceNotFound: the instance does not exist (or is terminated).
	ErrInstanceNotFound = errors.New("ec2recover: instance not found")
	// ErrRecoveryInProgress: the instance carries the tag of another
	// recovery that was not finished. Resume or roll it back first.
	ErrRecoveryInProgress = errors.New("ec2recover: another recovery of the instance is not finished")
	// ErrNoJournal: Resume or Rollback found no journal record.
	ErrNoJournal = errors.New("ec2recover: no journal record")
	// ErrJournalMismatch: the journal names another instance or recovery
	// than the live state shows.
	ErrJournalMismatch = errors.New("ec2recover: the journal does not match the live state")
	// ErrWaitTimeout: an instance, volume, snapshot or command did not
	// reach the wanted state within the wait bounds of Options.Wait.
	ErrWaitTimeout = errors.New("ec2recover: wait timed out")
	// ErrInjection: the key injection script ran and reported a failure
	// (its step and message are in the error).
	ErrInjection = errors.New("ec2recover: key injection failed")
	// ErrCommandFailed: an SSM Run Command did not succeed.
	ErrCommandFailed = errors.New("ec2recover: run command failed")
	// ErrKeyFileExists: WriteFile found a file at the path and was not
	// allowed to overwrite it.
	ErrKeyFileExists = errors.New("ec2recover: key file exists")
	// ErrPermissionMissing: a dry run asked EC2 about the plan's calls
	// (DryRun set) and EC2 denied at least one: the error names each
	// action and its step, and Recovery.Permissions holds every answer.
	ErrPermissionMissing = errors.New("ec2recover: dry run: permission missing")
	// ErrUnexpectedState: the live state is one the step cannot act on
	// (a root volume attached elsewhere, a device taken). Nothing more was
	// changed; the error says what was found.
	ErrUnexpectedState = errors.New("ec2recover: unexpected live state")
)
