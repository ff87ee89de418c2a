package waf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
)

// The check IDs of Audit. They are stable: never renamed.
const (
	CheckALBWebACL         = "waf.alb.web_acl"
	CheckALBSQLiRules      = "waf.alb.sqli_rules"
	CheckALBHTTPS          = "elb.alb.https"
	CheckCertificateExpiry = "acm.certificate.expiry"
)

// ErrAuditIncomplete: a source could not be read; the checks that depend
// on it carry StatusError findings saying why, and the error wraps the
// cause.
var ErrAuditIncomplete = errors.New("waf: audit incomplete")

// CheckInfo describes one check of Audit.
type CheckInfo struct {
	ID          string
	Severity    awsguard.Severity
	Controls    []string
	Remediation string
	Summary     string
}

var auditChecks = []CheckInfo{
	{CheckALBWebACL, awsguard.SeverityHigh, []string{"ISMS-P:2.6.1", "ISMS-P:2.10.1"}, "waf.AttachSQLiACL", "each internet-facing ALB has a web ACL"},
	{CheckALBSQLiRules, awsguard.SeverityHigh, []string{"ISMS-P:2.6.1", "ISMS-P:2.10.1"}, "waf.AttachSQLiACL", "the ALB's web ACL blocks with the AWS SQLi managed group, metrics on"},
	{CheckALBHTTPS, awsguard.SeverityHigh, []string{"ISMS-P:2.7.1"}, "waf.EnableHTTPS", "an HTTPS listener with a TLS 1.2+ policy, and HTTP redirecting to HTTPS"},
	{CheckCertificateExpiry, awsguard.SeverityMedium, []string{"ISMS-P:2.7.1"}, "", "issued certificates in use expire in more than 30 days and are renewal eligible"},
}

// Checks returns the checks of Audit, in a fixed order.
func Checks() []CheckInfo {
	out := slices.Clone(auditChecks)
	for i := range out {
		out[i].Controls = slices.Clone(out[i].Controls)
	}
	return out
}

func checkInfo(id string) CheckInfo {
	i := slices.IndexFunc(auditChecks, func(c CheckInfo) bool { return c.ID == id })
	return auditChecks[i]
}

// AuditELB is the part of *elasticloadbalancingv2.Client that Audit calls:
// elasticloadbalancing:DescribeLoadBalancers and DescribeListeners.
type AuditELB interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
}

// AuditWAF is the part of *wafv2.Client that Audit calls: wafv2:ListWebACLs,
// wafv2:GetWebACL, wafv2:ListResourcesForWebACL, and
// wafv2:GetWebACLForResource where ListResourcesForWebACL is not offered.
type AuditWAF interface {
	ListWebACLs(context.Context, *wafv2.ListWebACLsInput, ...func(*wafv2.Options)) (*wafv2.ListWebACLsOutput, error)
	GetWebACL(context.Context, *wafv2.GetWebACLInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLOutput, error)
	ListResourcesForWebACL(context.Context, *wafv2.ListResourcesForWebACLInput, ...func(*wafv2.Options)) (*wafv2.ListResourcesForWebACLOutput, error)
	GetWebACLForResource(context.Context, *wafv2.GetWebACLForResourceInput, ...func(*wafv2.Options)) (*wafv2.GetWebACLForResourceOutput, error)
}

// AuditACM is the part of *acm.Client that Audit calls: acm:ListCertificates.
type AuditACM interface {
	ListCertificates(context.Context, *acm.ListCertificatesInput, ...func(*acm.Options)) (*acm.ListCertificatesOutput, error)
}

var (
	_ AuditELB = (*elbv2.Client)(nil)
	_ AuditWAF = (*wafv2.Client)(nil)
	_ AuditACM = (*acm.Client)(nil)
)

// AuditAPI holds the clients of one region that Audit calls. All are
// required.
type AuditAPI struct {
	ELB AuditELB
	WAF AuditWAF
	ACM AuditACM
}

