package ec2recover_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/fault"
)

// sweepCase is a strategy swept by faultSweep.
type sweepCase struct {
	strategy ec2recover.Strategy
	// clients makes the recovery's clients with extra API options.
	clients func(w *world, opts ...func(*middleware.Stack) error) ec2recover.Clients
	// sharedPreflight skips the fault points of the preflight's reads,
	// which every strategy shares with the repair's sweep.
	sharedPreflight bool
	// setup prepares a fresh target; check asserts its final state, given
	// whether the recovery finished (else it was rolled back).
	setup func(w *world, label string)
	check func(w *world, label string, finished bool)
}

// faultSweep fails every API call of a recovery in turn, and the run is
// then rolled back in place, or left and resumed, or left and rolled back
// from its journal (the three taking turns). Afterwards the original root
// volume is attached under its original device name, the instance is in
// its prior state (running), and nothing tagged by the recovery is left;
// sc.check adds what the strategy must restore.
//
// The fault kinds: every mutating call gets a lost response (the call
// takes effect, the answer is lost) and one of throttling, 500 and a cut
// connection (the call takes no effect), those three taking turns; with
// AWSGUARD_FULL_SWEEP=1 it gets all four (about twice as long). A
// read-only call gets one of the three, taking turns; a read repeating
// the call just before it (a waiter's next poll) is not faulted again
// unless AWSGUARD_FULL_SWEEP=1.
func faultSweep(t *testing.T, sc sweepCase) {
	ctx := context.Background()
	w := newWorld(t, "running")
	strategy := func(o *ec2recover.Options) { o.Strategy = sc.strategy }
	sc.setup(w, "probe")
	probe := fault.New()
	if _, err := ec2recover.RecoverLostKeyPair(ctx, sc.clients(w, probe.APIOption), w.target, w.opts(strategy)...); err != nil {
		t.Fatalf("probe run: %v", err)
	}
	calls := probe.Calls()
	names := make([]string, len(calls))
	for i, c := range calls {
		names[i] = c.Service + "." + c.Operation
	}
	t.Logf("%d calls: %v", len(calls), names)
	sc.check(w, "after the probe", true)
	first := 1
	if sc.sharedPreflight {
		for first < len(calls) && readOnly(calls[first-1].Operation) {
			first++
		}
	}
	fresh := false // the probe's target is reused while a run leaves it as it was
	if sc.strategy == ec2recover.StrategyRelaunch {
		w.dispose()
		fresh = true
	}

	modes := []string{"rollback in place", "resume", "rollback from the journal"}
	points, mutating := sweepPoints(calls, first, os.Getenv("AWSGUARD_FULL_SWEEP") == "1")
	covered, failed, byMode := 0, 0, map[string]int{}
	kinds := map[fault.Kind]int{}
	for n, p := range points {
		k, kind, mode := p.k, p.kind, modes[n%len(modes)]
		kinds[kind]++
		label := fmt.Sprintf("%s: call %d (%s) %s, %s", sc.strategy, k, names[k-1], kind, mode)
		start := time.Now()
		if fresh {
			w.target, w.rootVol, w.rootDev = w.launch("running")
			sc.setup(w, label)
		}
		journal := ec2recover.FileJournal{Path: filepath.Join(w.dir, fmt.Sprintf("journal-%s-%d.json", sc.strategy, n))}
		inj := fault.New(fault.Rule{Nth: k, Kind: kind})
		finished := true
		_, err := ec2recover.RecoverLostKeyPair(ctx, sc.clients(w, inj.APIOption), w.target, w.opts(strategy, func(o *ec2recover.Options) {
			o.Journal = journal
			o.KeepOnFailure = mode != "rollback in place"
		})...)
		if n := len(inj.Injected()); n != 1 {
			t.Errorf("%s: %d faults injected", label, n)
			continue
		}
		covered++
		if err != nil {
			failed++
			byMode[mode]++
			finished = mode == "resume"
			var se *awsguard.StepError
			if errors.As(err, &se) && se.ToDo == "" && mode != "rollback in place" {
				t.Errorf("%s: the step error says nothing of what to do: %v", label, err)
			}
			// The SSM strategy has nothing to undo: its step error says to
			// run again (the key is appended once).
			if errors.As(err, &se) && mode == "rollback in place" && se.ToDo != "" && sc.strategy != ec2recover.StrategySSM {
				t.Errorf("%s: the rollback in place did not finish: %v", label, err)
			}
			switch mode {
			case "resume":
				rec, rerr := ec2recover.Resume(ctx, sc.clients(w), journal, w.opts()...)
				if errors.Is(rerr, ec2recover.ErrNoJournal) {
					finished = false // the run failed before its first change
				} else if rerr != nil {
					t.Errorf("%s: resume after %v: %v", label, err, rerr)
				} else if rerr == nil && rec.Reason != awsguard.ReasonApplied && rec.Reason != awsguard.ReasonAlreadyCompliant {
					t.Errorf("%s: resume reason %s", label, rec.Reason)
				}
			case "rollback from the journal":
				if _, rerr := ec2recover.Rollback(ctx, sc.clients(w), journal, w.opts()...); rerr != nil && !errors.Is(rerr, ec2recover.ErrNoJournal) {
					t.Errorf("%s: rollback after %v: %v", label, err, rerr)
				}
			}
		}
		sc.check(w, label, finished)
		// A finished relaunch leaves the old instance stopped: the next
		// run needs a fresh target.
		fresh = finished && sc.strategy == ec2recover.StrategyRelaunch
		if fresh {
			w.dispose()
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Logf("%s: slow, %v", label, d)
		}
		if t.Failed() {
			t.Fatalf("stopping the sweep at %s", label)
		}
	}
	t.Logf("%s: fault points covered: %d at %d of %d calls (from call %d; %d mutating), by kind %v; %d runs failed and were recovered (%v)",
		sc.strategy, covered, countCalls(points), len(calls), first, mutating, kinds, failed, byMode)
	if covered == 0 {
		t.Fatal("the sweep covered no fault point")
	}
}

