package main

import (
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsguard/awsguard/internal/clitest"
)

func runRK(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "recover-keypair", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runRK(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: recover-keypair [flags]", "-instance", "-strategy", "-key-out", "-key-type", "-login-user", "-keep-snapshot",
			"-journal", "-resume", "-rollback", "-poll-delay", "-dry-run", "-endpoint-url", "-print-policy"} {
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
// nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	ok := []string{"-instance", "i-0123456789abcdef0", "-dry-run"}
	key := filepath.Join(t.TempDir(), "key.pem")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{append(ok, "extra"), `unexpected argument "extra"`},
		{nil, "-instance: required"},
		{[]string{"-instance", "web-1", "-dry-run"}, `-instance "web-1"`},
		{[]string{"-instance", "i-0123456789abcdef0"}, "-key-out: required"},
		{[]string{"-instance", "i-0123456789abcdef0", "-key-out", ""}, "-key-out: required"},
		{append(ok, "-strategy", "reboot"), `-strategy "reboot"`},
		{append(ok, "-key-type", "dsa"), `-key-type "dsa"`},
		{append(ok, "-login-user", "bad user;rm"), `-login-user "bad user;rm"`},
		{append(ok, "-keep-snapshot=maybe"), "-keep-snapshot"},
		{[]string{"-resume"}, "-journal: required"},
		{[]string{"-rollback"}, "-journal: required"},
		{[]string{"-resume", "-rollback", "-journal", "j"}, "choose one"},
		{[]string{"-resume", "-journal", "j", "-instance", "i-0123456789abcdef0"}, "-instance"},
		{[]string{"-resume=maybe"}, "-resume"},
		{[]string{"-rollback=maybe"}, "-rollback"},
		{append(ok, "-poll-delay", "0s"), "-poll-delay 0s"},
		{append(ok, "-poll-delay", "soon"), "-poll-delay"},
		{[]string{"-instance", "i-0123456789abcdef0", "-key-out", key, "-dry-run=maybe"}, "-dry-run"},
		{append(ok, "-format", "csv"), `-format "csv"`},
		{append(ok, "-region", "Seoul"), `-region "Seoul"`},
		{append(ok, "-endpoint-url", "localhost:4566"), "-endpoint-url"},
		{append(ok, "-timeout", "0s"), "-timeout 0s"},
		{append(ok, "-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{append(ok, "-print-policy=maybe"), "-print-policy"},
		{append(ok, "-profile", "nosuch"), `-profile "nosuch"`},
	} {
		r := runRK(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "recover-keypair: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: recover-keypair") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "Options.") || strings.Contains(last, "instanceID") {
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
	r := runRK(t, "-instance", "i-0123456789abcdef0", "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