// AuditOptions tune Audit. The zero value means the defaults.
type AuditOptions struct {
	// Now is the clock expiry is measured against; default time.Now.
	Now func() time.Time
	// MinCertificateDays is how many days an in-use certificate must have
	// left; default 30.
	MinCertificateDays int
	// Region and Account are written into findings; by default they are
	// read from the resources' ARNs (Region is required when there is no
	// resource to read it from, else findings say "").
	Region, Account string
	// Logger receives debug lines; default discards.
	Logger *slog.Logger
}

// Audit checks the ALBs and certificates of one region and returns an
// awsguard.Report with the findings of Checks. Its calls do not grow with
// the number of web ACLs' resources: one DescribeLoadBalancers page per
// 400 load balancers, one DescribeListeners per ALB (the API has no
// listing across load balancers), one ListWebACLs page per 100 ACLs and a
// GetWebACL and a ListResourcesForWebACL per ACL (not per ALB), one
// ListCertificates page per 1000 certificates (the summaries carry expiry,
// use and renewal eligibility: no call per certificate). Where the service
// does not offer ListResourcesForWebACL (moto), it falls back to one
// GetWebACLForResource per internet-facing ALB.
//
// If a source cannot be read, the report still comes back: the checks that
// depend on it carry StatusError findings saying why, and the error wraps
// ErrAuditIncomplete and the cause. Only a failure to list the load
// balancers returns no report. Run it per region (awsguard.ForEachRegion).
func Audit(ctx context.Context, api AuditAPI, optFns ...func(*AuditOptions)) (*awsguard.Report, error) {
	var o AuditOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MinCertificateDays < 0 {
		return nil, &awsguard.InputError{Operation: "waf.Audit", Field: "AuditOptions.MinCertificateDays", Value: strconv.Itoa(o.MinCertificateDays), Allowed: ">= 0 (0 for the default, 30)"}
	}
	if api.ELB == nil || api.WAF == nil || api.ACM == nil {
		return nil, &awsguard.InputError{Operation: "waf.Audit", Field: "api", Value: "nil client", Allowed: "AuditAPI with ELB, WAF and ACM clients"}
	}
	if o.MinCertificateDays == 0 {
		o.MinCertificateDays = 30
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	now := o.Now()
	var findings []awsguard.Finding
	var errs []error
	finding := func(check, resource string, st awsguard.Status, title string, ev map[string]string) awsguard.Finding {
		info := checkInfo(check)
		f := awsguard.Finding{Check: check, Status: st, Severity: info.Severity, Resource: resource, Title: title, Evidence: ev,
			Controls: slices.Clone(info.Controls), Region: o.Region, Account: o.Account}
		if a, err := arn.Parse(resource); err == nil {
			if f.Region == "" {
				f.Region = a.Region
			}
			if f.Account == "" {
				f.Account = a.AccountID
			}
		}
		if st == awsguard.StatusFail {
			f.Remediation = info.Remediation
		}
		return f
	}

	albs, err := listALBs(ctx, api.ELB)
	if err != nil {
		return nil, err
	}
	// ALB -> ACL, from the ACLs' side.
	acls, aclOf, wafErr := aclsByResource(ctx, api.WAF, albs)
	for _, lb := range albs {
		a := aws.ToString(lb.LoadBalancerArn)
		name := aws.ToString(lb.LoadBalancerName)
		ev := map[string]string{"scheme": string(lb.Scheme)}
		// A scheme not given (moto gives none) counts as internet-facing: checked.
		public := lb.Scheme != elbtypes.LoadBalancerSchemeEnumInternal
		switch {
		case !public:
			findings = append(findings, finding(CheckALBWebACL, a, awsguard.StatusNotApplicable, "ALB "+name+" is internal", ev),
				finding(CheckALBSQLiRules, a, awsguard.StatusNotApplicable, "ALB "+name+" is internal", ev))
		case wafErr != nil:
			ev["error"] = wafErr.Error()
			findings = append(findings, finding(CheckALBWebACL, a, awsguard.StatusError, "Cannot read the web ACL of ALB "+name, ev),
				finding(CheckALBSQLiRules, a, awsguard.StatusError, "Cannot read the web ACL of ALB "+name, ev))
		default:
			aclARN := aclOf[a]
			if aclARN == "" {
				findings = append(findings, finding(CheckALBWebACL, a, awsguard.StatusFail, "Internet-facing ALB "+name+" has no web ACL", ev),
					finding(CheckALBSQLiRules, a, awsguard.StatusFail, "Internet-facing ALB "+name+" has no SQL-injection rules (no web ACL)", ev))
				break
			}
			acl := acls[aclARN]
			ev2 := map[string]string{"scheme": string(lb.Scheme), "web_acl": aclARN}
			findings = append(findings, finding(CheckALBWebACL, a, awsguard.StatusPass, "ALB "+name+" has web ACL "+aws.ToString(acl.Name), ev2))
			st, title, sev := sqliVerdict(acl)
			for k, v := range sev {
				ev2[k] = v
			}
			findings = append(findings, finding(CheckALBSQLiRules, a, st, "ALB "+name+": "+title, ev2))
		}
		f, err := httpsFinding(ctx, api.ELB, lb, finding)
		if err != nil {
			errs = append(errs, err)
		}
		findings = append(findings, f)
	}
	if wafErr != nil {
		errs = append(errs, wafErr)
	}
	cf, err := certificateFindings(ctx, api.ACM, now, o.MinCertificateDays, finding)
	if err != nil {
		errs = append(errs, err)
	}
	findings = append(findings, cf...)
	rep := awsguard.NewReport(now, findings...)
	if len(errs) > 0 {
		return rep, fmt.Errorf("%w: %w", ErrAuditIncomplete, errors.Join(errs...))
	}
	return rep, nil
}

func listALBs(ctx context.Context, api AuditELB) ([]elbtypes.LoadBalancer, error) {
	var out []elbtypes.LoadBalancer
	var marker *string
	for range maxPages {
		page, err := api.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{Marker: marker, PageSize: aws.Int32(400)})
		if err != nil {
			return nil, fmt.Errorf("waf: describe load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			if lb.Type == elbtypes.LoadBalancerTypeEnumApplication {
				out = append(out, lb)
			}
		}
		if marker = page.NextMarker; aws.ToString(marker) == "" {
			return out, nil
		}
	}
	return out, fmt.Errorf("waf: describe load balancers: more than %d pages", maxPages)
}

