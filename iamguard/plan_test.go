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

// Input refused before any call names the field as the caller knows it:
// the argument, or the options type and field.
func TestInputErrorFields(t *testing.T) {
	ctx := context.Background()
	env, _ := motoIAM(t)
	probe := fault.New()
	api := faultyClient(env, probe)
	tests := []struct {
		name, op, field string
		run             func() error
	}{
		{"user", "iamguard.CreateVirtualMFA", "user", func() error { _, err := iamguard.CreateVirtualMFA(ctx, api, "a/b"); return err }},
		{"device name", "iamguard.CreateVirtualMFA", "MFAOptions.DeviceName", func() error {
			_, err := iamguard.CreateVirtualMFA(ctx, api, "alice", func(o *iamguard.MFAOptions) { o.DeviceName = "a b" })
			return err
		}},
		{"device path", "iamguard.DeleteVirtualMFA", "MFAOptions.Path", func() error {
			_, err := iamguard.DeleteVirtualMFA(ctx, api, "alice", func(o *iamguard.DeleteVirtualMFAOptions) { o.Path = "x" })
			return err
		}},
		{"serial", "iamguard.ActivateVirtualMFA", "serial", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "alice", "short", "123456", "654321")
			return err
		}},
		{"code", "iamguard.ActivateVirtualMFA", "code2", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "alice", "", "123456", "65432")
			return err
		}},
		{"groups", "iamguard.EnforceMFA", "groups[1]", func() error { _, err := iamguard.EnforceMFA(ctx, api, []string{"dev", "a b"}); return err }},
		{"policy name", "iamguard.RemoveEnforceMFA", "EnforceMFAOptions.PolicyName", func() error {
			_, err := iamguard.RemoveEnforceMFA(ctx, api, nil, func(o *iamguard.RemoveEnforceMFAOptions) { o.PolicyName = "a b" })
			return err
		}},
		{"move to itself", "iamguard.MoveUser", "to", func() error { _, err := iamguard.MoveUser(ctx, api, "alice", "dev", "dev"); return err }},
		{"group", "iamguard.RemoveGroup", "name", func() error { _, err := iamguard.RemoveGroup(ctx, api, ""); return err }},
		{"self-service group", "iamguard.EnsureSelfServicePolicy", "group", func() error {
			_, err := iamguard.EnsureSelfServicePolicy(ctx, api, "a b")
			return err
		}},
		{"verify user", "iamguard.VerifyUser", "userName", func() error { _, err := iamguard.VerifyUser(ctx, api, ""); return err }},
		{"verify options", "iamguard.VerifyUser", "UserCheckOptions.UnusedKeyAge", func() error {
			_, err := iamguard.VerifyUser(ctx, api, "alice", func(o *iamguard.UserCheckOptions) { o.UnusedKeyAge = -1 })
			return err
		}},
		{"audit options", "iamguard.Audit", "AuditOptions.ReportWait", func() error {
			_, err := iamguard.Audit(ctx, api, func(o *iamguard.AuditOptions) { o.ReportWait = -1 })
			return err
		}},
		{"report options", "iamguard.FetchCredentialReport", "CredentialReportOptions.PollMaxDelay", func() error {
			_, err := iamguard.FetchCredentialReport(ctx, api, func(o *iamguard.CredentialReportOptions) { o.PollMaxDelay = -1 })
			return err
		}},
		{"password policy", "", "PasswordPolicy.PasswordReusePrevention", func() error {
			_, err := iamguard.EnablePasswordPolicy(ctx, api, iamguard.PasswordPolicy{MinimumPasswordLength: 8, PasswordReusePrevention: 25})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			var ie *awsguard.InputError
			if !errors.As(err, &ie) || !errors.Is(err, awsguard.ErrInvalidInput) || ie.Field != tt.field || ie.Operation != tt.op {
				t.Fatalf("err = %v, want an InputError of %q on %s", err, tt.op, tt.field)
			}
			if n := len(probe.Calls()); n != 0 {
				t.Errorf("%d calls made before the input was refused", n)
			}
		})
	}
	// A refused code is also ErrMFACode, and the code is not shown.
	_, err := iamguard.ActivateVirtualMFA(ctx, api, "alice", "", "12345x", "654321")
	if !errors.Is(err, iamguard.ErrMFACode) || strings.Contains(err.Error(), "12345x") {
		t.Errorf("err = %v, want ErrMFACode without the code", err)
	}
}
