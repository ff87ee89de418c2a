package waf

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// OpEnableHTTPS and OpDisableHTTPS name the operations in plans and errors.
const (
	OpEnableHTTPS  = "waf.EnableHTTPS"
	OpDisableHTTPS = "waf.DisableHTTPS"
)

// DefaultSSLPolicy is the listener policy EnableHTTPS sets by default:
// TLS 1.3 and 1.2 only, forward-secret ciphers.
const DefaultSSLPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

// The action kinds of EnableHTTPS and DisableHTTPS plans.
const (
	ActionRequestCertificate  = "request-certificate"
	ActionUpsertValidation    = "upsert-validation-record"
	ActionWaitCertificate     = "wait-certificate"
	ActionCreateHTTPSListener = "create-https-listener"
	ActionModifyHTTPSListener = "modify-https-listener"
	ActionRedirectHTTP        = "redirect-http"
	ActionUpsertAlias         = "upsert-alias-record"
	ActionForwardHTTP         = "restore-http-forward"
	ActionDeleteAlias         = "delete-alias-record"
	ActionDeleteHTTPSListener = "delete-https-listener"
	ActionDeleteValidation    = "delete-validation-record"
	ActionDeleteCertificate   = "delete-certificate"
)

// Sentinels of the HTTPS workflow.
var (
	// ErrDomainNotInZone: the domain is not inside the hosted zone.
	ErrDomainNotInZone = errors.New("waf: the domain is not in the hosted zone")
	// ErrNoForward: the ALB has no HTTP listener that forwards and no
	// HTTPS listener, so there is nothing the HTTPS listener could
	// forward to; set HTTPSOptions.TargetGroupARN.
	ErrNoForward = errors.New("waf: nothing to forward HTTPS to")
	// ErrCertificateNotIssued: the certificate did not become ISSUED
	// within HTTPSOptions.CertificateWait (or validation failed).
	ErrCertificateNotIssued = errors.New("waf: the certificate was not issued")
)

// ACMAPI is the part of *acm.Client that EnableHTTPS and DisableHTTPS
// call: acm:ListCertificates, acm:DescribeCertificate,
// acm:ListTagsForCertificate, acm:RequestCertificate (with
// acm:AddTagsToCertificate for its tag) and acm:DeleteCertificate.
type ACMAPI interface {
	ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
	DescribeCertificate(context.Context, *acm.DescribeCertificateInput, ...func(*acm.Options)) (*acm.DescribeCertificateOutput, error)
	ListTagsForCertificate(context.Context, *acm.ListTagsForCertificateInput, ...func(*acm.Options)) (*acm.ListTagsForCertificateOutput, error)
	RequestCertificate(context.Context, *acm.RequestCertificateInput, ...func(*acm.Options)) (*acm.RequestCertificateOutput, error)
	DeleteCertificate(context.Context, *acm.DeleteCertificateInput, ...func(*acm.Options)) (*acm.DeleteCertificateOutput, error)
}

var _ ACMAPI = (*acm.Client)(nil)

// ListenerAPI is the part of *elasticloadbalancingv2.Client that
// EnableHTTPS and DisableHTTPS call: elasticloadbalancing:
// DescribeLoadBalancers, DescribeListeners, DescribeTags, CreateListener
// (with AddTags), ModifyListener and DeleteListener.
type ListenerAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	CreateListener(context.Context, *elbv2.CreateListenerInput, ...func(*elbv2.Options)) (*elbv2.CreateListenerOutput, error)
	ModifyListener(context.Context, *elbv2.ModifyListenerInput, ...func(*elbv2.Options)) (*elbv2.ModifyListenerOutput, error)
	DeleteListener(context.Context, *elbv2.DeleteListenerInput, ...func(*elbv2.Options)) (*elbv2.DeleteListenerOutput, error)
}

var _ ListenerAPI = (*elbv2.Client)(nil)

// Route53API is the part of *route53.Client that EnableHTTPS and
// DisableHTTPS call: route53:GetHostedZone, route53:ListResourceRecordSets
// and route53:ChangeResourceRecordSets.
type Route53API interface {
	GetHostedZone(context.Context, *route53.GetHostedZoneInput, ...func(*route53.Options)) (*route53.GetHostedZoneOutput, error)
	ListResourceRecordSets(context.Context, *route53.ListResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ListResourceRecordSetsOutput, error)
	ChangeResourceRecordSets(context.Context, *route53.ChangeResourceRecordSetsInput, ...func(*route53.Options)) (*route53.ChangeResourceRecordSetsOutput, error)
}

var _ Route53API = (*route53.Client)(nil)

// HTTPSAPI holds the clients EnableHTTPS and DisableHTTPS call. All are
// required.
type HTTPSAPI struct {
	ACM     ACMAPI
	ELB     ListenerAPI
	Route53 Route53API
}

