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
