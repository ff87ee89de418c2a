package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"os"
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
	"github.com/awsguard/awsguard/internal/clitest"
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

func runAudit(t testing.TB, args ...string) result {
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

func offline(t *testing.T) *atomic.Int32 { return clitest.Offline(t) }

func setEnv(t *testing.T, endpoint string) { clitest.SetEnv(t, endpoint) }

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
		{[]string{"-baseline", "nist"}, `-baseline "nist"`},
		{[]string{"-checks", "iam.usr"}, `-checks "iam.usr": matches no known check`},
		{[]string{"-checks", "iam.user.console_mfa,ec3"}, `-checks "ec3"`},
		{[]string{"-checks", "ec2recover."}, `-checks "ec2recover.": matches no known check`}, // the package, not the prefix
		{[]string{"-checks", "waf.,network.nope"}, `-checks "network.nope"`},
		{[]string{"-checks", "inspect."}, `-checks "inspect.": matches no known check`}, // the package, not the prefix
		{[]string{"-list-checks", "-format", "asff"}, "-list-checks"},
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
		{[]string{"-org"}, "-org needs -role NAME"},
		{[]string{"-role", "Auditor"}, "-role is for -org"},
		{[]string{"-concurrency", "2"}, "-concurrency is for -org"},
		{[]string{"-org", "-role", "a/b"}, `-role "a/b"`},
		{[]string{"-org", "-role", "Auditor", "-external-id", "x"}, "-external-id"},
		{[]string{"-org", "-role", "Auditor", "-concurrency", "0"}, "-concurrency 0"},
		{[]string{"-checks", "org."}, "only with -org"},
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

// allChecks are the checks audit knows, in -list-checks order.
var allChecks = []string{
	"iam.root.mfa", "iam.root.access_keys", "iam.user.console_mfa", "iam.user.access_key_rotation", "iam.user.access_key_unused",
	"iam.user.two_active_keys", "iam.user.direct_policies", "iam.password_policy",
	"waf.alb.web_acl", "waf.alb.sqli_rules", "elb.alb.https", "acm.certificate.expiry",
	"network.instance.exposed", "network.sg.open_admin_ports", "network.nacl.open_admin_ports",
	"ec2.instance_connect", "inspector.enabled", "inspector.findings",
	"observe.alerts.topic", "observe.cis.metric_filters", "observe.logs.retention", "org.account.access",
}

func TestListChecks(t *testing.T) {
	calls := offline(t)
	r := runAudit(t, "-list-checks")
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "ID") || len(lines) != 1+len(allChecks) {
		t.Errorf("table:\n%s", r.stdout)
	}
	for _, id := range allChecks {
		if !strings.Contains(r.stdout, "\n"+id+" ") {
			t.Errorf("table lacks %s:\n%s", id, r.stdout)
		}
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
	var gotIDs []string
	for _, c := range got.Checks {
		gotIDs = append(gotIDs, c.ID)
	}
	if !slices.Equal(gotIDs, allChecks) {
		t.Errorf("json check IDs = %v, want %v", gotIDs, allChecks)
	}
	if !ids["network.instance.exposed"].Regional || ids["iam.root.mfa"].Regional || ids["waf.alb.web_acl"].Remediation != "waf.AttachSQLiACL" ||
		!slices.Contains(ids["observe.cis.metric_filters"].Controls, "CIS:4.1") || ids["inspector.enabled"].Severity != awsguard.SeverityHigh {
		t.Errorf("json checks of the regional providers = %+v", got.Checks[8:])
	}
	if c := ids["ec2.instance_connect"]; !c.Regional || c.Remediation != "ec2recover.DisableInstanceConnect" || !slices.Contains(c.Controls, "ISMS-P:2.6.6") {
		t.Errorf("json check ec2.instance_connect = %+v", c)
	}
	if ids["iam.root.mfa"].Severity != awsguard.SeverityCritical ||
		!slices.Contains(ids["iam.password_policy"].Controls, "CIS:1.8") || ids["iam.password_policy"].Remediation != "iamguard.EnablePasswordPolicy" {
		t.Errorf("json checks = %+v", got.Checks)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-list-checks made %d calls", n)
	}
}

// The read-only runs on motoEnv's account share one seeded emulator (a
// reset and a seed cost seconds each).
func TestAuditOneAccount(t *testing.T) {
	motoEnv(t)
	t.Run("JSONAndExitCodes", auditJSONAndExitCodes)
	t.Run("Filters", auditFilters)
	t.Run("TableCSVAndHTML", auditTableCSVAndHTML)
}

func auditJSONAndExitCodes(t *testing.T) {
	r := runAudit(t, "-format", "json", "-checks", "iam.")
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
		{[]string{"-fail-on", "none"}, 0}, // every provider, in the default region
		{[]string{"-fail-on", "NONE", "-checks", "iam."}, 0},
		{[]string{"-fail-on", "critical", "-checks", "iam."}, 3}, // moto: the root user has no MFA
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

func auditFilters(t *testing.T) {
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

func auditTableCSVAndHTML(t *testing.T) {
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

func blackHole(t *testing.T) string { return clitest.BlackHole(t) }

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
	return clitest.PrintPolicy(t, "audit", run, args...)
}

func TestPrintPolicy(t *testing.T) {
	calls := offline(t)
	iamActions := []string{"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
		"iam:GetAccountSummary", "iam:GetCredentialReport"}
	wafActions := []string{"acm:ListCertificates", "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers",
		"wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:ListResourcesForWebACL", "wafv2:ListWebACLs"}
	networkActions := []string{"ec2:DescribeInstances", "ec2:DescribeInternetGateways", "ec2:DescribeManagedPrefixLists", "ec2:DescribeNetworkAcls",
		"ec2:DescribeNetworkInterfaces", "ec2:DescribeRouteTables", "ec2:DescribeSecurityGroups", "ec2:GetManagedPrefixListEntries"}
	connectActions := []string{"ec2:DescribeImages", "ec2:DescribeInstances", "iam:GetAccountAuthorizationDetails"}
	inspectorActions := []string{"inspector2:BatchGetAccountStatus", "inspector2:ListFindings"}
	observeActions := []string{"cloudwatch:DescribeAlarms", "logs:DescribeLogGroups", "logs:DescribeMetricFilters", "sns:ListSubscriptions"}
	union := func(lists ...[]string) []string {
		out := slices.Concat(lists...)
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, slices.Compact(union(iamActions, wafActions, networkActions, connectActions, inspectorActions, observeActions))},
		{[]string{"-checks", "ec2."}, connectActions},
		{[]string{"-checks", "ec2.instance_connect,network."}, slices.Compact(union(connectActions, networkActions))},
		{[]string{"-checks", "iam."}, iamActions},
		// -regions all needs the list of regions, only for regional checks.
		{[]string{"-checks", "iam.", "-regions", "all"}, iamActions},
		{[]string{"-checks", "waf."}, wafActions},
		{[]string{"-checks", "acm.certificate.expiry"}, wafActions},
		{[]string{"-checks", "network.", "-regions", "all"}, union(networkActions, []string{"ec2:DescribeRegions"})},
		{[]string{"-checks", "inspector.enabled,observe."}, union(inspectorActions, observeActions)},
		{[]string{"-checks", "iam.user,network.sg"}, union(iamActions, networkActions)},
	} {
		if got := printPolicy(t, tc.args...).Statement.List[0].Action.Values; !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// The IAM audit runs as a user holding exactly the printed policy, and
// fails without any one of its actions. (moto checks actions, not
// resources.) TestLeastPrivilegeRegional proves the regional providers'.
func TestLeastPrivilege(t *testing.T) {
	env, _ := motoEnv(t)
	clitest.LeastPrivilegeAsUser(t, env, "auditor", printPolicy(t, "-checks", "iam."), func(t *testing.T, _ *iam.Client, allowed bool) bool {
		r := runAudit(t, "-format", "json", "-fail-on", "none", "-checks", "iam.")
		if !allowed && r.code != 1 {
			t.Errorf("denied: code %d, want 1 (%s)", r.code, r.stderr)
		}
		return r.code == 0
	})
}

// A regional provider runs once per region of -regions; all asks
// ec2:DescribeRegions. (The provider is the test's, to count its runs.)
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
