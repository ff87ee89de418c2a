package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/route53"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/waf"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const testALB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef"

func https(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "enable-https", run, args...)
}

// site is an ALB whose HTTP:80 listener forwards to a target group, and
// the hosted zone of its domain.
type site struct{ alb, domain, zone string }

func (s site) args(more ...string) []string {
	return append([]string{"-alb", s.alb, "-domain", s.domain, "-zone", s.zone, "-alias"}, more...)
}

func newSite(t *testing.T, cfg aws.Config, subnets []*string, vpc *string, n int) site {
	t.Helper()
	ctx := context.Background()
	elb := elbv2.NewFromConfig(cfg)
	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(fmt.Sprintf("web%d", n)), Subnets: aws.ToStringSlice(subnets)})
	if err != nil {
		t.Fatal(err)
	}
	alb := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String(fmt.Sprintf("web%d", n)), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: vpc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(alb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tg.TargetGroups[0].TargetGroupArn}}}); err != nil {
		t.Fatal(err)
	}
	apex := fmt.Sprintf("example%d.com", n)
	z, err := route53.NewFromConfig(cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String(apex), CallerReference: aws.String(apex)})
	if err != nil {
		t.Fatal(err)
	}
	return site{alb: alb, domain: "www." + apex, zone: strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/")}
}

