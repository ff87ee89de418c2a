package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// motoEnv points the standard configuration chain at the emulator and
// seeds two users: alice with a console password and no MFA, bob with an
// access key never used.
func motoEnv(t *testing.T) (*awstest.Env, *iam.Client) {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	api := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	for _, u := range []string{"alice", "bob"} {
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Passw0rd!!")}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	// A ready report spares the audit its first poll.
	if _, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	return env, api
}

// result is one run of the program as its main would end it.
type result struct {
	stdout, stderr string
	code           int
	err            error
}

func runAudit(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	code := cli.Fail(&errOut, "audit", err)
	return result{out.String(), errOut.String(), code, err}
}

func readReport(t *testing.T, r result) *awsguard.Report {
	t.Helper()
	rep, err := awsguard.ReadReport(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("stdout is not a report: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return rep
}

// offline points the configuration chain at a local server that counts
// the requests it gets and fails each one.
func offline(t *testing.T) *atomic.Int32 {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	setEnv(t, srv.URL)
	return &calls
}

func setEnv(t *testing.T, endpoint string) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": awstest.DefaultRegion,
		"AWS_ACCESS_KEY_ID": awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awstest.SecretAccessKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_MAX_ATTEMPTS": "1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "no-credentials"),
	} {
		t.Setenv(k, v)
	}
}

