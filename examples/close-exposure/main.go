// Command close-exposure closes a port that an instance (or a security
// group) opens to the internet: it revokes the security group rules that
// allow the port from 0.0.0.0/0 or ::/0, or replaces them with a given
// CIDR, recording each revoked rule in a tag so that -restore can put it
// back. Configuration comes from the standard AWS chain (AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	close-exposure -instance i-0abc [-port 22|all] [-replace-cidr 203.0.113.0/24] [-dry-run] [-format table|json]
//	close-exposure -group sg-0abc -port 3389 -restore -allow-weaken
//
// It prints the plan and what became of each action. Exit codes: 0 done
// (or nothing to do), 1 failure (one line on stderr), 2 bad flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("close-exposure", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("close-exposure", flag.ContinueOnError)
	fs.SetOutput(stderr)
	instance := fs.String("instance", "", "the instance whose security groups to close (i-...)")
	group := fs.String("group", "", "the security group to close (sg-...), instead of -instance")
	portFlag := fs.String("port", "22", `the TCP port, or "all" for rules that open every port`)
	replace := fs.String("replace-cidr", "", "replace each revoked rule with the same rule from this CIDR")
	restore := fs.Bool("restore", false, "put back the rules an earlier run revoked (needs -allow-weaken)")
	allowWeaken := fs.Bool("allow-weaken", false, "allow -restore to reopen the port to the internet")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	format := cli.FormatFlag(fs, cli.FormatTable, cli.FormatJSON)
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	}
	if err := cli.CheckFormat(*format, cli.FormatTable, cli.FormatJSON); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	port, err := inspect.ParsePort(*portFlag)
	if err != nil {
		return cli.Usagef("-port: %v", err)
	}
	if (*instance == "") == (*group == "") {
		return cli.Usagef("give exactly one of -instance and -group")
	}
	if *restore && *replace != "" {
		return cli.Usagef("-replace-cidr does not go with -restore")
	}
	target := inspect.Target{InstanceID: *instance, GroupID: *group, Port: port}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	api := ec2.NewFromConfig(cfg)
	var plan *awsguard.Plan
	if *restore {
		plan, err = inspect.RestoreExposure(ctx, api, target, func(o *inspect.RestoreOptions) { o.DryRun, o.AllowWeaken = *dryRun, *allowWeaken })
	} else {
		plan, err = inspect.CloseExposure(ctx, api, target, func(o *inspect.CloseOptions) { o.DryRun, o.ReplaceCIDR = *dryRun, *replace })
	}
	if plan != nil {
		if werr := writePlan(stdout, plan, *format); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func writePlan(w io.Writer, p *awsguard.Plan, format string) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, p)
	}
	fmt.Fprintf(w, "%s %s: %s\n", p.Operation, p.Resource, p.Reason)
	for _, a := range p.Actions {
		fmt.Fprintf(w, "  [%s] %s\n", a.Outcome, a)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", warn)
	}
	return nil
}
