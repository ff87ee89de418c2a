// Package cli is the one command line of every example program: the
// common flags over the standard AWS configuration chain (see Command),
// the report formats, the IAM policy a program needs (Policy), and the
// exit codes (Main, Fail):
//
//	0  done (and -h, which prints usage on stderr)
//	1  failed: one line on stderr naming the flag or the step
//	2  usage error: usage on stderr, then one line naming the flag
//	3+ a program's own (audit: findings failed), through *ExitError
//
// A program is written as
//
//	func main() { cli.Main("audit", run) }
//
//	func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
//		c := cli.New("audit", "audit reads ...")
//		format := c.Format(cli.FormatTable, cli.FormatJSON)
//		c.Uses(reflect.TypeFor[iamguard.AuditAPI]())
//		return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
//			cfg, err := c.Config(ctx)
//			...
//		})
//	}
//
// so that tests call run. LoadConfig, FormatFlag, CheckFormat and Usagef
// are the older helpers, kept until every example uses Command.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
)

// LoadConfig loads the AWS configuration through the standard chain
// (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, shared files, instance
// roles, ...).
func LoadConfig(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set AWS_REGION or a profile's region")
	}
	return cfg, nil
}

// Formats a report can be written in.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// FormatFlag registers -format on fs, allowing the given formats; the first
// is the default.
func FormatFlag(fs *flag.FlagSet, allowed ...string) *string {
	return fs.String("format", allowed[0], "output format: "+strings.Join(allowed, "|"))
}

// CheckFormat returns an error unless format is one of allowed.
func CheckFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return fmt.Errorf("-format %q: want one of %s", format, strings.Join(allowed, ", "))
}

// WriteReport writes r to w as a table, JSON or CSV.
func WriteReport(w io.Writer, r *awsguard.Report, format string) error {
	switch format {
	case FormatJSON:
		return r.WriteJSON(w)
	case FormatCSV:
		return r.WriteCSV(w)
	case FormatTable, "text":
		return r.WriteTable(w)
	case FormatHTML:
		return r.WriteHTML(w)
	}
	return CheckFormat(format, FormatTable, FormatJSON, FormatCSV, FormatHTML)
}

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Main runs an example program: run gets the arguments, stdout and stderr
// and a context cancelled by an interrupt; its error is reported by Fail
// and becomes the exit code.
func Main(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if code := Fail(os.Stderr, name, err); code != 0 {
		os.Exit(code)
	}
}

// Fail writes "name: err" on one line to stderr and returns the exit code,
// the one place where errors become exit codes: 0 for nil and for -h
// (flag.ErrHelp: the usage is printed already), an *ExitError's Code (its
// Msg, if any, is the line), 2 for a usage error (ErrUsage), 1 otherwise.
func Fail(stderr io.Writer, name string, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return 0
	}
	code := 1
	var ee *ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.Code
	case errors.Is(err, ErrUsage):
		code = 2
	}
	if msg := strings.Join(strings.Fields(err.Error()), " "); msg != "" {
		fmt.Fprintf(stderr, "%s: %s\n", name, msg)
	}
	return code
}

// ErrUsage marks a bad command line.
var ErrUsage = errors.New("usage")

// Usagef returns a usage error (it matches ErrUsage): exit 2. Name the
// flag and what it wants: Usagef("-fail-on %q: want high, low or none", v).
func Usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// AccountID returns the account of cfg's credentials (sts:GetCallerIdentity,
// which needs no permission), for findings about an account that may have
// no IAM users to read it from.
func AccountID(ctx context.Context, cfg aws.Config) (string, error) {
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("identify the account: %w", err)
	}
	return aws.ToString(out.Account), nil
}