// HTTPSOptions tune EnableHTTPS and DisableHTTPS. The zero value means the
// defaults.
type HTTPSOptions struct {
	// SSLPolicy is the HTTPS listener's security policy; default
	// DefaultSSLPolicy. A listener with a policy at least as strict (TLS
	// 1.2 or later) keeps its own unless this is set.
	SSLPolicy string
	// AliasRecord also upserts an alias A record for the domain to the
	// ALB (and DisableHTTPS deletes it if it still points there).
	AliasRecord bool
	// TargetGroupARN is what HTTPS forwards to when the ALB has no HTTP
	// listener that forwards.
	TargetGroupARN string
	// CertificateWait bounds the wait for the certificate to be issued;
	// default 10 minutes (DNS validation usually takes minutes).
	// WaitMinDelay and WaitMaxDelay bound the waiter's polling; defaults
	// 5 s and 60 s.
	CertificateWait, WaitMinDelay, WaitMaxDelay time.Duration
	// KeepCertificate keeps the certificate and its validation record in
	// DisableHTTPS.
	KeepCertificate bool
	// AllowWeaken lets a change to a less strict listener policy be
	// applied.
	AllowWeaken bool
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per action; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event per action.
	Progress func(awsguard.Progress)
}

// HTTPS is what EnableHTTPS or DisableHTTPS found, planned and did.
type HTTPS struct {
	ALB    string `json:"alb"`
	Domain string `json:"domain"`
	Zone   string `json:"hosted_zone_id"`
	// CertificateARN is the certificate used (or removed); empty in a dry
	// run that would request one.
	CertificateARN string `json:"certificate_arn,omitempty"`
	// HTTPSListenerARN is the HTTPS:443 listener, once it exists.
	HTTPSListenerARN string        `json:"https_listener_arn,omitempty"`
	SSLPolicy        string        `json:"ssl_policy,omitempty"`
	Plan             awsguard.Plan `json:"plan"`
}

var (
	domainRe = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	zoneRe   = regexp.MustCompile(`^(/hostedzone/)?[A-Z0-9]{1,32}$`)
	policyRe = regexp.MustCompile(`^ELBSecurityPolicy-[\w-]{1,100}$`)
)

