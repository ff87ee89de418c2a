// Command close-exposure closes a port that an instance (or a security
// group) opens to the internet: it revokes the security group rules that
// allow the port from 0.0.0.0/0 or ::/0, or replaces them with a given
// CIDR, recording each revoked rule in a tag so that -restore can put it
// back. Configuration comes from the standard AWS chain (AWS_PROFILE,
// AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	close-exposure -instance i-0abc [-port 22|all] [-replace-cidr 203.0.113.0/24] [-dry-run] [-format table|json]
//	close-exposure -group sg-0abc -port 3389 -restore -allow-weaken
//	               [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// It prints the plan and what became of each action. Exit codes: 0 done
// (or nothing to do), 1 failure (one line on stderr), 2 bad flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("close-exposure", run) }

const summary = `close-exposure revokes the security group rules that let a TCP port in
from the internet (0.0.0.0/0, ::/0 or a prefix list holding them) on an
instance's groups or one group, or replaces them with -replace-cidr,
recording each revoked rule in a tag on its group; -restore puts them back
(reopening the port: it needs -allow-weaken).`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("close-exposure", summary)
	instance := c.Flags.String("instance", "", "the `instance` whose security groups to close (i-...)")
	group := c.Flags.String("group", "", "the security `group` to close (sg-...), instead of -instance")
	portFlag := c.Flags.String("port", "22", "the TCP `port`, or all for the rules that open every port")
	replace := c.Flags.String("replace-cidr", "", "replace each revoked rule with the same rule from this `CIDR`")
	restore := c.Flags.Bool("restore", false, "put back the rules an earlier run revoked (needs -allow-weaken)")
	allowWeaken := c.Flags.Bool("allow-weaken", false, "allow -restore to reopen the port to the internet")
	dryRun := c.DryRun()
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	c.FlagOf["Target.InstanceID"] = "-instance"
	c.FlagOf["Target.GroupID"] = "-group"
	c.FlagOf["Target.Port"] = "-port"
	c.FlagOf["CloseOptions.ReplaceCIDR"] = "-replace-cidr"
	var target inspect.Target
	c.Check = func() error {
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
		target = inspect.Target{InstanceID: *instance, GroupID: *group, Port: port}
		c.Uses(reflect.TypeFor[inspect.ExposureAPI]())
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		api := ec2.NewFromConfig(cfg)
		var plan *awsguard.Plan
		if *restore {
			plan, err = inspect.RestoreExposure(ctx, api, target, func(o *inspect.RestoreOptions) { o.DryRun, o.AllowWeaken = *dryRun, *allowWeaken })
			if errors.Is(err, awsguard.ErrWeakening) {
				err = fmt.Errorf("%w (pass -allow-weaken to restore it)", err)
			}
		} else {
			plan, err = inspect.CloseExposure(ctx, api, target, func(o *inspect.CloseOptions) { o.DryRun, o.ReplaceCIDR = *dryRun, *replace })
		}
		if plan != nil {
			if werr := writePlan(stdout, plan, *format); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	})
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
