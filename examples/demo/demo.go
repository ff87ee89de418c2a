package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/motoserver"
	"github.com/awsguard/awsguard/internal/present"
)

// A scenario is one concern of the demo: how to weaken a local account
// for it, how to audit it, and how to fix it.
type scenario struct {
	name string
	// seed weakens the local emulated account.
	seed func(ctx context.Context, e *demoEnv) error
	// audit reads only.
	audit func(ctx context.Context, e *demoEnv) (*awsguard.Report, error)
	// fix plans (dryRun) or applies its fixes and says in words, one line
	// each, what it did (or would do).
	fix func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error)
	// teardown, if set, runs at the end of a local demo, after the second
	// audit, and says in words what it removed: the demo leaves nothing
	// running.
	teardown func(ctx context.Context, e *demoEnv) ([]string, error)
	// localOnly scenarios run only against the local emulator: with -aws
	// they neither audit nor fix.
	localOnly bool
	// uses are the client interfaces audit and fix call against a real
	// account (-aws): fix's only with -fix.
	auditUses, fixUses []reflect.Type
}

// demoEnv is what the scenarios work with.
type demoEnv struct {
	cfg     aws.Config
	account string
	local   bool
	// now is the clock the audits use. Locally it runs 120 days ahead, so
	// that keys made by the seed are old enough to fail the age checks:
	// the emulator cannot back-date them.
	now func() time.Time
	// probes are the SQL-injection probe runs of the waf scene.
	probes []ProbeSummary
}

// Output is the demo's JSON form (-format json): the findings before and
// after the fixes, in the findings contract, and the changes in words.
type Output struct {
	Mode    string           `json:"mode"`
	Before  *awsguard.Report `json:"before"`
	Changes []string         `json:"changes"`
	After   *awsguard.Report `json:"after,omitempty"`
	// Probes are the SQL-injection probe's verdicts on the local login
	// application, bare and behind the local WAF (local demo only).
	Probes []ProbeSummary `json:"probes,omitempty"`
	// Teardown says what the local demo removed at its end.
	Teardown []string `json:"teardown,omitempty"`
}

const summary = `demo shows awsguard's main job end to end. With no flags it starts a local
AWS emulator (moto_server), seeds a deliberately weak account, audits it,
fixes it, audits again and shows what changed; nothing outside this machine
is touched. With -aws it audits the account of the AWS configuration chain
(-profile, -region, -endpoint-url) and changes nothing unless -fix is given
(only the fixes that are safe in any account: the password policy,
tightened only). Exit codes: 0 done, 1 failed (or an audit could read only
part of the account: the output is still printed), 2 a bad command line.`

