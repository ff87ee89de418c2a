package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/awsguard/awsguard/internal/vulnapp"
	"github.com/awsguard/awsguard/waf"
)

func probe(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"-rate", "100"}, args...), &out, &errOut)
	return exitCode(&errOut, err), out.String(), errOut.String()
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

	code, out, stderr := probe(t, "-success-marker", vulnapp.Welcome, bare.URL)
	if code != 3 || !strings.Contains(out, "passed, logged in") || !strings.Contains(stderr, "attacks-passed") {
		t.Errorf("bare: exit %d\n%s%s", code, out, stderr)
	}
	code, out, stderr = probe(t, "-format", "json", guarded.URL)
	var rep waf.ProbeReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Verdict != waf.VerdictProtected {
		t.Errorf("protected: exit %d, verdict %q\n%s", code, rep.Verdict, stderr)
	}
	if code, _, stderr = probe(t, blockAll.URL); code != 3 || !strings.Contains(stderr, "benign-blocked") {
		t.Errorf("block all: exit %d %s", code, stderr)
	}
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	if code, _, stderr = probe(t, "-budget", "2", deadURL); code != 1 {
		t.Errorf("dead server: exit %d %s", code, stderr)
	}
	for _, args := range [][]string{{}, {"-format", "xml", bare.URL}, {"ftp://x"}, {"-budget", "-3", bare.URL}, {"-nope"}} {
		if code, _, stderr := probe(t, args...); code != 2 || strings.Count(stderr, "\n") < 1 {
			t.Errorf("%v: exit %d %q", args, code, stderr)
		}
	}
	if code, _, _ := probe(t, "-h"); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
}
