package iamguard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

// A fault at any operation of Audit never turns into a wrong verdict: every
// finding is the fault-free one or an ERROR, the report still covers every
// check, and the error says the audit is incomplete.
func TestAuditFaultSweep(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	if err := auditSeedUsers(ctx, iam.NewFromConfig(env.Config()), 12, 4, auditMixedUser); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// A first run generates the credential report, so that every run of the
	// sweep makes the same calls.
	if _, err := iamguard.Audit(ctx, iam.NewFromConfig(env.Config()), auditHundredDaysOn(start)); err != nil {
		t.Fatal(err)
	}
	probe := fault.New()
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, probe.APIOption)
	clean, err := iamguard.Audit(ctx, iam.NewFromConfig(cfg), auditHundredDaysOn(start))
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]string]awsguard.Status{}
	for _, f := range clean.Findings {
		want[[2]string{f.Check, f.Resource}] = f.Status
	}
	// Audit reads its sources concurrently, so the sweep fails each
	// operation in turn rather than the k-th call.
	var ops []string
	for _, c := range probe.Calls() {
		if !slices.Contains(ops, c.Operation) {
			ops = append(ops, c.Operation)
		}
	}
	if len(ops) != 5 {
		t.Fatalf("operations = %v", ops)
	}
	for _, op := range ops {
		for _, kind := range []fault.Kind{fault.ServerError, fault.ConnectionReset, fault.APIError} {
			t.Run(fmt.Sprintf("%s-%s", op, kind), func(t *testing.T) {
				rule := fault.Rule{Service: "IAM", Operation: op, Nth: 1, Kind: kind}
				if kind == fault.APIError {
					rule.Code, rule.Status = "AccessDenied", 403
				}
				inj := fault.New(rule)
				cfg := env.Config()
				cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
				rep, err := iamguard.Audit(ctx, iam.NewFromConfig(cfg), auditHundredDaysOn(start))
				if !errors.Is(err, iamguard.ErrAuditIncomplete) {
					t.Fatalf("err = %v, want ErrAuditIncomplete", err)
				}
				if rep == nil {
					t.Fatal("no report")
				}
				errs := 0
				for _, f := range rep.Findings {
					if f.Status == awsguard.StatusError {
						errs++
						if len(f.Evidence) == 0 {
							t.Errorf("ERROR without evidence: %+v", f)
						}
						continue
					}
					if w, ok := want[[2]string{f.Check, f.Resource}]; !ok || w != f.Status {
						t.Errorf("%s %s = %s, fault-free %s", f.Check, f.Resource, f.Status, w)
					}
				}
				if errs == 0 {
					t.Error("a failed source produced no ERROR finding")
				}
				if got, want := rep.Checks(), clean.Checks(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("checks = %v, want %v", got, want)
				}
			})
		}
	}
}
