package awsguard

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Sentinels of the shared vocabulary. Each package keeps its own sentinels
// (keyrotate.ErrKeyLimit, ...) in its errors.go; these mark the kinds of
// failure every package shares. Match them with errors.Is.
var (
	// ErrInvalidInput is matched by every *InputError: an argument or
	// option was refused before any API call. Nothing was changed.
	ErrInvalidInput = errors.New("awsguard: invalid input")
	// ErrWeakening is matched by every *WeakeningError: the plan would make
	// a security setting less strict and the caller did not allow it.
	// Nothing was changed.
	ErrWeakening = errors.New("awsguard: the change would weaken a security setting")
	// ErrPolicyDocument marks a policy document that does not parse or is
	// not a valid IAM identity policy.
	ErrPolicyDocument = errors.New("invalid policy document")
)

// InputError names the input that was refused, the value given and what is
// allowed. Field is the name the caller knows: an argument ("user"), an
// option ("Options.MaxAge") or a field of a value passed in
// ("PasswordPolicy.MinimumPasswordLength"); a command line maps it to the
// flag the user typed. Value never holds a secret. It matches
// ErrInvalidInput.
type InputError struct {
	// Operation is the function that refused the input, such as
	// "keyrotate.RotateAccessKey"; may be empty.
	Operation string `json:"operation,omitempty"`
	Field     string `json:"field"`
	Value     string `json:"value"`
	// Allowed describes the allowed values, such as "6..128" or "an IAM
	// user name: 1 to 64 of letters, digits and +=,.@_-".
	Allowed string `json:"allowed"`
}

func (e *InputError) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	fmt.Fprintf(&b, "invalid %s %q: want %s", e.Field, e.Value, e.Allowed)
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }

// StepError is returned when one action of a plan fails. It says which
// operation and step failed, on which resource, what was done before it
// and kept, what was rolled back, and what the caller must still do by hand
// (nothing when ToDo is empty). Unwrap returns the cause, so errors.As
// still reaches smithy.APIError and the services' typed exceptions.
type StepError struct {
	// Operation is the function that ran the plan, such as
	// "keyrotate.RotateAccessKey".
	Operation string `json:"operation"`
	// Step is the failed action's kind, such as "create-key".
	Step string `json:"step"`
	// Resource is the resource the step worked on.
	Resource string `json:"resource"`
	// Err is the cause.
	Err error `json:"-"`
	// Done lists the actions carried out before the failure and kept, in
	// order (String of each Action).
	Done []string `json:"done,omitempty"`
	// RolledBack lists what was undone, such as "deleted new key AKIA...".
	RolledBack []string `json:"rolled_back,omitempty"`
	// ToDo says what the caller must still do, or is empty.
	ToDo string `json:"to_do,omitempty"`
}

func (e *StepError) Error() string {
	var b strings.Builder
	if e.Operation != "" {
		b.WriteString(e.Operation + ": ")
	}
	fmt.Fprintf(&b, "step %s", e.Step)
	if e.Resource != "" {
		fmt.Fprintf(&b, " (%s)", e.Resource)
	}
	fmt.Fprintf(&b, " failed: %v", e.Err)
	if len(e.Done) > 0 {
		fmt.Fprintf(&b, "; done and kept: %s", strings.Join(e.Done, ", "))
	}
	if len(e.RolledBack) > 0 {
		fmt.Fprintf(&b, "; rolled back: %s", strings.Join(e.RolledBack, ", "))
	}
	if e.ToDo != "" {
		fmt.Fprintf(&b, "; to do: %s", e.ToDo)
	}
	return b.String()
}

func (e *StepError) Unwrap() error { return e.Err }

// MarshalJSON writes the error's fields and its cause's text as "error".
func (e *StepError) MarshalJSON() ([]byte, error) {
	type plain StepError
	cause := ""
	if e.Err != nil {
		cause = e.Err.Error()
	}
	return json.Marshal(struct {
		*plain
		Error string `json:"error"`
	}{(*plain)(e), cause})
}

// WeakeningError is returned when a plan holds actions that would make a
// security setting less strict and the caller did not allow weakening. It
// names each such action; nothing was changed. It matches ErrWeakening.
type WeakeningError struct {
	Operation string   `json:"operation,omitempty"`
	Actions   []Action `json:"actions"`
}

func (e *WeakeningError) Error() string {
	parts := make([]string, len(e.Actions))
	for i, a := range e.Actions {
		parts[i] = a.Detail
		if parts[i] == "" {
			parts[i] = a.String()
		}
	}
	op := ""
	if e.Operation != "" {
		op = e.Operation + ": "
	}
	return fmt.Sprintf("%srefused: the change would weaken %s; allow weakening explicitly to apply it", op, strings.Join(parts, ", "))
}

// Is makes errors.Is(err, ErrWeakening) true.
func (e *WeakeningError) Is(target error) bool { return target == ErrWeakening }
