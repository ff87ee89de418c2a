package observe

import (
	"errors"

	"github.com/awsguard/awsguard"
)

// Sentinels of the package. Match them with errors.Is. Input refused
// before any call is an *awsguard.InputError (errors.Is
// awsguard.ErrInvalidInput); a failed step is an *awsguard.StepError whose
// Unwrap reaches the SDK's error.
var (
	// ErrNotManaged means a resource of the wanted name exists and was not
	// created by observe (it lacks the tag awsguard:managed=true with
	// awsguard:package=observe). Ensure leaves it alone and changes
	// nothing.
	ErrNotManaged = errors.New("observe: a resource of that name exists and is not managed by observe")
	// ErrPartialFailure means a batch call (PutTargets,
	// BatchImportFindings) answered with failed entries.
	ErrPartialFailure = errors.New("observe: some entries of a batch call failed")
)

func inputErr(op, field, value, allowed string) error {
	return &awsguard.InputError{Operation: op, Field: field, Value: value, Allowed: allowed}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
