// Command audit runs awsguard's read-only audits against an AWS account and
// prints the findings, for people (-format table, html), for pipelines
// (-format json, csv, and the exit code) and for Security Hub (-format
// asff: the documents BatchImportFindings takes, for import by the
// account in the configured region).
//
// The checks come from the packages' audits (audit -list-checks lists
// them): iam.* (iamguard, global), and per region of -regions waf.*, elb.*
// and acm.* (waf), network.* (inspect: effective network exposure),
// ec2.instance_connect (ec2recover: EC2 Instance Connect usable on an
// instance), inspector.* (inspect: Inspector2 enablement and findings), observe.*
// (alert topics, CIS metric filters, log retention).
//
//	audit [-format table|json|csv|html|asff] [-checks ID,PREFIX,...] [-severity LIST] [-status LIST]
//	      [-fail-on SEVERITY|none] [-regions all|REGION,...] [-baseline kisa|cis] [-list-checks]
//	      [-org -role NAME [-external-id ID] [-concurrency 4]]
//	      [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// With -org it audits every ACTIVE account of the Organization
// (organizations:ListAccounts, from the management account or a delegated
// administrator): the caller's own account with the caller's own
// credentials (the management account has no OrganizationAccountAccessRole
// of its own, and needs none), every other account through sts:AssumeRole
// into -role, -concurrency accounts at once (each fanning out over at most
// 4 regions at once). -regions all is each account's own list of enabled
// regions. The findings of all accounts make one report, each finding
// naming its account; the table prints one table per account. Every
// account gets an org.account.access finding, whatever -checks selects:
// PASS when it was audited, ERROR (with the reason in evidence) when its
// role is missing, AssumeRole was denied or the account could not be read;
// such an account never stops the others, and makes the exit code 1. On a
// terminal, a progress line per account audited goes to stderr.
// -print-policy with -org prints the management side's policy (its own
// audit, organizations:ListAccounts, and sts:AssumeRole on the role only)
// and says on stderr what the member role needs: the same policy without
// organizations:ListAccounts, and a trust policy for the caller's account.
//
// Exit codes: 0 the audit ran and no finding FAILs at or above -fail-on
// (default low: any FAIL; none: never); 3 the audit ran and some do; 1 it
// could not run, or could not read part of the account (the findings it
// could make are still printed); 2 a bad command line. A one-line summary
// goes to stderr.
//
// The table and the HTML page leave out NOT_APPLICABLE findings unless
// -status asks for them; JSON and CSV hold every finding selected. -checks,
// -severity and -status select the findings printed, counted and judged by
// -fail-on. -print-policy prints the IAM policy the audit needs for the
// flags given.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/observe"
	"github.com/awsguard/awsguard/waf"

	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/present"
)

func main() { cli.Main("audit", run) }

// checkInfo describes one check a provider knows.
type checkInfo struct {
	ID          string            `json:"id"`
	Severity    awsguard.Severity `json:"severity"`
	Title       string            `json:"title"`
	Controls    []string          `json:"controls"`
	Remediation string            `json:"remediation"`
	Regional    bool              `json:"regional"`
}

// auditOptions are what every provider's audit is given.
type auditOptions struct {
	baseline iamguard.Baseline
	account  string
}

// provider is one package's audit. A global provider runs once, against
// the configured region; a regional one runs once per region of -regions,
// through awsguard.ForEachRegion. A new package's audit is added to
// providers; -checks, -list-checks and -print-policy learn its checks and
// interfaces from here.
type provider struct {
	name     string
	regional bool
	checks   func(o auditOptions) []checkInfo
	// uses are the client interfaces audit calls (their methods are the
	// IAM permissions it needs).
	uses  []reflect.Type
	audit func(ctx context.Context, t awsguard.Target, o auditOptions) (*awsguard.Report, error)
}

