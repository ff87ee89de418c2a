package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/keyrotate"
	"github.com/awsguard/awsguard/observe"
	"github.com/awsguard/awsguard/waf"
)

// albAPI is the part of *elasticloadbalancingv2.Client that finds the
// ALBs and awsguard's listeners on them.
type albAPI interface {
	DescribeLoadBalancers(context.Context, *elbv2.DescribeLoadBalancersInput, ...func(*elbv2.Options)) (*elbv2.DescribeLoadBalancersOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
}

// zonesAPI is the part of *route53.Client that finds the hosted zone of
// a certificate's domain.
type zonesAPI interface {
	ListHostedZones(context.Context, *route53.ListHostedZonesInput, ...func(*route53.Options)) (*route53.ListHostedZonesOutput, error)
}

// policyAPI is the part of *iam.Client that finds awsguard's managed
// policies and the groups they are attached to.
type policyAPI interface {
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
	ListEntitiesForPolicy(context.Context, *iam.ListEntitiesForPolicyInput, ...func(*iam.Options)) (*iam.ListEntitiesForPolicyOutput, error)
}

// groupsAPI is the part of *ec2.Client that finds inspect's records on
// security groups.
type groupsAPI interface {
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
}

// exposureAPI is the part of inspect.ExposureAPI that RestoreExposure
// calls for a security group (a target without an instance).
type exposureAPI interface {
	DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error)
	DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
	DeleteTags(context.Context, *ec2.DeleteTagsInput, ...func(*ec2.Options)) (*ec2.DeleteTagsOutput, error)
	AuthorizeSecurityGroupIngress(context.Context, *ec2.AuthorizeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.AuthorizeSecurityGroupIngressOutput, error)
	RevokeSecurityGroupIngress(context.Context, *ec2.RevokeSecurityGroupIngressInput, ...func(*ec2.Options)) (*ec2.RevokeSecurityGroupIngressOutput, error)
}

// denyRemoveAPI is the part of ec2recover.DenyPolicyIAM that
// RemoveInstanceConnectDeny calls.
type denyRemoveAPI interface {
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
	ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	DetachGroupPolicy(context.Context, *iam.DetachGroupPolicyInput, ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
}

// recoveryAPI is the part of *ec2.Client that finds what ec2recover's
// recoveries left, by their tags.
type recoveryAPI interface {
	DescribeSnapshots(context.Context, *ec2.DescribeSnapshotsInput, ...func(*ec2.Options)) (*ec2.DescribeSnapshotsOutput, error)
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

// usersAPI is the part of *iam.Client that finds keyrotate's containment
// records on users.
type usersAPI interface {
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
}

// rotationSecretsAPI is the part of *secretsmanager.Client that finds
// the secrets with a rotation function and that keyrotate.TeardownRotation
// calls without DeleteSecret (cleanup keeps the secrets).
type rotationSecretsAPI interface {
	ListSecrets(context.Context, *secretsmanager.ListSecretsInput, ...func(*secretsmanager.Options)) (*secretsmanager.ListSecretsOutput, error)
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error)
}

// secretsClient is what cleanup holds for Secrets Manager: the lister and
// what TeardownRotation takes.
type secretsClient interface {
	rotationSecretsAPI
	keyrotate.TeardownSecretsAPI
}

// clients are the clients cleanup calls.
type clients struct {
	elb      *elbv2.Client
	waf      *wafv2.Client
	acm      *acm.Client
	route53  *route53.Client
	iam      *iam.Client
	ec2      *ec2.Client
	teardown observe.TeardownClients
	secrets  secretsClient
	lambda   keyrotate.TeardownLambdaAPI
}

func newClients(cfg aws.Config) clients {
	c := clients{elb: elbv2.NewFromConfig(cfg), waf: wafv2.NewFromConfig(cfg), acm: acm.NewFromConfig(cfg),
		route53: route53.NewFromConfig(cfg), iam: iam.NewFromConfig(cfg), ec2: ec2.NewFromConfig(cfg)}
	c.teardown = observe.TeardownClients{SNS: sns.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), IAM: c.iam, EC2: c.ec2,
		SSM: ssm.NewFromConfig(cfg), CloudTrail: cloudtrail.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg)}
	c.secrets, c.lambda = secretsmanager.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	return c
}

// cleaner is one cleanup run.
type cleaner struct {
	c   clients
	o   options
	res *Result
}

