package iamguard_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

func ppRead(t *testing.T, api *iam.Client) *iamguard.PasswordPolicy {
	t.Helper()
	// EnablePasswordPolicy's dry run reads the policy without writing (and,
	// allowed to weaken, plans whatever the policy is).
	ch, err := iamguard.EnablePasswordPolicy(context.Background(), api, iamguard.KISA.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun, o.AllowWeaken = true, true })
	if err != nil {
		t.Fatalf("read policy: %v", err)
	}
	return ch.Before
}

func ppDryRun(o *iamguard.PasswordPolicyOptions)      { o.DryRun = true }
func ppAllowWeaken(o *iamguard.PasswordPolicyOptions) { o.AllowWeaken = true }

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
	if ch.Applied || !ch.DryRun || ch.Reason != awsguard.ReasonDryRun || ch.Before != nil || len(ch.Diff) != 9 {
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
	if !ch.Applied || ch.Reason != awsguard.ReasonApplied || ch.Before != nil || len(ch.Actions) != 1 || ch.Actions[0].Kind != iamguard.ActionUpdatePasswordPolicy {
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
	if ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant || len(ch.Diff) != 0 {
		t.Errorf("second run = %+v", ch)
	}

	// Tighten only (Stricter): CIS merged into KISA keeps KISA's classes
	// and age.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.Stricter(*ppRead(t, api), iamguard.CIS.Policy))
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
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.Stricter(*ppRead(t, api), iamguard.PasswordPolicy{MinimumPasswordLength: 6}))
	if err != nil || ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("weaker tighten-only = %+v, %v", ch, err)
	}
	// CIS alone would drop KISA's classes and age: refused, nothing written.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.CIS.Policy)
	if !errors.Is(err, awsguard.ErrWeakening) || ch.Applied || ch.Reason != awsguard.ReasonRefused {
		t.Fatalf("weakening replace = %+v, %v; want refused", ch, err)
	}
	if diff := cmp.Diff(&want, ppRead(t, api)); diff != "" {
		t.Errorf("policy after a refused change (-want +got):\n%s", diff)
	}
	// With AllowWeaken the wanted policy replaces the current one.
	ch, err = iamguard.EnablePasswordPolicy(ctx, api, iamguard.CIS.Policy, ppAllowWeaken)
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
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil, ppDryRun, ppAllowWeaken)
	if err != nil || ch.Applied || ch.Reason != awsguard.ReasonDryRun || ppRead(t, api) == nil {
		t.Fatalf("restore to none, dry run = %+v, %v", ch, err)
	}
	// Deleting a policy weakens it: refused unless allowed.
	if ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil); !errors.Is(err, awsguard.ErrWeakening) || ch.Applied || ppRead(t, api) == nil {
		t.Fatalf("restore to none without AllowWeaken = %+v, %v", ch, err)
	}
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil, ppAllowWeaken)
	if err != nil || !ch.Applied || ch.Reason != awsguard.ReasonApplied || ch.Actions[0].Kind != iamguard.ActionDeletePasswordPolicy {
		t.Fatalf("restore to none = %+v, %v", ch, err)
	}
	if got := ppRead(t, api); got != nil {
		t.Errorf("policy after restore to none: %+v", got)
	}
	ch, err = iamguard.RestorePasswordPolicy(ctx, api, nil)
	if err != nil || ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant {
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
			if _, err := iamguard.RestorePasswordPolicy(ctx, iam.NewFromConfig(env.Config()), start, ppAllowWeaken); err != nil {
				t.Fatal(err)
			}
		}
		seed(t)
		probe := fault.New()
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, probe.APIOption)
		if _, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), wantFinal); err != nil {
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
					ch, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), wantFinal)
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
					ch, err = iamguard.EnablePasswordPolicy(ctx, plain, wantFinal)
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
					if ch, err := iamguard.EnablePasswordPolicy(ctx, plain, wantFinal); err != nil || ch.Applied {
						t.Errorf("third run = %+v, %v", ch, err)
					}
				})
			}
		}
	}
}

// A stricter existing policy is never weakened by default: KISA over it
// is refused, dry run or not, with every weakened field named and the
// policy unchanged; with AllowWeaken it is applied.
func TestEnablePasswordPolicyRefusesWeakeningMoto(t *testing.T) {
	env := awstest.New(t)
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	strict := iamguard.PasswordPolicy{MinimumPasswordLength: 20, RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, AllowUsersToChangePassword: true,
		ExpirePasswords: true, MaxPasswordAge: 30, PasswordReusePrevention: 24, HardExpiry: true}
	if _, err := iamguard.EnablePasswordPolicy(ctx, api, strict); err != nil {
		t.Fatal(err)
	}
	wantFields := []string{"MinimumPasswordLength 20 -> 8", "MaxPasswordAge 30 -> 90", "PasswordReusePrevention 24 -> 0", "HardExpiry true -> false"}
	for _, opts := range [][]func(*iamguard.PasswordPolicyOptions){nil, {ppDryRun}} {
		ch, err := iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy, opts...)
		var we *awsguard.WeakeningError
		if !errors.As(err, &we) || !errors.Is(err, awsguard.ErrWeakening) {
			t.Fatalf("err = %v, want a WeakeningError", err)
		}
		var got []string
		for _, a := range we.Actions {
			got = append(got, a.Detail)
		}
		if d := cmp.Diff(wantFields, got); d != "" {
			t.Errorf("weakened fields (-want +got):\n%s", d)
		}
		for _, f := range wantFields {
			if !strings.Contains(err.Error(), f) {
				t.Errorf("error does not name %q: %v", f, err)
			}
		}
		if ch == nil || ch.Applied || ch.Reason != awsguard.ReasonRefused || len(ch.Actions) != 1 || !ch.Actions[0].Weakening {
			t.Errorf("change = %+v, want a refused plan with one weakening action", ch)
		}
		var weak []string
		for _, d := range ch.Diff {
			if d.Weakening {
				weak = append(weak, d.Field)
			}
		}
		if d := cmp.Diff([]string{"MinimumPasswordLength", "MaxPasswordAge", "PasswordReusePrevention", "HardExpiry"}, weak); d != "" {
			t.Errorf("diff's weakening fields (-want +got):\n%s", d)
		}
		if d := cmp.Diff(&strict, ppRead(t, api)); d != "" {
			t.Fatalf("a refused change altered the policy (-want +got):\n%s", d)
		}
	}
	ch, err := iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy, ppAllowWeaken)
	if err != nil || !ch.Applied || ch.Reason != awsguard.ReasonApplied {
		t.Fatalf("with AllowWeaken = %+v, %v", ch, err)
	}
	kisa := iamguard.KISA.Policy
	if d := cmp.Diff(&kisa, ppRead(t, api)); d != "" {
		t.Errorf("policy after AllowWeaken (-want +got):\n%s", d)
	}
	// The undo puts the stricter policy back without AllowWeaken: it
	// tightens.
	if ch, err = iamguard.RestorePasswordPolicy(ctx, api, ch.Before); err != nil || !ch.Applied {
		t.Fatalf("restore = %+v, %v", ch, err)
	}
	if d := cmp.Diff(&strict, ppRead(t, api)); d != "" {
		t.Errorf("restored policy (-want +got):\n%s", d)
	}
}
