// Command audit runs awsguard's read-only audits against the account of the
// standard AWS configuration chain (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL, ...) and prints the findings.
//
//	audit [-format table|json|csv] [-checks PREFIX] [-baseline kisa|cis]
//
// It exits 0 when the audit ran (whatever the findings say), 1 with a
// one-line reason on stderr when it could not run or could not read part
// of the account (the findings it could make are still printed), and 2 on
// bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"

	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("audit", run) }

// auditFunc runs one package's audit. New read-only audits are added here
// as they land.
type auditFunc func(ctx context.Context, cfg auditConfig) (*awsguard.Report, error)

type auditConfig struct {
	iam      *iam.Client
	baseline iamguard.Baseline
	account  string
}

var audits = []auditFunc{
	func(ctx context.Context, c auditConfig) (*awsguard.Report, error) {
		return iamguard.Audit(ctx, c.iam, func(o *iamguard.AuditOptions) { o.Baseline, o.Account = c.baseline, c.account })
	},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "table", "output format: table, json or csv")
	checks := fs.String("checks", "", "only findings whose check ID starts with this prefix (e.g. iam.user)")
	baselineName := fs.String("baseline", "kisa", "password policy baseline: kisa or cis")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", cli.ErrUsage, fs.Arg(0))
	}
	write, ok := map[string]func(*awsguard.Report, io.Writer) error{
		"table": (*awsguard.Report).WriteTable,
		"json":  (*awsguard.Report).WriteJSON,
		"csv":   (*awsguard.Report).WriteCSV,
	}[*format]
	if !ok {
		return fmt.Errorf("%w: -format %q: want table, json or csv", cli.ErrUsage, *format)
	}
	baseline, err := iamguard.BaselineByName(*baselineName)
	if err != nil {
		return fmt.Errorf("%w: -baseline: %v", cli.ErrUsage, err)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	account, err := cli.AccountID(ctx, cfg)
	if err != nil {
		return err
	}
	ac := auditConfig{iam: iam.NewFromConfig(cfg), baseline: baseline, account: account}

	var reports []*awsguard.Report
	var errs []error
	for _, audit := range audits {
		rep, err := audit(ctx, ac)
		if rep != nil {
			reports = append(reports, rep)
		}
		if err != nil {
			errs = append(errs, err)
		}
		if rep == nil && err != nil {
			return err
		}
	}
	rep := awsguard.Merge(reports...)
	if *checks != "" {
		rep = rep.Filter(func(f awsguard.Finding) bool { return strings.HasPrefix(f.Check, *checks) })
	}
	if err := write(rep, stdout); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return nil
}