func newHTTPSOptions(op, albARN, domain, zone string, api HTTPSAPI, optFns []func(*HTTPSOptions)) (HTTPSOptions, error) {
	var o HTTPSOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := validateALBARN(op, "albARN", albARN); err != nil {
		return o, err
	}
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: op, Field: field, Value: value, Allowed: allowed}
	}
	switch {
	case len(domain) > 253 || !domainRe.MatchString(domain):
		return o, bad("domain", domain, "a lower-case DNS name such as www.example.com (or *.example.com)")
	case !zoneRe.MatchString(zone):
		return o, bad("hostedZoneID", zone, "a Route 53 hosted zone ID such as Z0123456789ABC")
	case o.SSLPolicy != "" && !policyRe.MatchString(o.SSLPolicy):
		return o, bad("HTTPSOptions.SSLPolicy", o.SSLPolicy, "an ELB security policy name such as "+DefaultSSLPolicy)
	case o.SSLPolicy != "" && tlsFloor(o.SSLPolicy) < 12 && !o.AllowWeaken:
		return o, bad("HTTPSOptions.SSLPolicy", o.SSLPolicy, "a policy allowing only TLS 1.2 and later (or AllowWeaken)")
	case o.TargetGroupARN != "" && !strings.Contains(o.TargetGroupARN, ":targetgroup/"):
		return o, bad("HTTPSOptions.TargetGroupARN", o.TargetGroupARN, "a target group ARN")
	case o.CertificateWait < 0 || o.WaitMinDelay < 0 || o.WaitMaxDelay < 0:
		return o, bad("HTTPSOptions.CertificateWait", o.CertificateWait.String(), "durations >= 0 (0 for the defaults)")
	case api.ACM == nil || api.ELB == nil || api.Route53 == nil:
		return o, bad("api", "nil client", "HTTPSAPI with ACM, ELB and Route53 clients")
	}
	if o.CertificateWait == 0 {
		o.CertificateWait = 10 * time.Minute
	}
	if o.WaitMinDelay == 0 {
		o.WaitMinDelay = 5 * time.Second
	}
	if o.WaitMaxDelay < o.WaitMinDelay {
		o.WaitMaxDelay = max(60*time.Second, o.WaitMinDelay)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// tlsFloor returns the lowest TLS version a policy allows, as 10, 11, 12
// or 13, read from AWS's policy names; an unknown name counts as 10.
func tlsFloor(policy string) int {
	switch {
	case strings.Contains(policy, "TLS13-1-3"):
		return 13
	case strings.Contains(policy, "TLS13-1-2"), strings.Contains(policy, "TLS-1-2"), strings.Contains(policy, "FS-1-2"):
		return 12
	case strings.Contains(policy, "TLS-1-1"), strings.Contains(policy, "FS-1-1"), strings.Contains(policy, "TLS13-1-1"):
		return 11
	}
	return 10
}

// httpsState is what EnableHTTPS and DisableHTTPS read.
type httpsState struct {
	lb           elbtypes.LoadBalancer
	http         *elbtypes.Listener // port 80 HTTP
	https        *elbtypes.Listener // port 443
	httpsOur     bool               // the HTTPS listener carries the managed tag
	listenerARNs []string           // every listener of the ALB
	cert         *acmtypes.CertificateDetail
	certOur      bool
	zoneName     string // without the trailing dot
	alias        *r53types.ResourceRecordSet
	records      []r53types.ResourceRecordSet // the validation records present
}

func readHTTPS(ctx context.Context, api HTTPSAPI, albARN, domain, zone string) (*httpsState, error) {
	st := &httpsState{}
	out, err := api.ELB.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{LoadBalancerArns: []string{albARN}})
	if awserr.HasCode(err, "LoadBalancerNotFound") || (err == nil && len(out.LoadBalancers) == 0) {
		return nil, fmt.Errorf("%w: %s", ErrALBNotFound, albARN)
	}
	if err != nil {
		return nil, fmt.Errorf("waf: describe load balancer %s: %w", albARN, err)
	}
	st.lb = out.LoadBalancers[0]
	if st.lb.Type != elbtypes.LoadBalancerTypeEnumApplication {
		return nil, fmt.Errorf("%w: %s", ErrNotALB, albARN)
	}
	var marker *string
	for range maxPages {
		page, err := api.ELB.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(albARN), Marker: marker})
		if err != nil {
			return nil, fmt.Errorf("waf: describe listeners of %s: %w", albARN, err)
		}
		for i := range page.Listeners {
			l := page.Listeners[i]
			st.listenerARNs = append(st.listenerARNs, aws.ToString(l.ListenerArn))
			switch aws.ToInt32(l.Port) {
			case 80:
				if l.Protocol == elbtypes.ProtocolEnumHttp {
					st.http = &l
				}
			case 443:
				st.https = &l
			}
		}
		if marker = page.NextMarker; aws.ToString(marker) == "" {
			break
		}
	}
	if st.https != nil {
		tags, err := api.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(st.https.ListenerArn)}})
		if err != nil {
			return nil, fmt.Errorf("waf: describe tags of the HTTPS listener: %w", err)
		}
		for _, d := range tags.TagDescriptions {
			st.httpsOur = st.httpsOur || slices.ContainsFunc(d.Tags, func(t elbtypes.Tag) bool { return aws.ToString(t.Key) == TagManaged && aws.ToString(t.Value) == "true" })
		}
	}
	hz, err := api.Route53.GetHostedZone(ctx, &route53.GetHostedZoneInput{Id: aws.String(zone)})
	if err != nil {
		return nil, fmt.Errorf("waf: get hosted zone %s: %w", zone, err)
	}
	st.zoneName = strings.TrimSuffix(strings.ToLower(aws.ToString(hz.HostedZone.Name)), ".")
	bare := strings.TrimPrefix(domain, "*.")
	if bare != st.zoneName && !strings.HasSuffix(bare, "."+st.zoneName) {
		return nil, fmt.Errorf("%w: %s is not in %s (%s)", ErrDomainNotInZone, domain, st.zoneName, zone)
	}
	if err := st.findCertificate(ctx, api.ACM, domain); err != nil {
		return nil, err
	}
	if err := st.readRecords(ctx, api.Route53, zone, domain); err != nil {
		return nil, err
	}
	return st, nil
}

// covers reports whether a certificate name covers the domain.
func covers(name, domain string) bool {
	name = strings.ToLower(name)
	if name == domain {
		return true
	}
	if rest, ok := strings.CutPrefix(name, "*."); ok && !strings.HasPrefix(domain, "*.") {
		_, parent, found := strings.Cut(domain, ".")
		return found && parent == rest
	}
	return false
}

