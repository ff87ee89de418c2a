// Command attach-waf protects an application load balancer with an AWS WAF
// web ACL holding the AWS managed SQL-injection rules (waf.AttachSQLiACL),
// or removes it (waf.RemoveSQLiACL), through the standard AWS
// configuration chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	attach-waf -alb ARN [-name NAME] [-common] [-known-bad-inputs] [-count-mode] [-replace] [-allow-weaken] [-dry-run] [-format text|json]
//	attach-waf -alb ARN -remove [-name NAME] [-force] [-dry-run] [-format text|json]
//
// -dry-run prints the plan and changes nothing. Re-running is safe: an ALB
// already protected is left alone ("already compliant"). An ALB with
// another web ACL is refused unless -replace. -remove deletes only an ACL
// awsguard created and nothing else uses; where that cannot be told it
// keeps the ACL (exit 1, saying so) unless -force. It exits 1 with a
// one-line reason on stderr on failure and 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("attach-waf", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("attach-waf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alb := fs.String("alb", "", "the application load balancer's ARN (required)")
	name := fs.String("name", waf.DefaultName, "the web ACL's name")
	common := fs.Bool("common", false, "also add AWSManagedRulesCommonRuleSet")
	badInputs := fs.Bool("known-bad-inputs", false, "also add AWSManagedRulesKnownBadInputsRuleSet")
	countMode := fs.Bool("count-mode", false, "count matches instead of blocking (a trial); run again without it to block")
	replace := fs.Bool("replace", false, "replace another web ACL already on the ALB (it is kept, not deleted)")
	allowWeaken := fs.Bool("allow-weaken", false, "allow switching an existing ACL to count mode")
	remove := fs.Bool("remove", false, "disassociate and delete the web ACL instead")
	force := fs.Bool("force", false, "with -remove: delete even when other resources use the ACL or that cannot be told")
	dryRun := fs.Bool("dry-run", false, "print the plan, change nothing")
	format := fs.String("format", "text", "output format: text or json")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	case *alb == "":
		return cli.Usagef("-alb is required")
	case *format != "text" && *format != "json":
		return cli.Usagef("-format %q: want text or json", *format)
	case *remove && (*common || *badInputs || *countMode || *replace || *allowWeaken):
		return cli.Usagef("-remove takes only -name, -force, -dry-run and -format")
	case *force && !*remove:
		return cli.Usagef("-force goes with -remove")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	var plan *awsguard.Plan
	var result any
	if *remove {
		var rem *waf.Removal
		rem, err = waf.RemoveSQLiACL(ctx, wafv2.NewFromConfig(cfg), *alb, func(o *waf.RemoveOptions) { o.Name, o.Force, o.DryRun = *name, *force, *dryRun })
		if rem != nil {
			plan, result = &rem.Plan, rem
		}
	} else {
		var acl *waf.WebACL
		acl, err = waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: wafv2.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg)}, *alb, func(o *waf.Options) {
			o.Name, o.Common, o.KnownBadInputs, o.CountMode = *name, *common, *badInputs, *countMode
			o.ReplaceExisting, o.AllowWeaken, o.DryRun = *replace, *allowWeaken, *dryRun
		})
		if acl != nil {
			plan, result = &acl.Plan, acl
		}
	}
	if plan != nil {
		if werr := write(stdout, plan, result, *format); werr != nil {
			return werr
		}
	}
	return flagOf(err)
}

// flagOf names the flag of a refused input.
func flagOf(err error) error {
	var ie *awsguard.InputError
	if errors.As(err, &ie) {
		switch ie.Field {
		case "albARN":
			return cli.Usagef("-alb %q: want %s", ie.Value, ie.Allowed)
		case "Options.Name":
			return cli.Usagef("-name %q: want %s", ie.Value, ie.Allowed)
		}
	}
	return err
}

func write(w io.Writer, plan *awsguard.Plan, result any, format string) error {
	if format == "json" {
		return cli.WriteJSON(w, result)
	}
	var b strings.Builder
	verb := "done"
	if !plan.Applied {
		verb = "planned"
	}
	for _, line := range plan.Describe() {
		fmt.Fprintf(&b, "%s: %s\n", verb, line)
	}
	for _, warn := range plan.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	fmt.Fprintf(&b, "%s\n", plan.Reason)
	_, err := io.WriteString(w, b.String())
	return err
}
