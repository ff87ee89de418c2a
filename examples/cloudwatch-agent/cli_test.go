package main

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/awsguard/awsguard/internal/clitest"
)

func runAgent(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "cloudwatch-agent", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runAgent(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: cloudwatch-agent [flags]", "-web", "-file", "-log-group-prefix", "-instance", "-retention", "-replace-profile", "-dry-run", "-endpoint-url", "-print-policy"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2, prints usage, names the flag, and calls
// nothing: with -instance, a bad -instance or -retention is found before
// the log groups are made.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	inst := []string{"-instance", "i-0123456789abcdef0"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-web", "iis"}, `-web "iis"`},
		{[]string{"-file", "relative.log=/awsguard/app"}, "-file"},
		{[]string{"-file", "/var/log/app.log"}, `-file "/var/log/app.log"`},
		{[]string{"-log-group-prefix", "no slash here!"}, "-log-group-prefix"},
		{[]string{"-instance", "web-1"}, `-instance "web-1"`},
		{[]string{"-instance", "web-1", "-dry-run"}, `-instance "web-1"`},
		{append(inst, "-retention", "4"), "-retention 4"},
		{[]string{"-retention", "0"}, "-retention 0"},
		{append(inst, "-retention", "long"), "-retention"},
		{[]string{"-replace-profile"}, "-replace-profile go with -instance"},
		{append(inst, "-replace-profile=maybe"), "-replace-profile"},
		{[]string{"-dry-run"}, "-dry-run and -replace-profile go with -instance"},
		{append(inst, "-dry-run=maybe"), "-dry-run"},
		{append(inst, "-format", "csv"), `-format "csv"`},
		{append(inst, "-region", "Seoul"), `-region "Seoul"`},
		{append(inst, "-endpoint-url", "localhost:4566"), "-endpoint-url"},
		{append(inst, "-timeout", "0s"), "-timeout 0s"},
		{append(inst, "-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{append(inst, "-print-policy=maybe"), "-print-policy"},
		{append(inst, "-profile", "nosuch"), `-profile "nosuch"`},
	} {
		r := runAgent(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "cloudwatch-agent: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: cloudwatch-agent") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "AgentRole.") || strings.Contains(last, "AgentConfig.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runAgent(t, "-instance", "i-0123456789abcdef0", "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
