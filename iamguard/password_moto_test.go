package iamguard_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

func ppRead(t *testing.T, api *iam.Client) *iamguard.PasswordPolicy {
	t.Helper()
	// EnablePasswordPolicy's dry run reads the policy without writing.
	ch, err := iamguard.EnablePasswordPolicy(context.Background(), api, iamguard.KISA.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil {
		t.Fatalf("read policy: %v", err)
	}
	return ch.Before
}

func ppDryRun(o *iamguard.PasswordPolicyOptions)      { o.DryRun = true }
func ppTightenOnly(o *iamguard.PasswordPolicyOptions) { o.TightenOnly = true }

func TestEnablePasswordPolicyMoto(t *testing.T) {
	env := awstest.New(t)
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	kisa := iamguard.KISA.Policy

	// Dry run: the plan, nothing written.
	ch, err := iamguard.EnablePasswordPolicy(ctx, api, kisa, ppDryRun)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Applied || !ch.DryRun || ch.Reason != iamguard.ReasonDryRun || ch.Before != nil || len(ch.Diff) != 9 {
		t.Errorf("dry run = %+v", ch)
	}
	if got := ppRead(t, api); got != nil {
		t.Fatalf("dry run wrote a policy: %+v", got)
	}

	// Apply: created, and every field round-trips.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, kisa)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Applied || ch.Reason != iamguard.ReasonCreated {
		t.Errorf("apply = %+v", ch)
	}
	if diff := cmp.Diff(&kisa, ppRead(t, api)); diff != "" {
		t.Errorf("policy after apply (-want +got):\n%s", diff)
	}

	// Idempotent.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, kisa)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Applied || ch.Reason != iamguard.ReasonAlreadyCompliant || len(ch.Diff) != 0 {
		t.Errorf("second run = %+v", ch)
	}

	// Tighten only: CIS merged into KISA keeps KISA's classes and age.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.CIS.Policy, ppTightenOnly)
	if err != nil {
		t.Fatal(err)
	}
	want := kisa
	want.MinimumPasswordLength, want.PasswordReusePrevention = 14, 24
	if diff := cmp.Diff(&want, ppRead(t, api)); diff != "" {
		t.Errorf("tightened policy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]iamguard.FieldChange{{Field: "MinimumPasswordLength", From: "8", To: "14"}, {Field: "PasswordReusePrevention", From: "0", To: "24"}}, ch.Diff); diff != "" {
		t.Errorf("tighten diff (-want +got):\n%s", diff)
	}
	if got := iamguard.Evaluate(ppRead(t, api), iamguard.CIS); got != nil {
		t.Errorf("after tightening with CIS: %v", got)
	}
	// Tightening with a weaker policy changes nothing.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.PasswordPolicy{MinimumPasswordLength: 6}, ppTightenOnly)
	if err != nil || ch.Applied || ch.Reason != iamguard.ReasonAlreadyCompliant {
		t.Errorf("weaker tighten-only = %+v, %v", ch, err)
	}
	// Without tighten-only the wanted policy replaces the current one.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.CIS.Policy)
	if err != nil || !ch.Applied {
		t.Fatalf("replace = %+v, %v", ch, err)
	}
	if diff := cmp.Diff(&iamguard.CIS.Policy, ppRead(t, api)); diff != "" {
		t.Errorf("replaced policy (-want +got):\n%s", diff)
	}

	// Restore the previous policy, then back to none.
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, ch.Before)
	if err != nil || !ch.Applied {
		t.Fatalf("restore = %+v, %v", ch, err)
	}
	if diff := cmp.Diff(&want, ppRead(t, api)); diff != "" {
		t.Errorf("restored policy (-want +got):\n%s", diff)
	}
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil, ppDryRun)
	if err != nil || ch.Applied || ch.Reason != iamguard.ReasonDryRun || ppRead(t, api) == nil {
		t.Fatalf("restore to none, dry run = %+v, %v", ch, err)
	}
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil)
	if err != nil || !ch.Applied || ch.Reason != iamguard.ReasonDeleted {
		t.Fatalf("restore to none = %+v, %v", ch, err)
	}
	if got := ppRead(t, api); got != nil {
		t.Errorf("policy after restore to none: %+v", got)
	}
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil)
	if err != nil || ch.Applied || ch.Reason != iamguard.ReasonAlreadyCompliant {
		t.Errorf("restore to none again = %+v, %v", ch, err)
	}
}

// A fault at every call of EnablePasswordPolicy, of every kind: a re-run
// converges on the right policy, and no stricter existing value is lost.
func TestEnablePasswordPolicyFaultSweep(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	existing := iamguard.PasswordPolicy{MinimumPasswordLength: 16, RequireSymbols: true, PasswordReusePrevention: 24, HardExpiry: true}
	starts := map[string]*iamguard.PasswordPolicy{"no policy": nil, "stricter policy": &existing}
	for name, start := range starts {
		wantFinal := iamguard.KISA.Policy
		if start != nil {
			wantFinal = iamguard.Stricter(*start, iamguard.KISA.Policy)
		}
		// Put the starting policy back through the API: a reset of the
		// emulator would reload its managed policies (seconds per case).
		seed := func(t *testing.T) {
			if _, err := iamguard.RestorePasswordPolicy(ctx, iam.NewFromConfig(env.Config()), start); err != nil {
				t.Fatal(err)
			}
		}
		seed(t)
		probe := fault.New()
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, probe.APIOption)
		if _, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), iamguard.KISA.Policy, ppTightenOnly); err != nil {
			t.Fatal(err)
		}
		n := len(probe.Calls())
		if n != 2 {
			t.Fatalf("%s: calls = %d, want 2 (get, update)", name, n)
		}
		for k := 1; k <= n; k++ {
			for _, kind := range fault.Kinds {
				t.Run(fmt.Sprintf("%s/call%d/%s", name, k, kind), func(t *testing.T) {
					seed(t)
					rule := fault.Rule{Nth: k, Kind: kind}
					if kind == fault.APIError {
						rule.Code, rule.Status = "ServiceFailure", 500
					}
					inj := fault.New(rule)
					cfg := env.Config()
					cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
					ch, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), iamguard.KISA.Policy, ppTightenOnly)
					if err == nil {
						t.Fatalf("no error with a fault at call %d: %+v", k, ch)
					}
					if ch != nil && ch.Applied {
						t.Errorf("a failed run claims Applied: %+v", ch)
					}
					plain := iam.NewFromConfig(env.Config())
					// The state is either the start or the target, never a mix.
					if got := ppRead(t, plain); !cmp.Equal(got, start) && !cmp.Equal(got, &wantFinal) {
						t.Errorf("state after the fault = %+v", got)
					}
					ch, err = iamguard.EnablePasswordPolicy(ctx, plain, iamguard.KISA.Policy, ppTightenOnly)
					if err != nil {
						t.Fatalf("re-run: %v", err)
					}
					lost := kind == fault.ResponseLost && k == 2 // the update took effect
					if ch.Applied == lost {
						t.Errorf("re-run Applied = %v (fault %s at call %d)", ch.Applied, kind, k)
					}
					if diff := cmp.Diff(&wantFinal, ppRead(t, plain)); diff != "" {
						t.Errorf("final policy (-want +got):\n%s", diff)
					}
					if ch, err := iamguard.EnablePasswordPolicy(ctx, plain, iamguard.KISA.Policy, ppTightenOnly); err != nil || ch.Applied {
						t.Errorf("third run = %+v, %v", ch, err)
					}
				})
			}
		}
	}
}