var providers = []provider{
	{
		name: "iamguard",
		checks: func(o auditOptions) []checkInfo {
			var out []checkInfo
			for _, c := range iamguard.Checks() {
				ci := checkInfo{ID: c.ID, Severity: c.Severity, Title: c.Summary, Controls: c.Controls, Remediation: c.Remediation}
				if c.ID == iamguard.CheckPasswordPolicy && len(o.baseline.Controls) > 0 {
					ci.Controls = slices.Clone(o.baseline.Controls)
				}
				out = append(out, ci)
			}
			return out
		},
		uses: []reflect.Type{reflect.TypeFor[iamguard.AuditAPI]()},
		audit: func(ctx context.Context, t awsguard.Target, o auditOptions) (*awsguard.Report, error) {
			return iamguard.Audit(ctx, iam.NewFromConfig(t.Config), func(ao *iamguard.AuditOptions) {
				ao.Baseline, ao.Account = o.baseline, o.account
			})
		},
	},
	{
		name:     "waf",
		regional: true,
		checks: func(auditOptions) []checkInfo {
			var out []checkInfo
			for _, c := range waf.Checks() {
				out = append(out, checkInfo{ID: c.ID, Severity: c.Severity, Title: c.Summary, Controls: c.Controls, Remediation: c.Remediation})
			}
			return out
		},
		uses: []reflect.Type{reflect.TypeFor[waf.AuditELB](), reflect.TypeFor[waf.AuditWAF](), reflect.TypeFor[waf.AuditACM]()},
		audit: func(ctx context.Context, t awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			api := waf.AuditAPI{ELB: elbv2.NewFromConfig(t.Config), WAF: wafv2.NewFromConfig(t.Config), ACM: acm.NewFromConfig(t.Config)}
			return waf.Audit(ctx, api, func(ao *waf.AuditOptions) { ao.Account, ao.Region = t.Account, t.Region })
		},
	},
	{
		name:     "network",
		regional: true,
		checks:   inspectChecks("network."),
		uses:     []reflect.Type{reflect.TypeFor[inspect.NetworkAPI]()},
		audit: func(ctx context.Context, t awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			return inspect.AuditNetwork(ctx, ec2.NewFromConfig(t.Config), func(no *inspect.NetworkOptions) { no.Account, no.Region = t.Account, t.Region })
		},
	},
	{
		name:     "ec2recover",
		regional: true,
		checks: func(auditOptions) []checkInfo {
			return []checkInfo{{ID: ec2recover.CheckInstanceConnect, Severity: awsguard.SeverityMedium,
				Title:    "EC2 Instance Connect cannot be used on the instance: its OS ships no agent, or nobody is allowed SendSSHPublicKey",
				Controls: []string{"ISMS-P:2.6.6"}, Remediation: "ec2recover.DisableInstanceConnect"}}
		},
		uses: []reflect.Type{reflect.TypeFor[ec2recover.InstanceConnectEC2](), reflect.TypeFor[ec2recover.InstanceConnectIAM]()},
		audit: func(ctx context.Context, t awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			return ec2recover.AuditInstanceConnect(ctx, ec2.NewFromConfig(t.Config), iam.NewFromConfig(t.Config), func(io *ec2recover.InstanceConnectOptions) {
				io.Account, io.Region = t.Account, t.Region
			})
		},
	},
	{
		name:     "inspector",
		regional: true,
		checks:   inspectChecks("inspector."),
		uses:     []reflect.Type{reflect.TypeFor[inspect.AuditAPI]()},
		audit: func(ctx context.Context, t awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			// Account goes to BatchGetAccountStatus as accountIds (the
			// emulator needs it; AWS takes the caller's own).
			rep, _, err := inspect.Audit(ctx, inspector2.NewFromConfig(t.Config), inspect.FindingFilter{}, func(opt *inspect.InspectorOptions) {
				opt.Account, opt.Region = t.Account, t.Region
			})
			return rep, err
		},
	},
	{
		name:     "observe",
		regional: true,
		checks: func(auditOptions) []checkInfo {
			var out []checkInfo
			for _, c := range observe.Checks() {
				out = append(out, checkInfo{ID: c.ID, Severity: c.Severity, Title: c.Summary, Controls: c.Controls, Remediation: c.Remediation})
			}
			return out
		},
		uses: []reflect.Type{reflect.TypeFor[observe.AuditSNSAPI](), reflect.TypeFor[observe.AuditLogsAPI](), reflect.TypeFor[observe.AuditAlarmsAPI]()},
		audit: func(ctx context.Context, t awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			c := observe.AuditClients{SNS: sns.NewFromConfig(t.Config), Logs: cloudwatchlogs.NewFromConfig(t.Config), CloudWatch: cloudwatch.NewFromConfig(t.Config)}
			return observe.Audit(ctx, c, func(ao *observe.AuditOptions) { ao.Account, ao.Region = t.Account, t.Region })
		},
	},
}

