package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// rotScenario sets up a user before a rotation and returns the options.
type rotScenario struct {
	name  string
	setup func(w *rotWorld)
	opts  func(w *rotWorld) func(*keyrotate.Options)
}

var rotScenarios = []rotScenario{
	{
		name:  "one key, delete old",
		setup: func(w *rotWorld) { w.addKey(types.StatusTypeActive) },
		opts: func(w *rotWorld) func(*keyrotate.Options) {
			return func(o *keyrotate.Options) { o.Deliver, o.Verify, o.DeleteOld = w.deliver, rotFast, true }
		},
	},
	{
		name: "inactive key makes room, old kept for grace",
		setup: func(w *rotWorld) {
			w.addKey(types.StatusTypeInactive)
			w.addKey(types.StatusTypeActive)
		},
		opts: func(w *rotWorld) func(*keyrotate.Options) {
			return func(o *keyrotate.Options) { o.Deliver, o.Verify = w.deliver, rotFast }
		},
	},
}

// checkSafe asserts what must hold after any fault: at most two keys, and
// at least one Active key that authenticates with a real signed call.
func checkSafe(t *testing.T, w *rotWorld, label string) {
	t.Helper()
	if n := len(w.keys()); n > 2 {
		t.Errorf("%s: %d keys", label, n)
	}
	if len(w.workingActiveKeys()) == 0 {
		t.Errorf("%s: no active key authenticates; keys %v", label, w.keys())
	}
}

// checkConverged asserts the state after a clean re-run: one Active key,
// the last delivered, which authenticates; every other key is one we know
// (no orphan whose secret nobody holds) and Inactive; no rotation record.
func checkConverged(t *testing.T, w *rotWorld, label string) {
	t.Helper()
	last, ok := w.lastDelivered()
	if !ok {
		t.Errorf("%s: nothing delivered", label)
		return
	}
	for _, k := range w.keys() {
		w.mu.Lock()
		_, known := w.secrets[k.ID]
		w.mu.Unlock()
		switch {
		case !known:
			t.Errorf("%s: orphan key %s (%s) remains", label, k.ID, k.Status)
		case k.ID == last.AccessKeyID && k.Status != types.StatusTypeActive:
			t.Errorf("%s: the delivered key %s is %s", label, k.ID, k.Status)
		case k.ID != last.AccessKeyID && k.Status != types.StatusTypeInactive:
			t.Errorf("%s: key %s besides the delivered one is %s", label, k.ID, k.Status)
		}
	}
	if got := w.workingActiveKeys(); len(got) != 1 || got[0] != last.AccessKeyID {
		t.Errorf("%s: working active keys %v, want [%s]", label, got, last.AccessKeyID)
	}
	if v, ok := w.tags()[keyrotate.TagRotation]; ok {
		t.Errorf("%s: rotation record left: %q", label, v)
	}
}

