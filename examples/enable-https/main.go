// Command enable-https serves an application load balancer over HTTPS
// (waf.EnableHTTPS): an ACM certificate validated through Route 53, an
// HTTPS:443 listener with a modern TLS policy, HTTP:80 redirected; or
// reverses it with -disable (waf.DisableHTTPS).
//
//	enable-https -alb ARN -domain NAME -zone ID [-alias] [-target-group ARN] [-policy NAME [-allow-weaken]]
//	             [-certificate-wait 10m] [-dry-run] [-format table|json]
//	enable-https -alb ARN -domain NAME -zone ID -disable [-alias] [-keep-certificate] [-dry-run] [-format table|json]
//	             [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 20m] [-print-policy]
//
// Re-running is safe: what is in place is left alone ("already
// compliant"). -dry-run prints the plan and changes nothing. -print-policy
// prints the IAM policy the flags given need. Exit codes: 0 done, 1 failed
// (one line on stderr naming the step), 2 a bad command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/present"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("enable-https", run) }

const summary = `enable-https serves an application load balancer over HTTPS: an ACM
certificate validated through Route 53, an HTTPS:443 listener with a modern
TLS policy, HTTP:80 redirected to it (and, with -alias, an alias record for
the domain); -disable reverses it. -dry-run prints the plan and changes
nothing. Exit codes: 0 done, 1 failed, 2 a bad command line.`

// The calls of each mode, for -print-policy: the reads of every run, then
// what enabling or disabling changes.
type (
	readACM interface {
		ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
		DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
		ListTagsForCertificate(context.Context, *acm.ListTagsForCertificateInput, ...func(*acm.Options)) (*acm.ListTagsForCertificateOutput, error)
	}
	readELB interface {
		DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
		DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
		DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	}
	readRoute53 interface {
		GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
		ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	}
	changeRoute53 interface {
		ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
	}
	modifyListener interface {
		ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	}
	enableCalls interface {
		CreateListener(context.Context, *elbv2.CreateListenerInput, ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error)
	}
	requestCertificate interface {
		RequestCertificate(context.Context, *acm.RequestCertificateInput, ...func(*acm.Options)) (*acm.RequestCertificateOutput, error)
	}
	deleteListener interface {
		DeleteListener(context.Context, *elbv2.DeleteListenerInput, ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error)
	}
	deleteCertificate interface {
		DeleteCertificate(context.Context, *acm.DeleteCertificateInput, ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error)
	}
)

var (
	_ readACM            = (*acm.Client)(nil)
	_ requestCertificate = (*acm.Client)(nil)
	_ deleteCertificate  = (*acm.Client)(nil)
	_ readELB            = (*elbv2.Client)(nil)
	_ modifyListener     = (*elbv2.Client)(nil)
	_ enableCalls        = (*elbv2.Client)(nil)
	_ deleteListener     = (*elbv2.Client)(nil)
	_ readRoute53        = (*route53.Client)(nil)
	_ changeRoute53      = (*route53.Client)(nil)
)