// findCertificate picks the certificate: the one the HTTPS listener uses
// if it covers the domain and is issued; else an issued certificate that
// covers it (the latest to expire); else one awsguard requested for the
// domain that is still pending (an interrupted run's), so a re-run never
// requests a second.
func (st *httpsState) findCertificate(ctx context.Context, api ACMAPI, domain string) error {
	var issued, pending []string
	var token *string
	for range maxPages {
		page, err := api.ListCertificates(ctx, &acm.ListCertificatesInput{
			CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued, acmtypes.CertificateStatusPendingValidation},
			NextToken:           token,
		})
		if err != nil {
			return fmt.Errorf("waf: list certificates: %w", err)
		}
		for _, c := range page.CertificateSummaryList {
			names := append([]string{aws.ToString(c.DomainName)}, c.SubjectAlternativeNameSummaries...)
			if !slices.ContainsFunc(names, func(n string) bool { return covers(n, domain) }) {
				continue
			}
			if c.Status == acmtypes.CertificateStatusIssued {
				issued = append(issued, aws.ToString(c.CertificateArn))
			} else if aws.ToString(c.DomainName) == domain {
				pending = append(pending, aws.ToString(c.CertificateArn))
			}
		}
		if token = page.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	if st.https != nil {
		for _, c := range st.https.Certificates {
			if slices.Contains(issued, aws.ToString(c.CertificateArn)) {
				issued = []string{aws.ToString(c.CertificateArn)}
				break
			}
		}
	}
	describe := func(arn string) (*acmtypes.CertificateDetail, bool, error) {
		d, err := api.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			return nil, false, fmt.Errorf("waf: describe certificate %s: %w", arn, err)
		}
		tags, err := api.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: aws.String(arn)})
		if err != nil {
			return nil, false, fmt.Errorf("waf: list tags of certificate %s: %w", arn, err)
		}
		our := slices.ContainsFunc(tags.Tags, func(t acmtypes.Tag) bool { return aws.ToString(t.Key) == TagManaged && aws.ToString(t.Value) == "true" })
		return d.Certificate, our, nil
	}
	var best *acmtypes.CertificateDetail
	var bestOur bool
	for _, arn := range issued {
		d, our, err := describe(arn)
		if err != nil {
			return err
		}
		if d.Status == acmtypes.CertificateStatusIssued && (best == nil || aws.ToTime(d.NotAfter).After(aws.ToTime(best.NotAfter))) {
			best, bestOur = d, our
		}
	}
	if best == nil {
		for _, arn := range pending {
			d, our, err := describe(arn)
			if err != nil {
				return err
			}
			if our {
				best, bestOur = d, our
				break
			}
		}
	}
	st.cert, st.certOur = best, bestOur
	return nil
}

func fqdn(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") + "." }

// readRecords reads the domain's A record and the certificate's
// validation records, if present.
func (st *httpsState) readRecords(ctx context.Context, api Route53API, zone, domain string) error {
	want := map[string]bool{fqdn(domain): true}
	validation := map[string]bool{}
	for _, rr := range st.validationRecords() {
		want[fqdn(aws.ToString(rr.Name))] = true
		validation[fqdn(aws.ToString(rr.Name))] = true
	}
	for name := range want {
		out, err := api.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), StartRecordName: aws.String(name), MaxItems: aws.Int32(5)})
		if err != nil {
			return fmt.Errorf("waf: list records of %s: %w", zone, err)
		}
		for _, rr := range out.ResourceRecordSets {
			if fqdn(aws.ToString(rr.Name)) != name {
				continue
			}
			switch {
			case rr.Type == r53types.RRTypeA && name == fqdn(domain):
				r := rr
				st.alias = &r
			case rr.Type == r53types.RRTypeCname && validation[name]:
				st.records = append(st.records, rr)
			}
		}
	}
	return nil
}

// validationRecords returns the CNAME records the certificate asks for.
func (st *httpsState) validationRecords() []acmtypes.ResourceRecord {
	if st.cert == nil {
		return nil
	}
	var out []acmtypes.ResourceRecord
	for _, v := range st.cert.DomainValidationOptions {
		if v.ResourceRecord != nil && !slices.ContainsFunc(out, func(r acmtypes.ResourceRecord) bool {
			return aws.ToString(r.Name) == aws.ToString(v.ResourceRecord.Name)
		}) {
			out = append(out, *v.ResourceRecord)
		}
	}
	return out
}

// dnsValidated reports whether the certificate is validated through DNS.
func dnsValidated(c *acmtypes.CertificateDetail) bool {
	return slices.ContainsFunc(c.DomainValidationOptions, func(v acmtypes.DomainValidation) bool {
		return v.ValidationMethod == acmtypes.ValidationMethodDns
	})
}

// validationPresent reports whether every validation CNAME is in the zone
// with the value ACM asks for.
func (st *httpsState) validationPresent() bool {
	want := st.validationRecords()
	if len(want) == 0 {
		return false
	}
	for _, w := range want {
		if !slices.ContainsFunc(st.records, func(rr r53types.ResourceRecordSet) bool {
			return fqdn(aws.ToString(rr.Name)) == fqdn(aws.ToString(w.Name)) && len(rr.ResourceRecords) == 1 &&
				strings.EqualFold(fqdn(aws.ToString(rr.ResourceRecords[0].Value)), fqdn(aws.ToString(w.Value)))
		}) {
			return false
		}
	}
	return true
}

func isRedirectToHTTPS(l *elbtypes.Listener) bool {
	if l == nil || len(l.DefaultActions) != 1 {
		return false
	}
	a := l.DefaultActions[0]
	return a.Type == elbtypes.ActionTypeEnumRedirect && a.RedirectConfig != nil &&
		strings.EqualFold(aws.ToString(a.RedirectConfig.Protocol), "HTTPS") && aws.ToString(a.RedirectConfig.Port) == "443"
}

func redirectActions() []elbtypes.Action {
	return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumRedirect, RedirectConfig: &elbtypes.RedirectActionConfig{
		Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: elbtypes.RedirectActionStatusCodeEnumHttp301,
		Host: aws.String("#{host}"), Path: aws.String("/#{path}"), Query: aws.String("#{query}"),
	}}}
}

