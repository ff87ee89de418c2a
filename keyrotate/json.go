package keyrotate

import (
	"encoding/json"

	"github.com/awsguard/awsguard"
)

// actionJSON is an action as the JSON of Rotation and Setup writes it:
// awsguard.Action's fields and "done", which earlier versions wrote
// instead of "outcome" and which the example programs' JSON output keeps.
type actionJSON struct {
	awsguard.Action
	Done bool `json:"done"`
}

func actionsJSON(as []awsguard.Action) []actionJSON {
	out := make([]actionJSON, len(as))
	for i, a := range as {
		out[i] = actionJSON{Action: a, Done: a.Outcome == awsguard.OutcomeDone}
	}
	return out
}

// MarshalJSON writes the Rotation's fields and, as "plan", its actions
// with "done": the shape earlier versions wrote, kept for whoever parses
// it.
func (r Rotation) MarshalJSON() ([]byte, error) {
	type plain Rotation
	return json.Marshal(struct {
		plain
		Actions []actionJSON `json:"actions"`
		Legacy  []actionJSON `json:"plan"`
	}{plain(r), actionsJSON(r.Actions), actionsJSON(r.Actions)})
}

// MarshalJSON writes the Setup's fields, each action with "done" as
// earlier versions wrote it.
func (s Setup) MarshalJSON() ([]byte, error) {
	type plain Setup
	return json.Marshal(struct {
		plain
		Actions []actionJSON `json:"actions"`
	}{plain(s), actionsJSON(s.Actions)})
}
