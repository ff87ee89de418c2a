package main

import (
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/internal/vulnapp"
	"github.com/awsguard/awsguard/waf"
)

func probe(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "sqli-probe", run, append([]string{"-rate", "100"}, args...)...)
}

func TestSQLiProbe(t *testing.T) {
	app, err := vulnapp.New()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	protected, err := vulnapp.Protect(app)
	if err != nil {
		t.Fatal(err)
	}
	bare, guarded, blockAll := httptest.NewServer(app), httptest.NewServer(protected), httptest.NewServer(vulnapp.BlockAll())
	defer bare.Close()
	defer guarded.Close()
	defer blockAll.Close()

	r := probe(t, "-success-marker", vulnapp.Welcome, bare.URL)
	if r.Code != 3 || !strings.Contains(r.Stdout, "passed, logged in") || !strings.HasPrefix(r.LastLine(), "sqli-probe: not protected: attacks-passed (") {
		t.Errorf("bare: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r = probe(t, "-format", "json", guarded.URL)
	var rep waf.ProbeReport
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &rep) != nil || rep.Verdict != waf.VerdictProtected || r.Stderr != "" {
		t.Errorf("protected: exit %d, verdict %q\n%s", r.Code, rep.Verdict, r.Stderr)
	}
	if r = probe(t, "-format", "text", guarded.URL); r.Code != 0 || !strings.Contains(r.Stdout, "LOCATION") || !strings.Contains(r.Stdout, "verdict: protected") {
		t.Errorf("-format text: exit %d\n%s", r.Code, r.Stdout)
	}
	if r = probe(t, blockAll.URL); r.Code != 3 || !strings.Contains(r.Stderr, "benign-blocked") {
		t.Errorf("block all: exit %d %s", r.Code, r.Stderr)
	}
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	if r = probe(t, "-budget", "2", deadURL); r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 {
		t.Errorf("dead server: exit %d %s", r.Code, r.Stderr)
	}
}

// A server that never answers within -timeout: exit 1, naming -timeout.
func TestTimeout(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer slow.Close()
	start := time.Now()
	r := probe(t, "-timeout", "300ms", slow.URL)
	if took := time.Since(start); r.Code != 1 || took > 3*time.Second || !strings.Contains(r.LastLine(), "gave up after -timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := probe(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: sqli-probe [flags] URL", "-budget", "-rate", "-request-timeout", "-header", "-success-marker", "-format", "-timeout", "Exit codes"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
		// It calls no AWS API: no AWS flags.
		for _, not := range []string{"-profile", "-region", "-endpoint-url", "-attempt-timeout", "-print-policy"} {
			if strings.Contains(r.Stderr, not) {
				t.Errorf("%s: usage offers %s:\n%s", arg, not, r.Stderr)
			}
		}
	}
}

// A bad command line exits 2, prints usage, names the flag, and sends
// nothing.
func TestUsageErrors(t *testing.T) {
	var calls atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls.Add(1) }))
	defer target.Close()
	u := target.URL
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope", u}, "-nope"},
		{nil, "want exactly one URL, got 0"},
		{[]string{u, u}, `unexpected argument "` + u + `"`},
		{[]string{"ftp://x"}, `URL "ftp://x": want an absolute http or https URL`},
		{[]string{"-format", "xml", u}, `-format "xml"`},
		{[]string{"-budget", "-3", u}, `-budget "-3": want 0..10000`},
		{[]string{"-budget", "many", u}, "-budget"},
		{[]string{"-rate", "1000", u}, `-rate "1000": want 0..100`},
		{[]string{"-rate", "fast", u}, "-rate"},
		{[]string{"-request-timeout", "1h", u}, `-request-timeout "1h0m0s": want 0..5m`},
		{[]string{"-request-timeout", "soon", u}, "-request-timeout"},
		{[]string{"-header", "Bad Header", u}, `-header "Bad Header": want an HTTP header name`},
		{[]string{"-timeout", "0s", u}, "-timeout 0s"},
		{[]string{"-timeout", "never", u}, "-timeout"},
		{[]string{"-print-policy", u}, "-print-policy"},
		{[]string{"-region", "us-east-1", u}, "-region"},
	} {
		r := probe(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "sqli-probe: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: sqli-probe") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "ProbeOptions.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines sent %d requests", n)
	}
}
