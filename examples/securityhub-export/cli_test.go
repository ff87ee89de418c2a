package main

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
)

func runSH(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "securityhub-export", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runSH(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: securityhub-export [flags]", "-report", "-dry-run", "-format", "-endpoint-url", "-print-policy"} {
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
// nothing: a -report that cannot be read is found before any call.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "not.json")
	if err := os.WriteFile(notJSON, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"-nope"}, "", "-nope"},
		{[]string{"extra"}, "", `unexpected argument "extra"`},
		{[]string{"-report", missing}, "", `-report "` + missing + `"`},
		{[]string{"-report", notJSON}, "", `-report "` + notJSON + `"`},
		{[]string{"-report", notJSON, "-dry-run"}, "", `-report "` + notJSON + `"`},
		{[]string{"-report", "-"}, "not json", "-report -"},
		{[]string{"-dry-run=maybe"}, "", "-dry-run"},
		{[]string{"-format", "csv"}, "", `-format "csv"`},
		{[]string{"-region", "Seoul"}, "", `-region "Seoul"`},
		{[]string{"-endpoint-url", "localhost:4566"}, "", "-endpoint-url"},
		{[]string{"-timeout", "0s"}, "", "-timeout 0s"},
		{[]string{"-attempt-timeout", "-1s"}, "", "-attempt-timeout -1s"},
		{[]string{"-print-policy=maybe"}, "", "-print-policy"},
		{[]string{"-profile", "nosuch"}, "", `-profile "nosuch"`},
	} {
		stdin = strings.NewReader(tc.stdin)
		r := runSH(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "securityhub-export: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: securityhub-export") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	audit := []string{"cloudwatch:DescribeAlarms", "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "sns:ListSubscriptions"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"cloudwatch:DescribeAlarms", "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "securityhub:BatchImportFindings", "sns:ListSubscriptions"}},
		{[]string{"-dry-run"}, audit},
		{[]string{"-report", "report.json"}, []string{"securityhub:BatchImportFindings"}},
	} {
		if got := clitest.Actions(clitest.PrintPolicy(t, "securityhub-export", run, tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// securityhub-export, auditing the region and sending the findings, runs
// as a user holding exactly the printed policy, and fails without any one
// of its actions: an audit that could not read a source is failed too,
// though it exits 0 (its ERROR findings are sent, and stderr says so).
// moto checks actions, not resources. moto evaluates CloudWatch's actions
// under the prefix of its endpoint, monitoring: (MOTO.md; see audit's
// leastPrivilegeRegional), so the policy put on the user names
// cloudwatch:DescribeAlarms as moto does.
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	doc := clitest.PrintPolicy(t, "securityhub-export", run)
	acts := clitest.Actions(doc)
	i := slices.Index(acts, "cloudwatch:DescribeAlarms")
	if i < 0 {
		t.Fatalf("the policy lacks cloudwatch:DescribeAlarms: %v", acts)
	}
	acts[i] = "monitoring:DescribeAlarms"
	st := doc.Statement.List[0]
	st.Action = awsguard.StringList(acts...)
	doc.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
	var admin *iam.Client
	clitest.LeastPrivilegeAsUser(t, env, "exporter", doc, func(t *testing.T, a *iam.Client, allowed bool) bool {
		admin = a
		r := runSH(t, "-format", "json")
		ok := r.Code == 0 && r.Stderr == ""
		if allowed && !ok {
			t.Logf("with the printed policy: code %d, %s", r.Code, r.Stderr)
		}
		if !allowed && ok {
			t.Logf("denied: code %d, stderr %q", r.Code, r.Stderr)
		}
		return ok
	})

	// -dry-run audits and sends nothing: its policy holds the audit's
	// reads only, each of which the run above proved needed.
	dry := clitest.PrintPolicy(t, "securityhub-export", run, "-dry-run")
	clitest.PutUserPolicy(t, admin, "exporter", "least-privilege", asMoto(dry))
	if r := runSH(t, "-dry-run"); r.Code != 0 || r.Stderr != "" || !strings.Contains(r.Stdout, `"Findings"`) {
		t.Errorf("-dry-run with its printed policy %v: code %d, %s", clitest.Actions(dry), r.Code, r.Stderr)
	}
	// -report FILE audits nothing: securityhub:BatchImportFindings is all
	// it needs (and the run above proved it needed).
	rep := awsguard.NewReport(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), awsguard.Finding{Check: "iam.root.mfa", Status: awsguard.StatusFail,
		Severity: awsguard.SeverityCritical, Account: awstest.DefaultAccount, Region: awsguard.RegionGlobal,
		Resource: "arn:aws:iam::123456789012:root", Title: "The root user has no MFA", Controls: []string{"CIS:1.5"}})
	path := filepath.Join(t.TempDir(), "report.json")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fromFile := clitest.PrintPolicy(t, "securityhub-export", run, "-report", path)
	clitest.PutUserPolicy(t, admin, "exporter", "least-privilege", fromFile)
	if r := runSH(t, "-report", path); r.Code != 0 || r.Stderr != "" {
		t.Errorf("-report with its printed policy %v: code %d, %s", clitest.Actions(fromFile), r.Code, r.Stderr)
	}
}

// asMoto renames CloudWatch's actions to the prefix moto evaluates them
// under, monitoring:.
func asMoto(doc *awsguard.PolicyDocument) *awsguard.PolicyDocument {
	acts := clitest.Actions(doc)
	for i, a := range acts {
		if rest, ok := strings.CutPrefix(a, "cloudwatch:"); ok {
			acts[i] = "monitoring:" + rest
		}
	}
	out := *doc
	st := out.Statement.List[0]
	st.Action = awsguard.StringList(acts...)
	out.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
	return &out
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runSH(t, "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