// clean finds and removes what awsguard created, in dependency order:
// what sits in front of a resource goes before it.
func clean(ctx context.Context, c clients, o options) (*Result, error) {
	cl := &cleaner{c: c, o: o, res: &Result{DryRun: o.dryRun, Steps: []Step{}, Remains: []string{}}}
	for _, step := range []struct {
		name string
		do   func(context.Context) error
	}{
		{"web ACLs", cl.webACLs}, {"HTTPS", cl.https}, {"observe", cl.observe},
		{"MFA enforcement", cl.enforceMFA}, {"Instance Connect deny", cl.instanceConnect},
		{"closed exposures", cl.exposures}, {"containments", cl.containments}, {"rotations", cl.rotations},
		{"recovery leftovers", cl.recoveries},
	} {
		if err := ctx.Err(); err != nil {
			return cl.res, err
		}
		if err := step.do(ctx); err != nil {
			return cl.res, fmt.Errorf("%s: %w", step.name, err)
		}
	}
	return cl.res, nil
}

func (cl *cleaner) add(what string, p *awsguard.Plan) {
	cl.res.Steps = append(cl.res.Steps, Step{What: what, Plan: p})
}

func (cl *cleaner) remains(format string, args ...any) {
	cl.res.Remains = append(cl.res.Remains, fmt.Sprintf(format, args...))
}

// albs returns the ARNs of the region's application load balancers.
func albs(ctx context.Context, api albAPI) ([]string, error) {
	var out []string
	p := elbv2.NewDescribeLoadBalancersPaginator(api, &elbv2.DescribeLoadBalancersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe load balancers: %w", err)
		}
		for _, lb := range page.LoadBalancers {
			if lb.Type == elbtypes.LoadBalancerTypeEnumApplication {
				out = append(out, aws.ToString(lb.LoadBalancerArn))
			}
		}
	}
	return out, nil
}

// webACLs removes awsguard's web ACL from each ALB it protects, then the
// ACL (waf.RemoveSQLiACL).
func (cl *cleaner) webACLs(ctx context.Context) error {
	arns, err := albs(ctx, cl.c.elb)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, alb := range arns {
		out, err := cl.c.waf.GetWebACLForResource(ctx, &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(alb)})
		if err != nil && !awserr.HasCode(err, "WAFNonexistentItemException") {
			return fmt.Errorf("web ACL of %s: %w", alb, err)
		}
		if err != nil || out.WebACL == nil || seen[aws.ToString(out.WebACL.ARN)] {
			continue
		}
		name, arn := aws.ToString(out.WebACL.Name), aws.ToString(out.WebACL.ARN)
		managed, err := cl.wafManaged(ctx, arn)
		if err != nil {
			return err
		}
		if managed {
			seen[arn] = true
			if err := cl.removeACL(ctx, alb, name, arn, "web ACL "+name+" on "+alb, "stays on "+alb); err != nil {
				return err
			}
		}
	}
	return cl.orphanACLs(ctx, arns, seen)
}

// removeACL removes awsguard's web ACL name through the ALB alb. Without
// -force it plans first: an ACL that would be kept stays whole, on its
// ALB, where the next run finds it again.
func (cl *cleaner) removeACL(ctx context.Context, alb, name, arn, what, kept string) error {
	if !cl.o.force {
		rm, err := waf.RemoveSQLiACL(ctx, cl.c.waf, alb, func(o *waf.RemoveOptions) { o.Name, o.DryRun = name, true })
		if errors.Is(err, waf.ErrAssociationsUnknown) || errors.Is(err, waf.ErrACLInUse) {
			cl.add(what, &awsguard.Plan{Operation: rm.Plan.Operation, Resource: alb, DryRun: cl.o.dryRun,
				Reason: awsguard.ReasonRefused, Warnings: rm.Plan.Warnings})
			cl.remains("web ACL %s (%s) %s: %s; -force disassociates and deletes it", name, arn, kept, refusal(err))
			return nil
		}
		if err != nil {
			return err
		}
	}
	rm, err := waf.RemoveSQLiACL(ctx, cl.c.waf, alb, func(o *waf.RemoveOptions) {
		o.Name, o.Force, o.DryRun = name, cl.o.force, cl.o.dryRun
	})
	if rm != nil {
		cl.add(what, &rm.Plan)
	}
	return err
}

