// Command attach-waf protects an application load balancer with an AWS WAF
// web ACL holding the AWS managed SQL-injection rules (waf.AttachSQLiACL),
// or removes it (waf.RemoveSQLiACL).
//
//	attach-waf -alb ARN [-name NAME] [-common] [-known-bad-inputs] [-count-mode] [-replace] [-allow-weaken] [-dry-run] [-format table|json]
//	attach-waf -alb ARN -remove [-name NAME] [-force] [-dry-run] [-format table|json]
//	           [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 10m] [-print-policy]
//
// -dry-run prints the plan and changes nothing. Re-running is safe: an ALB
// already protected is left alone ("already compliant"). An ALB with
// another web ACL is refused unless -replace. -remove deletes only an ACL
// awsguard created and nothing else uses; where that cannot be told it
// keeps the ACL (exit 1, saying so) unless -force. -print-policy prints the
// IAM policy the flags given need. Exit codes: 0 done, 1 failed or refused
// (one line on stderr), 2 a bad command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/present"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("attach-waf", run) }

const summary = `attach-waf protects an application load balancer with an AWS WAF web ACL
of the AWS managed SQL-injection rules (and, on request, the common and
known-bad-inputs rule groups), or with -remove takes it off and deletes it.
-dry-run prints the plan and changes nothing. Exit codes: 0 done, 1 failed
or refused, 2 a bad command line.`

// The calls each mode makes, for -print-policy: the reads of every run,
// then what attaching or removing changes.
type (
	readWAF interface {
		ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error)
		GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
		ListTagsForResource(context.Context, *wafv2.ListTagsForResourceInput, ...func(*wafv2.Options)) (*wafv2.ListTagsForResourceOutput, error)
		GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error)
	}
	attachReadWAF interface {
		readWAF
		CheckCapacity(context.Context, *wafv2.CheckCapacityInput, ...func(*wafv2.Options)) (*wafv2.CheckCapacityOutput, error)
	}
	attachWAF interface {
		CreateWebACL(context.Context, *wafv2.CreateWebACLInput, ...func(*wafv2.Options)) (*wafv2.CreateWebACLOutput, error)
		UpdateWebACL(context.Context, *wafv2.UpdateWebACLInput, ...func(*wafv2.Options)) (*wafv2.UpdateWebACLOutput, error)
		AssociateWebACL(context.Context, *wafv2.AssociateWebACLInput, ...func(*wafv2.Options)) (*wafv2.AssociateWebACLOutput, error)
	}
	disassociateWAF interface {
		DisassociateWebACL(context.Context, *wafv2.DisassociateWebACLInput, ...func(*wafv2.Options)) (*wafv2.DisassociateWebACLOutput, error)
	}
	removeReadWAF interface {
		readWAF
		ListResourcesForWebACL(context.Context, *wafv2.ListResourcesForWebACLInput, ...func(*wafv2.Options)) (*wafv2.ListResourcesForWebACLOutput, error)
	}
	deleteWAF interface {
		DeleteWebACL(context.Context, *wafv2.DeleteWebACLInput, ...func(*wafv2.Options)) (*wafv2.DeleteWebACLOutput, error)
	}
)

var (
	_ attachReadWAF   = (*wafv2.Client)(nil)
	_ attachWAF       = (*wafv2.Client)(nil)
	_ disassociateWAF = (*wafv2.Client)(nil)
	_ removeReadWAF   = (*wafv2.Client)(nil)
	_ deleteWAF       = (*wafv2.Client)(nil)
)

// Permissions no call names: associating and disassociating an ACL need
// elasticloadbalancing:SetWebACL on the ALB, and CreateWebACL with a tag
// needs wafv2:TagResource.
const (
	actionSetWebACL   = "elasticloadbalancing:SetWebACL"
	actionTagResource = "wafv2:TagResource"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("attach-waf", summary)
	c.SetTimeout(10 * time.Minute)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	alb := c.Flags.String("alb", "", "the application load balancer's `ARN` (required)")
	name := c.Flags.String("name", waf.DefaultName, "the web ACL's `name`")
	common := c.Flags.Bool("common", false, "also add AWSManagedRulesCommonRuleSet")
	badInputs := c.Flags.Bool("known-bad-inputs", false, "also add AWSManagedRulesKnownBadInputsRuleSet")
	countMode := c.Flags.Bool("count-mode", false, "count matches instead of blocking (a trial); run again without it to block")
	replace := c.Flags.Bool("replace", false, "replace another web ACL already on the ALB (it is kept, not deleted)")
	allowWeaken := c.Flags.Bool("allow-weaken", false, "allow switching an existing ACL to count mode")
	remove := c.Flags.Bool("remove", false, "disassociate and delete the web ACL instead")
	force := c.Flags.Bool("force", false, "with -remove: delete even when other resources use the ACL or that cannot be told")
	c.FlagOf["albARN"] = "-alb"
	c.FlagOf["Options.Name"] = "-name"
	c.Check = func() error {
		switch {
		case *alb == "":
			return cli.Usagef("-alb is required")
		case *remove && (*common || *badInputs || *countMode || *replace || *allowWeaken):
			return cli.Usagef("-remove takes only -name, -force, -dry-run and -format")
		case *force && !*remove:
			return cli.Usagef("-force goes with -remove")
		}
		if *remove {
			c.Uses(reflect.TypeFor[removeReadWAF]())
			if !*dryRun {
				c.Uses(reflect.TypeFor[disassociateWAF](), reflect.TypeFor[deleteWAF]())
				c.UsesActions(actionSetWebACL)
			}
			return nil
		}
		c.Uses(reflect.TypeFor[attachReadWAF](), reflect.TypeFor[waf.DescribeLoadBalancersAPI]())
		if !*dryRun {
			c.Uses(reflect.TypeFor[attachWAF]())
			c.UsesActions(actionSetWebACL, actionTagResource)
			if *replace {
				c.Uses(reflect.TypeFor[disassociateWAF]())
			}
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
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
		return explain(err)
	})
}

// explain names the flag that gets past a refusal, and a failed step in
// words.
func explain(err error) error {
	var hint string
	switch {
	case err == nil:
		return nil
	case errors.Is(err, waf.ErrOtherACL):
		hint = "pass -replace to replace it (the other ACL is kept); nothing was changed"
	case errors.Is(err, awsguard.ErrWeakening):
		hint = "pass -allow-weaken to switch the ACL to count mode; nothing was changed"
	case errors.Is(err, waf.ErrAssociationsUnknown), errors.Is(err, waf.ErrACLInUse):
		hint = "the ALB was disassociated and the ACL kept; pass -force to delete it anyway"
	}
	err = present.StepFailed(err, cli.RerunHint)
	if hint != "" {
		return &hinted{msg: err.Error() + ": " + hint, err: err}
	}
	return err
}

type hinted struct {
	msg string
	err error
}

func (e *hinted) Error() string { return e.msg }
func (e *hinted) Unwrap() error { return e.err }

func write(w io.Writer, plan *awsguard.Plan, result any, format string) error {
	if format == cli.FormatJSON {
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
