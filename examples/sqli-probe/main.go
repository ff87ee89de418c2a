// Command sqli-probe sends benign logins and SQL-injection payloads to one
// URL (query string, form body, JSON body, cookie, header) and reports,
// request by request, what was blocked and whether benign traffic passed.
//
//	sqli-probe [-format text|json] [-budget N] [-rate N] [-request-timeout D] [-header NAME] [-success-marker TEXT] URL
//
// It exits 0 only when every attack was blocked and every benign request
// passed, 3 when an attack got through or benign traffic was blocked (or
// the budget left payloads unsent), 1 when it could not probe, and 2 on
// bad flags. It follows no link and no redirect to another host. Point it
// only at applications you are allowed to test.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

// errNotProtected is the probe's verdict when it is not "protected": exit 3.
var errNotProtected = errors.New("not protected")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(os.Stderr, err))
}

func exitCode(stderr io.Writer, err error) int {
	if errors.Is(err, errNotProtected) {
		fmt.Fprintf(stderr, "sqli-probe: %v\n", err)
		return 3
	}
	if err != nil {
		return cli.Fail(stderr, "sqli-probe", err)
	}
	return 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sqli-probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	budget := fs.Int("budget", 100, "send at most this many requests")
	rate := fs.Float64("rate", 5, "requests per second at most")
	reqTimeout := fs.Duration("request-timeout", 10*time.Second, "give up on one request after this long")
	header := fs.String("header", "User-Agent", "the header the header payloads go in")
	marker := fs.String("success-marker", "", "text in a response body that means the login succeeded")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() != 1 {
		return cli.Usagef("want exactly one URL, got %d arguments", fs.NArg())
	}
	if *format != "text" && *format != "json" {
		return cli.Usagef("-format %q: want text or json", *format)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	rep, err := waf.Probe(ctx, fs.Arg(0), func(o *waf.ProbeOptions) {
		o.Budget, o.Rate, o.Timeout, o.Header, o.SuccessMarker = *budget, *rate, *reqTimeout, *header, *marker
	})
	if err != nil && rep == nil {
		return usageOf(err)
	}
	if rep != nil {
		if werr := write(stdout, rep, *format); werr != nil {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if rep.Verdict != waf.VerdictProtected {
		return fmt.Errorf("%w: %s (%d of %d attacks blocked, %d of %d benign passed)", errNotProtected, rep.Verdict,
			rep.AttacksBlocked, rep.AttacksSent, rep.BenignPassed, rep.BenignSent)
	}
	return nil
}

// usageOf turns a refused URL or option into a usage error naming the flag.
func usageOf(err error) error {
	flags := map[string]string{"url": "URL", "ProbeOptions.Budget": "-budget", "ProbeOptions.Rate": "-rate",
		"ProbeOptions.Timeout": "-request-timeout", "ProbeOptions.Header": "-header"}
	var ie *awsguard.InputError
	if errors.As(err, &ie) {
		if f, ok := flags[ie.Field]; ok {
			return cli.Usagef("%s %q: want %s", f, ie.Value, ie.Allowed)
		}
	}
	return err
}

func write(w io.Writer, rep *waf.ProbeReport, format string) error {
	if format == "json" {
		return cli.WriteJSON(w, rep)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOCATION\tPAYLOAD\tKIND\tSTATUS\tRESULT")
	for _, r := range rep.Results {
		kind, result := "benign", "passed"
		if r.Attack {
			kind = "attack"
		}
		switch {
		case r.Status == 0:
			result = "no answer: " + r.Error
		case r.Blocked:
			result = "blocked"
		case r.GotIn:
			result = "passed, logged in"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", r.Location, r.Payload, kind, r.Status, result)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "verdict: %s: %d of %d attacks blocked, %d of %d benign requests passed\n",
		rep.Verdict, rep.AttacksBlocked, rep.AttacksSent, rep.BenignPassed, rep.BenignSent)
	return err
}
