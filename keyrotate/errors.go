package keyrotate

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrInvalidInput marks an argument or option that failed validation
	// before any API call; the error is an *InputError naming the field.
	ErrInvalidInput = errors.New("keyrotate: invalid input")
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

// Is makes errors.Is(err, ErrInvalidInput) true for an *InputError.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// StepError says which step of a rotation failed, what was rolled back and
// what, if anything, the caller must still do by hand. Unwrap returns the
// cause (an AWS error, the delivery function's error, ErrKeyNotValid...).
type StepError struct {
	// Step is the kind of the Action that failed, such as ActionCreateKey.
	Step string
	// Resource is the key ID (or user name) the step worked on.
	Resource string
	Err      error
	// RolledBack lists what was undone, such as "deleted new key AKIA...".
	RolledBack []string
	// ToDo says what the caller must still do, or is empty.
	ToDo string
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "keyrotate: step %s (%s) failed: %v", e.Step, e.Resource, e.Err)
	if len(e.RolledBack) > 0 {
		fmt.Fprintf(&b, "; rolled back: %s", strings.Join(e.RolledBack, ", "))
	}
	if e.ToDo != "" {
		fmt.Fprintf(&b, "; to do: %s", e.ToDo)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

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
	// ErrUserNotDedicated: SetupRotation found keys on the user that the
	// secret does not hold. The rotation handler deletes such keys, so the
	// user must serve the secret alone.
	ErrUserNotDedicated = errors.New("keyrotate: the user holds access keys the secret does not hold")
	// ErrFunctionNotFound: SetupRotation could not find the rotation function.
	ErrFunctionNotFound = errors.New("keyrotate: the rotation function does not exist")
)

// InputError names the input field that is wrong and why. Nothing was
// changed and no API call was made.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("keyrotate: invalid %s: %s", e.Field, e.Reason)
}

// RotationError says which step of a Secrets Manager rotation (or of setup,
// teardown or repair) failed, on which secret and version, which action
// failed, and what the caller must do. It wraps the cause: errors.As still
// reaches the SDK's typed errors and smithy.APIError.
type RotationError struct {
	// Step is the rotation step, or "setup", "teardown", "repair".
	Step Step
	// SecretID and Token name the secret and the version.
	SecretID, Token string
	// Action is what failed ("create access key").
	Action string
	// Remedy is what the caller must do, if anything.
	Remedy string
	Err    error
}

func (e *RotationError) Error() string {
	s := fmt.Sprintf("keyrotate: %s of secret %s", e.Step, e.SecretID)
	if e.Token != "" {
		s += " version " + e.Token
	}
	s += ": " + e.Action + ": " + e.Err.Error()
	if e.Remedy != "" {
		s += " (" + e.Remedy + ")"
	}
	return s
}

func (e *RotationError) Unwrap() error { return e.Err }

// Remedies a RotationError carries.
const (
	// RemedyRetry: the step stopped half-way; running it again with the
	// same token (as Secrets Manager does) completes it.
	RemedyRetry = "retry the step with the same ClientRequestToken; Secrets Manager does so by itself"
	// RemedyNothingChanged: the step refused before changing anything.
	RemedyNothingChanged = "nothing was changed"
	// RemedyRepair: the rotation cannot complete; clear AWSPENDING with
	// RepairPending and start a new rotation.
	RemedyRepair = "run RepairPending to clear AWSPENDING, then rotate again"
)
