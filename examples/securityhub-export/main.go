// Command securityhub-export sends awsguard findings to AWS Security Hub
// in AWS Security Finding Format, through the account's default product.
//
//	securityhub-export [-report FILE|-] [-dry-run] [-format table|json]
//	                   [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// The findings come from a report written by "audit -format json" (-report
// FILE, or - for standard input), or else from observe's audit of the
// region (alert topic, CIS metric filters, log retention). Publishing the
// same findings again updates them in Security Hub rather than adding new
// ones; PASS findings arrive RESOLVED. -dry-run prints the ASFF documents
// ({"Findings": [...]}, the input of BatchImportFindings) and sends
// nothing. Security Hub must be enabled in the region. Exit codes: 0 done,
// 1 failed or some findings refused (each named on stdout), 2 a bad
// command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/observe"
)

func main() { cli.Main("securityhub-export", run) }

const summary = `securityhub-export sends awsguard findings (a report from audit -format json,
or observe's audit of the region) to AWS Security Hub as ASFF.`

// stdin is read for -report -; tests replace it.
var stdin io.Reader = os.Stdin

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("securityhub-export", summary)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	reportFile := c.Flags.String("report", "", "read the findings from this `file` (audit -format json; - for standard input)")
	c.Check = func() error {
		if *reportFile == "" {
			c.Uses(reflect.TypeFor[observe.AuditSNSAPI](), reflect.TypeFor[observe.AuditLogsAPI](), reflect.TypeFor[observe.AuditAlarmsAPI]())
		}
		if !*dryRun {
			c.Uses(reflect.TypeFor[observe.SecurityHubAPI]())
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		// The report is read before any call: a bad -report is a bad
		// command line, found without touching AWS.
		var rep *awsguard.Report
		switch *reportFile {
		case "":
		case "-":
			var err error
			if rep, err = awsguard.ReadReport(stdin); err != nil {
				return cli.Usagef("-report -: %v", err)
			}
		default:
			f, err := os.Open(*reportFile)
			if err != nil {
				return cli.Usagef("-report %q: %v", *reportFile, err)
			}
			rep, err = awsguard.ReadReport(f)
			f.Close()
			if err != nil {
				return cli.Usagef("-report %q: %v", *reportFile, err)
			}
		}
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		account, err := cli.AccountID(ctx, cfg)
		if err != nil {
			return err
		}
		if rep == nil {
			rep, err = observe.Audit(ctx, observe.AuditClients{SNS: sns.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg),
				CloudWatch: cloudwatch.NewFromConfig(cfg)}, func(o *observe.AuditOptions) { o.Account, o.Region = account, cfg.Region })
			if err != nil && !errors.Is(err, observe.ErrAuditIncomplete) {
				return err
			}
			if err != nil {
				fmt.Fprintf(stderr, "securityhub-export: %v (its ERROR findings are sent too)\n", err)
			}
		}
		if *dryRun {
			return observe.WriteASFF(stdout, rep, account, cfg.Region)
		}
		res, err := observe.PublishFindings(ctx, securityhub.NewFromConfig(cfg), rep, func(o *observe.PublishOptions) {
			o.Account, o.Region = account, cfg.Region
		})
		if res != nil {
			if werr := write(stdout, *format, res); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	})
}

func write(w io.Writer, format string, res *observe.PublishResult) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, res)
	}
	if _, err := fmt.Fprintf(w, "%d findings imported in %d calls, %d refused\n", res.Imported, res.Batches, len(res.Failed)); err != nil {
		return err
	}
	for _, f := range res.Failed {
		if _, err := fmt.Fprintf(w, "  refused %s (%s %s): %s %s\n", f.ID, f.Check, f.Resource, f.Code, f.Message); err != nil {
			return err
		}
	}
	return nil
}