// forwardActions returns the actions HTTPS forwards with: the HTTP
// listener's own when it does not redirect, else the HTTPS listener's,
// else a forward to the target group option.
func forwardActions(st *httpsState, o *HTTPSOptions) []elbtypes.Action {
	if st.http != nil && !isRedirectToHTTPS(st.http) && len(st.http.DefaultActions) > 0 {
		return stripOrder(st.http.DefaultActions)
	}
	if st.https != nil && len(st.https.DefaultActions) > 0 {
		return stripOrder(st.https.DefaultActions)
	}
	if o.TargetGroupARN != "" {
		return []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(o.TargetGroupARN)}}
	}
	return nil
}

func stripOrder(in []elbtypes.Action) []elbtypes.Action {
	out := slices.Clone(in)
	for i := range out {
		out[i].Order = nil
	}
	return out
}

// idempotencyToken is the RequestCertificate token for the domain on the
// ALB: ACM answers a repeated request with the same token (within an hour)
// with the same certificate, so a request whose answer was lost makes no
// second certificate.
func idempotencyToken(alb, domain string) string {
	h := sha256.Sum256([]byte(alb + "\n" + domain))
	return "awsguard" + hex.EncodeToString(h[:])[:24]
}

// EnableHTTPS serves the ALB over HTTPS for the domain: it reuses an
// issued ACM certificate that covers the domain or requests one with DNS
// validation (tagged awsguard:managed=true), upserts the validation CNAME
// records in the hosted zone, waits for ISSUED with the SDK's waiter,
// creates (or fixes) the HTTPS:443 listener with the certificate and a
// modern policy (DefaultSSLPolicy) forwarding where the HTTP listener
// forwarded, turns HTTP:80 into a redirect to HTTPS, and with
// HTTPSOptions.AliasRecord upserts an alias A record for the domain to
// the ALB. Run again, it finds nothing to do. DisableHTTPS reverses it.
//
// Permissions: the methods of ACMAPI, ListenerAPI and Route53API.
func EnableHTTPS(ctx context.Context, api HTTPSAPI, albARN, domain, hostedZoneID string, optFns ...func(*HTTPSOptions)) (*HTTPS, error) {
	o, err := newHTTPSOptions(OpEnableHTTPS, albARN, domain, hostedZoneID, api, optFns)
	if err != nil {
		return nil, err
	}
	res := &HTTPS{ALB: albARN, Domain: domain, Zone: hostedZoneID, Plan: awsguard.Plan{Operation: OpEnableHTTPS, Resource: albARN, DryRun: o.DryRun}}
	st, err := readHTTPS(ctx, api, albARN, domain, hostedZoneID)
	if err != nil {
		return nil, err
	}
	fwd := forwardActions(st, &o)
	if fwd == nil {
		return res, fmt.Errorf("%w: %s has no forwarding HTTP:80 listener and no HTTPS listener; set HTTPSOptions.TargetGroupARN", ErrNoForward, albARN)
	}
	policy := o.SSLPolicy
	if policy == "" {
		policy = DefaultSSLPolicy
		if st.https != nil && tlsFloor(aws.ToString(st.https.SslPolicy)) >= 12 {
			policy = aws.ToString(st.https.SslPolicy)
		}
	}
	res.SSLPolicy = policy
	p := &res.Plan
	if st.cert != nil {
		res.CertificateARN = aws.ToString(st.cert.CertificateArn)
	}
	issued := st.cert != nil && st.cert.Status == acmtypes.CertificateStatusIssued
	if st.cert == nil {
		p.Add(awsguard.Action{Kind: ActionRequestCertificate, Call: "acm:RequestCertificate", Resource: domain,
			Detail: "request an ACM certificate for " + domain + " with DNS validation", Why: "no issued certificate covers the domain"})
	}
	// The validation records stay for as long as the certificate: ACM's
	// managed renewal checks them again.
	if st.cert == nil || (dnsValidated(st.cert) && !st.validationPresent()) {
		p.Add(awsguard.Action{Kind: ActionUpsertValidation, Call: "acm:DescribeCertificate,route53:ChangeResourceRecordSets", Resource: hostedZoneID,
			Detail: "upsert the certificate's DNS validation CNAME records in zone " + st.zoneName, Why: "ACM validates the domain, and renews the certificate, through DNS"})
	}
	if !issued {
		p.Add(awsguard.Action{Kind: ActionWaitCertificate, Call: "acm:DescribeCertificate", Resource: res.CertificateARN,
			Detail: "wait for the certificate to be issued", Why: "the listener needs an issued certificate"})
	}
	certOK := func() bool {
		return st.https != nil && slices.ContainsFunc(st.https.Certificates, func(c elbtypes.Certificate) bool {
			return st.cert != nil && aws.ToString(c.CertificateArn) == aws.ToString(st.cert.CertificateArn)
		})
	}
	switch {
	case st.https == nil:
		p.Add(awsguard.Action{Kind: ActionCreateHTTPSListener, Call: "elasticloadbalancing:CreateListener", Resource: albARN,
			Detail: "create the HTTPS:443 listener with policy " + policy, Why: "the ALB has no HTTPS listener"})
	case st.https.Protocol != elbtypes.ProtocolEnumHttps || !issued || !certOK() || aws.ToString(st.https.SslPolicy) != policy:
		p.Add(awsguard.Action{Kind: ActionModifyHTTPSListener, Call: "elasticloadbalancing:ModifyListener", Resource: aws.ToString(st.https.ListenerArn),
			Detail: fmt.Sprintf("set the 443 listener to HTTPS with the certificate and policy %s (was %s, %s)", policy, st.https.Protocol, aws.ToString(st.https.SslPolicy)),
			Why:    "the listener is not HTTPS with this certificate and policy", Weakening: tlsFloor(policy) < tlsFloor(aws.ToString(st.https.SslPolicy))})
		res.HTTPSListenerARN = aws.ToString(st.https.ListenerArn)
	default:
		res.HTTPSListenerARN = aws.ToString(st.https.ListenerArn)
	}
	if st.http != nil && !isRedirectToHTTPS(st.http) {
		p.Add(awsguard.Action{Kind: ActionRedirectHTTP, Call: "elasticloadbalancing:ModifyListener", Resource: aws.ToString(st.http.ListenerArn),
			Detail: "turn HTTP:80 into a 301 redirect to HTTPS", Why: "plain HTTP must not serve the application"})
	}
	dns := strings.ToLower(strings.TrimSuffix(aws.ToString(st.lb.DNSName), "."))
	if o.AliasRecord && (st.alias == nil || st.alias.AliasTarget == nil || !strings.EqualFold(strings.TrimSuffix(aws.ToString(st.alias.AliasTarget.DNSName), "."), strings.TrimPrefix(dns, "dualstack."))) {
		p.Add(awsguard.Action{Kind: ActionUpsertAlias, Call: "route53:ChangeResourceRecordSets", Resource: hostedZoneID,
			Detail: "upsert alias A " + domain + " to " + dns, Why: "HTTPSOptions.AliasRecord is set"})
	}

	run := &httpsRun{api: api, o: &o, st: st, res: res, domain: domain, zone: hostedZoneID, alb: albARN, policy: policy, fwd: fwd}
	err = p.Apply(ctx, run.enable, awsguard.ApplyOptions{AllowWeaken: o.AllowWeaken, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run EnableHTTPS again: it reuses the certificate and records already made and carries out only what is left"})
	return res, err
}

type httpsRun struct {
	api                       HTTPSAPI
	o                         *HTTPSOptions
	st                        *httpsState
	res                       *HTTPS
	domain, zone, alb, policy string
	fwd                       []elbtypes.Action
}

func (r *httpsRun) enable(ctx context.Context, a *awsguard.Action) error {
	switch a.Kind {
	case ActionRequestCertificate:
		out, err := r.api.ACM.RequestCertificate(ctx, &acm.RequestCertificateInput{
			DomainName: aws.String(r.domain), ValidationMethod: acmtypes.ValidationMethodDns,
			IdempotencyToken: aws.String(idempotencyToken(r.alb, r.domain)),
			Tags:             []acmtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}},
		})
		if err != nil {
			return fmt.Errorf("waf: request certificate for %s: %w", r.domain, err)
		}
		r.res.CertificateARN = aws.ToString(out.CertificateArn)
		a.Resource = r.res.CertificateARN
		return nil
	case ActionUpsertValidation:
		return r.upsertValidation(ctx)
	case ActionWaitCertificate:
		a.Resource = r.res.CertificateARN
		w := acm.NewCertificateValidatedWaiter(r.api.ACM, func(wo *acm.CertificateValidatedWaiterOptions) {
			wo.MinDelay, wo.MaxDelay = r.o.WaitMinDelay, r.o.WaitMaxDelay
		})
		if err := w.Wait(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(r.res.CertificateARN)}, r.o.CertificateWait); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%w: %s: %w", ErrCertificateNotIssued, r.res.CertificateARN, err)
		}
		return nil
	case ActionCreateHTTPSListener:
		out, err := r.api.ELB.CreateListener(ctx, &elbv2.CreateListenerInput{
			LoadBalancerArn: aws.String(r.alb), Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443),
			SslPolicy: aws.String(r.policy), Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(r.res.CertificateARN)}},
			DefaultActions: r.fwd, Tags: []elbtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}},
		})
		if err != nil {
			return fmt.Errorf("waf: create the HTTPS listener: %w", err)
		}
		if len(out.Listeners) > 0 {
			r.res.HTTPSListenerARN = aws.ToString(out.Listeners[0].ListenerArn)
			a.Resource = r.res.HTTPSListenerARN
		}
		return nil
	case ActionModifyHTTPSListener:
		_, err := r.api.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{
			ListenerArn: r.st.https.ListenerArn, Protocol: elbtypes.ProtocolEnumHttps, Port: aws.Int32(443),
			SslPolicy: aws.String(r.policy), Certificates: []elbtypes.Certificate{{CertificateArn: aws.String(r.res.CertificateARN)}},
		})
		if err != nil {
			return fmt.Errorf("waf: modify the HTTPS listener: %w", err)
		}
		return nil
	case ActionRedirectHTTP:
		if _, err := r.api.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: r.st.http.ListenerArn, DefaultActions: redirectActions()}); err != nil {
			return fmt.Errorf("waf: redirect HTTP to HTTPS: %w", err)
		}
		return nil
	case ActionUpsertAlias:
		return r.changeAlias(ctx, r53types.ChangeActionUpsert)
	}
	return fmt.Errorf("waf: unknown action %s", a.Kind)
}

