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

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/fault"
)

// A step that fails reports which step, what was done before it, and
// keeps the AWS error reachable.
func TestPlanStepErrorFix(t *testing.T) {
	ctx := context.Background()
	env, api := fixEnv(t)
	fixUser(t, api, "alice")
	fixGroup(t, api, "sales", "alice")
	fixGroup(t, api, "eng")
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "RemoveUserFromGroup", Kind: fault.APIError, Code: "AccessDenied", Status: 403})
	p, err := iamguard.MoveUser(ctx, fixFaultyClient(env, inj), "alice", "sales", "eng")
	var se *iamguard.PlanStepError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a PlanStepError", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("AWS error not reachable: %v", err)
	}
	if se.Step.Action != "iam:RemoveUserFromGroup" || len(se.Done) != 1 || se.Done[0].Action != "iam:AddUserToGroup" || !se.Done[0].Done {
		t.Errorf("step error = %+v", se)
	}
	if !strings.Contains(err.Error(), "after 1 step(s) done") || !strings.Contains(err.Error(), "run again") {
		t.Errorf("message does not say what was done: %v", err)
	}
	if !p.Applied || p.Steps[1].Done || p.Reason != "failed at step 2 of 2" {
		t.Errorf("plan = %+v", p)
	}
	if d := cmp.Diff([]string{"eng", "sales"}, fixGroupsOf(t, api, "alice")); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

// Every step is logged with the stable keys; the seed never is.
func TestLoggingFix(t *testing.T) {
	ctx := context.Background()
	_, api := fixEnv(t)
	fixUser(t, api, "alice")
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	v, err := iamguard.CreateVirtualMFA(ctx, api, "alice", func(o *iamguard.MFAOptions) { o.Logger = log })
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"operation":"CreateVirtualMFA"`, `"resource":"user/alice"`, `"dry_run":false`, `"step":"iam:CreateVirtualMFADevice mfa/alice"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, v.Seed.Reveal()) {
		t.Error("the seed was logged")
	}
}
