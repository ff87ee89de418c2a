package waf_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/waf"
)

func (w *world) auditAPI(c *apicalls.Counter) waf.AuditAPI {
	cfg := w.env.Config()
	if c != nil {
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	}
	return waf.AuditAPI{ELB: elbv2.NewFromConfig(cfg), WAF: wafv2.NewFromConfig(cfg), ACM: acm.NewFromConfig(cfg)}
}

// The audit on crafted ALBs: protected and on HTTPS; bare; an ACL in
// Count mode; internal. Before and after the fixes the report names.
func TestAuditMoto(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	good := w.site("good")
	bare := w.site("bare")
	count := w.alb("count")
	internal, err := w.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(w.prefix + "int"), Subnets: w.subnets, Scheme: elbtypes.LoadBalancerSchemeEnumInternal})
	if err != nil {
		t.Fatal(err)
	}
	intARN := aws.ToString(internal.LoadBalancers[0].LoadBalancerArn)
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), good.alb, fast, w.named); err != nil {
		t.Fatal(err)
	}
	if _, err := waf.EnableHTTPS(ctx, w.httpsAPI(nil, nil), good.alb, good.domain, good.zone, httpsFast); err != nil {
		t.Fatal(err)
	}
	if _, err := waf.AttachSQLiACL(ctx, w.api(nil, nil), count, fast, func(o *waf.Options) { o.Name, o.CountMode = w.prefix+"count", true }); err != nil {
		t.Fatal(err)
	}
	mine := func(f awsguard.Finding) bool {
		return strings.Contains(f.Resource, "/app/"+w.prefix) || strings.Contains(f.Evidence["domain"], w.prefix)
	}
	c := apicalls.New()
	rep, err := waf.Audit(ctx, w.auditAPI(c), func(o *waf.AuditOptions) {
		o.Now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("calls: %s", c)
	type row struct{ Check, Resource, Status string }
	var got []row
	for _, f := range rep.Filter(mine).Findings {
		got = append(got, row{f.Check, f.Resource, string(f.Status)})
		t.Logf("%s %s %s: %s %v", f.Status, f.Check, f.Resource, f.Title, f.Evidence)
	}
	certs := w.state(good).certs
	want := []row{
		{waf.CheckCertificateExpiry, certs[0], "FAIL"}, // moto's certificates are not renewal eligible
		{waf.CheckALBHTTPS, bare.alb, "FAIL"},
		{waf.CheckALBHTTPS, count, "FAIL"},
		{waf.CheckALBHTTPS, good.alb, "PASS"},
		{waf.CheckALBHTTPS, intARN, "FAIL"},
		{waf.CheckALBSQLiRules, bare.alb, "FAIL"},
		{waf.CheckALBSQLiRules, count, "FAIL"},
		{waf.CheckALBSQLiRules, good.alb, "PASS"},
		{waf.CheckALBSQLiRules, intARN, "NOT_APPLICABLE"},
		{waf.CheckALBWebACL, bare.alb, "FAIL"},
		{waf.CheckALBWebACL, count, "PASS"},
		{waf.CheckALBWebACL, good.alb, "PASS"},
		{waf.CheckALBWebACL, intARN, "NOT_APPLICABLE"},
	}
	sortRows := func(r []row) {
		for i := range r {
			for j := i + 1; j < len(r); j++ {
				if fmt.Sprint(r[j]) < fmt.Sprint(r[i]) {
					r[i], r[j] = r[j], r[i]
				}
			}
		}
	}
	sortRows(want)
	sortRows(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if f.Account != "123456789012" || f.Region != "us-east-1" {
			t.Errorf("finding %s %s: account %q region %q", f.Check, f.Resource, f.Account, f.Region)
			break
		}
	}
}

// fakeAudit answers Audit's calls for n internet-facing ALBs sharing one
// ACL, with pages of two load balancers, and counts calls.
type fakeAudit struct {
	n     int
	calls map[string]int
	acm   []acmtypes.CertificateSummary
	// listResources answers ListResourcesForWebACL when set; else it is
	// "not offered".
	listResources bool
}

func (f *fakeAudit) albARN(i int) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/lb%d/%016x", i, i)
}

