package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard"

	"github.com/awsguard/awsguard/internal/cli"
)

// CheckAccountAccess is the finding -org makes for every account of the
// organization: PASS when the audit reached it, ERROR (with the reason in
// evidence) when the role could not be assumed or the account could not be
// audited at all.
const CheckAccountAccess = "org.account.access"

var accessCheck = checkInfo{ID: CheckAccountAccess, Severity: awsguard.SeverityHigh,
	Title: "With -org: the audit reached the account (its role could be assumed and its audits run)"}

// DefaultConcurrency is the default of -concurrency: accounts audited at
// once. Each account's regional audits fan out over at most 4 regions at
// once on top of it.
const DefaultConcurrency = 4

// The seams the tests replace: the Organizations and STS clients of the
// management account.
var (
	// apiOptions are added to every client's (the benchmarks count calls).
	apiOptions       []func(*middleware.Stack) error
	newOrganizations = func(cfg aws.Config) awsguard.ListAccountsAPI { return organizations.NewFromConfig(cfg) }
	newAssumer       = func(cfg aws.Config) awsguard.AssumeRoleAPI { return sts.NewFromConfig(cfg) }
)

// orgFlags are -org and the flags that go with it.
type orgFlags struct {
	on          bool
	role        string
	externalID  string
	concurrency int
}

func (o *orgFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.on, "org", false, "audit every ACTIVE account of the Organization (run it in the management account or a\n"+
		"delegated administrator): the caller's own account with its own credentials, every other through -role")
	fs.StringVar(&o.role, "role", "", "with -org: the `name` of the role to assume in each member account (such as\nOrganizationAccountAccessRole)")
	fs.StringVar(&o.externalID, "external-id", "", "with -org: the external `ID` the member roles' trust policy asks for")
	fs.IntVar(&o.concurrency, "concurrency", DefaultConcurrency, "with -org: the most `accounts` audited at once (1 to 64)")
}

var (
	roleNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// parse checks the -org flags and declares the management-side calls.
func (o *orgFlags) parse(c *cli.Command, f *flags) error {
	set := map[string]bool{}
	c.Flags.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !o.on {
		for _, name := range []string{"role", "external-id", "concurrency"} {
			if set[name] {
				return cli.Usagef("-%s is for -org", name)
			}
		}
		for _, p := range f.checks {
			others := slices.ContainsFunc(f.known, func(ci checkInfo) bool { return ci.ID != CheckAccountAccess && strings.HasPrefix(ci.ID, p) })
			if strings.HasPrefix(CheckAccountAccess, p) && !others {
				return cli.Usagef("-checks %q: %s is made only with -org", p, CheckAccountAccess)
			}
		}
		return nil
	}
	switch {
	case o.role == "":
		return cli.Usagef("-org needs -role NAME: the role to assume in each member account")
	case !roleNameRE.MatchString(o.role):
		return cli.Usagef("-role %q: want a role name of 1-64 letters, digits and +=,.@_-", o.role)
	case o.externalID != "" && (len(o.externalID) < 2 || len(o.externalID) > 1224 || !externalIDRE.MatchString(o.externalID)):
		return cli.Usagef("-external-id: want 2-1224 letters, digits and +=,.@:/_-")
	case o.concurrency < 1 || o.concurrency > 64:
		return cli.Usagef("-concurrency %d: want 1 to 64", o.concurrency)
	}
	// (-regions all: each account lists its own enabled regions, with the
	// ec2:DescribeRegions parse declared for the regional checks.)
	c.Uses(reflect.TypeFor[awsguard.ListAccountsAPI](), reflect.TypeFor[awsguard.AssumeRoleAPI]())
	return nil
}

// accountAudit is what auditAccount found in one account.
type accountAudit struct {
	reports []*awsguard.Report
	errs    []error
}

// auditOrg audits every ACTIVE account of the organization: self (the
// caller's account) with cfg's own credentials, every other through -role,
// -concurrency at a time. An account that could not be reached or audited
// is an ERROR finding of CheckAccountAccess and an entry of errs; it never
// stops the others. The error return is for the organization's account
// list.
func (f *flags) auditOrg(ctx context.Context, cfg aws.Config, self string, progress func(string)) (*awsguard.Report, []error, error) {
	accounts, err := awsguard.OrganizationAccounts(ctx, newOrganizations(cfg))
	if err != nil {
		return nil, nil, fmt.Errorf("list the organization's accounts (-org): %w", err)
	}
	if len(accounts) == 0 {
		// AWS answers AWSOrganizationsNotInUseException outside an
		// organization; an empty list would pass for a clean audit.
		return nil, nil, errors.New("list the organization's accounts (-org): it lists no ACTIVE account")
	}
	var mu sync.Mutex
	done := 0
	results, err := awsguard.ForEachAccount(ctx, cfg, newAssumer(cfg), accounts, func(ctx context.Context, t awsguard.Target) (accountAudit, error) {
		reports, errs, err := f.auditAccount(ctx, t.Config, t.Account)
		mu.Lock()
		done++
		progress(fmt.Sprintf("%d of %d accounts audited (last %s)", done, len(accounts), t.Account))
		mu.Unlock()
		return accountAudit{reports, errs}, err
	}, func(ao *awsguard.AccountOptions) {
		ao.RoleName, ao.ExternalID, ao.Self, ao.Concurrency = f.org.role, f.org.externalID, self, f.org.concurrency
	})
	if err != nil {
		return nil, nil, err
	}
	var reports []*awsguard.Report
	var errs []error
	for _, r := range results {
		reports = append(reports, r.Value.reports...)
		reports = append(reports, f.access(r.Account, self, r.Err))
		for _, e := range r.Value.errs {
			if e != nil {
				errs = append(errs, fmt.Errorf("account %s: %w", r.Account, e))
			}
		}
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("account %s could not be audited (%s ERROR): %w", r.Account, CheckAccountAccess, r.Err))
		}
	}
	return awsguard.Merge(reports...), errs, nil
}

