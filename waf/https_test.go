package waf_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/waf"
)

func httpsFast(o *waf.HTTPSOptions) {
	o.WaitMinDelay, o.WaitMaxDelay, o.CertificateWait = 100*time.Millisecond, 200*time.Millisecond, 30*time.Second
}

// site is an ALB with a target group and an HTTP:80 listener forwarding to
// it, and a hosted zone for its domain.
type site struct {
	alb, tg, http80, domain, zone string
}

func (w *world) site(name string) site {
	w.t.Helper()
	ctx := context.Background()
	s := site{alb: w.alb(name)}
	tg, err := w.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(w.prefix + name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(w.vpc)})
	if err != nil {
		w.t.Fatal(err)
	}
	s.tg = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	l, err := w.elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(s.alb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(s.tg)}}})
	if err != nil {
		w.t.Fatal(err)
	}
	s.http80 = aws.ToString(l.Listeners[0].ListenerArn)
	zoneName := strings.ToLower(w.prefix+name) + ".example.com"
	z, err := w.r53().CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(zoneName), CallerReference: aws.String(zoneName)})
	if err != nil {
		w.t.Fatal(err)
	}
	s.zone = strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/")
	s.domain = "www." + zoneName
	return s
}

func (w *world) r53() *route53.Client { return route53.NewFromConfig(w.env.Config()) }
func (w *world) acmc() *acm.Client    { return acm.NewFromConfig(w.env.Config()) }
func (w *world) httpsAPI(c *apicalls.Counter, inj *fault.Injector) waf.HTTPSAPI {
	cfg := w.env.Config()
	if c != nil {
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	}
	if inj != nil {
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	}
	return waf.HTTPSAPI{ACM: acm.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), Route53: route53.NewFromConfig(cfg)}
}

// siteState is what a site looks like from outside.
type siteState struct {
	certs      []string // certificates for the domain, any status
	http80     string   // "forward" or "redirect"
	https443   string   // "" or the policy
	https443Fw bool     // the HTTPS listener forwards to the target group
	cnames     int      // validation records in the zone
	alias      bool
}

func (w *world) state(s site) siteState {
	w.t.Helper()
	ctx := context.Background()
	var st siteState
	certs, err := w.acmc().ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued, acmtypes.CertificateStatusPendingValidation}})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range certs.CertificateSummaryList {
		if aws.ToString(c.DomainName) == s.domain {
			st.certs = append(st.certs, aws.ToString(c.CertificateArn))
		}
	}
	ls, err := w.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(s.alb)})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, l := range ls.Listeners {
		switch aws.ToInt32(l.Port) {
		case 80:
			st.http80 = string(l.DefaultActions[0].Type)
		case 443:
			st.https443 = aws.ToString(l.SslPolicy)
			st.https443Fw = l.DefaultActions[0].Type == elbtypes.ActionTypeEnumForward && aws.ToString(l.DefaultActions[0].TargetGroupArn) == s.tg
		}
	}
	rr, err := w.r53().ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(s.zone)})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rr.ResourceRecordSets {
		switch {
		case r.Type == r53types.RRTypeCname:
			st.cnames++
		case r.Type == r53types.RRTypeA && strings.TrimSuffix(aws.ToString(r.Name), ".") == s.domain:
			st.alias = true
		}
	}
	return st
}

func (w *world) checkEnabled(label string, s site, alias bool) {
	w.t.Helper()
	st := w.state(s)
	if len(st.certs) != 1 || st.http80 != "redirect" || st.https443 != waf.DefaultSSLPolicy || !st.https443Fw || st.cnames != 1 || st.alias != alias {
		w.t.Errorf("%s: %+v", label, st)
	}
}