func (f *fakeAudit) DescribeLoadBalancers(_ context.Context, in *elbv2.DescribeLoadBalancersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error) {
	f.calls["DescribeLoadBalancers"]++
	start := 0
	if in.Marker != nil {
		fmt.Sscan(*in.Marker, &start)
	}
	out := &elbv2.DescribeLoadBalancersOutput{}
	for i := start; i < min(start+2, f.n); i++ {
		out.LoadBalancers = append(out.LoadBalancers, elbtypes.LoadBalancer{LoadBalancerArn: aws.String(f.albARN(i)), LoadBalancerName: aws.String(fmt.Sprint("lb", i)),
			Type: elbtypes.LoadBalancerTypeEnumApplication, Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	}
	if start+2 < f.n {
		out.NextMarker = aws.String(fmt.Sprint(start + 2))
	}
	return out, nil
}

func (f *fakeAudit) DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	f.calls["DescribeListeners"]++
	return &elbv2.DescribeListenersOutput{Listeners: []elbtypes.Listener{
		{Port: aws.Int32(443), Protocol: elbtypes.ProtocolEnumHttps, SslPolicy: aws.String("ELBSecurityPolicy-2016-08")},
		{Port: aws.Int32(80), Protocol: elbtypes.ProtocolEnumHttp, DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward}}},
	}}, nil
}

func (f *fakeAudit) ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error) {
	f.calls["ListWebACLs"]++
	return &wafv2.ListWebACLsOutput{WebACLs: []wafTypesSummary{{Name: aws.String("acl"), Id: aws.String("1")}}}, nil
}

func (f *fakeAudit) GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error) {
	f.calls["GetWebACL"]++
	return &wafv2.GetWebACLOutput{WebACL: sqliACL(), LockToken: aws.String("t")}, nil
}

func (f *fakeAudit) ListResourcesForWebACL(context.Context, *wafv2.ListResourcesForWebACLInput, ...func(*wafv2.Options)) (*wafv2.ListResourcesForWebACLOutput, error) {
	f.calls["ListResourcesForWebACL"]++
	if !f.listResources {
		return nil, notImplemented()
	}
	out := &wafv2.ListResourcesForWebACLOutput{}
	for i := range f.n {
		out.ResourceArns = append(out.ResourceArns, f.albARN(i))
	}
	return out, nil
}

func (f *fakeAudit) GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error) {
	f.calls["GetWebACLForResource"]++
	return &wafv2.GetWebACLForResourceOutput{WebACL: sqliACL()}, nil
}

func (f *fakeAudit) ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error) {
	f.calls["ListCertificates"]++
	return &acm.ListCertificatesOutput{CertificateSummaryList: f.acm}, nil
}

// The WAF and ACM calls do not grow with the number of ALBs; the ELB
// calls are one page per 400 and one DescribeListeners per ALB.
func TestAuditCallCount(t *testing.T) {
	ctx := context.Background()
	for _, listResources := range []bool{true, false} {
		var prev map[string]int
		for _, n := range []int{1, 5, 40} {
			f := &fakeAudit{n: n, calls: map[string]int{}, listResources: listResources}
			rep, err := waf.Audit(ctx, waf.AuditAPI{ELB: f, WAF: f, ACM: f})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Findings) != 3*n {
				t.Errorf("n=%d: %d findings", n, len(rep.Findings))
			}
			pages := (n + 1) / 2
			if f.calls["DescribeLoadBalancers"] != pages || f.calls["DescribeListeners"] != n {
				t.Errorf("n=%d: ELB calls %v", n, f.calls)
			}
			waf := map[string]int{"ListWebACLs": f.calls["ListWebACLs"], "GetWebACL": f.calls["GetWebACL"], "ListResourcesForWebACL": f.calls["ListResourcesForWebACL"], "ListCertificates": f.calls["ListCertificates"]}
			if listResources {
				if prev != nil && !cmp.Equal(prev, waf) {
					t.Errorf("n=%d: WAF and ACM calls %v grew from %v", n, waf, prev)
				}
				if f.calls["GetWebACLForResource"] != 0 {
					t.Errorf("n=%d: GetWebACLForResource called %d times", n, f.calls["GetWebACLForResource"])
				}
			} else if f.calls["GetWebACLForResource"] != n {
				t.Errorf("fallback n=%d: GetWebACLForResource %d", n, f.calls["GetWebACLForResource"])
			}
			prev = waf
			t.Logf("ListResourcesForWebACL offered %v, %d ALBs: %v", listResources, n, f.calls)
		}
	}
}

