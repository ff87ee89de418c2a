package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func motoEnv(t *testing.T) (*awstest.Env, *iam.Client) {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	return env, iam.NewFromConfig(env.Config())
}

func runPP(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "password-policy", run, args...)
}

func runJSON(t *testing.T, args ...string) iamguard.PasswordPolicyChange {
	t.Helper()
	r := runPP(t, append([]string{"-format", "json"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("run %v: code %d, %s", args, r.Code, r.Stderr)
	}
	var ch iamguard.PasswordPolicyChange
	if err := json.Unmarshal([]byte(r.Stdout), &ch); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.Stdout)
	}
	return ch
}

func TestPasswordPolicyFlow(t *testing.T) {
	_, api := motoEnv(t)
	ch := runJSON(t, "-dry-run")
	if ch.Applied || !ch.DryRun || ch.Before != nil || len(ch.Diff) != 9 {
		t.Errorf("dry run = %+v", ch)
	}
	ch = runJSON(t)
	if !ch.Applied || ch.Reason != awsguard.ReasonApplied || ch.Before != nil {
		t.Errorf("apply = %+v", ch)
	}
	ch = runJSON(t)
	if ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("second apply = %+v", ch)
	}
	// CIS over KISA would drop the classes and the age: refused, naming
	// the flag and each field, and nothing changes.
	r := runPP(t, "-preset", "cis")
	if !errors.Is(r.Err, awsguard.ErrWeakening) || r.Stdout != "" || r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("cis over kisa: code %d, err = %v, stdout %q, stderr %q", r.Code, r.Err, r.Stdout, r.Stderr)
	}
	for _, w := range []string{"-allow-weaken", "-preset cis", "RequireSymbols true -> false", "MaxPasswordAge 90 -> 0", "nothing was changed"} {
		if !strings.Contains(r.Stderr, w) {
			t.Errorf("error does not name %q: %s", w, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "iamguard.") {
		t.Errorf("the error names a Go function: %s", r.Stderr)
	}
	kisa := iamguard.KISA.Policy
	got, err := iamguard.EnablePasswordPolicy(context.Background(), api, kisa, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil || got.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("a refused run changed the policy: %+v, %v", got, err)
	}
	// -dry-run is refused the same way; -allow-weaken applies it.
	if r := runPP(t, "-preset", "cis", "-dry-run"); !errors.Is(r.Err, awsguard.ErrWeakening) || r.Code != 1 {
		t.Errorf("cis dry run over kisa: code %d, err = %v", r.Code, r.Err)
	}
	ch = runJSON(t, "-preset", "cis", "-allow-weaken")
	if !ch.Applied || !cmp.Equal(ch.After, &iamguard.CIS.Policy) || len(ch.Actions) != 1 || !ch.Actions[0].Weakening {
		t.Errorf("-allow-weaken cis = %+v", ch)
	}
	got, err = iamguard.EnablePasswordPolicy(context.Background(), api, iamguard.CIS.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil || got.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("account policy is not CIS: %+v, %v", got, err)
	}
	// KISA over CIS would drop the reuse prevention and the length.
	ch = runJSON(t, "-preset", "kisa", "-allow-weaken")
	if !ch.Applied || !cmp.Equal(ch.After, &kisa) {
		t.Errorf("-allow-weaken kisa = %+v", ch)
	}
	// The field flags change the preset's values; a longer length tightens.
	ch = runJSON(t, "-min-length", "12", "-reuse-prevention", "5")
	if !ch.Applied || ch.After.MinimumPasswordLength != 12 || ch.After.PasswordReusePrevention != 5 || ch.After.MaxPasswordAge != 90 {
		t.Errorf("-min-length 12 -reuse-prevention 5 = %+v", ch.After)
	}

	r = runPP(t, "-preset", "cis", "-dry-run", "-allow-weaken")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "dry run: would change") {
		t.Errorf("table output (code %d) = %q", r.Code, r.Stdout)
	}
	if r := runPP(t, "-format", "text", "-dry-run", "-allow-weaken"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "dry run: would change") {
		t.Errorf("-format text (code %d) = %q", r.Code, r.Stdout)
	}
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runPP(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: password-policy [flags]", "-preset", "-allow-weaken", "-min-length", "-dry-run", "-profile", "-endpoint-url", "-print-policy", "Exit codes"} {
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
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"-tighten-only"}, "-tighten-only"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-preset", "nist"}, `-preset "nist"`},
		{[]string{"-format", "xml"}, `-format "xml"`},
		{[]string{"-format", "csv"}, `-format "csv"`},
		{[]string{"-min-length", "5"}, "-min-length 5: want 6..128"},
		{[]string{"-min-length", "long"}, "-min-length"},
		{[]string{"-max-age", "2000"}, "-max-age 2000"},
		{[]string{"-reuse-prevention", "30", "-min-length", "200"}, "-min-length 200: want 6..128; -reuse-prevention 30"},
		{[]string{"-allow-weaken=maybe"}, "-allow-weaken"},
		{[]string{"-dry-run=maybe"}, "-dry-run"},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "ftp://example"}, `-endpoint-url "ftp://example"`},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-print-policy=maybe"}, "-print-policy"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runPP(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "password-policy: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: password-policy") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "PasswordPolicy.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	if got, want := clitest.Actions(clitest.PrintPolicy(t, "password-policy", run)), []string{"iam:GetAccountPasswordPolicy", "iam:UpdateAccountPasswordPolicy"}; !slices.Equal(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	if got, want := clitest.Actions(clitest.PrintPolicy(t, "password-policy", run, "-dry-run")), []string{"iam:GetAccountPasswordPolicy"}; !slices.Equal(got, want) {
		t.Errorf("-dry-run: actions = %v, want %v", got, want)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// password-policy runs as a user holding exactly the printed policy, and
// fails without any one of its actions (moto checks actions, not
// resources); so does its dry run.
func TestLeastPrivilege(t *testing.T) {
	for _, args := range [][]string{nil, {"-dry-run"}} {
		t.Run(strings.Join(append([]string{"args"}, args...), " "), func(t *testing.T) {
			env, _ := motoEnv(t)
			doc := clitest.PrintPolicy(t, "password-policy", run, args...)
			clitest.LeastPrivilegeAsUser(t, env, "policy-admin", doc, func(t *testing.T, admin *iam.Client, allowed bool) bool {
				// Every run starts from no policy, so that it updates.
				_, _ = admin.DeleteAccountPasswordPolicy(context.Background(), &iam.DeleteAccountPasswordPolicyInput{})
				r := runPP(t, append([]string{"-format", "json"}, args...)...)
				if allowed && r.Code != 0 {
					t.Logf("with the printed policy: code %d, %s", r.Code, r.Stderr)
				}
				if !allowed && (r.Code != 1 || strings.Contains(r.Stderr, "again")) {
					t.Errorf("denied: code %d, want 1 without a re-run hint: %s", r.Code, r.Stderr)
				}
				return r.Code == 0
			})
		})
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runPP(t, "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env, _ := motoEnv(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	r := runPP(t, "-format", "json")
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, cli.CredentialsRefused) || !strings.Contains(r.Stderr, "GetAccountPasswordPolicy") {
		t.Errorf("code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}
