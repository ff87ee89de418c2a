package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func statuses(r *awsguard.Report) map[string]awsguard.Status {
	m := map[string]awsguard.Status{}
	for _, f := range r.Findings {
		m[f.Check+" "+stable(f.Resource)] = f.Status
	}
	return m
}

// stable replaces the emulator's generated IDs in a resource by the
// seeded resource's name.
func stable(resource string) string {
	for _, name := range []string{"loadbalancer/app/demo-web/"} {
		if i := strings.Index(resource, name); i >= 0 {
			return resource[:i+len(name)] + "ID"
		}
	}
	return resource
}

// The local demo seeds a weak account, fixes it and shows the difference:
// exactly the findings the fixes address turn from FAIL to PASS.
func TestLocalDemoJSON(t *testing.T) {
	awstest.New(t) // skips, or fails under AWSGUARD_REQUIRE_MOTO=1, without moto
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the recovered private key goes, and is deleted
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	var out struct {
		Mode     string           `json:"mode"`
		Before   *awsguard.Report `json:"before"`
		Changes  []string         `json:"changes"`
		After    *awsguard.Report `json:"after"`
		Probes   []ProbeSummary   `json:"probes"`
		Teardown []string         `json:"teardown"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("stdout is not the JSON form: %v\n%s", err, stdout.String())
	}
	if out.Mode != "local" || out.After == nil {
		t.Fatalf("mode %q, after %v", out.Mode, out.After != nil)
	}
	// Each fix says what it did, in words.
	for _, want := range []string{"update the account password policy: MinimumPasswordLength 6 -> 8", "create group developers (path /)",
		"add carol to group developers", "attach ReadOnlyAccess to group developers", "detach ReadOnlyAccess from user carol",
		"enable MFA device arn:aws:iam::123456789012:mfa/alice for alice", "create a new key for ci-deployer",
		"create web ACL awsguard-sqli", "associate web ACL awsguard-sqli with ALB demo-web", "revoke sg-",
		"create SNS topic awsguard-alerts", "subscribe email secops@example.com to awsguard-alerts", "put EventBridge rule awsguard-root-sign-in",
		"create multi-region trail awsguard-trail", "put 9 CIS 4.x metric filters on log group awsguard/cloudtrail and 9 alarms to awsguard-alerts",
		"would stop i-", "would restore the original user data of i-",
		"request an ACM certificate for www.demo.example.com with DNS validation", "create the HTTPS:443 listener with policy ",
		"turn HTTP:80 into a 301 redirect to HTTPS", "enable Inspector for EC2, ECR, LAMBDA, LAMBDA_CODE in us-east-1",
		"remove the ec2-instance-connect package from i-", "attach awsguard-deny-instance-connect to group ops"} {
		if !slices.ContainsFunc(out.Changes, func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("changes lack %q:\n%s", want, strings.Join(out.Changes, "\n"))
		}
	}
	// The lost key pair: Auto's plan is shown, then the repair is applied,
	// saying plainly that the key was not verified inside the instance;
	// the private key's temporary file is gone.
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("the demo left %v in its temporary directory", left)
	}
	for _, want := range []string{"(demo-web-server): recovery planned (dry run): strategy userdata, downtime: two stops and starts",
		"(demo-web-server): recovery applied with the repair strategy", "did reattach vol-", "did terminate the helper",
		"(demo-web-server): new ed25519 key SHA256:", "(demo-web-server): the key is NOT verified inside the instance"} {
		if !slices.ContainsFunc(out.Changes, func(c string) bool { return strings.Contains(c, want) }) {
			t.Errorf("changes lack %q:\n%s", want, strings.Join(out.Changes, "\n"))
		}
	}
	for _, c := range out.Changes {
		if strings.Contains(c, "PRIVATE KEY") {
			t.Errorf("a change shows a private key: %q", c)
		}
		if strings.Contains(c, "iamguard.") || strings.Contains(c, "step(s)") || strings.Contains(c, "Options.") {
			t.Errorf("change not in words: %q", c)
		}
	}
	before, after := statuses(out.Before), statuses(out.After)
	changed := map[string]string{}
	for k, b := range before {
		if a := after[k]; a != b {
			changed[k] = string(b) + "->" + string(a)
		}
	}
	const acct = "arn:aws:iam::123456789012:"
	const alb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/demo-web/ID"
	want := map[string]string{
		"iam.password_policy " + acct + "account-password-policy":   "FAIL->PASS",
		"iam.user.access_key_rotation " + acct + "user/ci-deployer": "FAIL->PASS",
		"iam.user.access_key_unused " + acct + "user/ci-deployer":   "FAIL->PASS",
		"iam.user.console_mfa " + acct + "user/alice":               "FAIL->PASS",
		"iam.user.console_mfa " + acct + "user/bob":                 "FAIL->PASS",
		"iam.user.direct_policies " + acct + "user/carol":           "FAIL->PASS",
		"waf.alb.web_acl " + alb:                                    "FAIL->PASS",
		"waf.alb.sqli_rules " + alb:                                 "FAIL->PASS",
		"elb.alb.https " + alb:                                      "FAIL->PASS",
	}
	// The leaked key: deactivated, so build-bot holds one active key (the
	// one the attacker minted, young by the real clock of the second
	// audit); the quarantine policy is attached to the user itself.
	for k, v := range map[string]string{"access_key_rotation": "FAIL->PASS", "access_key_unused": "FAIL->PASS", "two_active_keys": "FAIL->PASS",
		"direct_policies": "PASS->FAIL"} {
		want["iam.user."+k+" "+acct+"user/build-bot"] = v
	}
	for _, typ := range []string{"EC2", "ECR", "LAMBDA", "LAMBDA_CODE"} {
		want["inspector.enabled inspector2/us-east-1/"+typ] = "FAIL->PASS"
	}
	// The instance open on SSH and its group, found before and closed.
	for _, f := range out.Before.Findings {
		switch {
		case f.Check == "network.instance.exposed" && f.Evidence["name"] == "demo-bastion":
			want[f.Check+" "+f.Resource] = "FAIL->PASS"
			if f.Evidence["layer.22"] != "open" {
				t.Errorf("%s before: layer.22 %q, want open", f.Check, f.Evidence["layer.22"])
			}
		case f.Check == "network.sg.open_admin_ports" && f.Status == awsguard.StatusFail:
			want[f.Check+" "+f.Resource] = "FAIL->PASS"
		case f.Check == "ec2.instance_connect" && f.Evidence["os_family"] == "amazon-linux-2":
			// The Amazon Linux 2 instance, reachable through Instance
			// Connect by the ops group until the deny.
			want[f.Check+" "+f.Resource] = "FAIL->PASS"
		}
	}
	const topics = "arn:aws:sns:us-east-1:123456789012:"
	// Alerts: no topic with a confirmed subscription before; after, the
	// demo's (the emulator confirms e-mail at once).
	if b, a := before["observe.alerts.topic "+topics+"*"], after["observe.alerts.topic "+topics+"awsguard-alerts"]; b != awsguard.StatusFail || a != awsguard.StatusPass {
		t.Errorf("observe.alerts.topic: before %s, after %s; want FAIL, PASS", b, a)
	}
	delete(changed, "observe.alerts.topic "+topics+"*")
	// CIS 4.x: no metric filter before; after, each filter with its alarm
	// on the log group of the trail the demo set up, which keeps a year.
	const groups = "arn:aws:logs:us-east-1:123456789012:log-group:"
	if b := before["observe.cis.metric_filters "+groups+"*"]; b != awsguard.StatusFail {
		t.Errorf("observe.cis.metric_filters before: %s, want FAIL", b)
	}
	for _, f := range out.After.Findings {
		if f.Check == "observe.cis.metric_filters" && (f.Status != awsguard.StatusPass || f.Resource != groups+"awsguard/cloudtrail") {
			t.Errorf("after: %s %s %s: %s", f.Check, f.Status, f.Resource, f.Title)
		}
	}
	if a := after["observe.logs.retention "+groups+"awsguard/cloudtrail"]; a != awsguard.StatusPass {
		t.Errorf("observe.logs.retention of the trail's group after: %s, want PASS", a)
	}
	delete(changed, "observe.cis.metric_filters "+groups+"*")
	delete(changed, "observe.logs.retention "+groups+"*")
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("findings changed by the fixes (-want +got):\n%s", diff)
	}
	// The emulator marks every certificate INELIGIBLE for managed renewal
	// (the demo says so): the new certificate's expiry check fails on that
	// alone, with a year to run.
	var certs int
	for _, f := range out.After.Findings {
		if f.Check == "acm.certificate.expiry" {
			certs++
			if f.Status != awsguard.StatusFail || f.Evidence["renewal_eligibility"] != "INELIGIBLE" || f.Evidence["domain"] != "www.demo.example.com" || len(f.Evidence["days_left"]) != 3 {
				t.Errorf("certificate after HTTPS: %s %v", f.Status, f.Evidence)
			}
		}
	}
	if certs != 1 {
		t.Errorf("%d certificate findings after HTTPS, want 1", certs)
	}
	// What the API cannot fix stays visible.
	if k := "iam.root.mfa " + acct + "root"; before[k] != awsguard.StatusFail || after[k] != awsguard.StatusFail {
		t.Errorf("%s: before %s, after %s; want FAIL, FAIL", k, before[k], after[k])
	}
	// The probe: the injections log into the bare app; the local WAF
	// blocks them all and lets the benign logins through.
	if len(out.Probes) != 2 {
		t.Fatalf("probes: %+v, want bare and behind the WAF", out.Probes)
	}
	if p := out.Probes[0]; p.Verdict != "attacks-passed" || p.AttacksGotIn == 0 {
		t.Errorf("bare app: %+v, want attacks-passed with logins", p)
	}
	if p := out.Probes[1]; p.Verdict != "protected" || p.AttacksBlocked != p.AttacksSent || p.BenignPassed != p.BenignSent || p.BenignSent == 0 {
		t.Errorf("behind the WAF: %+v, want protected, benign passing", p)
	}
	// The demo removes its alerts at the end, and proves nothing is left.
	for _, want := range []string{"delete rule awsguard-root-sign-in", "delete topic arn:aws:sns:us-east-1:123456789012:awsguard-alerts",
		"delete trail", "delete log group", "alerts: nothing observe created is left"} {
		if !slices.ContainsFunc(out.Teardown, func(c string) bool { return strings.HasPrefix(c, want) }) {
			t.Errorf("teardown lacks %q:\n%s", want, strings.Join(out.Teardown, "\n"))
		}
	}
	if strings.Contains(stdout.String(), "demo-secret") {
		t.Error("output contains a secret")
	}
}

func TestLocalDemoText(t *testing.T) {
	awstest.New(t)
	r := runDemo(t)
	if r.Code != 0 {
		t.Fatalf("code %d: %s", r.Code, r.Stderr)
	}
	out := r.Stdout
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{`The audit, by severity:`, `SEVERITY FAILED CRITICAL`, `Findings (FAIL, ERROR):`,
		`Fixes applied: iam: - update the account password policy`, `groups and MFA: - create group developers`, `- add carol to group developers`,
		`https: - request an ACM certificate`, `inspector: - enable Inspector`,
		`Before and after the fixes, by severity: SEVERITY BEFORE AFTER CRITICAL`,
		`Findings the fixes changed: BEFORE AFTER SEVERITY CHECK RESOURCE`, `FAIL PASS MEDIUM iam.password_policy account-password-policy`,
		`FAIL PASS HIGH inspector.enabled inspector2/us-east-1/EC2`, `none FAIL MEDIUM acm.certificate.expiry`, `none PASS MEDIUM observe.cis.metric_filters log-group:awsguard/cloudtrail (x9)`,
		`iam.key.leaked_activity`, `replayed from the demo's own log`, `delete user build-bot`,
		`Still failing:`, `FAIL CRITICAL iam.root.mfa`, `before: `, `after: `, `Removed at the end`, `- delete rule awsguard-root-sign-in`, `attacks-passed`, `protected`, `revoke sg-`,
		`User ci-deployer has an active access key never used, created 120 days ago (limit 90 days)`} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The first audit shows what fails, not what passes.
	if first := out[strings.Index(out, "Findings (FAIL, ERROR):"):strings.Index(out, "Fixes applied:")]; strings.Contains(first, "\nPASS ") {
		t.Errorf("the first findings table shows PASS rows:\n%s", first)
	}
	if strings.Contains(out, "\nNOT_APPLICABLE ") {
		t.Errorf("the table shows NOT_APPLICABLE rows without -status:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(l); n > awsguard.TableWidth {
			t.Errorf("line of %d columns: %q", n, l)
		}
	}
	if r.Stderr != "" {
		t.Errorf("stderr is not a terminal: no step lines, got %q", r.Stderr)
	}
}

