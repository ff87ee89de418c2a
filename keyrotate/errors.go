package keyrotate

import (
	"errors"

	"github.com/awsguard/awsguard"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrInvalidInput is awsguard.ErrInvalidInput: every *awsguard.InputError
	// matches it. An argument or option failed validation before any API
	// call; nothing was changed.
	ErrInvalidInput = awsguard.ErrInvalidInput
	// ErrKeyLimit means the user already holds two active access keys and
	// the caller did not allow deleting one (Options.DeleteOldActive).
	ErrKeyLimit = errors.New("keyrotate: the user already has two active access keys")
	// ErrNoActiveKey means the user has no active access key to rotate.
	ErrNoActiveKey = errors.New("keyrotate: the user has no active access key to rotate")
	// ErrInUseKeyNotFound means Options.InUseKeyID names a key the user
	// does not have.
	ErrInUseKeyNotFound = errors.New("keyrotate: the key named as in use does not belong to the user")
	// ErrRotationInProgress means a rotation of the user was interrupted and
	// not finished: re-run RotateAccessKey before FinishRotation.
	ErrRotationInProgress = errors.New("keyrotate: an interrupted rotation is not finished")
)

// Sentinels of the Secrets Manager rotation handler, SetupRotation,
// TeardownRotation and RepairPending. Match them with errors.Is.
var (
	// ErrUnknownStep: the event names a step other than createSecret,
	// setSecret, testSecret, finishSecret. Nothing was changed.
	ErrUnknownStep = errors.New("keyrotate: unknown rotation step")
	// ErrRotationDisabled: the secret does not have rotation enabled.
	// Nothing was changed.
	ErrRotationDisabled = errors.New("keyrotate: rotation is not enabled on the secret")
	// ErrNotPending: the event's ClientRequestToken names no version of the
	// secret, or a version not staged AWSPENDING. Nothing was changed.
	ErrNotPending = errors.New("keyrotate: the version is not staged AWSPENDING")
	// ErrSecretValue: a version's value is not the access-key JSON document
	// this package reads and writes.
	ErrSecretValue = errors.New("keyrotate: the secret value is not an access-key document")
	// ErrNoPendingValue: setSecret, testSecret or finishSecret found no value
	// in the AWSPENDING version: createSecret has not completed.
	ErrNoPendingValue = errors.New("keyrotate: the AWSPENDING version has no value yet")
	// ErrPendingKeyMissing: the key in the AWSPENDING version no longer
	// exists in IAM. Clear the label with RepairPending and rotate again.
	ErrPendingKeyMissing = errors.New("keyrotate: the AWSPENDING version's access key does not exist")
	// ErrPendingKeyInactive: the key in the AWSPENDING version is inactive
	// when finishSecret would promote it. Nothing was changed; clear the
	// label with RepairPending and rotate again.
	ErrPendingKeyInactive = errors.New("keyrotate: the AWSPENDING version's access key is inactive")
	// ErrCurrentKeyMissing: the key in the AWSCURRENT version is not on the
	// user: the secret is stale. createSecret refuses, because every other
	// key of the user could be the one really in use. Nothing was changed.
	ErrCurrentKeyMissing = errors.New("keyrotate: the AWSCURRENT version's access key is not on the user")
	// ErrForeignKey: createSecret found a key of the user that no staged
	// version holds and that is Active and either was used or was created
	// outside the rotation's window (HandlerOptions.OrphanWindow): someone
	// may depend on it, so it is left alone and the step fails naming it.
	ErrForeignKey = errors.New("keyrotate: the user holds an active key the secret does not hold")
	// ErrUserNotDedicated: SetupRotation found keys on the user that the
	// secret does not hold. The rotation handler removes such keys (or
	// refuses, ErrForeignKey), so the user must serve the secret alone.
	ErrUserNotDedicated = errors.New("keyrotate: the user holds access keys the secret does not hold")
	// ErrFunctionNotFound: SetupRotation could not find the rotation function.
	ErrFunctionNotFound = errors.New("keyrotate: the rotation function does not exist")
)

// What a failed step of the rotation handler, setup, teardown or repair
// says the caller must do: the ToDo of its *awsguard.StepError.
const (
	// RemedyRetry: the step stopped half-way; running it again with the
	// same token (as Secrets Manager does) completes it.
	RemedyRetry = "retry the step with the same ClientRequestToken; Secrets Manager does so by itself"
	// RemedyNothingChanged: the step refused before changing anything.
	RemedyNothingChanged = "nothing was changed"
	// RemedyRepair: the rotation cannot complete; clear AWSPENDING with
	// RepairPending and start a new rotation.
	RemedyRepair = "run RepairPending to clear AWSPENDING, then rotate again"
	// RemedyRunAgain: setup or teardown stopped half-way; it plans from the
	// live state, so running it again continues where it stopped.
	RemedyRunAgain = "run it again: it plans from the live state and continues where it stopped"
)

// inputError returns an *awsguard.InputError of operation op.
func inputError(op, field, value, allowed string) error {
	return &awsguard.InputError{Operation: op, Field: field, Value: value, Allowed: allowed}
}

// Sentinels of ContainLeakedKey and ReleaseContainment. Match them with
// errors.Is. Nothing was changed when one is returned.
var (
	// ErrKeyNotFound: IAM knows no such access key in this account. A key
	// of another account cannot be contained from this one: find its
	// account with sts:GetAccessKeyInfo and contain it with that account's
	// credentials.
	ErrKeyNotFound = errors.New("keyrotate: the access key does not exist in this account")
	// ErrRootKey: the key belongs to the account's root user, which IAM
	// user policies cannot restrict. Sign in as the root user, delete the
	// key (Security credentials), and rotate the root password and MFA.
	ErrRootKey = errors.New("keyrotate: the access key belongs to the root user")
	// ErrKeyNotConfirmed: the user GetAccessKeyLastUsed names does not
	// list the key.
	ErrKeyNotConfirmed = errors.New("keyrotate: the named user does not hold the access key")
	// ErrContainedOtherKey: the user's containment records name another
	// key. Release that containment first, or contain by hand.
	ErrContainedOtherKey = errors.New("keyrotate: the user's containment records name another key")
)
