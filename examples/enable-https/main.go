// Command enable-https serves an application load balancer over HTTPS
// (waf.EnableHTTPS): an ACM certificate validated through Route 53, an
// HTTPS:443 listener with a modern TLS policy, HTTP:80 redirected; or
// reverses it with -disable (waf.DisableHTTPS). It uses the standard AWS
// configuration chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...).
//
//	enable-https -alb ARN -domain NAME -zone ID [-alias] [-target-group ARN] [-policy NAME] [-dry-run] [-format text|json]
//	enable-https -alb ARN -domain NAME -zone ID -disable [-alias] [-keep-certificate] [-dry-run] [-format text|json]
//
// Re-running is safe: what is in place is left alone ("already
// compliant"). It exits 1 with a one-line reason on stderr on failure and
// 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("enable-https", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("enable-https", flag.ContinueOnError)
	fs.SetOutput(stderr)
	alb := fs.String("alb", "", "the application load balancer's ARN (required)")
	domain := fs.String("domain", "", "the domain to serve, such as www.example.com (required)")
	zone := fs.String("zone", "", "the Route 53 hosted zone ID of the domain (required)")
	alias := fs.Bool("alias", false, "also point an alias A record for the domain at the ALB (with -disable: delete it)")
	tg := fs.String("target-group", "", "what HTTPS forwards to when HTTP:80 does not forward")
	policy := fs.String("policy", "", "the listener's security policy (default "+waf.DefaultSSLPolicy+")")
	disable := fs.Bool("disable", false, "reverse it: HTTP forwards again, the listener, records and certificate go")
	keepCert := fs.Bool("keep-certificate", false, "with -disable: keep the certificate and its validation records")
	certWait := fs.Duration("certificate-wait", 10*time.Minute, "wait this long at most for the certificate to be issued")
	dryRun := fs.Bool("dry-run", false, "print the plan, change nothing")
	format := fs.String("format", "text", "output format: text or json")
	timeout := fs.Duration("timeout", 20*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usagef("unexpected argument %q", fs.Arg(0))
	case *alb == "" || *domain == "" || *zone == "":
		return cli.Usagef("-alb, -domain and -zone are required")
	case *format != "text" && *format != "json":
		return cli.Usagef("-format %q: want text or json", *format)
	case *keepCert && !*disable:
		return cli.Usagef("-keep-certificate goes with -disable")
	case *disable && *policy != "":
		return cli.Usagef("-policy does not go with -disable")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	api := waf.HTTPSAPI{ACM: acm.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), Route53: route53.NewFromConfig(cfg)}
	opts := func(o *waf.HTTPSOptions) {
		o.AliasRecord, o.TargetGroupARN, o.SSLPolicy, o.KeepCertificate, o.DryRun = *alias, *tg, *policy, *keepCert, *dryRun
		o.CertificateWait = *certWait
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
	return flagOf(err)
}

// flagOf names the flag of a refused input.
func flagOf(err error) error {
	var ie *awsguard.InputError
	if errors.As(err, &ie) {
		flags := map[string]string{"albARN": "-alb", "domain": "-domain", "hostedZoneID": "-zone", "HTTPSOptions.SSLPolicy": "-policy",
			"HTTPSOptions.TargetGroupARN": "-target-group", "HTTPSOptions.CertificateWait": "-certificate-wait"}
		if f, ok := flags[ie.Field]; ok {
			return cli.Usagef("%s %q: want %s", f, ie.Value, ie.Allowed)
		}
	}
	return err
}

func write(w io.Writer, res *waf.HTTPS, format string) error {
	if format == "json" {
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