// refusal says in words why RemoveSQLiACL keeps an ACL.
func refusal(err error) string {
	if errors.Is(err, waf.ErrACLInUse) {
		return "other resources use it"
	}
	return "the service cannot list the resources that use it"
}

// orphanACLs removes awsguard's web ACLs that protect no ALB of the
// region (an earlier removal was interrupted between disassociating and
// deleting, or the ACL protects resources of other types).
// waf.RemoveSQLiACL takes an ALB: given one the ACL is not on, it only
// finds the ACL by name and deletes it under its own checks (awsguard's
// tag; nothing else uses it, or -force). With no ALB in the region it
// cannot be called, and the ACL is reported.
func (cl *cleaner) orphanACLs(ctx context.Context, albs []string, seen map[string]bool) error {
	in := &wafv2.ListWebACLsInput{Scope: waftypes.ScopeRegional}
	for {
		page, err := cl.c.waf.ListWebACLs(ctx, in)
		if err != nil {
			return fmt.Errorf("list web ACLs: %w", err)
		}
		for _, a := range page.WebACLs {
			arn, name := aws.ToString(a.ARN), aws.ToString(a.Name)
			if seen[arn] {
				continue
			}
			managed, err := cl.wafManaged(ctx, arn)
			if err != nil {
				return err
			}
			switch {
			case !managed:
			case len(albs) == 0:
				cl.remains("web ACL %s (%s): the region has no ALB to remove it through (waf.RemoveSQLiACL takes one); delete it in the console or with aws wafv2 delete-web-acl once nothing uses it", name, arn)
			default:
				if err := cl.removeACL(ctx, albs[0], name, arn, "web ACL "+name+" (on no ALB)", "protects no ALB of the region and stays"); err != nil {
					return err
				}
			}
		}
		if aws.ToString(page.NextMarker) == "" {
			return nil
		}
		in.NextMarker = page.NextMarker
	}
}

// wafManaged reports whether the web ACL carries awsguard's tag.
func (cl *cleaner) wafManaged(ctx context.Context, arn string) (bool, error) {
	tags, err := cl.c.waf.ListTagsForResource(ctx, &wafv2.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
	if err != nil {
		return false, fmt.Errorf("tags of web ACL %s: %w", arn, err)
	}
	if tags.TagInfoForResource == nil {
		return false, nil
	}
	for _, t := range tags.TagInfoForResource.TagList {
		if aws.ToString(t.Key) == waf.TagManaged && aws.ToString(t.Value) == "true" {
			return true, nil
		}
	}
	return false, nil
}

// https removes awsguard's HTTPS listeners and certificates
// (waf.DisableHTTPS), finding each listener's domain from its
// certificate and the domain's hosted zone in Route 53.
func (cl *cleaner) https(ctx context.Context) error {
	arns, err := albs(ctx, cl.c.elb)
	if err != nil {
		return err
	}
	for _, alb := range arns {
		l, err := cl.ourHTTPSListener(ctx, alb)
		if err != nil {
			return err
		}
		if l == nil {
			continue
		}
		if len(l.Certificates) == 0 {
			cl.remains("HTTPS listener %s: it names no certificate, so its domain is unknown; remove it with examples/enable-https -disable", aws.ToString(l.ListenerArn))
			continue
		}
		cert, err := cl.c.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: l.Certificates[0].CertificateArn})
		if err != nil {
			return fmt.Errorf("certificate of %s: %w", aws.ToString(l.ListenerArn), err)
		}
		domain := aws.ToString(cert.Certificate.DomainName)
		zone, err := zoneOf(ctx, cl.c.route53, domain)
		if err != nil {
			return err
		}
		if zone == "" {
			cl.remains("HTTPS listener %s for %s: no hosted zone of the account holds the domain; remove it with examples/enable-https -disable", aws.ToString(l.ListenerArn), domain)
			continue
		}
		h, err := waf.DisableHTTPS(ctx, waf.HTTPSAPI{ACM: cl.c.acm, ELB: cl.c.elb, Route53: cl.c.route53}, alb, domain, zone,
			func(o *waf.HTTPSOptions) { o.DryRun = cl.o.dryRun })
		if h != nil {
			cl.add("HTTPS of "+domain+" on "+alb, &h.Plan)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ourHTTPSListener returns the ALB's HTTPS:443 listener if awsguard
// created it (tagged awsguard:managed=true), else nil.
func (cl *cleaner) ourHTTPSListener(ctx context.Context, alb string) (*elbtypes.Listener, error) {
	out, err := cl.c.elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(alb)})
	if err != nil {
		return nil, fmt.Errorf("listeners of %s: %w", alb, err)
	}
	for _, l := range out.Listeners {
		if aws.ToInt32(l.Port) != 443 || l.Protocol != elbtypes.ProtocolEnumHttps {
			continue
		}
		tags, err := cl.c.elb.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: []string{aws.ToString(l.ListenerArn)}})
		if err != nil {
			return nil, fmt.Errorf("tags of %s: %w", aws.ToString(l.ListenerArn), err)
		}
		for _, d := range tags.TagDescriptions {
			if slices.ContainsFunc(d.Tags, func(t elbtypes.Tag) bool {
				return aws.ToString(t.Key) == waf.TagManaged && aws.ToString(t.Value) == "true"
			}) {
				return &l, nil
			}
		}
	}
	return nil, nil
}