func TestHTTPSEnableDisable(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	s := w.site("web")
	alias := func(o *waf.HTTPSOptions) { o.AliasRecord = true }

	c := apicalls.New()
	dry, err := waf.EnableHTTPS(ctx, w.httpsAPI(c, nil), s.alb, s.domain, s.zone, httpsFast, alias, func(o *waf.HTTPSOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if mutatingCalls(c) != 0 || dry.Plan.Reason != awsguard.ReasonDryRun || len(dry.Plan.Actions) != 6 {
		t.Fatalf("dry run: err %v, %s, plan %v", err, c, dry.Plan.Describe())
	}
	res, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, nil), s.alb, s.domain, s.zone, httpsFast, alias)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("enabled: %s", joinLines(res.Plan.Describe()))
	w.checkEnabled("enabled", s, true)

	c.Reset()
	again, err := waf.EnableHTTPS(ctx, w.httpsAPI(c, nil), s.alb, s.domain, s.zone, httpsFast, alias)
	if err != nil || mutatingCalls(c) != 0 || again.Plan.Reason != awsguard.ReasonAlreadyCompliant || again.CertificateARN != res.CertificateARN {
		t.Errorf("re-run: err %v, %s, plan %+v", err, c, again.Plan)
	}
	t.Logf("re-run: %d calls, none mutating: %s", c.Total(), c)

	off, err := waf.DisableHTTPS(ctx, w.httpsAPI(nil, nil), s.alb, s.domain, s.zone, httpsFast, alias)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range off.Plan.Actions {
		kinds = append(kinds, a.Kind)
	}
	want := []string{waf.ActionForwardHTTP, waf.ActionDeleteAlias, waf.ActionDeleteHTTPSListener, waf.ActionDeleteValidation, waf.ActionDeleteCertificate}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("disable order %v, want %v", kinds, want)
	}
	if st := w.state(s); len(st.certs) != 0 || st.http80 != "forward" || st.https443 != "" || st.cnames != 0 || st.alias {
		t.Errorf("disabled: %+v", st)
	}
	c.Reset()
	off, err = waf.DisableHTTPS(ctx, w.httpsAPI(c, nil), s.alb, s.domain, s.zone, httpsFast, alias)
	if err != nil || off.Plan.Reason != awsguard.ReasonNothingToRemove || mutatingCalls(c) != 0 {
		t.Errorf("disable re-run: %v %+v %s", err, off.Plan, c)
	}
}

// Every call of EnableHTTPS fails in turn; a re-run converges with one
// certificate (no orphan), its validation record, the listeners right.
// Faults are placed by operation and occurrence (the waiter's polls vary
// in number): every distinct call, and the first two DescribeCertificate
// (the validation records' read and the waiter's first poll).
func TestHTTPSFaultSweep(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	probeSite := w.site("p")
	probe := fault.New()
	if _, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, probe), probeSite.alb, probeSite.domain, probeSite.zone, httpsFast); err != nil {
		t.Fatal(err)
	}
	type point struct {
		service, op string
		nth         int
	}
	var points []point
	seen := map[string]int{}
	var names []string
	for _, c := range probe.Calls() {
		key := c.Service + "." + c.Operation
		names = append(names, key)
		seen[key]++
		if seen[key] > 2 || (seen[key] == 2 && c.Operation != "DescribeCertificate" && c.Operation != "ListResourceRecordSets") {
			continue
		}
		points = append(points, point{c.Service, c.Operation, seen[key]})
	}
	t.Logf("%d calls: %v", len(names), names)
	kinds := []fault.Kind{fault.ServerError, fault.ResponseLost}
	runs := 0
	for i, pt := range points {
		for _, kind := range kinds {
			runs++
			label := fmt.Sprintf("%s.%s #%d %s", pt.service, pt.op, pt.nth, kind)
			s := w.site(fmt.Sprintf("f%d%s", i, kind.String()[:1]))
			inj := fault.New(fault.Rule{Service: pt.service, Operation: pt.op, Nth: pt.nth, Kind: kind})
			_, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, inj), s.alb, s.domain, s.zone, httpsFast)
			if len(inj.Injected()) != 1 {
				t.Errorf("%s: %d faults", label, len(inj.Injected()))
			}
			if err == nil && kind != fault.ResponseLost {
				t.Errorf("%s: no error", label)
			}
			if st := w.state(s); len(st.certs) > 1 {
				t.Errorf("%s: %d certificates after the fault", label, len(st.certs))
			}
			if _, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, nil), s.alb, s.domain, s.zone, httpsFast); err != nil {
				t.Errorf("%s: re-run: %v", label, err)
				continue
			}
			w.checkEnabled(label, s, false)
		}
	}
	if runs == 0 {
		t.Fatal("no fault point covered")
	}
	t.Logf("fault points covered: %d calls x %d kinds = %d faulted runs, each followed by a re-run", len(points), len(kinds), runs)
}
