// Command sqli-probe sends benign logins and SQL-injection payloads to one
// URL (query string, form body, JSON body, cookie, header) and reports,
// request by request, what was blocked and whether benign traffic passed.
//
//	sqli-probe [-format table|json] [-budget N] [-rate N] [-request-timeout D] [-header NAME] [-success-marker TEXT] [-timeout 5m] URL
//
// It exits 0 only when every attack was blocked and every benign request
// passed, 3 when an attack got through or benign traffic was blocked (or
// the budget left payloads unsent), 1 when it could not probe, and 2 on
// a bad command line. It follows no link and no redirect to another host.
// Point it only at applications you are allowed to test. It calls no AWS
// API, so it has none of the AWS flags (-profile, -region, -endpoint-url,
// -attempt-timeout, -print-policy): its command line is cli.NewLocal's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("sqli-probe", run) }

// exitNotProtected is the exit code of a probe whose verdict is not
// "protected".
const exitNotProtected = 3

const summary = `sqli-probe sends benign logins and SQL-injection payloads to URL (in the
query string, a form body, a JSON body, a cookie and a header) and reports
what was blocked. Point it only at applications you are allowed to test.
Exit codes: 0 every attack blocked and every benign request passed, 3 an
attack got through or benign traffic was blocked (or -budget left payloads
unsent), 1 could not probe, 2 a bad command line.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.NewLocal("sqli-probe", summary)
	c.Synopsis = "[flags] URL"
	c.Args = 1
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	budget := c.Flags.Int("budget", 100, "send at most this many `requests`, up to 10000")
	rate := c.Flags.Float64("rate", 5, "`requests` per second at most, up to 100")
	reqTimeout := c.Flags.Duration("request-timeout", 10*time.Second, "give up on one request after this `duration`, up to 5m")
	header := c.Flags.String("header", "User-Agent", "the header `name` the header payloads go in")
	marker := c.Flags.String("success-marker", "", "`text` in a response body that means the login succeeded")
	for field, f := range map[string]string{"url": "URL", "ProbeOptions.Budget": "-budget", "ProbeOptions.Rate": "-rate",
		"ProbeOptions.Timeout": "-request-timeout", "ProbeOptions.Header": "-header"} {
		c.FlagOf[field] = f
	}
	c.Check = func() error {
		if c.Flags.NArg() != 1 {
			return cli.Usagef("want exactly one URL, got %d arguments", c.Flags.NArg())
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		rep, err := waf.Probe(ctx, c.Flags.Arg(0), func(o *waf.ProbeOptions) {
			o.Budget, o.Rate, o.Timeout, o.Header, o.SuccessMarker = *budget, *rate, *reqTimeout, *header, *marker
		})
		if rep != nil {
			if werr := write(stdout, rep, *format); werr != nil {
				return werr
			}
		}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil && rep != nil {
			// Not wrapped: the common explanation speaks of AWS endpoints.
			return fmt.Errorf("gave up after -timeout %s with %d requests sent; the report is partial", c.Timeout(), len(rep.Results))
		}
		if err != nil {
			return err
		}
		if rep.Verdict != waf.VerdictProtected {
			return &cli.ExitError{Code: exitNotProtected, Msg: fmt.Sprintf("not protected: %s (%d of %d attacks blocked, %d of %d benign passed)", rep.Verdict,
				rep.AttacksBlocked, rep.AttacksSent, rep.BenignPassed, rep.BenignSent)}
		}
		return nil
	})
}

func write(w io.Writer, rep *waf.ProbeReport, format string) error {
	if format == cli.FormatJSON {
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