// zoneOf returns the ID of the public hosted zone whose name is the
// longest suffix of domain, or "".
func zoneOf(ctx context.Context, api zonesAPI, domain string) (string, error) {
	name := strings.TrimPrefix(strings.ToLower(domain), "*.") + "."
	best, bestLen := "", 0
	p := route53.NewListHostedZonesPaginator(api, &route53.ListHostedZonesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("list hosted zones: %w", err)
		}
		for _, z := range page.HostedZones {
			zn := strings.ToLower(aws.ToString(z.Name))
			if z.Config != nil && z.Config.PrivateZone {
				continue
			}
			if (name == zn || strings.HasSuffix(name, "."+zn)) && len(zn) > bestLen {
				best, bestLen = strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"), len(zn)
			}
		}
	}
	return best, nil
}

// observe removes what package observe created (observe.Teardown).
func (cl *cleaner) observe(ctx context.Context) error {
	res, err := observe.Teardown(ctx, cl.c.teardown, func(o *observe.TeardownOptions) {
		o.DryRun, o.DeleteLogGroups = cl.o.dryRun, !cl.o.keepLogs
	})
	if res != nil {
		cl.add("observe's alerts, alarms, logs and agent role", &res.Plan)
		for _, ch := range res.Changed {
			cl.remains("%s: changed by hand (%s), kept; examples/alerts -teardown -remove-changed removes it", ch.Resource, ch.Change)
		}
	}
	return err
}

// attachedGroups returns the groups the local managed policy name (under
// path) is attached to, and whether the policy exists.
func attachedGroups(ctx context.Context, api policyAPI, name, path string) ([]string, bool, error) {
	p := iam.NewListPoliciesPaginator(api, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, PathPrefix: aws.String(path)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("list policies: %w", err)
		}
		for _, pol := range page.Policies {
			if aws.ToString(pol.PolicyName) != name || aws.ToString(pol.Path) != path {
				continue
			}
			var groups []string
			ep := iam.NewListEntitiesForPolicyPaginator(api, &iam.ListEntitiesForPolicyInput{PolicyArn: pol.Arn, EntityFilter: iamtypes.EntityTypeGroup})
			for ep.HasMorePages() {
				page, err := ep.NextPage(ctx)
				if err != nil {
					return nil, true, fmt.Errorf("groups of policy %s: %w", name, err)
				}
				for _, g := range page.PolicyGroups {
					groups = append(groups, aws.ToString(g.GroupName))
				}
			}
			return groups, true, nil
		}
	}
	return nil, false, nil
}

// enforceMFA removes iamguard's MFA enforcement policy from its groups
// and deletes it (iamguard.RemoveEnforceMFA): weakening, so only with
// -allow-weaken.
func (cl *cleaner) enforceMFA(ctx context.Context) error {
	groups, found, err := attachedGroups(ctx, cl.c.iam, iamguard.EnforceMFAPolicyName, "/")
	if err != nil || !found {
		return err
	}
	if !cl.o.allowWeaken {
		cl.remains("policy %s (MFA enforcement) on groups %v: removing it lets their members work without MFA; -allow-weaken removes it", iamguard.EnforceMFAPolicyName, groups)
		return nil
	}
	p, err := iamguard.RemoveEnforceMFA(ctx, cl.c.iam, groups, func(o *iamguard.RemoveEnforceMFAOptions) {
		o.DryRun, o.AllowWeaken = cl.o.dryRun, true
	})
	if p != nil {
		cl.add("MFA enforcement policy "+iamguard.EnforceMFAPolicyName, p)
	}
	return err
}

