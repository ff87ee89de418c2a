package waf_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/vulnapp"
	"github.com/awsguard/awsguard/waf"
)

func probeFast(o *waf.ProbeOptions) {
	o.Rate, o.Timeout, o.SuccessMarker = 100, 5*time.Second, vulnapp.Welcome
}

func newApp(t *testing.T) *vulnapp.App {
	t.Helper()
	app, err := vulnapp.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	return app
}

func logReport(t *testing.T, rep *waf.ProbeReport) {
	t.Helper()
	for _, r := range rep.Results {
		t.Logf("%-7s %-18s attack=%-5v status=%d blocked=%-5v got_in=%v %s", r.Location, r.Payload, r.Attack, r.Status, r.Blocked, r.GotIn, r.Error)
	}
	t.Logf("verdict %s: attacks %d sent, %d blocked, %d passed, %d got in; benign %d sent, %d passed, %d blocked",
		rep.Verdict, rep.AttacksSent, rep.AttacksBlocked, rep.AttacksPassed, rep.AttacksGotIn, rep.BenignSent, rep.BenignPassed, rep.BenignBlocked)
}

// The bare vulnerable app: the injections log in, in every location.
func TestProbeBareApp(t *testing.T) {
	app := newApp(t)
	srv := httptest.NewServer(app)
	defer srv.Close()
	rep, err := waf.Probe(context.Background(), srv.URL+"/login", probeFast)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if rep.Verdict != waf.VerdictAttacksPassed || rep.AttacksBlocked != 0 || rep.BenignPassed != rep.BenignSent {
		t.Errorf("verdict %s", rep.Verdict)
	}
	gotIn := map[waf.Location]int{}
	for _, r := range rep.Results {
		if r.GotIn {
			gotIn[r.Location]++
		}
		if !r.Attack && r.GotIn != (r.Payload == "benign-password") {
			t.Errorf("benign %s in %s: status %d, got in %v", r.Payload, r.Location, r.Status, r.GotIn)
		}
	}
	for _, l := range waf.Locations {
		// The tautologies, UNION, inline comments and mixed case get in.
		if gotIn[l] < 1+5 {
			t.Errorf("%s: %d requests logged in, want the right password and at least 5 injections", l, gotIn[l])
		}
	}
	if want := int64(rep.AttacksGotIn + len(waf.Locations)); want != app.Logins() {
		t.Errorf("the app counted %d logins, the probe %d", app.Logins(), want)
	}
}

// Behind Coraza with the Core Rule Set: every injection blocked, benign
// logins pass.
func TestProbeBehindCoraza(t *testing.T) {
	app := newApp(t)
	h, err := vulnapp.Protect(app)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	rep, err := waf.Probe(context.Background(), srv.URL+"/login", probeFast)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, rep)
	if rep.Verdict != waf.VerdictProtected || rep.AttacksGotIn != 0 || rep.BenignPassed != rep.BenignSent {
		t.Errorf("verdict %s", rep.Verdict)
	}
	if app.Logins() != int64(len(waf.Locations)) {
		t.Errorf("logins %d, want only the right password's, once per location", app.Logins())
	}
}

// A server that blocks everything is reported as breaking benign traffic.
func TestProbeBlockAll(t *testing.T) {
	srv := httptest.NewServer(vulnapp.BlockAll())
	defer srv.Close()
	rep, err := waf.Probe(context.Background(), srv.URL, probeFast)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != waf.VerdictBenignBlocked || rep.BenignBlocked != rep.BenignSent || rep.AttacksBlocked != rep.AttacksSent {
		t.Errorf("verdict %s, %+v", rep.Verdict, rep)
	}
}

// The bounds: the budget stops the probe; the rate spaces requests; a
// slow answer times out; a redirect to another host is not followed; bad
// input is refused before any request; an unreachable server is an error.
func TestProbeBounds(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		case "/away":
			http.Redirect(w, r, "http://example.invalid/x", http.StatusFound)
		}
	}))
	defer srv.Close()

	rep, err := waf.Probe(ctx, srv.URL, probeFast, func(o *waf.ProbeOptions) { o.Budget = 7 })
	if err != nil || len(rep.Results) != 7 || !rep.Truncated || hits.Load() != 7 {
		t.Errorf("budget: err %v, %d results, truncated %v, hits %d", err, len(rep.Results), rep.Truncated, hits.Load())
	}
	start := time.Now()
	if _, err := waf.Probe(ctx, srv.URL, func(o *waf.ProbeOptions) { o.Budget, o.Rate = 4, 20 }); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("4 requests at 20/s took %v", d)
	}
	rep, err = waf.Probe(ctx, srv.URL+"/slow", probeFast, func(o *waf.ProbeOptions) { o.Budget, o.Timeout = 1, 50*time.Millisecond })
	if !errors.Is(err, waf.ErrProbeFailed) || rep.Results[0].Error == "" || rep.Verdict != waf.VerdictIncomplete {
		t.Errorf("timeout: err %v, %+v", err, rep)
	}
	hits.Store(0)
	rep, err = waf.Probe(ctx, srv.URL+"/away", probeFast, func(o *waf.ProbeOptions) { o.Budget = 1 })
	if err != nil || rep.Results[0].Status != http.StatusFound || rep.Results[0].Redirect == "" || hits.Load() != 1 {
		t.Errorf("redirect: err %v, %+v, hits %d", err, rep.Results, hits.Load())
	}
	for _, tc := range []struct {
		url   string
		opt   func(*waf.ProbeOptions)
		field string
	}{
		{"ftp://x/", nil, "url"},
		{"/relative", nil, "url"},
		{"http://u:p@host/", nil, "url"},
		{srv.URL, func(o *waf.ProbeOptions) { o.Budget = -1 }, "ProbeOptions.Budget"},
		{srv.URL, func(o *waf.ProbeOptions) { o.Rate = 1000 }, "ProbeOptions.Rate"},
		{srv.URL, func(o *waf.ProbeOptions) { o.Locations = []waf.Location{"path"} }, "ProbeOptions.Locations"},
		{srv.URL, func(o *waf.ProbeOptions) { o.Header = "Bad Header" }, "ProbeOptions.Header"},
	} {
		hits.Store(0)
		opt := tc.opt
		if opt == nil {
			opt = func(*waf.ProbeOptions) {}
		}
		_, err := waf.Probe(ctx, tc.url, opt)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field || hits.Load() != 0 {
			t.Errorf("%s: err = %v, hits %d", tc.field, err, hits.Load())
		}
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	if _, err := waf.Probe(ctx, deadURL, probeFast, func(o *waf.ProbeOptions) { o.Budget = 2 }); !errors.Is(err, waf.ErrProbeFailed) {
		t.Errorf("dead server: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := waf.Probe(cctx, srv.URL, probeFast); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