// inspectChecks returns the checks of package inspect whose IDs start with
// prefix: its network audit and its Inspector audit are two providers.
func inspectChecks(prefix string) func(auditOptions) []checkInfo {
	return func(auditOptions) []checkInfo {
		var out []checkInfo
		for _, c := range inspect.Checks() {
			if !strings.HasPrefix(c.ID, prefix) {
				continue
			}
			title := c.Summary
			if c.SeverityNote != "" {
				title += " (" + c.SeverityNote + ")"
			}
			out = append(out, checkInfo{ID: c.ID, Severity: c.Severity, Title: title, Controls: c.Controls, Remediation: c.Remediation})
		}
		return out
	}
}

// callerAPI is the part of *sts.Client that audit calls to name the
// account (sts:GetCallerIdentity, which needs no permission).
type callerAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// regionsAPI is the part of *ec2.Client that -regions all calls.
type regionsAPI interface {
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
}

var (
	_ callerAPI  = (*sts.Client)(nil)
	_ regionsAPI = (*ec2.Client)(nil)
)

// flags are audit's own flags, parsed and checked.
type flags struct {
	format     *string
	checks     []string
	severities []awsguard.Severity
	statuses   []awsguard.Status
	failOn     awsguard.Severity // "" for none
	regions    []string          // nil: the configured region; ["all"]: every enabled one
	listChecks bool
	org        orgFlags
	opts       auditOptions
	selected   []provider
	known      []checkInfo
}

