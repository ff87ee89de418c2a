// Package waf protects an internet-facing application load balancer (ALB):
// an AWS WAF web ACL with the AWS managed SQL-injection rules, HTTPS with
// an ACM certificate validated through Route 53, audit checks for both,
// and a probe that proves, payload by payload, that SQL injection is
// blocked.
//
//	acl, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{
//		WAF: wafv2.NewFromConfig(cfg),
//		ELB: elasticloadbalancingv2.NewFromConfig(cfg),
//	}, albARN, func(o *waf.Options) { o.Common = true })
//	if err != nil {
//		return err // *awsguard.InputError, ErrOtherACL, *awsguard.StepError, ...
//	}
//	for _, line := range acl.Plan.Describe() {
//		logger.Info("web ACL", "change", line)
//	}
//
// # Workflow
//
//  1. Audit (read only) finds the ALBs without a web ACL, without the SQLi
//     rules, without HTTPS, and the certificates about to expire.
//  2. AttachSQLiACL puts a REGIONAL web ACL with AWSManagedRulesSQLiRuleSet
//     (and, with Options.Common and Options.KnownBadInputs,
//     AWSManagedRulesCommonRuleSet and AWSManagedRulesKnownBadInputsRuleSet,
//     in that priority order) on the ALB: default action Allow, CloudWatch
//     metrics and sampled requests on for the ACL and every rule, tag
//     awsguard:managed=true. Options.Versions pins group versions,
//     Options.CountMode starts a trial that blocks nothing (run again
//     without it to block), Options.RuleOverrides overrides single rules.
//  3. EnableHTTPS serves the ALB over HTTPS with a modern policy and turns
//     HTTP into a redirect.
//  4. Probe sends benign logins and SQL injections to a URL and reports,
//     request by request, what was blocked and whether benign traffic
//     still passes (Verdict).
//
// RemoveSQLiACL and DisableHTTPS undo steps 2 and 3.
//
// # States and plans of AttachSQLiACL
//
// AttachSQLiACL reads (DescribeLoadBalancers, ListWebACLs, GetWebACL,
// ListTagsForResource, GetWebACLForResource), names the state of the ACL
// of Options.Name and of the ALB's association, and plans from them:
//
//	| ACLState   | meaning                                           | action                                      |
//	|------------|---------------------------------------------------|---------------------------------------------|
//	| absent     | no web ACL of the name                            | create-web-acl (CheckCapacity first)        |
//	| incomplete | ours (tagged), lacks a group or holds one not as  | update-web-acl: GetWebACL, merge,           |
//	|            | wanted (version, Count mode, overrides, metrics)  | UpdateWebACL with LockToken (CheckCapacity) |
//	| complete   | holds every wanted group as wanted                | none                                        |
//	| foreign    | not tagged awsguard:managed and not as wanted     | refused: ErrNotManaged                      |
//
//	| AssociationState | meaning                         | action                                                    |
//	|------------------|---------------------------------|-----------------------------------------------------------|
//	| none             | the ALB has no web ACL          | associate-web-acl                                         |
//	| ours             | the ALB has this ACL            | none                                                      |
//	| other            | the ALB has another ACL         | refused (ErrOtherACL) unless Options.ReplaceExisting:     |
//	|                  |                                 | disassociate-web-acl (the other ACL is kept), associate   |
//
// An update keeps every rule that is not a wanted AWS managed group, and
// writes back every ACL setting this package does not manage; a missing
// group goes after the highest priority. A change that lets more
// requests through (Count mode, a rule overridden to Count or Allow, a
// Block override dropped) on an existing ACL is marked Weakening and
// needs Options.AllowWeaken (awsguard.ErrWeakening otherwise).
//
// Associating waits for the ALB to be active and retries
// WAFUnavailableEntityException (a new ACL is unknown to the association
// service for a while) with backoff and jitter, bounded by
// Options.AssociateWait. A WAFOptimisticLockException re-reads the ACL
// and merges again, up to Options.LockRetries. Two callers racing on the
// same ACL converge: the one whose CreateWebACL meets a duplicate
// (WAFDuplicateItemException, or moto's WafV2DuplicateItem) merges into
// the other's ACL instead. If the association of a replacement fails,
// the other ACL is put back on the ALB (the StepError lists it under
// RolledBack).
//
// CheckCapacity runs before every create and update: more WCUs than
// Options.MaxCapacity (default 1500) is ErrCapacity, before any change.
// Where the service does not offer the call (moto answers 500), the
// capacity is unknown, the plan's Warnings say so and the run goes on; any
// other failure of CheckCapacity stops the run.
//
// # Removal
//
// RemoveSQLiACL disassociates the ACL of RemoveOptions.Name from the ALB,
// then deletes it with a fresh LockToken. It deletes only an ACL tagged
// awsguard:managed=true, and only once ListResourcesForWebACL (asked for
// every REGIONAL resource type) shows no other resource using it:
// otherwise ErrACLInUse. When that list cannot be had (moto does not
// implement it; a missing permission), nobody can tell whether the ACL
// still protects something else: it is kept, never deleted blindly, and
// the error is ErrAssociationsUnknown; RemoveOptions.Force deletes it
// anyway (on AWS, DeleteWebACL still refuses an ACL in use). The ALB is
// disassociated in every case. An ALB protected by an ACL of another name
// is left alone.
//
// # HTTPS
//
// EnableHTTPS reuses an ISSUED ACM certificate that covers the domain
// (the one the HTTPS listener already has, else the one expiring last),
// or one awsguard requested for the domain that is still pending (an
// interrupted run's), else requests one with DNS validation, tagged
// awsguard:managed=true, with an idempotency token derived from the ALB
// and domain (a request whose answer was lost returns the same certificate
// when repeated). It upserts the validation CNAME records in the hosted
// zone (and keeps them there, as ACM's managed renewal needs them), waits
// with acm.NewCertificateValidatedWaiter (HTTPSOptions.CertificateWait,
// WaitMinDelay, WaitMaxDelay), creates the HTTPS:443 listener (tagged)
// forwarding where HTTP:80 forwarded (or to HTTPSOptions.TargetGroupARN)
// with DefaultSSLPolicy, or fixes a 443 listener whose protocol,
// certificate or policy differs (a listener already on a TLS 1.2+ policy
// keeps its own unless HTTPSOptions.SSLPolicy is set; a less strict policy
// is Weakening), turns HTTP:80 into a 301 redirect to HTTPS, and with
// HTTPSOptions.AliasRecord upserts an alias A record to the ALB.
//
// DisableHTTPS reverses it in order: HTTP:80 forwards again first (where
// HTTPS forwarded, so traffic never stops), then the alias record (only
// if it points to this ALB), the HTTPS listener (only one awsguard
// created), the validation records and the certificate (only one awsguard
// requested, not in use elsewhere, and not with KeepCertificate).
//
// # Probe
//
// Probe sends each payload of DefaultPayloads (two benign logins, the
// seed's ' OR '1'='1 and ' OR '1'='1'--, UNION SELECT, a stacked query,
// comment and case tricks, URL- and double-encoded forms) in the query
// string, a form body, a JSON body, a cookie and a header
// (ProbeOptions.Header, default User-Agent), and reports each request's
// status, whether it was blocked (ProbeOptions.BlockedStatus, default
// 403) and, with ProbeOptions.SuccessMarker, whether it logged in. The
// verdict is protected (every attack blocked, every benign request
// answered and not blocked), attacks-passed, benign-blocked (a WAF that
// breaks the application) or incomplete. It is bounded: Budget requests
// at most (default 100), Timeout each (10 s), Rate a second (5), only the
// URL given, no redirect to another host and at most three. AWS's SQLi
// group inspects the query, body, cookies and URI path, not headers: a
// header result tells whether an application that reads that header is
// protected. Point Probe only at applications you may test.
//
// # Dry run and idempotency
//
// Every mutating operation validates its input before the first call
// (*awsguard.InputError names the field), reads live state, and returns
// an awsguard.Plan; with DryRun it returns that plan, Reason "dry run",
// and makes no mutating call. Run again, AttachSQLiACL and EnableHTTPS
// find nothing to do (Reason "already compliant", zero mutating calls),
// RemoveSQLiACL and DisableHTTPS "nothing to remove". A run interrupted at
// any call (a throttle, a 500, a cut connection, a lost answer) converges
// when run again: one ACL, one copy of each group, the ALB associated; one
// certificate, its validation records, the listeners right; a removal
// finishes (no ACL, no certificate or record left, HTTP forwarding). The
// fault-injection tests prove it call by call. A failed
// step is an *awsguard.StepError saying what was done, what was rolled
// back and what to do.
//
// # Checks
//
// Audit (one region; run it per region with awsguard.ForEachRegion)
// returns an awsguard.Report. Check IDs are stable and never renamed.
// waf.* checks are about internet-facing ALBs (internal ones are
// NOT_APPLICABLE; an ALB whose scheme is not given counts as
// internet-facing), elb.alb.https about every ALB, acm.certificate.expiry
// about each ISSUED certificate (NOT_APPLICABLE when not in use).
//
//	| check ID               | severity | passes when                                                          | ISMS-P       | CIS | remediation       |
//	|------------------------|----------|----------------------------------------------------------------------|--------------|-----|-------------------|
//	| waf.alb.web_acl        | HIGH     | the internet-facing ALB has a web ACL                                | 2.6.1, 2.10.1|     | waf.AttachSQLiACL |
//	| waf.alb.sqli_rules     | HIGH     | its ACL holds AWSManagedRulesSQLiRuleSet, not in Count mode, no rule | 2.6.1, 2.10.1|     | waf.AttachSQLiACL |
//	|                        |          | overridden to Count or Allow, metrics on for the rule and the ACL    |              |     |                   |
//	| elb.alb.https          | HIGH     | an HTTPS listener with a TLS 1.2+ policy, every HTTP listener        | 2.7.1        |     | waf.EnableHTTPS   |
//	|                        |          | redirecting to HTTPS                                                 |              |     |                   |
//	| acm.certificate.expiry | MEDIUM   | an issued certificate in use expires in more than 30 days            | 2.7.1        |     |                   |
//	|                        |          | (AuditOptions.MinCertificateDays) and is eligible for renewal        |              |     |                   |
//
// The CIS AWS Foundations Benchmark v3.0 has no control for these. A
// source that cannot be read gives StatusError findings for the checks
// that need it and an error wrapping ErrAuditIncomplete. Calls per region:
// DescribeLoadBalancers by pages of 400, one DescribeListeners per ALB,
// ListWebACLs by pages, one GetWebACL and one ListResourcesForWebACL per
// ACL (not per ALB; one GetWebACLForResource per ALB only where
// ListResourcesForWebACL is not offered), ListCertificates by pages.
//
// # IAM permissions
//
// Each operation's interface is the list of the calls it makes; the
// permissions are the same names:
//
//	AttachSQLiACL  AttachWAF, DescribeLoadBalancersAPI; elasticloadbalancing:SetWebACL
//	RemoveSQLiACL  RemoveWAF; elasticloadbalancing:SetWebACL
//	EnableHTTPS    ACMAPI, ListenerAPI, Route53API; acm:AddTagsToCertificate and
//	               elasticloadbalancing:AddTags for the tags of what it creates
//	DisableHTTPS   ACMAPI, ListenerAPI, Route53API
//	Audit          AuditELB, AuditWAF, AuditACM
//	Probe          none (plain HTTP to the URL given)
//
// The library prints nothing; it logs through the optional *slog.Logger
// of each operation's options, with the keys operation, resource and
// dry_run.
package waf