func runDemo(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "demo", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runDemo(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: demo [flags]", "-aws", "-fix", "-dry-run", "-status", "-format", "-profile", "-print-policy", "Exit codes"} {
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
// nothing (nor starts the emulator).
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-fix"}, "-fix applies only with -aws"},
		{[]string{"-format", "xml"}, `-format "xml"`},
		{[]string{"-format", "csv"}, `-format "csv"`},
		{[]string{"-status", "failed"}, `-status "failed"`},
		{[]string{"-aws=maybe"}, "-aws"},
		{[]string{"-aws", "-fix=maybe"}, "-fix"},
		{[]string{"-dry-run=maybe"}, "-dry-run"},
		{[]string{"-profile", "dev"}, "-profile applies only with -aws"},
		{[]string{"-region", "eu-west-1", "-endpoint-url", "http://localhost:1"}, "-region, -endpoint-url applies only with -aws"},
		{[]string{"-print-policy"}, "-print-policy applies only with -aws"},
		{[]string{"-aws", "-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-aws", "-endpoint-url", "ftp://example"}, `-endpoint-url "ftp://example"`},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-aws", "-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-aws", "-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runDemo(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "demo: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: demo") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

// A local dry run plans the fixes and changes nothing: no after report.
func TestLocalDemoDryRun(t *testing.T) {
	awstest.New(t)
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-dry-run", "-format", "json"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr: %s", err, stderr.String())
	}
	var out struct {
		Changes []string         `json:"changes"`
		After   *awsguard.Report `json:"after"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out.After != nil {
		t.Error("a dry run printed an after report")
	}
	if len(out.Changes) == 0 || !strings.HasPrefix(out.Changes[0], "would update the account password policy: MinimumPasswordLength 6 -> 8") {
		t.Errorf("changes = %q, want the password policy plan first, as what it would do", out.Changes)
	}
}

// -aws reads the account of the standard configuration chain and changes
// nothing; -aws -fix -dry-run plans; -aws -fix applies only the fixes that
// are safe in any account (the password policy, tightened only).
func TestAWSMode(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	api := iam.NewFromConfig(env.Config())
	if _, err := api.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(6)}); err != nil {
		t.Fatal(err)
	}
	minLength := func() int32 {
		out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToInt32(out.PasswordPolicy.MinimumPasswordLength)
	}
	type output struct {
		Mode    string           `json:"mode"`
		Before  *awsguard.Report `json:"before"`
		Changes []string         `json:"changes"`
		After   *awsguard.Report `json:"after"`
	}
	runJSON := func(args ...string) output {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, append(args, "-format", "json"), &stdout, &stderr); err != nil {
			t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
		}
		var out output
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}

	out := runJSON("-aws")
	if out.Mode != "aws" || len(out.Changes) != 0 || out.After != nil {
		t.Errorf("read-only run: mode %q, changes %q, after %v", out.Mode, out.Changes, out.After != nil)
	}
	if statuses(out.Before)["iam.password_policy arn:aws:iam::123456789012:account-password-policy"] != awsguard.StatusFail {
		t.Errorf("weak password policy not reported as FAIL")
	}
	if got := minLength(); got != 6 {
		t.Fatalf("read-only run changed the policy: MinimumPasswordLength %d", got)
	}

	// -status selects the rows of the table.
	if r := runDemo(t, "-aws"); r.Code != 0 || !strings.Contains(r.Stdout, "\nFAIL ") || !strings.Contains(r.Stdout, "\nPASS ") {
		t.Errorf("-aws table (code %d):\n%s", r.Code, r.Stdout)
	}
	if r := runDemo(t, "-aws", "-status", "pass"); r.Code != 0 || strings.Contains(r.Stdout, "\nFAIL ") || !strings.Contains(r.Stdout, "\nPASS ") {
		t.Errorf("-aws -status pass (code %d):\n%s", r.Code, r.Stdout)
	}

	out = runJSON("-aws", "-fix", "-dry-run")
	if len(out.Changes) == 0 || out.After != nil || minLength() != 6 {
		t.Errorf("dry run: changes %q, after %v, length %d", out.Changes, out.After != nil, minLength())
	}

	out = runJSON("-aws", "-fix")
	if out.After == nil || minLength() < 8 {
		t.Fatalf("fix: after %v, length %d", out.After != nil, minLength())
	}
	if statuses(out.After)["iam.password_policy arn:aws:iam::123456789012:account-password-policy"] != awsguard.StatusPass {
		t.Errorf("password policy not PASS after -fix")
	}
	users, err := api.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil || len(users.Users) != 0 {
		t.Errorf("-aws -fix created users or groups in the caller's account: %v %v", users, err)
	}
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	audit := []string{"iam:GenerateCredentialReport", "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy",
		"iam:GetAccountSummary", "iam:GetCredentialReport"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-aws"}, audit},
		{[]string{"-aws", "-fix", "-dry-run"}, audit},
		{[]string{"-aws", "-fix"}, append(slices.Clone(audit), "iam:UpdateAccountPasswordPolicy")},
	} {
		got := clitest.Actions(clitest.PrintPolicy(t, "demo", run, tc.args...))
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// demo -aws -fix runs as a user holding exactly its printed policy, and
// fails without any one of its actions (moto checks actions, not
// resources). The local demo needs no AWS permission: it runs its own
// emulator with its own credentials.
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	args := []string{"-aws", "-fix", "-format", "json"}
	clitest.LeastPrivilegeAsUser(t, env, "demo-operator", clitest.PrintPolicy(t, "demo", run, args...), func(t *testing.T, admin *iam.Client, allowed bool) bool {
		// A weak policy, for every run to fix.
		if _, err := admin.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(6)}); err != nil {
			t.Fatal(err)
		}
		r := runDemo(t, args...)
		if allowed && (r.Code != 0 || !strings.Contains(r.Stdout, "update the account password policy")) {
			t.Errorf("with the printed policy: code %d, %s", r.Code, r.Stderr)
		}
		if !allowed && r.Code != 1 {
			t.Errorf("denied: code %d, want 1: %s", r.Code, r.Stderr)
		}
		return r.Code == 0
	})
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runDemo(t, "-aws", "-timeout", "1s")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "gave up after -timeout 1s: no answer from "+url) {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

func TestRefusedCredentials(t *testing.T) {
	env := awstest.New(t)
	env.EnforceAuth()
	env.SetEnv("AKIAIOSFODNN7BOGUSKY", "not-a-secret-that-exists")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	r := runDemo(t, "-aws", "-format", "json")
	if r.Code != 1 || r.Stdout != "" || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, cli.CredentialsRefused) || !strings.Contains(r.Stderr, "GetCallerIdentity") {
		t.Errorf("code %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, "not-a-secret") {
		t.Error("the secret reached stderr")
	}
}