// aclsByResource reads every REGIONAL ACL and which ALBs each protects.
func aclsByResource(ctx context.Context, api AuditWAF, albs []elbtypes.LoadBalancer) (map[string]types.WebACL, map[string]string, error) {
	acls := map[string]types.WebACL{}
	aclOf := map[string]string{}
	if !slices.ContainsFunc(albs, func(lb elbtypes.LoadBalancer) bool { return lb.Scheme != elbtypes.LoadBalancerSchemeEnumInternal }) {
		return acls, aclOf, nil
	}
	sums, err := listACLs(ctx, api)
	if err != nil {
		return nil, nil, err
	}
	offered := true
	for _, s := range sums {
		got, err := getACL(ctx, api, aws.ToString(s.Name), aws.ToString(s.Id))
		if err != nil {
			return nil, nil, err
		}
		if got == nil {
			continue
		}
		acls[aws.ToString(got.ACL.ARN)] = got.ACL
		if !offered {
			continue
		}
		// One answer lists every ALB of the ACL (the call has no pages
		// for ALBs).
		page, err := api.ListResourcesForWebACL(ctx, &wafv2.ListResourcesForWebACLInput{WebACLArn: got.ACL.ARN, ResourceType: types.ResourceTypeApplicationLoadBalancer})
		if notOffered(err) {
			offered = false
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("waf: list resources of web ACL %s: %w", aws.ToString(s.Name), err)
		}
		for _, r := range page.ResourceArns {
			aclOf[r] = aws.ToString(got.ACL.ARN)
		}
	}
	if offered {
		return acls, aclOf, nil
	}
	clear(aclOf)
	for _, lb := range albs {
		if lb.Scheme == elbtypes.LoadBalancerSchemeEnumInternal {
			continue
		}
		out, err := api.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: lb.LoadBalancerArn})
		if err != nil {
			return nil, nil, fmt.Errorf("waf: get the web ACL of %s: %w", aws.ToString(lb.LoadBalancerArn), err)
		}
		if out.WebACL != nil {
			a := aws.ToString(out.WebACL.ARN)
			aclOf[aws.ToString(lb.LoadBalancerArn)] = a
			if _, ok := acls[a]; !ok {
				acls[a] = *out.WebACL
			}
		}
	}
	return acls, aclOf, nil
}