// sweepPoint is one run of a sweep: the k-th call fails with kind.
type sweepPoint struct {
	k    int
	kind fault.Kind
}

// sweepPoints chooses the fault points of a sweep from call first on (see
// faultSweep), and counts the mutating calls among them.
func sweepPoints(calls []fault.Call, first int, full bool) ([]sweepPoint, int) {
	noEffect := []fault.Kind{fault.Throttle, fault.ServerError, fault.ConnectionReset}
	var points []sweepPoint
	mutating, turn := 0, 0
	next := func() fault.Kind { turn++; return noEffect[(turn-1)%len(noEffect)] }
	for k := first; k <= len(calls); k++ {
		c := calls[k-1]
		if readOnly(c.Operation) {
			if !full && k > 1 && calls[k-2].Service == c.Service && calls[k-2].Operation == c.Operation {
				continue
			}
			points = append(points, sweepPoint{k, next()})
			continue
		}
		mutating++
		if full {
			for _, kind := range append(slices.Clone(noEffect), fault.ResponseLost) {
				points = append(points, sweepPoint{k, kind})
			}
			continue
		}
		points = append(points, sweepPoint{k, fault.ResponseLost}, sweepPoint{k, next()})
	}
	return points, mutating
}

func countCalls(points []sweepPoint) int {
	seen := map[int]bool{}
	for _, p := range points {
		seen[p.k] = true
	}
	return len(seen)
}

func TestRepairFaultSweep(t *testing.T) {
	faultSweep(t, sweepCase{
		strategy: ec2recover.StrategyRepair,
		clients:  (*world).clients,
		setup:    func(*world, string) {},
		check:    func(w *world, label string, _ bool) { w.checkRestored(label, "running", false) },
	})
}

func TestUserDataFaultSweep(t *testing.T) {
	faultSweep(t, sweepCase{
		strategy:        ec2recover.StrategyUserData,
		sharedPreflight: true,
		clients:         (*world).bootClients,
		setup:           func(w *world, _ string) { w.setUserData(originalUserData) },
		check: func(w *world, label string, _ bool) {
			w.checkRestored(label, "running", false)
			w.checkUserData(label, originalUserData)
		},
	})
}

func TestRelaunchFaultSweep(t *testing.T) {
	faultSweep(t, sweepCase{
		strategy:        ec2recover.StrategyRelaunch,
		sharedPreflight: true,
		clients:         (*world).bootClients,
		setup:           func(w *world, _ string) { w.setUserData(originalUserData) },
		check: func(w *world, label string, finished bool) {
			if !finished {
				w.checkRestored(label, "running", false)
				w.checkUserData(label, originalUserData)
				w.checkNoImages(label)
				w.checkNoCopies(label)
				return
			}
			w.checkRelaunched(label)
		},
	})
}

// A dry run makes only read calls (and EC2's DryRun checks, which change
// nothing), and returns the plan an apply would carry out.
func checkRepairDryRun(t *testing.T, w *world) {
	ctx := context.Background()
	c, m := apicalls.New(), &mutations{}
	rec, err := ec2recover.RecoverLostKeyPair(ctx, w.clients(c.APIOption, m.APIOption), w.target, w.opts(func(o *ec2recover.Options) {
		o.Strategy = ec2recover.StrategyRepair
		o.DryRun = true
		o.KeyFile = filepath.Join(w.dir, "key")
	})...)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 0 {
		t.Errorf("dry run made mutating calls %v", m.calls)
	}
	if len(m.dryRuns) == 0 {
		t.Error("dry run made no DryRun check")
	}
	t.Logf("dry run: %d calls, %d of them DryRun checks: %s", c.Total(), len(m.dryRuns), c)
	if rec.Reason != awsguard.ReasonDryRun || rec.Applied || rec.Strategy != ec2recover.StrategyRepair || len(rec.Actions) < 10 {
		t.Errorf("reason %s applied %v strategy %s, %d actions", rec.Reason, rec.Applied, rec.Strategy, len(rec.Actions))
	}
	for _, a := range rec.Actions {
		if a.Outcome != awsguard.OutcomePlanned {
			t.Errorf("action %s is %s", a.Kind, a.Outcome)
		}
	}
	if got := strings.Join(rec.Describe(), "\n"); !strings.Contains(got, "reattach "+w.rootVol+" to "+w.target+" as /dev/xvda") {
		t.Errorf("plan does not reattach under the root device name:\n%s", got)
	}
	w.checkRestored("after the dry run", "running", false)
}

func readOnly(op string) bool {
	for _, p := range []string{"Describe", "Get", "List"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}

func TestSSMFaultSweep(t *testing.T) {
	faultSweep(t, sweepCase{
		strategy:        ec2recover.StrategySSM,
		sharedPreflight: true,
		clients: func(w *world, opts ...func(*middleware.Stack) error) ec2recover.Clients {
			c := w.clients(opts...)
			c.SSM = &guestSSM{RecoverSSM: c.SSM, online: map[string]bool{w.target: true}}
			return c
		},
		setup: func(*world, string) {},
		check: func(w *world, label string, _ bool) { w.checkRestored(label, "running", false) },
	})
}