// upsertValidation reads the certificate's validation records (ACM fills
// them in a few seconds after the request) and upserts them.
func (r *httpsRun) upsertValidation(ctx context.Context) error {
	var recs []acmtypes.ResourceRecord
	_, err := poll.Until(ctx, poll.Options{MaxWait: r.o.CertificateWait, MinDelay: r.o.WaitMinDelay / 5, MaxDelay: r.o.WaitMinDelay}, func(ctx context.Context, _ int) (bool, error) {
		d, err := r.api.ACM.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: aws.String(r.res.CertificateARN)})
		if err != nil {
			return false, fmt.Errorf("waf: describe certificate %s: %w", r.res.CertificateARN, err)
		}
		r.st.cert = d.Certificate
		recs = r.st.validationRecords()
		return len(recs) > 0 && len(recs) >= len(d.Certificate.DomainValidationOptions), nil
	})
	if errors.Is(err, poll.ErrTimeout) {
		return fmt.Errorf("%w: %s has no DNS validation records", ErrCertificateNotIssued, r.res.CertificateARN)
	}
	if err != nil {
		return err
	}
	var changes []r53types.Change
	for _, rr := range recs {
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: rr.Name, Type: r53types.RRTypeCname, TTL: aws.Int64(300), ResourceRecords: []r53types.ResourceRecord{{Value: rr.Value}},
		}})
	}
	_, err = r.api.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(r.zone),
		ChangeBatch: &r53types.ChangeBatch{Comment: aws.String("awsguard: ACM DNS validation of " + r.domain), Changes: changes}})
	if err != nil {
		return fmt.Errorf("waf: upsert validation records in %s: %w", r.zone, err)
	}
	return nil
}