// sqliVerdict decides waf.alb.sqli_rules for an ACL.
func sqliVerdict(acl types.WebACL) (awsguard.Status, string, map[string]string) {
	ev := map[string]string{}
	i := slices.IndexFunc(acl.Rules, func(r types.Rule) bool { return managedGroup(r) == RuleGroupSQLi })
	if i < 0 {
		ev["sqli_group"] = "absent"
		ev["groups"] = strings.Join(heldGroups(acl.Rules), ",")
		return awsguard.StatusFail, "web ACL " + aws.ToString(acl.Name) + " lacks " + RuleGroupSQLi, ev
	}
	r := acl.Rules[i]
	ev["sqli_group"] = "present"
	ev["rule"] = aws.ToString(r.Name)
	var problems []string
	if r.OverrideAction != nil && r.OverrideAction.Count != nil {
		ev["override_action"] = "count"
		problems = append(problems, "the group is in Count mode")
	} else {
		ev["override_action"] = "none"
	}
	var counted []string
	for _, ov := range r.Statement.ManagedRuleGroupStatement.RuleActionOverrides {
		if a := actionOf(ov.ActionToUse); a.weakens() {
			counted = append(counted, aws.ToString(ov.Name)+"="+string(a))
		}
	}
	if len(counted) > 0 {
		ev["rules_overridden"] = strings.Join(counted, ",")
		problems = append(problems, "rules overridden to count or allow: "+strings.Join(counted, ", "))
	}
	rm := r.VisibilityConfig != nil && r.VisibilityConfig.CloudWatchMetricsEnabled
	am := acl.VisibilityConfig != nil && acl.VisibilityConfig.CloudWatchMetricsEnabled
	ev["rule_metrics"], ev["acl_metrics"] = strconv.FormatBool(rm), strconv.FormatBool(am)
	if !rm || !am {
		problems = append(problems, "CloudWatch metrics off")
	}
	if len(problems) > 0 {
		return awsguard.StatusFail, "web ACL " + aws.ToString(acl.Name) + ": " + strings.Join(problems, "; "), ev
	}
	return awsguard.StatusPass, "web ACL " + aws.ToString(acl.Name) + " blocks with " + RuleGroupSQLi, ev
}

type findingFunc func(check, resource string, st awsguard.Status, title string, ev map[string]string) awsguard.Finding

func httpsFinding(ctx context.Context, api AuditELB, lb elbtypes.LoadBalancer, finding findingFunc) (awsguard.Finding, error) {
	a, name := aws.ToString(lb.LoadBalancerArn), aws.ToString(lb.LoadBalancerName)
	var ls []elbtypes.Listener
	var marker *string
	for range maxPages {
		page, err := api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn, Marker: marker})
		if err != nil {
			return finding(CheckALBHTTPS, a, awsguard.StatusError, "Cannot read the listeners of ALB "+name, map[string]string{"error": err.Error()}),
				fmt.Errorf("waf: describe listeners of %s: %w", a, err)
		}
		ls = append(ls, page.Listeners...)
		if marker = page.NextMarker; aws.ToString(marker) == "" {
			break
		}
	}
	ev := map[string]string{}
	var problems []string
	httpsOK := false
	var policies, plain []string
	for _, l := range ls {
		port := strconv.Itoa(int(aws.ToInt32(l.Port)))
		switch l.Protocol {
		case elbtypes.ProtocolEnumHttps:
			p := aws.ToString(l.SslPolicy)
			policies = append(policies, port+":"+p)
			if tlsFloor(p) >= 12 {
				httpsOK = true
			} else {
				problems = append(problems, "listener "+port+" allows TLS below 1.2 ("+p+")")
			}
		case elbtypes.ProtocolEnumHttp:
			if !isRedirectToHTTPSAnyPort(&l) {
				plain = append(plain, port)
			}
		}
	}
	ev["https_listeners"] = strings.Join(policies, ",")
	ev["plain_http_listeners"] = strings.Join(plain, ",")
	if !httpsOK {
		problems = append(problems, "no HTTPS listener with a TLS 1.2+ policy")
	}
	if len(plain) > 0 {
		problems = append(problems, "HTTP listener(s) "+strings.Join(plain, ", ")+" do not redirect to HTTPS")
	}
	if len(problems) > 0 {
		return finding(CheckALBHTTPS, a, awsguard.StatusFail, "ALB "+name+": "+strings.Join(problems, "; "), ev), nil
	}
	return finding(CheckALBHTTPS, a, awsguard.StatusPass, "ALB "+name+" serves HTTPS with TLS 1.2+ and redirects HTTP", ev), nil
}

