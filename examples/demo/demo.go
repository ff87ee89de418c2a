package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/motoserver"
)

// A scenario is one concern of the demo: how to weaken a local account
// for it, how to audit it, and how to fix it.
type scenario struct {
	name string
	// seed weakens the local emulated account.
	seed func(ctx context.Context, e *demoEnv) error
	// audit reads only.
	audit func(ctx context.Context, e *demoEnv) (*awsguard.Report, error)
	// fix plans (dryRun) or applies its fixes and describes each change in
	// one line.
	fix func(ctx context.Context, e *demoEnv, dryRun bool) ([]string, error)
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
}

// Output is the demo's JSON form (-format json).
type Output struct {
	Mode    string           `json:"mode"`
	Before  *awsguard.Report `json:"before"`
	Changes []string         `json:"changes"`
	After   *awsguard.Report `json:"after,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	useAWS := fs.Bool("aws", false, "audit the account of the standard AWS configuration chain instead of a local emulator (read-only unless -fix)")
	fix := fs.Bool("fix", false, "with -aws: apply the fixes")
	dryRun := fs.Bool("dry-run", false, "plan the fixes without applying them")
	format := cli.FormatFlag(fs, "table", cli.FormatJSON)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := cli.CheckFormat(*format, "table", cli.FormatJSON); err != nil {
		return cli.Usagef("%v", err)
	}
	if *fix && !*useAWS {
		return cli.Usagef("-fix applies only with -aws (the local demo always fixes its own emulated account)")
	}

	e := &demoEnv{now: time.Now}
	var err error
	out := Output{Mode: "local"}
	applyFixes := true
	if *useAWS {
		if e.cfg, err = cli.LoadConfig(ctx); err != nil {
			return err
		}
		out.Mode = "aws"
		applyFixes = *fix
	} else {
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
		if *format != cli.FormatJSON {
			fmt.Fprintf(stdout, "Local AWS emulator (moto_server) at %s; nothing outside this machine is touched.\n", srv.URL)
			fmt.Fprintln(stdout, "The emulator cannot back-date keys, so the first audit runs with a clock 120 days ahead: the seeded key counts as old.")
			fmt.Fprintln(stdout, "Root MFA cannot be enabled through the API: iam.root.mfa stays FAIL until someone enrols it in the console.")
		}
		for _, s := range scenarios {
			if s.seed == nil {
				continue
			}
			if err := s.seed(ctx, e); err != nil {
				return fmt.Errorf("seed %s: %w", s.name, err)
			}
		}
	}

	if e.account, err = cli.AccountID(ctx, e.cfg); err != nil {
		return err
	}
	before, err := auditAll(ctx, e)
	if err != nil {
		return err
	}
	out.Before = before
	if applyFixes {
		for _, s := range scenarios {
			if s.fix == nil {
				continue
			}
			lines, err := s.fix(ctx, e, *dryRun)
			if err != nil {
				return fmt.Errorf("fix %s: %w", s.name, err)
			}
			out.Changes = append(out.Changes, lines...)
		}
		if !*dryRun {
			// Keys the fixes made are new by the real clock; audit them by it.
			e.now = time.Now
			if out.After, err = auditAll(ctx, e); err != nil {
				return err
			}
		}
	}
	if out.Changes == nil {
		out.Changes = []string{}
	}
	if *format == cli.FormatJSON {
		return cli.WriteJSON(stdout, out)
	}
	return writeText(stdout, out, applyFixes, *dryRun)
}

func auditAll(ctx context.Context, e *demoEnv) (*awsguard.Report, error) {
	var reports []*awsguard.Report
	for _, s := range scenarios {
		if s.audit == nil {
			continue
		}
		r, err := s.audit(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("audit %s: %w", s.name, err)
		}
		reports = append(reports, r)
	}
	m := awsguard.Merge(reports...)
	if m.GeneratedAt.IsZero() {
		m.GeneratedAt = e.now()
	}
	return m, nil
}

func writeText(w io.Writer, out Output, fixed, dryRun bool) error {
	switch {
	case !fixed:
		fmt.Fprintln(w, "\nFindings (read-only audit; add -fix to apply the fixes):")
		if err := out.Before.WriteTable(w); err != nil {
			return err
		}
		return nil
	case dryRun:
		fmt.Fprintln(w, "\nFindings:")
		if err := out.Before.WriteTable(w); err != nil {
			return err
		}
		fmt.Fprintln(w, "\nPlanned fixes (dry run, nothing changed):")
	default:
		fmt.Fprintln(w, "\nFixes applied:")
	}
	if len(out.Changes) == 0 {
		fmt.Fprintln(w, "  (nothing to do)")
	}
	for _, c := range out.Changes {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	if out.After == nil {
		return nil
	}
	fmt.Fprintln(w, "\nBefore and after:")
	if err := sideBySide(w, out.Before, out.After); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nbefore: %s\nafter:  %s\n", out.Before.Summary(), out.After.Summary())
	return nil
}

// sideBySide prints one line per (check, resource) found in either report,
// with its status before and after.
func sideBySide(w io.Writer, before, after *awsguard.Report) error {
	type key struct{ check, resource string }
	rows := map[key][2]string{}
	sev := map[key]awsguard.Severity{}
	for i, r := range []*awsguard.Report{before, after} {
		for _, f := range r.Findings {
			k := key{f.Check, f.Resource}
			v := rows[k]
			v[i] = string(f.Status)
			rows[k] = v
			sev[k] = f.Severity
		}
	}
	keys := make([]key, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.check, b.check); c != 0 {
			return c
		}
		return strings.Compare(a.resource, b.resource)
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BEFORE\tAFTER\tSEVERITY\tCHECK\tRESOURCE")
	for _, k := range keys {
		v := rows[k]
		for i := range v {
			if v[i] == "" {
				v[i] = "-"
			}
		}
		mark := ""
		if v[0] != v[1] {
			mark = "  <- changed"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s%s\n", v[0], v[1], sev[k], k.check, k.resource, mark)
	}
	return tw.Flush()
}