func network(t *testing.T, cfg aws.Config) ([]*string, *string) {
	t.Helper()
	sn, err := ec2.NewFromConfig(cfg).DescribeSubnets(context.Background(), &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return []*string{sn.Subnets[0].SubnetId, sn.Subnets[1].SubnetId}, sn.Subnets[0].VpcId
}

func TestEnableHTTPS(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	subnets, vpc := network(t, env.Config())
	s := newSite(t, env.Config(), subnets, vpc, 0)

	if r := https(t, s.args("-dry-run")...); r.Code != 0 || !strings.Contains(r.Stdout, "planned: request an ACM certificate") {
		t.Errorf("dry run: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	r := https(t, s.args("-format", "json")...)
	var res waf.HTTPS
	if r.Code != 0 || json.Unmarshal([]byte(r.Stdout), &res) != nil || !res.Plan.Applied || res.SSLPolicy != waf.DefaultSSLPolicy {
		t.Errorf("enable: exit %d %+v\n%s", r.Code, res, r.Stderr)
	}
	if r := https(t, s.args()...); r.Code != 0 || !strings.Contains(r.Stdout, string(awsguard.ReasonAlreadyCompliant)) {
		t.Errorf("re-run: exit %d\n%s", r.Code, r.Stdout)
	}
	if r := https(t, s.args("-disable")...); r.Code != 0 || !strings.Contains(r.Stdout, "done: delete certificate") {
		t.Errorf("disable: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := https(t, s.args("-disable", "-format", "text")...); r.Code != 0 || !strings.Contains(r.Stdout, string(awsguard.ReasonNothingToRemove)) {
		t.Errorf("disable re-run: exit %d\n%s", r.Code, r.Stdout)
	}
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := https(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: enable-https [flags]", "-alb", "-domain", "-zone", "-disable", "-keep-certificate", "-certificate-wait", "-dry-run", "-format", "-profile", "-endpoint-url", "-print-policy", "Exit codes"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2, prints usage, names the flag, and calls
// nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	base := []string{"-alb", testALB, "-domain", "www.example.com", "-zone", "Z0123456789ABC"}
	with := func(more ...string) []string { return append(slices.Clone(base), more...) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{with("extra"), `unexpected argument "extra"`},
		{nil, "-alb, -domain and -zone are required"},
		{[]string{"-alb", testALB}, "-alb, -domain and -zone are required"},
		{[]string{"-alb", "arn:nope", "-domain", "www.example.com", "-zone", "Z0123456789ABC"}, `-alb "arn:nope": want an application load balancer ARN`},
		{[]string{"-alb", testALB, "-domain", "Bad_Domain", "-zone", "Z0123456789ABC"}, `-domain "Bad_Domain": want a lower-case DNS name`},
		{[]string{"-alb", testALB, "-domain", "www.example.com", "-zone", "zone?"}, `-zone "zone?": want a Route 53 hosted zone ID`},
		{with("-policy", "nope"), `-policy "nope": want an ELB security policy name`},
		{with("-policy", "ELBSecurityPolicy-2016-08"), `-policy "ELBSecurityPolicy-2016-08": want a policy allowing only TLS 1.2 and later (or -allow-weaken)`},
		{with("-target-group", "arn:nope"), `-target-group "arn:nope": want a target group ARN`},
		{with("-certificate-wait", "-1s"), `-certificate-wait "-1s"`},
		{with("-certificate-wait", "soon"), "-certificate-wait"},
		{with("-keep-certificate"), "-keep-certificate goes with -disable"},
		{with("-disable", "-policy", waf.DefaultSSLPolicy), "-policy and -allow-weaken do not go with -disable"},
		{with("-format", "xml"), `-format "xml"`},
		{with("-alias=maybe"), "-alias"},
		{with("-allow-weaken=maybe"), "-allow-weaken"},
		{with("-disable=maybe"), "-disable"},
		{with("-keep-certificate=maybe"), "-keep-certificate"},
		{with("-dry-run=maybe"), "-dry-run"},
		{with("-region", "Seoul"), `-region "Seoul"`},
		{with("-endpoint-url", "ftp://example"), `-endpoint-url "ftp://example"`},
		{with("-timeout", "0s"), "-timeout 0s"},
		{with("-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{with("-print-policy=maybe"), "-print-policy"},
		{with("-profile", "nosuch"), `-profile "nosuch"`},
	} {
		r := https(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "enable-https: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: enable-https") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "Options.") || strings.Contains(last, "albARN") || strings.Contains(last, "AllowWeaken") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

var (
	readActions = []string{"acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate",
		"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTags",
		"route53:GetHostedZone", "route53:ListResourceRecordSets"}
	enableActions = []string{"acm:AddTagsToCertificate", "acm:RequestCertificate", "elasticloadbalancing:AddTags",
		"elasticloadbalancing:CreateListener", "elasticloadbalancing:ModifyListener", "route53:ChangeResourceRecordSets"}
	disableActions = []string{"acm:DeleteCertificate", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener", "route53:ChangeResourceRecordSets"}
)

func sorted(lists ...[]string) []string {
	out := slices.Concat(lists...)
	slices.Sort(out)
	return slices.Compact(out)
}

func TestPrintPolicy(t *testing.T) {
	calls := clitest.Offline(t)
	base := []string{"-alb", testALB, "-domain", "www.example.com", "-zone", "Z0123456789ABC"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, sorted(readActions, enableActions)},
		{[]string{"-dry-run"}, readActions},
		{[]string{"-disable"}, sorted(readActions, disableActions)},
		{[]string{"-disable", "-dry-run"}, readActions},
		{[]string{"-disable", "-keep-certificate"}, sorted(readActions, []string{"elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener"})},
		{[]string{"-disable", "-keep-certificate", "-alias"}, sorted(readActions, []string{"elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener", "route53:ChangeResourceRecordSets"})},
	} {
		got := clitest.Actions(clitest.PrintPolicy(t, "enable-https", run, append(slices.Clone(base), tc.args...)...))
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

// route53Gate stands for Route 53 while moto enforces authentication
// (moto's Route 53 then refuses every key, even valid ones): it lets
// through only the calls whose action the policy holds, with enforcement
// turned off for the call.
type route53Gate struct {
	mu      sync.Mutex
	actions []string
	env     *awstest.Env
	proxy   *httputil.ReverseProxy
}

func (g *route53Gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	action := "route53:?"
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && strings.HasSuffix(path, "/rrset"):
		action = "route53:ListResourceRecordSets"
	case r.Method == http.MethodPost && strings.HasSuffix(path, "/rrset"):
		action = "route53:ChangeResourceRecordSets"
	case r.Method == http.MethodGet && strings.Contains(path, "/hostedzone/"):
		action = "route53:GetHostedZone"
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !slices.Contains(g.actions, action) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>not allowed: %s</Message></Error></ErrorResponse>`, action)
		return
	}
	ctx := context.Background()
	if err := g.env.Server.EnforceAuth(ctx, false); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer func() { _ = g.env.Server.EnforceAuth(ctx, true) }()
	g.proxy.ServeHTTP(w, r)
}

// enable-https, then -disable, run as a user holding exactly the union of
// their printed policies, and fail without any one of its actions that can
// be checked. moto checks the ACM and ELB actions. Its Route 53 refuses
// every key while authentication is enforced, so the Route 53 calls go
// through a gate that allows exactly the policy's route53 actions (and
// turns enforcement off for them): those three are proven against the
// gate, not against moto's own policy evaluation. Not proven at all:
// acm:AddTagsToCertificate and elasticloadbalancing:AddTags, the
// permissions of tagging the certificate and the listener on creation,
// which moto does not ask for (TestPrintPolicy checks they are printed).
// moto checks actions, not resources.
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	subnets, vpc := network(t, env.Config())
	base := []string{"-alb", testALB, "-domain", "www.example.com", "-zone", "Z0123456789ABC", "-alias"}
	enable := clitest.Actions(clitest.PrintPolicy(t, "enable-https", run, base...))
	disable := clitest.Actions(clitest.PrintPolicy(t, "enable-https", run, append(base, "-disable")...))
	proven := slices.DeleteFunc(sorted(enable, disable), func(a string) bool { return slices.Contains(tagActions, a) })
	doc := &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Effect: "Allow", Action: awsguard.StringList(proven...), Resource: awsguard.StringValue("*")}}}}

	// One site per run of the proof: each starts from HTTP only.
	sites := make([]site, len(proven)+1)
	for i := range sites {
		sites[i] = newSite(t, env.Config(), subnets, vpc, i)
	}
	motoURL, err := url.Parse(env.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	gate := &route53Gate{env: env, proxy: httputil.NewSingleHostReverseProxy(motoURL)}
	r53 := httptest.NewServer(gate)
	t.Cleanup(r53.Close)

	adminCfg := env.EnforceAuth()
	admin := iam.NewFromConfig(adminCfg)
	ctx := context.Background()
	const user = "https-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_ENDPOINT_URL_ROUTE_53", r53.URL)
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	n := 0
	clitest.LeastPrivilege(t, doc, nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		s := sites[n]
		n++
		clitest.PutUserPolicy(t, admin, user, "enable-https", doc)
		gate.mu.Lock()
		gate.actions = clitest.Actions(doc)
		gate.mu.Unlock()
		first := https(t, s.args()...)
		if first.Code != 0 {
			return []clitest.Result{first}
		}
		return []clitest.Result{first, https(t, s.args("-disable")...)}
	})
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := https(t, "-alb", testALB, "-domain", "www.example.com", "-zone", "Z0123456789ABC", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