// Every API call of RotateAccessKey fails in turn, with the kinds of fault
// faultKinds gives it (every kind with AWSGUARD_FULL_SWEEP=1);
// the user keeps a working key throughout, and a re-run converges.
func TestRotateFaultSweep(t *testing.T) {
	ctx := context.Background()
	points, runs, resumed := 0, 0, 0
	for _, sc := range rotScenarios {
		// Learn the calls of an undisturbed run.
		base := newRotWorld(t, "probe")
		sc.setup(base)
		probe := fault.New()
		if _, err := keyrotate.RotateAccessKey(ctx, base.clients(probe), "probe", sc.opts(base)); err != nil {
			t.Fatalf("%s: probe run: %v", sc.name, err)
		}
		calls := probe.Calls()
		var names []string
		for _, c := range calls {
			names = append(names, c.Service+"."+c.Operation)
		}
		t.Logf("%s: %d calls: %v", sc.name, len(calls), names)
		points += len(calls)

		for k := 1; k <= len(calls); k++ {
			for _, kind := range faultKinds(calls[k-1].Service, calls[k-1].Operation) {
				label := fmt.Sprintf("%s: call %d (%s) %s", sc.name, k, names[k-1], kind)
				runs++
				// A fresh user on the same emulator, cheaper than a reset.
				user := fmt.Sprintf("app-%d", runs)
				w := base.sibling(user)
				sc.setup(w)
				inj := fault.New(fault.Rule{Nth: k, Kind: kind})
				_, err := keyrotate.RotateAccessKey(ctx, w.clients(inj), user, sc.opts(w))
				if got := len(inj.Injected()); got != 1 {
					t.Errorf("%s: %d faults injected", label, got)
				}
				var se *awsguard.StepError
				if err != nil && errors.As(err, &se) && se.ToDo == "" {
					t.Errorf("%s: step error says nothing of what to do: %v", label, err)
				}
				checkSafe(t, w, label+" (after the fault)")

				delivered := len(w.store)
				rot, err := keyrotate.RotateAccessKey(ctx, w.clients(nil), user, sc.opts(w))
				if errors.Is(err, keyrotate.ErrRotationInProgress) {
					// The delivery was not recorded: the re-run refuses to
					// guess, and the caller names the key its software uses.
					last, ok := w.lastDelivered()
					if se == nil || se.Step != keyrotate.ActionRecordDelivery || !ok {
						t.Errorf("%s: re-run refused after %v: %v", label, se, err)
						continue
					}
					if w.status(last.AccessKeyID) != types.StatusTypeActive {
						t.Errorf("%s: the refusing re-run touched the delivered key: %v", label, w.keys())
					}
					rot, err = keyrotate.RotateAccessKey(ctx, w.clients(nil), user, sc.opts(w), func(o *keyrotate.Options) { o.InUseKeyID = last.AccessKeyID })
				}
				if err != nil {
					t.Errorf("%s: re-run: %v", label, err)
					continue
				}
				// A run that failed after the delivery was recorded is
				// finished by the re-run, not rotated again.
				if se != nil && slices.Contains([]string{keyrotate.ActionRecordDelivery, keyrotate.ActionDeactivateKey, keyrotate.ActionRecordDeactivation,
					keyrotate.ActionDeleteOldKey, keyrotate.ActionClearRecord}, se.Step) {
					resumed++
					if !rot.Resumed || len(w.store) != delivered {
						t.Errorf("%s: re-run resumed %v, delivered %d more keys", label, rot.Resumed, len(w.store)-delivered)
					}
				}
				checkConverged(t, w, label+" (after the re-run)")
			}
		}
	}
	t.Logf("fault points covered: %d calls, %d faulted runs (faultKinds per call), each followed by a re-run (%d re-runs finished a delivered rotation)", points, runs, resumed)
	if points == 0 || runs == 0 {
		t.Error("the sweep covered no fault point")
	}
}

// A failed delivery whose rollback also fails leaves an orphan that a
// re-run removes; the old key stays active throughout.
func testRotateRollbackFailsThenReRun(t *testing.T) {
	ctx := context.Background()
	w := newRotWorld(t, "app")
	a := w.addKey(types.StatusTypeActive)
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "DeleteAccessKey", Nth: 1, Kind: fault.ServerError})
	failing := func(context.Context, keyrotate.AccessKey) error { return errors.New("vault sealed") }
	_, err := keyrotate.RotateAccessKey(ctx, w.clients(inj), w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify = failing, rotFast })
	var se *awsguard.StepError
	if !errors.As(err, &se) || se.Step != keyrotate.ActionDeliverKey || len(se.RolledBack) != 0 {
		t.Fatalf("err = %v", err)
	}
	t.Logf("step error: %v", se)
	if len(w.keys()) != 2 || w.status(a.AccessKeyID) != types.StatusTypeActive {
		t.Fatalf("keys after the failed rollback: %v", w.keys())
	}
	checkSafe(t, w, "after the failed rollback")
	rot, err := keyrotate.RotateAccessKey(ctx, w.clients(nil), w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify = w.deliver, rotFast })
	if err != nil {
		t.Fatal(err)
	}
	if rot.OldKeys[0].Outcome != keyrotate.OutcomeOrphanDeleted {
		t.Errorf("old keys: %+v", rot.OldKeys)
	}
	checkConverged(t, w, "after the re-run")
}