func isRedirectToHTTPSAnyPort(l *elbtypes.Listener) bool {
	if len(l.DefaultActions) != 1 {
		return false
	}
	a := l.DefaultActions[0]
	return a.Type == elbtypes.ActionTypeEnumRedirect && a.RedirectConfig != nil && strings.EqualFold(aws.ToString(a.RedirectConfig.Protocol), "HTTPS")
}

func certificateFindings(ctx context.Context, api AuditACM, now time.Time, minDays int, finding findingFunc) ([]awsguard.Finding, error) {
	var out []awsguard.Finding
	var token *string
	for range maxPages {
		page, err := api.ListCertificates(ctx, &acm.ListCertificatesInput{CertificateStatuses: []acmtypes.CertificateStatus{acmtypes.CertificateStatusIssued}, NextToken: token, MaxItems: aws.Int32(1000)})
		if err != nil {
			return []awsguard.Finding{finding(CheckCertificateExpiry, "acm", awsguard.StatusError, "Cannot list ACM certificates", map[string]string{"error": err.Error()})},
				fmt.Errorf("waf: list certificates: %w", err)
		}
		for _, c := range page.CertificateSummaryList {
			a := aws.ToString(c.CertificateArn)
			ev := map[string]string{"domain": aws.ToString(c.DomainName), "in_use": strconv.FormatBool(aws.ToBool(c.InUse)),
				"renewal_eligibility": string(c.RenewalEligibility), "type": string(c.Type)}
			if c.NotAfter != nil {
				ev["not_after"] = c.NotAfter.UTC().Format(time.RFC3339)
			}
			if !aws.ToBool(c.InUse) {
				out = append(out, finding(CheckCertificateExpiry, a, awsguard.StatusNotApplicable, "Certificate for "+aws.ToString(c.DomainName)+" is not in use", ev))
				continue
			}
			left := aws.ToTime(c.NotAfter).Sub(now)
			days := int(left.Hours() / 24)
			ev["days_left"] = strconv.Itoa(days)
			var problems []string
			if c.NotAfter == nil || left < time.Duration(minDays)*24*time.Hour {
				problems = append(problems, fmt.Sprintf("expires in %d days (at least %d wanted)", days, minDays))
			}
			if c.RenewalEligibility != acmtypes.RenewalEligibilityEligible {
				problems = append(problems, "not eligible for managed renewal ("+string(c.RenewalEligibility)+")")
			}
			if len(problems) > 0 {
				out = append(out, finding(CheckCertificateExpiry, a, awsguard.StatusFail, "Certificate for "+aws.ToString(c.DomainName)+": "+strings.Join(problems, "; "), ev))
			} else {
				out = append(out, finding(CheckCertificateExpiry, a, awsguard.StatusPass, fmt.Sprintf("Certificate for %s expires in %d days and renews", aws.ToString(c.DomainName), days), ev))
			}
		}
		if token = page.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	return out, nil
}
