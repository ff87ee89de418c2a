package waf_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/waf"
)

// attachScenario prepares an ALB before the faulted run.
type attachScenario struct {
	name string
	// setup returns the ALB; it may attach a first ACL.
	setup func(w *world, run string) string
	opts  func(o *waf.Options)
	want  []string
	// replace: the ALB has another ACL that the run replaces.
	replace bool
}

var attachScenarios = []attachScenario{
	{
		name:  "new ALB, create and associate",
		setup: func(w *world, run string) string { return w.alb(run) },
		opts:  func(o *waf.Options) {},
		want:  []string{waf.RuleGroupSQLi},
	},
	{
		name: "ACL lacks two groups, update",
		setup: func(w *world, run string) string {
			alb := w.alb(run)
			if _, err := waf.AttachSQLiACL(context.Background(), w.api(nil, nil), alb, fast, func(o *waf.Options) { o.Name = w.prefix + run }); err != nil {
				w.t.Fatal(err)
			}
			return alb
		},
		opts: func(o *waf.Options) { o.Common, o.KnownBadInputs = true, true },
		want: []string{waf.RuleGroupSQLi, waf.RuleGroupCommon, waf.RuleGroupKnownBadInputs},
	},
	{
		name: "another ACL on the ALB, replace",
		setup: func(w *world, run string) string {
			alb := w.alb(run)
			if _, err := waf.AttachSQLiACL(context.Background(), w.api(nil, nil), alb, fast, func(o *waf.Options) { o.Name = w.prefix + run + "-x" }); err != nil {
				w.t.Fatal(err)
			}
			return alb
		},
		opts:    func(o *waf.Options) { o.ReplaceExisting = true },
		want:    []string{waf.RuleGroupSQLi},
		replace: true,
	},
}

// Every call of AttachSQLiACL fails in turn, with each kind of fault; a
// re-run then converges: one ACL of the name, one copy of each group, the
// ALB associated with it.
func TestAttachFaultSweep(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	// A server error is refused before it takes effect, a cut connection
	// never reaches the service, a lost response took effect unseen: the
	// three outcomes a caller can meet (a throttle is a refusal too).
	kinds := []fault.Kind{fault.ServerError, fault.ConnectionReset, fault.ResponseLost}
	points, runs := 0, 0
	for si, sc := range attachScenarios {
		probeRun := fmt.Sprintf("p%d", si)
		alb := sc.setup(w, probeRun)
		probe := fault.New()
		named := func(run string) func(*waf.Options) { return func(o *waf.Options) { o.Name = w.prefix + run } }
		if _, err := waf.AttachSQLiACL(ctx, w.api(nil, probe), alb, fast, named(probeRun), sc.opts); err != nil {
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
			for _, kind := range kinds {
				runs++
				run := fmt.Sprintf("s%dr%d", si, runs)
				label := fmt.Sprintf("%s: call %d (%s) %s", sc.name, k, names[k-1], kind)
				alb := sc.setup(w, run)
				inj := fault.New(fault.Rule{Nth: k, Kind: kind})
				_, err := waf.AttachSQLiACL(ctx, w.api(nil, inj), alb, fast, named(run), sc.opts)
				if got := len(inj.Injected()); got != 1 {
					t.Errorf("%s: %d faults injected", label, got)
				}
				if err == nil && kind != fault.ResponseLost {
					t.Errorf("%s: no error", label)
				}
				var se *awsguard.StepError
				if errors.As(err, &se) && se.ToDo == "" {
					t.Errorf("%s: step error says nothing of what to do: %v", label, err)
				}
				// A fault after the other ACL came off puts it back.
				if sc.replace {
					if got := w.associated(alb); got == "" {
						t.Errorf("%s: the ALB was left without an ACL", label)
					}
				}
				if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, named(run), sc.opts); err != nil {
					t.Errorf("%s: re-run: %v", label, err)
					continue
				}
				w.checkAttached(label, alb, w.prefix+run, sc.want...)
			}
		}
	}
	if points == 0 {
		t.Fatal("no fault point covered")
	}
	t.Logf("fault points covered: %d calls x %d kinds = %d faulted runs, each followed by a re-run", points, len(kinds), runs)
}