// awsOnly are the common flags that choose an AWS account: they mean
// something only with -aws.
var awsOnly = []string{"profile", "region", "endpoint-url", "print-policy"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("demo", summary)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	useAWS := c.Flags.Bool("aws", false, "audit the account of the AWS configuration chain instead of a local emulator (read-only unless -fix)")
	fix := c.Flags.Bool("fix", false, "with -aws: apply the fixes that are safe in any account (the password policy, tightened only)")
	status := c.Flags.String("status", "", "the findings table shows only these statuses: a comma-separated `list` of FAIL, ERROR, PASS,\nNOT_APPLICABLE (default: FAIL and ERROR in the local demo, all but NOT_APPLICABLE with -aws;\n-format json holds every finding)")
	var statuses []awsguard.Status
	c.Check = func() error {
		if *fix && !*useAWS {
			return cli.Usagef("-fix applies only with -aws (the local demo always fixes its own emulated account)")
		}
		if !*useAWS {
			var set []string
			for _, name := range awsOnly {
				if isSet(c, name) {
					set = append(set, "-"+name)
				}
			}
			if len(set) > 0 {
				return cli.Usagef("%s applies only with -aws: the local demo runs its own emulator and needs no AWS account or permission", strings.Join(set, ", "))
			}
		}
		for _, s := range strings.Split(*status, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			v := awsguard.Status(strings.ToUpper(s))
			if !v.Valid() {
				return cli.Usagef("-status %q: want FAIL, ERROR, PASS or NOT_APPLICABLE", s)
			}
			statuses = append(statuses, v)
		}
		for _, s := range scenarios {
			if s.localOnly && *useAWS {
				continue
			}
			c.Uses(s.auditUses...)
			if *fix && !*dryRun {
				c.Uses(s.fixUses...)
			}
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		d := &demo{stdout: stdout, progress: progressTo(stderr), format: *format, statuses: statuses, dryRun: *dryRun}
		e := &demoEnv{now: time.Now}
		d.out = Output{Mode: "local"}
		d.fixed = true
		if *useAWS {
			var err error
			if e.cfg, err = c.Config(ctx); err != nil {
				return err
			}
			d.out.Mode = "aws"
			d.fixed = *fix
			return d.run(ctx, e)
		}
		d.progress("starting the local AWS emulator (moto_server)")
		srv, err := motoserver.Start(ctx)
		if err != nil {
			return fmt.Errorf("start the local emulator: %w", err)
		}
		defer srv.Stop()
		e.local = true
		e.cfg = aws.Config{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("AKIADEMODEMODEMO0001", "demo-secret", ""),
			BaseEndpoint: aws.String(srv.URL),
		}
		start := time.Now()
		e.now = func() time.Time { return time.Now().Add(120*24*time.Hour + time.Since(start)) }
		if d.format != cli.FormatJSON {
			fmt.Fprintf(stdout, "Local AWS emulator (moto_server) at %s; nothing outside this machine is touched.\n", srv.URL)
			fmt.Fprintln(stdout, "The emulator cannot back-date keys, so the first audit runs with a clock 120 days ahead:")
			fmt.Fprintln(stdout, "the seeded key counts as old. Root MFA cannot be enabled through the API: iam.root.mfa")
			fmt.Fprintln(stdout, "stays FAIL until someone enrols it in the console. The emulator marks every certificate")
			fmt.Fprintln(stdout, "INELIGIBLE for managed renewal, so acm.certificate.expiry FAILs for the one HTTPS gets;")
			fmt.Fprintln(stdout, "on AWS a DNS-validated certificate in use is ELIGIBLE.")
		}
		d.progress("seeding a weak account")
		for _, s := range scenarios {
			if s.seed == nil {
				continue
			}
			if err := s.seed(ctx, e); err != nil {
				return fmt.Errorf("seed %s: %w", s.name, err)
			}
		}
		return d.run(ctx, e)
	})
}