// instanceConnect removes ec2recover's EC2 Instance Connect deny policy
// from its groups and deletes it (ec2recover.RemoveInstanceConnectDeny):
// weakening, so only with -allow-weaken.
func (cl *cleaner) instanceConnect(ctx context.Context) error {
	groups, found, err := attachedGroups(ctx, cl.c.iam, ec2recover.DenyPolicyName, ec2recover.DenyPolicyPath)
	if err != nil || !found {
		return err
	}
	if !cl.o.allowWeaken {
		cl.remains("policy %s%s (denies EC2 Instance Connect) on groups %v: removing it allows Instance Connect again; -allow-weaken removes it",
			ec2recover.DenyPolicyPath, ec2recover.DenyPolicyName, groups)
		return nil
	}
	p, err := ec2recover.RemoveInstanceConnectDeny(ctx, cl.c.iam, groups, true, cl.o.dryRun)
	if p != nil {
		cl.add("Instance Connect deny policy "+ec2recover.DenyPolicyName, p)
	}
	return err
}

// exposures puts back the rules inspect.CloseExposure revoked, from its
// records on the security groups (inspect.RestoreExposure): weakening,
// so only with -allow-weaken.
func (cl *cleaner) exposures(ctx context.Context) error {
	p := ec2.NewDescribeSecurityGroupsPaginator(cl.c.ec2, &ec2.DescribeSecurityGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe security groups: %w", err)
		}
		for _, g := range page.SecurityGroups {
			var records []string
			for _, t := range g.Tags {
				if rest, ok := strings.CutPrefix(aws.ToString(t.Key), inspect.RecordTagPrefix); ok {
					records = append(records, rest)
				}
			}
			if len(records) == 0 {
				continue
			}
			id := aws.ToString(g.GroupId)
			if !cl.o.allowWeaken {
				cl.remains("security group %s: the rules inspect.CloseExposure revoked (%s) stay revoked, with their records; -allow-weaken reopens them", id, strings.Join(records, ", "))
				continue
			}
			plan, err := inspect.RestoreExposure(ctx, cl.c.ec2, inspect.Target{GroupID: id, Port: inspect.AllPorts}, func(o *inspect.RestoreOptions) {
				o.DryRun, o.AllowWeaken = cl.o.dryRun, true
			})
			if plan != nil {
				cl.add("closed exposure of "+id, plan)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// containments releases the keys keyrotate.ContainLeakedKey contained,
// from its records on the users (keyrotate.ReleaseContainment):
// weakening, so only with -allow-weaken.
func (cl *cleaner) containments(ctx context.Context) error {
	p := iam.NewListUsersPaginator(cl.c.iam, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for _, u := range page.Users {
			name := aws.ToString(u.UserName)
			tags, err := cl.c.iam.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: u.UserName})
			if err != nil {
				return fmt.Errorf("tags of user %s: %w", name, err)
			}
			i := slices.IndexFunc(tags.Tags, func(t iamtypes.Tag) bool { return aws.ToString(t.Key) == keyrotate.TagContainKey })
			if i < 0 {
				continue
			}
			key, _, _ := strings.Cut(aws.ToString(tags.Tags[i].Value), " ")
			if !cl.o.allowWeaken {
				cl.remains("user %s: key %s stays contained (a leaked key); -allow-weaken releases it", name, key)
				continue
			}
			c, err := keyrotate.ReleaseContainment(ctx, cl.c.iam, key, func(o *keyrotate.ReleaseOptions) {
				o.DryRun, o.AllowWeaken = cl.o.dryRun, true
			})
			if c != nil {
				cl.add("containment of "+key+" ("+name+")", &c.Plan)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// recoveries reports what ec2recover's recoveries left, found by their
// tags (ec2recover.TagRecovery): ec2recover removes it only through a
// recovery's journal (Rollback, Resume), which cleanup does not have, and
// a finished recovery's kept snapshot has no removal at all.
func (cl *cleaner) recoveries(ctx context.Context) error {
	tagged := []ec2types.Filter{{Name: aws.String("tag-key"), Values: []string{ec2recover.TagRecovery}}}
	sp := ec2.NewDescribeSnapshotsPaginator(cl.c.ec2, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}, Filters: tagged})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe snapshots: %w", err)
		}
		for _, s := range page.Snapshots {
			cl.remains("snapshot %s of recovery %s: ec2recover keeps a root volume's snapshot when asked to and has no removal for it; delete it when it is no longer needed",
				aws.ToString(s.SnapshotId), ec2Tag(s.Tags, ec2recover.TagRecovery))
		}
	}
	ip := ec2.NewDescribeInstancesPaginator(cl.c.ec2, &ec2.DescribeInstancesInput{Filters: append(tagged,
		ec2types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}})})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("describe instances: %w", err)
		}
		for _, r := range page.Reservations {
			for _, i := range r.Instances {
				cl.remains("instance %s carries the marks of recovery %s (%s): the recovery did not finish; ec2recover.Resume or Rollback with its journal (examples/recover-keypair -resume or -rollback) finishes or undoes it",
					aws.ToString(i.InstanceId), ec2Tag(i.Tags, ec2recover.TagRecovery), ec2Tag(i.Tags, ec2recover.TagRecoveryRole))
			}
		}
	}
	return nil
}

