package keyrotate

// This file holds exact copies of declarations that the Secrets Manager
// rotation work (setup.go, sm_errors.go on branch keyrotate-sm) declares
// too, so that this branch builds on its own. When both branches are
// merged, delete this file: the declarations stay in those files, and
// errors.go adds the Is method to InputError.

import (
	"fmt"
	"regexp"
)

// Action is one change of a Plan.
type Action struct {
	Kind     string `json:"kind"`
	Resource string `json:"resource"`
	Detail   string `json:"detail,omitempty"`
	// Done is true once applied.
	Done bool `json:"done"`
}

// InputError names the input field that is wrong and why. Nothing was
// changed and no API call was made.
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("keyrotate: invalid %s: %s", e.Field, e.Reason)
}

var userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