func TestHelp(t *testing.T) {
	calls := offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runAudit(t, arg)
		if r.code != 0 || !errors.Is(r.err, flag.ErrHelp) || r.stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.code, r.err, r.stdout)
		}
		for _, want := range []string{"Usage: audit [flags]", "-fail-on", "-list-checks", "-profile", "-endpoint-url", "-timeout", "Exit codes"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.stderr)
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
	calls := offline(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-format", "xml"}, `-format "xml"`},
		{[]string{"-format", "asff"}, `-format "asff"`},
		{[]string{"-baseline", "nist"}, `-baseline "nist"`},
		{[]string{"-checks", "iam.usr"}, `-checks "iam.usr": matches no known check`},
		{[]string{"-checks", "iam.user.console_mfa,ec2"}, `-checks "ec2"`},
		{[]string{"-severity", "urgent"}, `-severity "urgent"`},
		{[]string{"-status", "failed"}, `-status "failed"`},
		{[]string{"-fail-on", "sometimes"}, `-fail-on "sometimes"`},
		{[]string{"-regions", "mars-1"}, `-regions "mars-1"`},
		{[]string{"-regions", "all,us-east-1"}, "all stands alone"},
		{[]string{"-regions", "us-east-1,us-east-1"}, "listed twice"},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "ftp://example"}, `-endpoint-url "ftp://example"`},
		{[]string{"-endpoint-url", "localhost:4566"}, `-endpoint-url`},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-timeout", "soon"}, "-timeout"},
		{[]string{"-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-list-checks", "-format", "csv"}, "-list-checks"},
		{[]string{"-list-checks=maybe"}, "-list-checks"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runAudit(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		last := lines[len(lines)-1]
		if r.code != 2 || r.stdout != "" || !strings.HasPrefix(last, "audit: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.code, r.stdout, last, tc.want)
		}
		if !strings.Contains(r.stderr, "Usage: audit") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestListChecks(t *testing.T) {
	calls := offline(t)
	r := runAudit(t, "-list-checks")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "ID") || len(lines) != 9 {
		t.Errorf("table:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "iam.user.console_mfa") || !strings.Contains(r.stdout, "iamguard.CreateVirtualMFA") ||
		!strings.Contains(r.stdout, "2.5.3") || !strings.Contains(r.stdout, "1.10") {
		t.Errorf("table lacks the console MFA check's row:\n%s", r.stdout)
	}

	r = runAudit(t, "-list-checks", "-format", "json", "-baseline", "cis")
	var got struct{ Checks []checkInfo }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("json: %v, code %d\n%s", err, r.code, r.stdout)
	}
	ids := map[string]checkInfo{}
	for _, c := range got.Checks {
		ids[c.ID] = c
	}
	if len(got.Checks) != 8 || ids["iam.root.mfa"].Severity != awsguard.SeverityCritical ||
		!slices.Contains(ids["iam.password_policy"].Controls, "CIS:1.8") || ids["iam.password_policy"].Remediation != "iamguard.EnablePasswordPolicy" {
		t.Errorf("json checks = %+v", got.Checks)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-list-checks made %d calls", n)
	}
}

func TestAuditJSONAndExitCodes(t *testing.T) {
	motoEnv(t)
	r := runAudit(t, "-format", "json")
	if r.code != 3 {
		t.Errorf("code %d, want 3 (alice fails console MFA)\n%s", r.code, r.stderr)
	}
	rep := readReport(t, r)
	want := []string{"iam.password_policy", "iam.root.access_keys", "iam.root.mfa", "iam.user.access_key_rotation",
		"iam.user.access_key_unused", "iam.user.console_mfa", "iam.user.direct_policies", "iam.user.two_active_keys"}
	if got := rep.Checks(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("checks = %v", got)
	}
	// JSON keeps NOT_APPLICABLE findings: it is the whole contract.
	if !slices.ContainsFunc(rep.Findings, func(f awsguard.Finding) bool { return f.Status == awsguard.StatusNotApplicable }) {
		t.Error("json left out NOT_APPLICABLE findings")
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "audit: ") || !strings.Contains(lines[0], "FAIL (") ||
		!strings.Contains(lines[0], "NOT_APPLICABLE") || !strings.Contains(lines[0], "-fail-on low: exit 3") {
		t.Errorf("stderr is not one summary line: %q", r.stderr)
	}

	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-fail-on", "none"}, 0},
		{[]string{"-fail-on", "NONE"}, 0},
		{[]string{"-fail-on", "critical"}, 3}, // moto: the root user has no MFA
		{[]string{"-checks", "iam.user.console_mfa", "-fail-on", "critical"}, 0},
		{[]string{"-checks", "iam.user.console_mfa", "-fail-on", "high"}, 3},
		{[]string{"-checks", "iam.user.console_mfa", "-status", "PASS,NOT_APPLICABLE"}, 0},
		{[]string{"-checks", "iam.user.two_active_keys"}, 0},
	} {
		r := runAudit(t, append([]string{"-format", "json"}, tc.args...)...)
		if r.code != tc.code {
			t.Errorf("%v: code %d, want %d\n%s", tc.args, r.code, tc.code, r.stderr)
		}
	}
}

func TestAuditFilters(t *testing.T) {
	motoEnv(t)
	for _, tc := range []struct {
		args []string
		keep func(awsguard.Finding) bool
		min  int
	}{
		{[]string{"-severity", "high,critical"}, func(f awsguard.Finding) bool {
			return f.Severity == awsguard.SeverityHigh || f.Severity == awsguard.SeverityCritical
		}, 3},
		{[]string{"-status", "fail"}, func(f awsguard.Finding) bool { return f.Status == awsguard.StatusFail }, 2},
		{[]string{"-checks", "iam.root,iam.user.console_mfa", "-status", "FAIL,PASS"}, func(f awsguard.Finding) bool {
			return (strings.HasPrefix(f.Check, "iam.root") || f.Check == "iam.user.console_mfa") && f.Status != awsguard.StatusNotApplicable
		}, 3},
		{[]string{"-checks", "iam.password", "-baseline", "cis"}, func(f awsguard.Finding) bool {
			return f.Check == "iam.password_policy" && f.Evidence["baseline"] == "CIS" && len(f.Controls) == 3
		}, 1},
	} {
		rep := readReport(t, runAudit(t, append([]string{"-format", "json", "-fail-on", "none"}, tc.args...)...))
		if len(rep.Findings) < tc.min {
			t.Errorf("%v: %d findings, want at least %d", tc.args, len(rep.Findings), tc.min)
		}
		for _, f := range rep.Findings {
			if !tc.keep(f) {
				t.Errorf("%v: kept %s %s %s", tc.args, f.Check, f.Status, f.Severity)
			}
		}
	}
}

func TestAuditTableCSVAndHTML(t *testing.T) {
	motoEnv(t)
	r := runAudit(t, "-fail-on", "none")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "STATUS") || !strings.Contains(r.stdout, "Console user alice has no MFA device") {
		t.Errorf("table (code %d):\n%s", r.code, r.stdout)
	}
	if strings.Contains(r.stdout, "NOT_APPLICABLE ") {
		t.Errorf("the table shows NOT_APPLICABLE rows without -status:\n%s", r.stdout)
	}
	if !strings.Contains(strings.Join(strings.Fields(r.stdout), " "), "User bob has an active access key never used yet, created 0 days ago (within 90 days)") {
		t.Errorf("bob's key is not described as never used:\n%s", r.stdout)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if n := utf8.RuneCountInString(l); n > 120 {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	r = runAudit(t, "-fail-on", "none", "-status", "NOT_APPLICABLE")
	if !strings.Contains(r.stdout, "NOT_APPLICABLE ") {
		t.Errorf("-status NOT_APPLICABLE shows none:\n%s", r.stdout)
	}

	r = runAudit(t, "-format", "csv", "-checks", "iam.user.console_mfa", "-fail-on", "none")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][1] != "check" || !slices.Equal(rows[0], awsguard.CSVHeader) {
		t.Errorf("csv rows = %v", rows)
	}

	r = runAudit(t, "-format", "html", "-fail-on", "none")
	if out := os.Getenv("AWSGUARD_HTML_OUT"); out != "" { // to look at it
		if err := os.WriteFile(out, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if r.code != 0 || !strings.HasPrefix(r.stdout, "<!DOCTYPE html>") || !strings.Contains(r.stdout, "Console user alice has no MFA device") ||
		!strings.Contains(r.stdout, "never used yet") || strings.Contains(r.stdout, `data-status="NOT_APPLICABLE"`) {
		t.Errorf("html (code %d): %.400s", r.code, r.stdout)
	}
}

func TestDisplayTitle(t *testing.T) {
	fail := awsguard.Finding{Check: "iam.user.access_key_unused", Status: awsguard.StatusFail, Resource: "arn:aws:iam::1:user/ci/deploy",
		Title: "User deploy has an active access key unused for more than 90 days",
		Evidence: map[string]string{"failing_keys": "access_key_1", "access_key_1_last_used": "never", "access_key_1_idle_days": "120",
			"access_key_2_last_used": "2026-01-01T00:00:00Z", "unused_key_age": "90 days"}}
	for _, tc := range []struct {
		name string
		edit func(*awsguard.Finding)
		want string
	}{
		{"never used", func(*awsguard.Finding) {}, "User deploy has an active access key never used, created 120 days ago (limit 90 days)"},
		{"used once", func(f *awsguard.Finding) { f.Evidence["access_key_1_last_used"] = "2025-01-01T00:00:00Z" }, fail.Title},
		{"other check", func(f *awsguard.Finding) { f.Check = "iam.user.access_key_rotation" }, fail.Title},
		{"error", func(f *awsguard.Finding) { f.Status = awsguard.StatusError }, fail.Title},
	} {
		f := fail
		f.Evidence = map[string]string{}
		for k, v := range fail.Evidence {
			f.Evidence[k] = v
		}
		tc.edit(&f)
		if got := displayTitle(f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// blackHole accepts connections and never answers.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := blackHole(t)
	setEnv(t, url)
	for _, tc := range []struct {
		args  []string
		want  string
		bound time.Duration
	}{
		{[]string{"-timeout", "1s"}, "gave up after -timeout 1s: no answer from " + url, 5 * time.Second},
		{[]string{"-timeout", "30s", "-attempt-timeout", "300ms"}, "no answer from " + url + " within -attempt-timeout 300ms", 5 * time.Second},
	} {
		start := time.Now()
		r := runAudit(t, tc.args...)
		took := time.Since(start)
		if r.code != 1 || took > tc.bound || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: code %d after %v, stderr %q, want one line with %q", tc.args, r.code, took, r.stderr, tc.want)
		}
	}
	// -endpoint-url wins over AWS_ENDPOINT_URL.
	r := runAudit(t, "-endpoint-url", url+"/", "-timeout", "1s")
	if r.code != 1 || !strings.Contains(r.stderr, "no answer from "+url) {
		t.Errorf("-endpoint-url: code %d, %q", r.code, r.stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env, _ := motoEnv(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	r := runAudit(t, "-format", "json")
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, cli.CredentialsRefused) || !strings.Contains(r.stderr, "GetCallerIdentity") {
		t.Errorf("code %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}

func printPolicy(t *testing.T, args ...string) *awsguard.PolicyDocument {
	t.Helper()
	r := runAudit(t, append([]string{"-print-policy"}, args...)...)
	if r.code != 0 {
		t.Fatalf("-print-policy: code %d, %s", r.code, r.stderr)
	}
	doc, err := awsguard.ParsePolicyDocument(r.stdout)
	if err != nil {
		t.Fatalf("-print-policy printed no policy: %v\n%s", err, r.stdout)
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestPrintPolicy(t *testing.T) {
	calls := offline(t)
	doc := printPolicy(t)
	want := []string{"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
		"iam:GetAccountSummary", "iam:GetCredentialReport"}
	if got := doc.Statement.List[0].Action.Values; !slices.Equal(got, want) || len(doc.Statement.List) != 1 {
		t.Errorf("actions = %v, want %v", got, want)
	}
	// No regional check yet: -regions all adds nothing.
	if got := printPolicy(t, "-regions", "all").Statement.List[0].Action.Values; !slices.Equal(got, want) {
		t.Errorf("-regions all: actions = %v", got)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// The audit runs as a user holding exactly the printed policy, and fails
// without any one of its actions. (moto checks actions, not resources.)
func TestLeastPrivilege(t *testing.T) {
	env, api := motoEnv(t)
	ctx := context.Background()
	doc := printPolicy(t)
	actions := doc.Statement.List[0].Action.Values
	const user = "auditor"
	if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	admin := iam.NewFromConfig(env.EnforceAuth())
	put := func(d *awsguard.PolicyDocument) {
		t.Helper()
		s, err := d.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("audit"), PolicyDocument: aws.String(s)}); err != nil {
			t.Fatal(err)
		}
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))

	put(doc)
	if r := runAudit(t, "-format", "json", "-fail-on", "none"); r.code != 0 {
		t.Fatalf("with the printed policy: code %d, %s", r.code, r.stderr)
	}
	for _, drop := range actions {
		less := *doc
		st := less.Statement.List[0]
		st.Action = awsguard.StringList(slices.DeleteFunc(slices.Clone(actions), func(a string) bool { return a == drop })...)
		less.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
		put(&less)
		if r := runAudit(t, "-format", "json", "-fail-on", "none"); r.code != 1 {
			t.Errorf("without %s: code %d, want 1 (%s)", drop, r.code, r.stderr)
		}
	}
}

// A regional provider runs once per region of -regions; all asks
// ec2:DescribeRegions. (No package has regional checks yet: this one is
// the test's.)
func TestRegionalProvider(t *testing.T) {
	env, _ := motoEnv(t)
	var seen atomic.Int32
	saved := providers
	t.Cleanup(func() { providers = saved })
	providers = append(slices.Clone(providers), provider{
		name: "test", regional: true,
		checks: func(auditOptions) []checkInfo {
			return []checkInfo{{ID: "test.region.ok", Severity: awsguard.SeverityLow, Title: "the region answers"}}
		},
		uses: []reflect.Type{reflect.TypeFor[regionsAPI]()},
		audit: func(ctx context.Context, tg awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			seen.Add(1)
			return awsguard.NewReport(time.Now(), awsguard.Finding{Check: "test.region.ok", Status: awsguard.StatusPass,
				Severity: awsguard.SeverityLow, Account: tg.Account, Region: tg.Region, Resource: tg.Region}), nil
		},
	})
	regionsOf := func(r result) []string {
		var out []string
		for _, f := range readReport(t, r).Findings {
			if f.Check == "test.region.ok" {
				out = append(out, f.Region)
			}
		}
		return out
	}
	if got := regionsOf(runAudit(t, "-format", "json", "-checks", "test")); !slices.Equal(got, []string{awstest.DefaultRegion}) {
		t.Errorf("default regions = %v", got)
	}
	if got := regionsOf(runAudit(t, "-format", "json", "-checks", "test", "-regions", "eu-west-1,ap-northeast-2")); !slices.Equal(got, []string{"ap-northeast-2", "eu-west-1"}) {
		t.Errorf("-regions list = %v", got)
	}
	want, err := enabledRegions(context.Background(), ec2.NewFromConfig(env.Config()))
	if err != nil || len(want) < 2 {
		t.Fatalf("moto regions = %v, %v", want, err)
	}
	if got := regionsOf(runAudit(t, "-format", "json", "-checks", "test", "-regions", "all")); !slices.Equal(got, want) {
		t.Errorf("-regions all = %v, want %v", got, want)
	}
	if !slices.Contains(printPolicy(t, "-checks", "test", "-regions", "all").Statement.List[0].Action.Values, "ec2:DescribeRegions") {
		t.Error("-regions all with a regional check: the policy lacks ec2:DescribeRegions")
	}
}