// access is the CheckAccountAccess finding of one account.
func (f *flags) access(account, self string, err error) *awsguard.Report {
	x := awsguard.Finding{Check: CheckAccountAccess, Status: awsguard.StatusPass, Severity: accessCheck.Severity,
		Account: account, Region: "global", Resource: "arn:aws:iam::" + account + ":role/" + f.org.role,
		Title:    "The audit reached account " + account + " through role " + f.org.role,
		Evidence: map[string]string{"credentials": "assumed role " + f.org.role}}
	if account == self {
		x.Resource = account
		x.Title = "The audit ran in account " + account + " (the caller's own) with the caller's credentials"
		x.Evidence["credentials"] = "the caller's own"
	}
	if err != nil {
		x.Status = awsguard.StatusError
		x.Title = "Account " + account + " could not be audited: the role could not be assumed or the account read"
		x.Evidence["error"] = err.Error()
	}
	return awsguard.NewReport(time.Now(), x)
}

// writeTables prints the table of each account in turn, under its ID.
func writeTables(w io.Writer, rep *awsguard.Report) error {
	var accounts []string
	for _, x := range rep.Findings {
		accounts = append(accounts, x.Account)
	}
	slices.Sort(accounts)
	for i, a := range slices.Compact(accounts) {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "Account %s\n", a)
		if err := rep.Filter(func(x awsguard.Finding) bool { return x.Account == a }).WriteTable(w); err != nil {
			return err
		}
	}
	return nil
}

// progressTo returns a function that shows a step line on w when w is a
// terminal, and does nothing otherwise (as the demo does).
func progressTo(w io.Writer) func(string) {
	f, ok := w.(*os.File)
	if !ok {
		return func(string) {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func(string) {}
	}
	return func(step string) { fmt.Fprintf(w, "audit: %s\n", step) }
}

// policyWriter passes writes through to w, or holds them while hold is
// set (the policy Run prints, which -org rewrites).
type policyWriter struct {
	w    io.Writer
	hold bool
	held bytes.Buffer
}

func (p *policyWriter) Write(b []byte) (int, error) {
	if p.hold {
		return p.held.Write(b)
	}
	return p.w.Write(b)
}

// writePolicy prints the management side's policy for -org: the audit of
// its own account and organizations:ListAccounts on every resource, and
// sts:AssumeRole on -role only; then says on stderr what the member role
// needs.
func (o *orgFlags) writePolicy(stdout, stderr io.Writer, printed []byte) error {
	doc, err := awsguard.ParsePolicyDocument(string(printed))
	if err != nil || len(doc.Statement.List) != 1 {
		return fmt.Errorf("-print-policy: the policy printed is not one statement: %v", err)
	}
	const assume = "sts:AssumeRole"
	own := doc.Statement.List[0]
	own.Sid = "AuditThisAccountAndListAccounts"
	own.Action = awsguard.StringList(slices.DeleteFunc(slices.Clone(own.Action.Values), func(a string) bool { return a == assume })...)
	doc.Statement = awsguard.Statements{List: []awsguard.Statement{own, {
		Sid: "AssumeTheMemberRole", Effect: "Allow", Action: awsguard.StringValue(assume),
		Resource: awsguard.StringValue("arn:aws:iam::*:role/" + o.role),
	}}}
	if err := cli.WriteJSON(stdout, doc); err != nil {
		return err
	}
	ext := ""
	if o.externalID != "" {
		ext = ", on the condition sts:ExternalId equals -external-id"
	}
	fmt.Fprintf(stderr, "audit: the role %s in each member account needs the actions of the first statement but organizations:ListAccounts "+
		"(audit -print-policy with the same flags and no -org prints them), and a trust policy that lets this account call sts:AssumeRole%s\n", o.role, ext)
	return nil
}
