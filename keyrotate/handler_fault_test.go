package keyrotate_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// TestRotationFaultSweep fails every API call of every step, one at a
// time, with the kinds of fault faultKinds gives it (every kind with
// AWSGUARD_FULL_SWEEP=1), then runs the step again with the same
// token (as Secrets Manager does) and the remaining steps. After each fault
// the user holds at most two keys and AWSCURRENT's key authenticates (a
// real signed STS call, with moto enforcing authentication); after the
// re-run the rotation has completed, no orphan key remains, the new
// AWSCURRENT key authenticates.
//
// Two starting points: the first rotation (the user holds one key), and a
// second one (the user holds AWSCURRENT's and AWSPREVIOUS's keys, so
// createSecret must delete the latter).
func TestRotationFaultSweep(t *testing.T) {
	if testing.Short() && os.Getenv("AWSGUARD_REQUIRE_MOTO") != "1" {
		t.Skip("fault sweep: hundreds of moto calls; runs under -short only with AWSGUARD_REQUIRE_MOTO=1")
	}
	const tok = "00000000-0000-4000-8000-00000000fa17"
	points := 0
	// One moto state for the whole sweep (a reset costs seconds): each
	// case has its own user and secret.
	w := newSMWorld(t)
	n := 0
	for _, scenario := range []string{"first", "second"} {
		setup := func(t *testing.T, upTo int) *smFixture {
			n++
			f := w.newCase(t, fmt.Sprintf("u%d", n), fmt.Sprintf("s%d/access-key", n))
			if scenario == "second" {
				f.mustRotate(smToken(1))
			}
			h, _ := f.handler(tok)
			for _, s := range keyrotate.Steps[:upTo] {
				if _, err := f.step(h, s, tok); err != nil {
					t.Fatalf("%s before the fault: %v", s, err)
				}
			}
			return f
		}
		for si, step := range keyrotate.Steps {
			probe := fault.New()
			f := setup(t, si)
			h, _ := f.handler(tok, probe.APIOption)
			if _, err := f.step(h, step, tok); err != nil {
				t.Fatalf("%s/%s without faults: %v", scenario, step, err)
			}
			calls := probe.Calls()
			for k := 1; k <= len(calls); k++ {
				for _, kind := range faultKinds(calls[k-1].Service, calls[k-1].Operation) {
					name := fmt.Sprintf("%s/%s/%s.%s#%d/%s", scenario, step, calls[k-1].Service, calls[k-1].Operation, k, kind)
					t.Run(name, func(t *testing.T) {
						f := setup(t, si)
						startCur, _ := f.staged(keyrotate.StageCurrent)
						inj := fault.New(fault.Rule{Nth: k, Kind: kind})
						h, _ := f.handler(tok, inj.APIOption)
						_, stepErr := f.step(h, step, tok)
						if got := inj.Injected(); len(got) != 1 {
							t.Fatalf("injected %+v, want one fault", got)
						}
						f.checkSafe(t, "after the fault")
						// Secrets Manager runs the step again, then the rest.
						h, _ = f.handler(tok)
						for _, s := range keyrotate.Steps[si:] {
							if _, err := f.step(h, s, tok); err != nil {
								t.Fatalf("%s after the fault (step error was %v): %v", s, stepErr, err)
							}
							f.checkSafe(t, "after "+string(s))
						}
						cur, _ := f.staged(keyrotate.StageCurrent)
						if cur.AccessKeyID == startCur.AccessKeyID {
							t.Errorf("rotation did not complete: AWSCURRENT still %s", cur.AccessKeyID)
						}
						if o := f.orphans(); len(o) != 0 {
							t.Errorf("orphan keys left: %v", o)
						}
						if _, ok := f.staged(keyrotate.StagePending); ok {
							t.Error("AWSPENDING still staged")
						}
					})
					points++
				}
			}
		}
	}
	t.Logf("fault points covered: %d (calls of each step x their fault kinds, two starting points; AWSGUARD_FULL_SWEEP=1 for every kind everywhere), each followed by a re-run with the same token", points)
	if points == 0 {
		t.Error("the sweep covered no fault point")
	}
}

// checkSafe asserts the invariants that must hold at any moment.
func (f *smFixture) checkSafe(t *testing.T, when string) {
	t.Helper()
	keys := f.keys()
	if len(keys) > 2 {
		t.Fatalf("%s: %d keys", when, len(keys))
	}
	cur, ok := f.staged(keyrotate.StageCurrent)
	if !ok {
		t.Fatalf("%s: no AWSCURRENT", when)
	}
	if _, ok := keys[cur.AccessKeyID]; !ok {
		t.Fatalf("%s: AWSCURRENT key %s is not on the user", when, cur.AccessKeyID)
	}
	if err := f.authenticates(cur); err != nil {
		t.Fatalf("%s: AWSCURRENT key %s does not authenticate: %v", when, cur.AccessKeyID, err)
	}
}