// acm.certificate.expiry against an injected clock; elb.alb.https with a
// TLS 1.0 policy and plain HTTP fails.
func TestAuditDecisions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	cert := func(id string, days int, inUse bool, el acmtypes.RenewalEligibility) acmtypes.CertificateSummary {
		return acmtypes.CertificateSummary{CertificateArn: aws.String("arn:aws:acm:eu-west-1:111122223333:certificate/" + id), DomainName: aws.String(id + ".example.com"),
			NotAfter: aws.Time(now.Add(time.Duration(days) * 24 * time.Hour)), InUse: aws.Bool(inUse), RenewalEligibility: el, Status: acmtypes.CertificateStatusIssued}
	}
	f := &fakeAudit{n: 1, calls: map[string]int{}, listResources: true, acm: []acmtypes.CertificateSummary{
		cert("ok", 90, true, acmtypes.RenewalEligibilityEligible),
		cert("soon", 29, true, acmtypes.RenewalEligibilityEligible),
		cert("stuck", 200, true, acmtypes.RenewalEligibilityIneligible),
		cert("idle", 1, false, acmtypes.RenewalEligibilityIneligible),
	}}
	rep, err := waf.Audit(ctx, waf.AuditAPI{ELB: f, WAF: f, ACM: f}, func(o *waf.AuditOptions) { o.Now = func() time.Time { return now } })
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]awsguard.Status{}
	for _, fd := range rep.Findings {
		key := fd.Check
		if fd.Check == waf.CheckCertificateExpiry {
			key += " " + fd.Evidence["domain"]
		}
		got[key] = fd.Status
		if fd.Status == awsguard.StatusFail && fd.Check == waf.CheckALBHTTPS && !strings.Contains(fd.Title, "TLS below 1.2") {
			t.Errorf("https title %q", fd.Title)
		}
	}
	want := map[string]awsguard.Status{
		waf.CheckALBWebACL: awsguard.StatusPass, waf.CheckALBSQLiRules: awsguard.StatusPass, waf.CheckALBHTTPS: awsguard.StatusFail,
		waf.CheckCertificateExpiry + " ok.example.com":    awsguard.StatusPass,
		waf.CheckCertificateExpiry + " soon.example.com":  awsguard.StatusFail,
		waf.CheckCertificateExpiry + " stuck.example.com": awsguard.StatusFail,
		waf.CheckCertificateExpiry + " idle.example.com":  awsguard.StatusNotApplicable,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// A WAF that cannot be read: ERROR findings and ErrAuditIncomplete.
	bad := &failingWAF{fakeAudit: f}
	rep, err = waf.Audit(ctx, waf.AuditAPI{ELB: f, WAF: bad, ACM: f})
	if !errors.Is(err, waf.ErrAuditIncomplete) || rep == nil {
		t.Fatalf("err = %v", err)
	}
	for _, fd := range rep.Findings {
		if strings.HasPrefix(fd.Check, "waf.") && fd.Status != awsguard.StatusError {
			t.Errorf("%s: %s", fd.Check, fd.Status)
		}
	}
}

type failingWAF struct{ *fakeAudit }

func (f *failingWAF) ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error) {
	return nil, apiErr("AccessDeniedException")
}