// A run interrupted after the delivery but before the delivery is recorded
// (the context cancelled inside Deliver, as Ctrl-C in rotate-key does, or
// TagUser failing, even followed by a failing UpdateAccessKey): the
// delivered key is never deleted by a re-run that is not told which key is
// in use, and a re-run told by InUseKeyID converges to one working active
// key and no orphan.
func TestRotateInterruptedAfterDelivery(t *testing.T) {
	type interrupt struct {
		name string
		// run makes the interrupted rotation.
		run func(w *rotWorld, sc rotScenario) error
	}
	interrupts := []interrupt{
		{"context cancelled inside Deliver", func(w *rotWorld, sc rotScenario) error {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, err := keyrotate.RotateAccessKey(ctx, w.clients(nil), w.user, sc.opts(w), func(o *keyrotate.Options) {
				o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
					err := w.deliver(ctx, k)
					cancel() // delivered, then interrupted
					return err
				}
			})
			return err
		}},
		{"TagUser fails after delivery, then UpdateAccessKey", func(w *rotWorld, sc rotScenario) error {
			// TagUser 1 records the intent, 2 the new key, 3 the delivery.
			inj := fault.New(fault.Rule{Service: "IAM", Operation: "TagUser", Nth: 3, Kind: fault.ServerError},
				fault.Rule{Service: "IAM", Operation: "UpdateAccessKey", Nth: 1, Kind: fault.ServerError})
			_, err := keyrotate.RotateAccessKey(context.Background(), w.clients(inj), w.user, sc.opts(w))
			return err
		}},
	}
	ctx := context.Background()
	var base *rotWorld
	n := 0
	for _, sc := range rotScenarios {
		for _, in := range interrupts {
			for _, name := range []string{"new", "old"} {
				label := fmt.Sprintf("%s: %s: caller names the %s key in use", sc.name, in.name, name)
				n++
				user := fmt.Sprintf("int-%d", n)
				var w *rotWorld
				if base == nil {
					base = newRotWorld(t, user)
					w = base
				} else {
					w = base.sibling(user)
				}
				sc.setup(w)
				var oldID string
				for _, k := range w.keys() {
					if k.Status == types.StatusTypeActive {
						oldID = k.ID
					}
				}
				err := in.run(w, sc)
				var se *awsguard.StepError
				if !errors.As(err, &se) || se.Step != keyrotate.ActionRecordDelivery || !strings.Contains(se.ToDo, "InUseKeyID") {
					t.Fatalf("%s: err = %v, want a StepError at %s that says what to name", label, err, keyrotate.ActionRecordDelivery)
				}
				nk, ok := w.lastDelivered()
				if !ok {
					t.Fatalf("%s: nothing delivered", label)
				}
				checkSafe(t, w, label+" (after the interruption)")
				if w.status(nk.AccessKeyID) != types.StatusTypeActive || w.status(oldID) != types.StatusTypeActive {
					t.Fatalf("%s: keys after the interruption: %v", label, w.keys())
				}

				// Not told which key is in use, the re-run refuses and
				// deletes nothing.
				_, err = keyrotate.RotateAccessKey(ctx, w.clients(nil), w.user, sc.opts(w))
				if !errors.Is(err, keyrotate.ErrRotationInProgress) || !strings.Contains(err.Error(), nk.AccessKeyID) {
					t.Errorf("%s: re-run without InUseKeyID: err = %v, want ErrRotationInProgress naming %s", label, err, nk.AccessKeyID)
				}
				if w.status(nk.AccessKeyID) != types.StatusTypeActive || w.status(oldID) != types.StatusTypeActive || len(w.store) != 1 {
					t.Fatalf("%s: the refusing re-run changed keys: %v (%d deliveries)", label, w.keys(), len(w.store))
				}
				if _, err := keyrotate.FinishRotation(ctx, w.iam, w.user, 0); !errors.Is(err, keyrotate.ErrRotationInProgress) {
					t.Errorf("%s: FinishRotation: err = %v", label, err)
				}

				inUse := nk.AccessKeyID
				if name == "old" {
					inUse = oldID
				}
				rot, err := keyrotate.RotateAccessKey(ctx, w.clients(nil), w.user, sc.opts(w), func(o *keyrotate.Options) { o.InUseKeyID = inUse })
				if err != nil {
					t.Fatalf("%s: re-run: %v", label, err)
				}
				if name == "new" {
					// Finished, not rotated again: the delivered key stays.
					if !rot.Resumed || len(w.store) != 1 || rot.NewKey == nil || rot.NewKey.AccessKeyID != nk.AccessKeyID {
						t.Errorf("%s: re-run resumed %v, %d deliveries, new key %+v", label, rot.Resumed, len(w.store), rot.NewKey)
					}
				} else if w.status(nk.AccessKeyID) != "" || len(w.store) != 2 {
					// The caller said the old key is in use: the undelivered
					// key goes and a fresh one is delivered.
					t.Errorf("%s: keys %v after %d deliveries", label, w.keys(), len(w.store))
				}
				checkConverged(t, w, label+" (after the re-run)")
			}
		}
	}
	t.Logf("interruption points covered: %d (%d scenarios x %d interruptions x 2 answers)", n, len(rotScenarios), len(interrupts))
	if n == 0 {
		t.Error("the sweep covered no interruption point")
	}
}
