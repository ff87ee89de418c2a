// Command inspector turns Amazon Inspector (v2) on or off in chosen
// regions and shows its status and a summary of its findings.
// Configuration comes from the standard AWS chain (AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	inspector [-regions us-east-1,eu-west-1] [-types EC2,ECR,LAMBDA,LAMBDA_CODE] [-format table|json]
//	inspector -enable [-dry-run] ...
//	inspector -disable -allow-weaken ...
//	          [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 15m] [-print-policy]
//
// Without -enable or -disable it changes nothing: it prints each region's
// status per resource type, the findings counted by severity and the top
// vulnerabilities. Exit codes: 0 done, 1 failure (one line on stderr; what
// could be read is still printed), 2 bad flags.
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

const summary = `inspector turns Amazon Inspector (v2) on (-enable) or off (-disable, with
-allow-weaken) for resource types in regions, and prints each region's
status per type, its ACTIVE findings by severity and the top
vulnerabilities. Without -enable or -disable it changes nothing.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("inspector", summary)
	c.SetTimeout(15 * time.Minute)
	enable := c.Flags.Bool("enable", false, "turn Inspector on for -types, and wait until it is on")
	disable := c.Flags.Bool("disable", false, "turn Inspector off for -types (needs -allow-weaken)")
	allowWeaken := c.Flags.Bool("allow-weaken", false, "allow -disable to turn scanning off")
	dryRun := c.DryRun()
	regionsFlag := c.Flags.String("regions", "", "a comma-separated `list` of regions (default: the configured region)")
	typesFlag := c.Flags.String("types", "EC2,ECR,LAMBDA,LAMBDA_CODE", "a comma-separated `list` of resource types")
	account := c.Flags.String("account", "", "the `account` ID to pass to Inspector (default: the caller's)")
	maxWait := c.Flags.Duration("max-wait", 5*time.Minute, "how long to wait for -enable or -disable to take effect")
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	c.FlagOf["InspectorOptions.Account"] = "-account"
	c.FlagOf["InspectorOptions.MaxWait"] = "-max-wait"
	var types []i2types.ResourceScanType
	var regions []string
	var opts func(*inspect.InspectorOptions)
	c.Check = func() error {
		if *enable && *disable {
			return cli.Usagef("give at most one of -enable and -disable")
		}
		for _, t := range strings.Split(*typesFlag, ",") {
			types = append(types, i2types.ResourceScanType(strings.ToUpper(strings.TrimSpace(t))))
		}
		for _, r := range strings.Split(*regionsFlag, ",") {
			if r = strings.TrimSpace(r); r == "" {
				continue
			}
			if !cli.ValidRegion(r) || slices.Contains(regions, r) {
				return cli.Usagef("-regions %q: want distinct region names such as us-east-1,ap-northeast-2", r)
			}
			regions = append(regions, r)
		}
		opts = func(o *inspect.InspectorOptions) {
			o.ResourceTypes, o.Account, o.DryRun, o.AllowWeaken, o.MaxWait = types, *account, *dryRun, *allowWeaken, *maxWait
			o.PollMinDelay = min(5*time.Second, max(*maxWait/20, time.Millisecond))
		}
		if err := inspect.CheckInspectorOptions(opts); err != nil {
			var ie *awsguard.InputError
			if errors.As(err, &ie) && strings.HasPrefix(ie.Field, "InspectorOptions.ResourceTypes") {
				return cli.Usagef("-types %q: want a list of EC2, ECR, LAMBDA, LAMBDA_CODE", *typesFlag)
			}
			// Name the flag, not the Go field (InspectorOptions.Account).
			if errors.As(err, &ie) && c.FlagOf[ie.Field] != "" {
				return cli.Usagef("%s %q: want %s", c.FlagOf[ie.Field], ie.Value, ie.Allowed)
			}
			return err
		}
		c.Uses(reflect.TypeFor[inspect.AuditAPI]())
		switch {
		case *enable:
			c.Uses(reflect.TypeFor[inspect.EnableAPI]())
		case *disable:
			c.Uses(reflect.TypeFor[inspect.DisableAPI]())
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		if len(regions) == 0 {
			regions = []string{cfg.Region}
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
				if errors.Is(err, awsguard.ErrWeakening) {
					err = fmt.Errorf("%w (pass -allow-weaken to disable it)", err)
				}
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
			return err
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
	})
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