// tagActions are the permissions of tagging on creation, named by no call:
// the certificate's tag (RequestCertificate) and the listener's
// (CreateListener).
var tagActions = []string{"acm:AddTagsToCertificate", "elasticloadbalancing:AddTags"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("enable-https", summary)
	c.SetTimeout(20 * time.Minute)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	alb := c.Flags.String("alb", "", "the application load balancer's `ARN` (required)")
	domain := c.Flags.String("domain", "", "the `domain` to serve, such as www.example.com (required)")
	zone := c.Flags.String("zone", "", "the Route 53 hosted zone `ID` of the domain (required)")
	alias := c.Flags.Bool("alias", false, "also point an alias A record for the domain at the ALB (with -disable: delete it)")
	tg := c.Flags.String("target-group", "", "what HTTPS forwards to (target group `ARN`) when HTTP:80 does not forward")
	policy := c.Flags.String("policy", "", "the listener's security `policy` (default "+waf.DefaultSSLPolicy+")")
	allowWeaken := c.Flags.Bool("allow-weaken", false, "allow a -policy that accepts TLS older than 1.2")
	disable := c.Flags.Bool("disable", false, "reverse it: HTTP forwards again, the listener, records and certificate go")
	keepCert := c.Flags.Bool("keep-certificate", false, "with -disable: keep the certificate and its validation records")
	certWait := c.Flags.Duration("certificate-wait", 10*time.Minute, "wait this `long` at most for the certificate to be issued")
	for field, f := range map[string]string{"albARN": "-alb", "domain": "-domain", "hostedZoneID": "-zone", "HTTPSOptions.SSLPolicy": "-policy",
		"HTTPSOptions.TargetGroupARN": "-target-group", "HTTPSOptions.CertificateWait": "-certificate-wait"} {
		c.FlagOf[field] = f
	}
	c.Check = func() error {
		switch {
		case *alb == "" || *domain == "" || *zone == "":
			return cli.Usagef("-alb, -domain and -zone are required")
		case *keepCert && !*disable:
			return cli.Usagef("-keep-certificate goes with -disable")
		case *disable && (*policy != "" || *allowWeaken):
			return cli.Usagef("-policy and -allow-weaken do not go with -disable")
		}
		c.Uses(reflect.TypeFor[readACM](), reflect.TypeFor[readELB](), reflect.TypeFor[readRoute53]())
		switch {
		case *dryRun:
		case *disable:
			c.Uses(reflect.TypeFor[modifyListener](), reflect.TypeFor[deleteListener]())
			if !*keepCert {
				c.Uses(reflect.TypeFor[deleteCertificate]())
			}
			if !*keepCert || *alias {
				c.Uses(reflect.TypeFor[changeRoute53]())
			}
		default:
			c.Uses(reflect.TypeFor[modifyListener](), reflect.TypeFor[enableCalls](), reflect.TypeFor[requestCertificate](), reflect.TypeFor[changeRoute53]())
			c.UsesActions(tagActions...)
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		api := waf.HTTPSAPI{ACM: acm.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), Route53: route53.NewFromConfig(cfg)}
		opts := func(o *waf.HTTPSOptions) {
			o.AliasRecord, o.TargetGroupARN, o.SSLPolicy, o.KeepCertificate, o.DryRun = *alias, *tg, *policy, *keepCert, *dryRun
			o.CertificateWait, o.AllowWeaken = *certWait, *allowWeaken
		}
		op := waf.EnableHTTPS
		if *disable {
			op = waf.DisableHTTPS
		}
		res, err := op(ctx, api, *alb, *domain, *zone, opts)
		if res != nil {
			if werr := write(stdout, res, *format); werr != nil {
				return werr
			}
		}
		return explain(err)
	})
}

// explain names flags where the library names its options, and a failed
// step in words.
func explain(err error) error {
	var ie *awsguard.InputError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie) && ie.Field == "HTTPSOptions.SSLPolicy" && strings.Contains(ie.Allowed, "AllowWeaken"):
		return cli.Usagef("-policy %q: want a policy allowing only TLS 1.2 and later (or -allow-weaken)", ie.Value)
	case errors.Is(err, waf.ErrNoForward):
		return &rewritten{msg: strings.ReplaceAll(err.Error(), "set HTTPSOptions.TargetGroupARN", "pass -target-group ARN"), err: err}
	}
	return present.StepFailed(err, cli.RerunHint)
}

type rewritten struct {
	msg string
	err error
}

func (e *rewritten) Error() string { return e.msg }
func (e *rewritten) Unwrap() error { return e.err }

func write(w io.Writer, res *waf.HTTPS, format string) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, res)
	}
	var b strings.Builder
	verb := "done"
	if !res.Plan.Applied {
		verb = "planned"
	}
	for _, line := range res.Plan.Describe() {
		fmt.Fprintf(&b, "%s: %s\n", verb, line)
	}
	for _, warn := range res.Plan.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	fmt.Fprintf(&b, "%s\n", res.Plan.Reason)
	_, err := io.WriteString(w, b.String())
	return err
}
