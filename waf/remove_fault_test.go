package waf_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/waf"
)

// Every call of RemoveSQLiACL (forced: moto cannot list an ACL's
// resources) fails in turn; a re-run leaves no ACL and the ALB without
// one.
func TestRemoveFaultSweep(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	setup := func(run string) (string, func(*waf.RemoveOptions)) {
		alb := w.alb(run)
		if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), alb, fast, func(o *waf.Options) { o.Name = w.prefix + run }); err != nil {
			t.Fatal(err)
		}
		return alb, func(o *waf.RemoveOptions) { o.Name, o.Force = w.prefix+run, true }
	}
	alb, opts := setup("p")
	probe := fault.New()
	if _, err := waf.RemoveSQLiACL(ctx, w.wafWith(nil, probe), alb, opts); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range probe.Calls() {
		names = append(names, c.Operation)
	}
	t.Logf("%d calls: %v", len(names), names)
	runs := 0
	for k := 1; k <= len(names); k++ {
		for _, kind := range []fault.Kind{fault.ServerError, fault.ResponseLost} {
			runs++
			run := fmt.Sprintf("r%d", runs)
			label := fmt.Sprintf("call %d (%s) %s", k, names[k-1], kind)
			alb, opts := setup(run)
			inj := fault.New(fault.Rule{Nth: k, Kind: kind})
			_, _ = waf.RemoveSQLiACL(ctx, w.wafWith(nil, inj), alb, opts)
			if len(inj.Injected()) != 1 {
				t.Errorf("%s: %d faults", label, len(inj.Injected()))
			}
			if _, err := waf.RemoveSQLiACL(ctx, w.waf, alb, opts); err != nil {
				t.Errorf("%s: re-run: %v", label, err)
			}
			if got := w.associated(alb); got != "" {
				t.Errorf("%s: the ALB still has %s", label, got)
			}
			if _, ok := w.acls(w.prefix + run)[w.prefix+run]; ok {
				t.Errorf("%s: the ACL is left", label)
			}
		}
	}
	t.Logf("fault points covered: %d calls x 2 kinds = %d faulted runs, each followed by a re-run", len(names), runs)
}

// Every mutating call of DisableHTTPS fails in turn (a failed read changes
// nothing); a re-run leaves HTTP forwarding, no HTTPS listener, no
// certificate, no validation or alias record.
func TestDisableHTTPSFaultSweep(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	alias := func(o *waf.HTTPSOptions) { o.AliasRecord = true }
	enabled := func(name string) site {
		s := w.site(name)
		if _, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, nil), s.alb, s.domain, s.zone, httpsFast, alias); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := enabled("p")
	probe := fault.New()
	if _, err := waf.DisableHTTPS(ctx, w.httpsAPI(nil, probe), s.alb, s.domain, s.zone, httpsFast, alias); err != nil {
		t.Fatal(err)
	}
	type point struct {
		op  string
		nth int
	}
	var points []point
	seen := map[string]int{}
	for _, c := range probe.Calls() {
		seen[c.Operation]++
		if slices.Contains(mutating, c.Operation) {
			points = append(points, point{c.Operation, seen[c.Operation]})
		}
	}
	t.Logf("mutating calls: %v", points)
	runs := 0
	for i, pt := range points {
		for _, kind := range []fault.Kind{fault.ServerError, fault.ResponseLost} {
			runs++
			label := fmt.Sprintf("%s #%d %s", pt.op, pt.nth, kind)
			s := enabled(fmt.Sprintf("d%d%s", i, kind.String()[:1]))
			inj := fault.New(fault.Rule{Operation: pt.op, Nth: pt.nth, Kind: kind})
			_, _ = waf.DisableHTTPS(ctx, w.httpsAPI(nil, inj), s.alb, s.domain, s.zone, httpsFast, alias)
			if len(inj.Injected()) != 1 {
				t.Errorf("%s: %d faults", label, len(inj.Injected()))
			}
			if st := w.state(s); st.http80 != "forward" && st.https443 == "" {
				t.Errorf("%s: the ALB serves neither HTTP nor HTTPS: %+v", label, st)
			}
			if _, err := waf.DisableHTTPS(ctx, w.httpsAPI(nil, nil), s.alb, s.domain, s.zone, httpsFast, alias); err != nil {
				t.Errorf("%s: re-run: %v", label, err)
				continue
			}
			if st := w.state(s); len(st.certs) != 0 || st.http80 != "forward" || st.https443 != "" || st.cnames != 0 || st.alias {
				t.Errorf("%s: after the re-run: %+v", label, st)
			}
		}
	}
	if runs == 0 {
		t.Fatal("no fault point covered")
	}
	t.Logf("fault points covered: %d mutating calls x 2 kinds = %d faulted runs, each followed by a re-run", len(points), runs)
}