const summary = `audit reads the account's security posture (IAM; and per region WAF, HTTPS
and certificates, network exposure, Inspector, alerts and logs) and prints
one finding per check and resource. With -org -role NAME it audits every
ACTIVE account of the Organization (the caller's own with its own
credentials, the others through the role NAME) into one report; an account
it cannot reach is an org.account.access ERROR finding. Exit codes: 0 no
finding FAILs at or above -fail-on, 3 some do, 1 the audit could not run
(or read only part of the account, or of the organization), 2 a bad
command line.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("audit", summary)
	var f flags
	f.format = c.Format(cli.FormatTable, cli.FormatJSON, cli.FormatCSV, cli.FormatHTML, cli.FormatASFF)
	checks := c.Flags.String("checks", "", "only these checks: a comma-separated `list` of check IDs or prefixes (see -list-checks)")
	severity := c.Flags.String("severity", "", "only findings of these severities: a comma-separated `list` of CRITICAL, HIGH, MEDIUM, LOW, INFO")
	status := c.Flags.String("status", "", "only findings of these statuses: a comma-separated `list` of FAIL, ERROR, PASS, NOT_APPLICABLE\n(default: all; the table and html leave out NOT_APPLICABLE)")
	failOn := c.Flags.String("fail-on", "low", "exit 3 when a finding FAILs at or above this `severity` (critical, high, medium, low, info), or none")
	regions := c.Flags.String("regions", "", "regions of the regional checks: a comma-separated `list`, or all (every enabled region)\n(default: the configured region)")
	baselineName := c.Flags.String("baseline", "kisa", "password policy `baseline`: kisa or cis")
	c.Flags.BoolVar(&f.listChecks, "list-checks", false, "list the known checks (-format table or json) and exit")
	f.org.register(c.Flags)
	out := &policyWriter{w: stdout}
	c.Check = func() error {
		if err := f.parse(c, *checks, *severity, *status, *failOn, *regions, *baselineName); err != nil {
			return err
		}
		if err := f.org.parse(c, &f); err != nil {
			return err
		}
		// With -org, -print-policy's one statement is split in two (see
		// writeOrgPolicy): hold it back until Run has printed it.
		out.hold = f.org.on && c.Flags.Lookup("print-policy").Value.String() == "true"
		return nil
	}
	err := c.Run(ctx, args, out, stderr, func(ctx context.Context) error {
		if f.listChecks {
			return writeChecks(stdout, *f.format, f.known)
		}
		return f.audit(ctx, c, stdout, stderr)
	})
	if err == nil && out.hold {
		return f.org.writePolicy(stdout, stderr, out.held.Bytes())
	}
	return err
}

// parse checks audit's flags, before any AWS call, and declares the
// interfaces the run will use.
func (f *flags) parse(c *cli.Command, checks, severity, status, failOn, regions, baselineName string) error {
	var err error
	if f.opts.baseline, err = iamguard.BaselineByName(baselineName); err != nil {
		return cli.Usagef("-baseline %q: want kisa or cis", baselineName)
	}
	for _, p := range providers {
		for _, ci := range p.checks(f.opts) {
			ci.Regional = p.regional
			f.known = append(f.known, ci)
		}
	}
	f.known = append(f.known, accessCheck)
	if f.listChecks && *f.format != cli.FormatTable && *f.format != cli.FormatJSON {
		return cli.Usagef("-list-checks prints a table or json, not -format %s", *f.format)
	}
	for _, pat := range splitList(checks) {
		if !slices.ContainsFunc(f.known, func(ci checkInfo) bool { return strings.HasPrefix(ci.ID, pat) }) {
			return cli.Usagef("-checks %q: matches no known check (audit -list-checks lists them)", pat)
		}
		f.checks = append(f.checks, pat)
	}
	for _, s := range splitList(severity) {
		v := awsguard.Severity(strings.ToUpper(s))
		if !v.Valid() {
			return cli.Usagef("-severity %q: want CRITICAL, HIGH, MEDIUM, LOW or INFO", s)
		}
		f.severities = append(f.severities, v)
	}
	for _, s := range splitList(status) {
		v := awsguard.Status(strings.ToUpper(s))
		if !v.Valid() {
			return cli.Usagef("-status %q: want FAIL, ERROR, PASS or NOT_APPLICABLE", s)
		}
		f.statuses = append(f.statuses, v)
	}
	switch v := awsguard.Severity(strings.ToUpper(failOn)); {
	case strings.EqualFold(failOn, "none"):
	case v.Valid():
		f.failOn = v
	default:
		return cli.Usagef("-fail-on %q: want critical, high, medium, low, info or none", failOn)
	}
	rs := splitList(regions)
	switch {
	case len(rs) == 1 && rs[0] == "all":
		f.regions = rs
	case slices.Contains(rs, "all"):
		return cli.Usagef("-regions %q: all stands alone", regions)
	default:
		for i, r := range rs {
			if !cli.ValidRegion(r) {
				return cli.Usagef("-regions %q: want region names such as us-east-1,ap-northeast-2, or all", r)
			}
			if slices.Contains(rs[:i], r) {
				return cli.Usagef("-regions: %s is listed twice", r)
			}
		}
		f.regions = rs
	}
	for _, p := range providers {
		if f.wants(p) {
			f.selected = append(f.selected, p)
			c.Uses(p.uses...)
			if p.regional && len(f.regions) == 1 && f.regions[0] == "all" {
				c.Uses(reflect.TypeFor[regionsAPI]())
			}
		}
	}
	c.Uses(reflect.TypeFor[callerAPI]())
	return nil
}

// wants reports whether -checks selects any check of p.
func (f *flags) wants(p provider) bool {
	if len(f.checks) == 0 {
		return true
	}
	return slices.ContainsFunc(p.checks(f.opts), func(ci checkInfo) bool { return f.selects(ci.ID) })
}

func (f *flags) selects(check string) bool {
	return len(f.checks) == 0 || slices.ContainsFunc(f.checks, func(p string) bool { return strings.HasPrefix(check, p) })
}

func (f *flags) keep(x awsguard.Finding) bool {
	// Whether an account could be audited at all shows whatever -checks
	// selects: an account left out silently would look clean.
	return (f.selects(x.Check) || x.Check == CheckAccountAccess) &&
		(len(f.severities) == 0 || slices.Contains(f.severities, x.Severity)) &&
		(len(f.statuses) == 0 || slices.Contains(f.statuses, x.Status))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (f *flags) audit(ctx context.Context, c *cli.Command, stdout, stderr io.Writer) error {
	cfg, err := c.Config(ctx)
	if err != nil {
		return err
	}
	cfg.APIOptions = append(cfg.APIOptions, apiOptions...)
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("identify the account: %w", err)
	}
	f.opts.account = aws.ToString(out.Account)

	var rep *awsguard.Report
	var errs []error
	if f.org.on {
		if rep, errs, err = f.auditOrg(ctx, cfg, f.opts.account, progressTo(stderr)); err != nil {
			return err
		}
	} else {
		reports, aerrs, err := f.auditAccount(ctx, cfg, f.opts.account)
		if err != nil {
			return err
		}
		rep, errs = awsguard.Merge(reports...), aerrs
	}
	rep = rep.Filter(f.keep)
	if err := f.write(stdout, rep, cfg.Region); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	line, failed := f.summary(rep)
	fmt.Fprintln(stderr, "audit: "+line)
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if failed > 0 {
		return &cli.ExitError{Code: 3}
	}
	return nil
}

// auditAccount runs the selected providers against one account, reached
// through cfg: the global ones once, the regional ones per region of
// -regions. The error return is for an account that could not be audited
// at all; errs are the parts that could not be read (their findings are
// ERROR findings in the reports).
func (f *flags) auditAccount(ctx context.Context, cfg aws.Config, account string) (reports []*awsguard.Report, errs []error, err error) {
	opts := f.opts
	opts.account = account
	var regions []string
	for _, p := range f.selected {
		if !p.regional {
			rep, err := p.audit(ctx, awsguard.Target{Account: account, Region: cfg.Region, Config: cfg}, opts)
			if rep == nil && err != nil {
				return nil, nil, err
			}
			reports, errs = append(reports, rep), append(errs, err)
			continue
		}
		if regions == nil {
			if regions, err = f.resolveRegions(ctx, cfg); err != nil {
				return nil, nil, err
			}
		}
		results, err := awsguard.ForEachRegion(ctx, cfg, regions, func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
			t.Account = account
			return p.audit(ctx, t, opts)
		})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range results {
			if r.Value != nil {
				reports = append(reports, r.Value)
			} else if r.Err != nil {
				// No report at all (its first source could not be read):
				// the region still shows, as ERROR findings.
				reports = append(reports, f.unread(p, account, r.Region, r.Err))
			}
			if r.Err != nil {
				errs = append(errs, fmt.Errorf("%s in %s: %w", p.name, r.Region, r.Err))
			}
		}
	}
	return reports, errs, nil
}

// unread returns the findings of a regional provider whose audit of a
// region gave no report: one ERROR finding per check of p, saying why.
func (f *flags) unread(p provider, account, region string, err error) *awsguard.Report {
	var fs []awsguard.Finding
	for _, ci := range p.checks(f.opts) {
		fs = append(fs, awsguard.Finding{Check: ci.ID, Status: awsguard.StatusError, Severity: ci.Severity,
			Account: account, Region: region, Resource: "region/" + region,
			Title:    "The " + p.name + " audit could not read region " + region,
			Evidence: map[string]string{"error": err.Error()}, Controls: slices.Clone(ci.Controls)})
	}
	return awsguard.NewReport(time.Now(), fs...)
}

// resolveRegions returns the regions of -regions: the configured one by
// default, every enabled one (ec2:DescribeRegions) for all.
func (f *flags) resolveRegions(ctx context.Context, cfg aws.Config) ([]string, error) {
	if len(f.regions) == 0 {
		return []string{cfg.Region}, nil
	}
	if f.regions[0] != "all" {
		return f.regions, nil
	}
	return enabledRegions(ctx, ec2.NewFromConfig(cfg))
}

func enabledRegions(ctx context.Context, api regionsAPI) ([]string, error) {
	out, err := api.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list the enabled regions (-regions all): %w", err)
	}
	var rs []string
	for _, r := range out.Regions {
		rs = append(rs, aws.ToString(r.RegionName))
	}
	slices.Sort(rs)
	return rs, nil
}

// write prints the report in -format (asff: for import by the account in
// region). The table and the HTML page are for
// people: they leave out NOT_APPLICABLE unless -status asks for it, and
// describe a key never used as such (present.ForPeople).
func (f *flags) write(w io.Writer, rep *awsguard.Report, region string) error {
	switch *f.format {
	case cli.FormatJSON:
		return rep.WriteJSON(w)
	case cli.FormatCSV:
		return rep.WriteCSV(w)
	case cli.FormatASFF:
		// The documents Security Hub's BatchImportFindings takes, for
		// import by this account in the configured region.
		return observe.WriteASFF(w, rep, f.opts.account, region)
	}
	shown := present.ForPeople(rep, f.statuses)
	if *f.format == cli.FormatHTML {
		return shown.WriteHTML(w)
	}
	if f.org.on {
		return writeTables(w, shown)
	}
	return shown.WriteTable(w)
}

// summary is the one line for stderr, and the number of findings that
// FAIL at or above -fail-on.
func (f *flags) summary(rep *awsguard.Report) (string, int) {
	s := rep.Summary()
	var b strings.Builder
	fmt.Fprintf(&b, "%d findings", s.Total)
	sep := ": "
	for _, st := range []awsguard.Status{awsguard.StatusFail, awsguard.StatusError, awsguard.StatusPass, awsguard.StatusNotApplicable} {
		n := s.ByStatus[st]
		if n == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s%d %s", sep, n, st)
		sep = ", "
		if st == awsguard.StatusFail {
			var parts []string
			for _, sv := range []awsguard.Severity{awsguard.SeverityCritical, awsguard.SeverityHigh, awsguard.SeverityMedium, awsguard.SeverityLow, awsguard.SeverityInfo} {
				if m := s.FailedBySeverity[sv]; m > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", m, sv))
				}
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
		}
	}
	failed := 0
	if f.failOn != "" {
		for sv, n := range s.FailedBySeverity {
			if sv.Rank() <= f.failOn.Rank() {
				failed += n
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(&b, "; %d FAIL at or above -fail-on %s: exit 3", failed, strings.ToLower(string(f.failOn)))
	}
	return b.String(), failed
}

// writeChecks prints the known checks for -list-checks.
func writeChecks(w io.Writer, format string, checks []checkInfo) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, struct {
			Checks []checkInfo `json:"checks"`
		}{checks})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tISMS-P\tCIS\tFIX\tTITLE")
	for _, ci := range checks {
		var isms, cis []string
		for _, ctl := range ci.Controls {
			if v, ok := strings.CutPrefix(ctl, "ISMS-P:"); ok {
				isms = append(isms, v)
			} else if v, ok := strings.CutPrefix(ctl, "CIS:"); ok {
				cis = append(cis, v)
			}
		}
		fix := ci.Remediation
		if fix == "" {
			fix = "-"
		}
		title := ci.Title
		if ci.Regional {
			title += " (regional)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ci.ID, ci.Severity, dash(strings.Join(isms, ",")), dash(strings.Join(cis, ",")), fix, title)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