// ec2Tag returns the value of tag key in tags, or "".
func ec2Tag(tags []ec2types.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// rotations removes the Secrets Manager rotations keyrotate.SetupRotation
// set up (keyrotate.TeardownRotation, the secrets and keys kept): for
// each secret with a rotation function it plans the teardown first and
// removes only what names awsguard's own inline policy on the function's
// role or invoke permission on the function. Stopping a key's rotation
// is weakening, so only with -allow-weaken.
func (cl *cleaner) rotations(ctx context.Context) error {
	p := secretsmanager.NewListSecretsPaginator(cl.c.secrets, &secretsmanager.ListSecretsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list secrets: %w", err)
		}
		for _, s := range page.SecretList {
			if aws.ToString(s.RotationLambdaARN) == "" {
				continue
			}
			cfg := keyrotate.TeardownConfig{SecretID: aws.ToString(s.ARN), FunctionARN: aws.ToString(s.RotationLambdaARN)}
			if err := cl.rotation(ctx, aws.ToString(s.Name), cfg); err != nil {
				return err
			}
		}
	}
	return nil
}

// rotation removes the rotation of one secret if awsguard set it up.
func (cl *cleaner) rotation(ctx context.Context, name string, cfg keyrotate.TeardownConfig) error {
	tc := keyrotate.TeardownClients{SecretsManager: cl.c.secrets, IAM: cl.c.iam, Lambda: cl.c.lambda}
	plan, err := keyrotate.TeardownRotation(ctx, tc, cfg, func(o *keyrotate.TeardownOptions) { o.DryRun = true })
	switch {
	case errors.Is(err, keyrotate.ErrFunctionNotFound):
		cl.remains("rotation of secret %s by %s: the function does not exist, so whose rotation it is cannot be read; left in place", name, cfg.FunctionARN)
		return nil
	case err != nil:
		return err
	case plan.NothingToDo():
		return nil
	case !awsguardRotation(plan):
		cl.remains("rotation of secret %s by %s: not set up by awsguard (no %s policy on role %s, no %s permission on the function); left in place",
			name, cfg.FunctionARN, plan.PolicyName, plan.RoleName, plan.StatementID)
		return nil
	case !cl.o.allowWeaken && slices.ContainsFunc(plan.Actions, func(a awsguard.Action) bool { return a.Kind == keyrotate.ActionCancelRotation }):
		cl.remains("rotation of secret %s by %s (keyrotate.SetupRotation): removing it stops the key's rotation; -allow-weaken removes it", name, cfg.FunctionARN)
		return nil
	}
	if !cl.o.dryRun {
		plan, err = keyrotate.TeardownRotation(ctx, tc, cfg)
	}
	if plan != nil {
		cl.add("rotation of secret "+name, &plan.Plan)
	}
	return err
}

// awsguardRotation reports whether a teardown plan removes what only
// keyrotate.SetupRotation makes: its inline policy or invoke permission,
// named for the secret. (A rotation already stopped, whose policy or
// permission stayed, is removed without -allow-weaken: that only
// tightens.)
func awsguardRotation(plan *keyrotate.Setup) bool {
	return slices.ContainsFunc(plan.Actions, func(a awsguard.Action) bool {
		return a.Kind == keyrotate.ActionDeleteRolePolicy || a.Kind == keyrotate.ActionRemovePermission
	})
}