// isSet reports whether the flag name was given on the command line.
func isSet(c *cli.Command, name string) bool {
	set := false
	c.Flags.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// demo is one run: what to print and how.
type demo struct {
	stdout   io.Writer
	progress func(string)
	format   string
	statuses []awsguard.Status
	dryRun   bool
	fixed    bool // the fixes run (locally always; with -aws only under -fix)
	out      Output
	// groups are out.Changes by scenario, for the text form.
	groups []changeGroup
}

// changeGroup is what one scenario's fixes did (or would do), in words.
type changeGroup struct {
	name  string
	lines []string
}

func (d *demo) run(ctx context.Context, e *demoEnv) error {
	var err error
	if e.account, err = cli.AccountID(ctx, e.cfg); err != nil {
		return err
	}
	d.progress("auditing")
	before, incomplete, err := auditAll(ctx, e)
	if err != nil {
		return err
	}
	d.out.Before = before
	if d.fixed {
		for _, s := range scenarios {
			if s.fix == nil || (s.localOnly && !e.local) {
				continue
			}
			d.progress("fixing: " + s.name)
			lines, err := s.fix(ctx, e, d.dryRun)
			if err != nil {
				hint := cli.RerunHint // the fixes converge on the account
				if e.local {
					hint = "running the demo again starts over on a fresh emulator"
				}
				return present.StepFailed(fmt.Errorf("fix %s: %w", s.name, err), hint)
			}
			d.out.Changes = append(d.out.Changes, lines...)
			d.groups = append(d.groups, changeGroup{s.name, lines})
		}
		if !d.dryRun {
			// Keys the fixes made are new by the real clock; audit them by it.
			e.now = time.Now
			d.progress("auditing again")
			var after error
			if d.out.After, after, err = auditAll(ctx, e); err != nil {
				return err
			}
			incomplete = errors.Join(incomplete, after)
		}
		d.out.Probes = e.probes
	}
	if e.local {
		for _, s := range scenarios {
			if s.teardown == nil {
				continue
			}
			d.progress("removing: " + s.name)
			lines, err := s.teardown(ctx, e)
			if err != nil {
				return fmt.Errorf("remove %s: %w", s.name, err)
			}
			d.out.Teardown = append(d.out.Teardown, lines...)
		}
	}
	if d.out.Changes == nil {
		d.out.Changes = []string{}
	}
	if d.format == cli.FormatJSON {
		err = cli.WriteJSON(d.stdout, d.out)
	} else {
		err = d.writeText()
	}
	if err != nil {
		return fmt.Errorf("write the output: %w", err)
	}
	return incomplete
}

// auditAll runs every scenario's audit. An audit that could read only
// part of the account still gives its report (the unread checks as
// ERROR); its error is returned beside the merged report.
func auditAll(ctx context.Context, e *demoEnv) (*awsguard.Report, error, error) {
	var reports []*awsguard.Report
	var incomplete []error
	for _, s := range scenarios {
		if s.audit == nil || (s.localOnly && !e.local) {
			continue
		}
		r, err := s.audit(ctx, e)
		if r != nil && errors.Is(err, iamguard.ErrAuditIncomplete) {
			incomplete = append(incomplete, fmt.Errorf("audit %s: %w", s.name, err))
		} else if err != nil {
			return nil, nil, fmt.Errorf("audit %s: %w", s.name, err)
		}
		reports = append(reports, r)
	}
	m := awsguard.Merge(reports...)
	if m.GeneratedAt.IsZero() {
		m.GeneratedAt = e.now()
	}
	return m, errors.Join(incomplete...), nil
}

// progressTo returns a function that shows a step line on w when w is a
// terminal, and does nothing otherwise.
func progressTo(w io.Writer) func(string) {
	f, ok := w.(*os.File)
	if !ok {
		return func(string) {}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return func(string) {}
	}
	return func(step string) { fmt.Fprintf(w, "demo: %s ...\n", step) }
}

// writeLines prints each line as a list item, wrapped to the table's width.
func writeLines(w io.Writer, lines []string) { writeLinesIndent(w, lines, "") }

// writeLinesIndent is writeLines with each item indented further.
func writeLinesIndent(w io.Writer, lines []string, indent string) {
	for _, c := range lines {
		for i, l := range wrap(c, awsguard.TableWidth-4-len(indent)) {
			lead := "  - "
			if i > 0 {
				lead = "    "
			}
			fmt.Fprintln(w, indent+lead+l)
		}
	}
}

func writeTable(w io.Writer, r *awsguard.Report) error {
	if len(r.Findings) == 0 {
		_, err := fmt.Fprintln(w, "  (none)")
		return err
	}
	return r.WriteTable(w)
}

// wrap breaks s into lines of at most n runes, after a ", " where it can
// (a list of changes keeps each change on one line), else at spaces (a
// longer word stays whole).
func wrap(s string, n int) []string {
	var lines []string
	line := ""
	add := func(unit, sep string) {
		switch {
		case line == "":
			line = unit
		case len([]rune(line))+len(sep)+len([]rune(unit)) <= n:
			line += sep + unit
		default:
			lines, line = append(lines, line), unit
		}
	}
	units := strings.SplitAfter(s, ", ")
	for i, u := range units {
		if i < len(units)-1 {
			u = strings.TrimSuffix(u, " ")
		}
		if len([]rune(u)) <= n {
			add(u, " ")
			continue
		}
		for _, word := range strings.Fields(u) {
			add(word, " ")
		}
	}
	return append(lines, line)
}
