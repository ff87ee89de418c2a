// Command inspector turns Amazon Inspector (v2) on or off in chosen
// regions and shows its status and a summary of its findings.
// Configuration comes from the standard AWS chain (AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	inspector [-regions us-east-1,eu-west-1] [-types EC2,ECR,LAMBDA,LAMBDA_CODE] [-format table|json]
//	inspector -enable [-dry-run] ...
//	inspector -disable -allow-weaken ...
//
// Without -enable or -disable it changes nothing: it prints each region's
// status per resource type, the findings counted by severity and the top
// vulnerabilities. Exit codes: 0 done, 1 failure (one line on stderr; what
// could be read is still printed), 2 bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("inspector", run) }

// regionResult is what the program reads of one region.
type regionResult struct {
	Region  string                 `json:"region"`
	Plan    *awsguard.Plan         `json:"plan,omitempty"`
	Status  *inspect.AccountStatus `json:"status,omitempty"`
	Summary *inspect.Summary       `json:"summary,omitempty"`
	Error   string                 `json:"error,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspector", flag.ContinueOnError)
	fs.SetOutput(stderr)
	enable := fs.Bool("enable", false, "turn Inspector on for -types, and wait until it is on")
	disable := fs.Bool("disable", false, "turn Inspector off for -types (needs -allow-weaken)")
	allowWeaken := fs.Bool("allow-weaken", false, "allow -disable to turn scanning off")
	dryRun := fs.Bool("dry-run", false, "with -enable or -disable: print the plan, change nothing")
	regionsFlag := fs.String("regions", "", "comma-separated regions; default the configuration's region")
	typesFlag := fs.String("types", "EC2,ECR,LAMBDA,LAMBDA_CODE", "comma-separated resource types")
	account := fs.String("account", "", "account ID to pass to Inspector (default: the caller's)")
	format := cli.FormatFlag(fs, cli.FormatTable, cli.FormatJSON)
	maxWait := fs.Duration("max-wait", 5*time.Minute, "how long to wait for -enable or -disable to take effect")
	timeout := fs.Duration("timeout", 15*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := cli.CheckFormat(*format, cli.FormatTable, cli.FormatJSON); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if *enable && *disable {
		return cli.Usagef("give at most one of -enable and -disable")
	}
	var types []i2types.ResourceScanType
	for _, t := range strings.Split(*typesFlag, ",") {
		types = append(types, i2types.ResourceScanType(strings.ToUpper(strings.TrimSpace(t))))
	}
	opts := func(o *inspect.InspectorOptions) {
		o.ResourceTypes, o.Account, o.DryRun, o.AllowWeaken, o.MaxWait = types, *account, *dryRun, *allowWeaken, *maxWait
		o.PollMinDelay = min(5*time.Second, max(*maxWait/20, time.Millisecond))
	}
	if err := inspect.CheckInspectorOptions(opts); err != nil {
		return cli.Usagef("-types or -account: %v", err)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	regions := []string{cfg.Region}
	if *regionsFlag != "" {
		regions = strings.Split(*regionsFlag, ",")
	}
	res, err := awsguard.ForEachRegion(ctx, cfg, regions, func(ctx context.Context, t awsguard.Target) (*regionResult, error) {
		api := inspector2.NewFromConfig(t.Config)
		region := func(o *inspect.InspectorOptions) { o.Region = t.Region }
		r := &regionResult{Region: t.Region}
		var err error
		switch {
		case *enable:
			r.Plan, err = inspect.Enable(ctx, api, opts, region)
		case *disable:
			r.Plan, err = inspect.Disable(ctx, api, opts, region)
		}
		if err != nil {
			return r, err
		}
		if r.Status, err = inspect.Status(ctx, api, opts, region); err != nil {
			return r, err
		}
		r.Summary, err = inspect.Summarize(inspect.Findings(ctx, api, inspect.FindingFilter{}), 5)
		return r, err
	})
	if err != nil {
		return cli.Usagef("-regions: %v", err)
	}
	var out []*regionResult
	var errs []error
	for _, r := range res {
		v := r.Value
		if v == nil {
			v = &regionResult{Region: r.Region}
		}
		if r.Err != nil {
			v.Error = r.Err.Error()
			errs = append(errs, fmt.Errorf("%s: %w", r.Region, r.Err))
		}
		out = append(out, v)
	}
	if *format == cli.FormatJSON {
		if err := cli.WriteJSON(stdout, out); err != nil {
			return err
		}
	} else if err := writeTable(stdout, out, types); err != nil {
		return err
	}
	return errors.Join(errs...)
}

var severities = []i2types.Severity{"CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED"}

func writeTable(w io.Writer, results []*regionResult, types []i2types.ResourceScanType) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "REGION"
	for _, t := range types {
		head += "\t" + string(t)
	}
	for _, s := range severities {
		head += "\t" + string(s)
	}
	fmt.Fprintln(tw, head)
	for _, r := range results {
		line := r.Region
		for _, t := range types {
			st := "?"
			if r.Status != nil {
				st = string(r.Status.Resources[t])
			}
			line += "\t" + st
		}
		for _, s := range severities {
			n := "?"
			if r.Summary != nil {
				n = fmt.Sprint(r.Summary.BySeverity[s])
			}
			line += "\t" + n
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range results {
		if r.Plan != nil {
			for _, d := range r.Plan.Describe() {
				fmt.Fprintf(w, "%s: %s (%s)\n", r.Region, d, r.Plan.Reason)
			}
			if r.Plan.NothingToDo() {
				fmt.Fprintf(w, "%s: nothing to do (%s)\n", r.Region, r.Plan.Reason)
			}
		}
		if r.Summary != nil {
			for _, v := range r.Summary.TopVulnerabilities {
				fmt.Fprintf(w, "%s: %s %s on %d resources, fix %s (%s)\n", r.Region, v.ID, v.Severity, v.Resources, v.FixAvailable, strings.Join(v.Packages, ", "))
			}
		}
		if r.Error != "" {
			fmt.Fprintf(w, "%s: error: %s\n", r.Region, r.Error)
		}
	}
	return nil
}
