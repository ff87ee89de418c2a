package iamguard_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/fault"
)

// A step that fails reports which step, what was done before it, and
// keeps the AWS error reachable.
func TestStepError(t *testing.T) {
	ctx := context.Background()
	env, api := motoIAM(t)
	createUser(t, api, "alice")
	createGroup(t, api, "sales", "alice")
	createGroup(t, api, "eng")
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "RemoveUserFromGroup", Kind: fault.APIError, Code: "AccessDenied", Status: 403})
	p, err := iamguard.MoveUser(ctx, faultyClient(env, inj), "alice", "sales", "eng")
	var se *awsguard.StepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StepError", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("AWS error not reachable: %v", err)
	}
	if se.Operation != "iamguard.MoveUser" || se.Step != iamguard.ActionRemoveUserFromGroup || se.Resource != "group/sales" ||
		len(se.Done) != 1 || se.Done[0] != "add alice to group eng" {
		t.Errorf("step error = %+v", se)
	}
	if !strings.Contains(err.Error(), "done and kept: add alice to group eng") || !strings.Contains(err.Error(), "run iamguard.MoveUser again") {
		t.Errorf("message does not say what was done: %v", err)
	}
	if !p.Applied || p.Actions[0].Outcome != awsguard.OutcomeDone || p.Actions[1].Outcome != awsguard.OutcomeFailed || p.Reason != awsguard.ReasonFailed {
		t.Errorf("plan = %+v", p)
	}
	if d := cmp.Diff([]string{"eng", "sales"}, groupsOf(t, api, "alice")); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

// Every step is logged with the stable keys; the seed never is.
func TestLogging(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	v, err := iamguard.CreateVirtualMFA(ctx, api, "alice", func(o *iamguard.MFAOptions) { o.Logger = log })
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"operation":"iamguard.CreateVirtualMFA"`, `"resource":"user/alice"`, `"dry_run":false`, `"step":"create-virtual-mfa-device"`, `"action":"create virtual MFA device mfa/alice for alice"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, v.Seed.Reveal()) {
		t.Error("the seed was logged")
	}
}