func (r *httpsRun) changeAlias(ctx context.Context, action r53types.ChangeAction) error {
	set := &r53types.ResourceRecordSet{Name: aws.String(r.domain), Type: r53types.RRTypeA, AliasTarget: &r53types.AliasTarget{
		DNSName: r.st.lb.DNSName, HostedZoneId: r.st.lb.CanonicalHostedZoneId, EvaluateTargetHealth: false,
	}}
	if action == r53types.ChangeActionDelete && r.st.alias != nil {
		set = r.st.alias
	}
	_, err := r.api.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(r.zone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: action, ResourceRecordSet: set}}}})
	if action == r53types.ChangeActionDelete && awserr.HasCode(err, "InvalidChangeBatch") {
		return nil // already gone
	}
	if err != nil {
		return fmt.Errorf("waf: %s alias %s in %s: %w", strings.ToLower(string(action)), r.domain, r.zone, err)
	}
	return nil
}

// DisableHTTPS reverses EnableHTTPS, in this order: HTTP:80 forwards
// again where HTTPS forwarded (so traffic never stops), the alias A
// record goes (only if it points to this ALB and HTTPSOptions.AliasRecord
// is set), the HTTPS listener goes (only one EnableHTTPS created: tagged
// awsguard:managed=true), then the certificate's validation records and
// the certificate itself (only one awsguard requested, and not with
// HTTPSOptions.KeepCertificate). A re-run finds nothing to remove.
//
// Permissions: the methods of ACMAPI, ListenerAPI and Route53API.
func DisableHTTPS(ctx context.Context, api HTTPSAPI, albARN, domain, hostedZoneID string, optFns ...func(*HTTPSOptions)) (*HTTPS, error) {
	o, err := newHTTPSOptions(OpDisableHTTPS, albARN, domain, hostedZoneID, api, optFns)
	if err != nil {
		return nil, err
	}
	res := &HTTPS{ALB: albARN, Domain: domain, Zone: hostedZoneID, Plan: awsguard.Plan{Operation: OpDisableHTTPS, Resource: albARN, DryRun: o.DryRun}}
	st, err := readHTTPS(ctx, api, albARN, domain, hostedZoneID)
	if err != nil {
		return nil, err
	}
	p := &res.Plan
	if st.cert != nil {
		res.CertificateARN = aws.ToString(st.cert.CertificateArn)
	}
	var fwd []elbtypes.Action
	if st.https != nil {
		res.HTTPSListenerARN = aws.ToString(st.https.ListenerArn)
		fwd = stripOrder(st.https.DefaultActions)
	}
	if st.http != nil && isRedirectToHTTPS(st.http) {
		if len(fwd) == 0 && o.TargetGroupARN != "" {
			fwd = []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(o.TargetGroupARN)}}
		}
		if len(fwd) == 0 {
			return res, fmt.Errorf("%w: HTTP:80 redirects and no HTTPS listener says where to forward; set HTTPSOptions.TargetGroupARN", ErrNoForward)
		}
		p.Add(awsguard.Action{Kind: ActionForwardHTTP, Call: "elasticloadbalancing:ModifyListener", Resource: aws.ToString(st.http.ListenerArn),
			Detail: "turn HTTP:80 back to forwarding", Why: "DisableHTTPS was asked", Weakening: true})
	}
	dns := strings.TrimPrefix(strings.ToLower(strings.TrimSuffix(aws.ToString(st.lb.DNSName), ".")), "dualstack.")
	if o.AliasRecord && st.alias != nil && st.alias.AliasTarget != nil &&
		strings.EqualFold(strings.TrimPrefix(strings.TrimSuffix(aws.ToString(st.alias.AliasTarget.DNSName), "."), "dualstack."), dns) {
		p.Add(awsguard.Action{Kind: ActionDeleteAlias, Call: "route53:ChangeResourceRecordSets", Resource: hostedZoneID,
			Detail: "delete alias A " + domain, Why: "it points to this ALB"})
	}
	if st.https != nil {
		if st.httpsOur {
			p.Add(awsguard.Action{Kind: ActionDeleteHTTPSListener, Call: "elasticloadbalancing:DeleteListener", Resource: res.HTTPSListenerARN,
				Detail: "delete the HTTPS:443 listener", Why: "EnableHTTPS created it", Weakening: true})
		} else {
			p.Warnings = append(p.Warnings, "the HTTPS listener was not created by awsguard: kept")
		}
	}
	if st.cert != nil && st.certOur && !o.KeepCertificate {
		// Our own HTTPS listener goes first; a listener of this ALB that no
		// longer exists is gone, whatever InUseBy still says (it lags).
		ours := strings.Replace(albARN, ":loadbalancer/", ":listener/", 1) + "/"
		inUse := slices.DeleteFunc(slices.Clone(st.cert.InUseBy), func(s string) bool {
			return (s == res.HTTPSListenerARN && st.httpsOur) || (strings.HasPrefix(s, ours) && !slices.Contains(st.listenerARNs, s))
		})
		if len(inUse) > 0 {
			p.Warnings = append(p.Warnings, "certificate "+res.CertificateARN+" is kept: it is in use by "+strings.Join(inUse, ", "))
		} else {
			if len(st.records) > 0 {
				p.Add(awsguard.Action{Kind: ActionDeleteValidation, Call: "route53:ChangeResourceRecordSets", Resource: hostedZoneID,
					Detail: "delete the certificate's DNS validation records", Why: "the certificate goes"})
			}
			p.Add(awsguard.Action{Kind: ActionDeleteCertificate, Call: "acm:DeleteCertificate", Resource: res.CertificateARN,
				Detail: "delete certificate " + res.CertificateARN, Why: "awsguard requested it and nothing else uses it"})
		}
	}
	if len(p.Actions) == 0 {
		p.Reason = awsguard.ReasonNothingToRemove
	}
	run := &httpsRun{api: api, o: &o, st: st, res: res, domain: domain, zone: hostedZoneID, alb: albARN}
	// Removing HTTPS is what the caller asked: the weakening marks say so
	// in the plan, and are allowed.
	err = p.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionForwardHTTP:
			if _, err := api.ELB.ModifyListener(ctx, &elbv2.ModifyListenerInput{ListenerArn: st.http.ListenerArn, DefaultActions: fwd}); err != nil {
				return fmt.Errorf("waf: restore HTTP forwarding: %w", err)
			}
			return nil
		case ActionDeleteAlias:
			return run.changeAlias(ctx, r53types.ChangeActionDelete)
		case ActionDeleteHTTPSListener:
			_, err := api.ELB.DeleteListener(ctx, &elbv2.DeleteListenerInput{ListenerArn: st.https.ListenerArn})
			if err != nil && !awserr.HasCode(err, "ListenerNotFound") {
				return fmt.Errorf("waf: delete the HTTPS listener: %w", err)
			}
			return nil
		case ActionDeleteValidation:
			var changes []r53types.Change
			for _, rr := range st.records {
				changes = append(changes, r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: &rr})
			}
			_, err := api.Route53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(hostedZoneID),
				ChangeBatch: &r53types.ChangeBatch{Changes: changes}})
			if err != nil && !awserr.HasCode(err, "InvalidChangeBatch") {
				return fmt.Errorf("waf: delete validation records: %w", err)
			}
			return nil
		case ActionDeleteCertificate:
			_, err := api.ACM.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: aws.String(res.CertificateARN)})
			if err != nil && !awserr.HasCode(err, "ResourceNotFoundException") {
				return fmt.Errorf("waf: delete certificate: %w", err)
			}
			return nil
		}
		return fmt.Errorf("waf: unknown action %s", a.Kind)
	}, awsguard.ApplyOptions{AllowWeaken: true, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run DisableHTTPS again: it carries out only what is left"})
	return res, err
}
