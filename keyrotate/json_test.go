package keyrotate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
)

// A Rotation's JSON has the plan's fields, the state by name, and "plan"
// with "done" as earlier versions wrote it; it reads back; the new key's
// secret shows as [REDACTED].
func TestRotationJSON(t *testing.T) {
	rot := newRotation("keyrotate.RotateAccessKey", "alice", false)
	rot.State = StateDelivered
	rot.Actions = []awsguard.Action{{Kind: ActionDeactivateKey, Call: actionCalls[ActionDeactivateKey], Resource: stA, Outcome: awsguard.OutcomeDone}}
	rot.NewKey = &AccessKey{UserName: "alice", AccessKeyID: stB, Secret: awsguard.NewSecret("s3cr3t")}
	b, err := json.Marshal(rot)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"state":"delivered"`, `"plan":[{"kind":"deactivate-key"`, `"done":true`, `"actions":[{"kind":"deactivate-key"`, `"operation":"keyrotate.RotateAccessKey"`, `"Secret":"[REDACTED]"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, "s3cr3t") {
		t.Errorf("secret leaked: %s", s)
	}
	var back Rotation
	if err := json.Unmarshal(b, &back); err != nil || back.State != StateDelivered || len(back.Actions) != 1 || back.NewKey.AccessKeyID != stB {
		t.Errorf("read back %+v, %v", back, err)
	}
}
