package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/observe"
	"github.com/awsguard/awsguard/waf"
)

// accountAudit is what one invocation found in its account.
type accountAudit struct {
	reports    []*awsguard.Report
	errs       []error
	report     *awsguard.Report
	published  *observe.PublishResult
	publishErr error
}

// regional are the per-region audits, as examples/audit runs them (the
// KISA password baseline, audit's default, for IAM).
type regionalAudit struct {
	name   string
	checks func() []checkRef
	audit  func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error)
}

var regional = []regionalAudit{
	{"waf", func() (out []checkRef) {
		for _, c := range waf.Checks() {
			out = append(out, checkRef{c.ID, c.Severity, c.Controls})
		}
		return out
	}, func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		api := waf.AuditAPI{ELB: elbv2.NewFromConfig(t.Config), WAF: wafv2.NewFromConfig(t.Config), ACM: acm.NewFromConfig(t.Config)}
		return waf.Audit(ctx, api, func(o *waf.AuditOptions) { o.Account, o.Region = t.Account, t.Region })
	}},
	{"network", inspectChecks("network."), func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		return inspect.AuditNetwork(ctx, ec2.NewFromConfig(t.Config), func(o *inspect.NetworkOptions) { o.Account, o.Region = t.Account, t.Region })
	}},
	{"ec2recover", func() []checkRef {
		return []checkRef{{ec2recover.CheckInstanceConnect, awsguard.SeverityMedium, []string{"ISMS-P:2.6.6"}}}
	}, func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		return ec2recover.AuditInstanceConnect(ctx, ec2.NewFromConfig(t.Config), iam.NewFromConfig(t.Config), func(o *ec2recover.InstanceConnectOptions) {
			o.Account, o.Region = t.Account, t.Region
		})
	}},
	{"inspector", inspectChecks("inspector."), func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		rep, _, err := inspect.Audit(ctx, inspector2.NewFromConfig(t.Config), inspect.FindingFilter{}, func(o *inspect.InspectorOptions) {
			o.Account, o.Region = t.Account, t.Region
		})
		return rep, err
	}},
	{"observe", func() (out []checkRef) {
		for _, c := range observe.Checks() {
			out = append(out, checkRef{c.ID, c.Severity, c.Controls})
		}
		return out
	}, func(ctx context.Context, t awsguard.Target) (*awsguard.Report, error) {
		c := observe.AuditClients{SNS: sns.NewFromConfig(t.Config), Logs: cloudwatchlogs.NewFromConfig(t.Config), CloudWatch: cloudwatch.NewFromConfig(t.Config)}
		return observe.Audit(ctx, c, func(o *observe.AuditOptions) { o.Account, o.Region = t.Account, t.Region })
	}},
}

// auditAccount runs the IAM audit once and the regional audits per
// region. The error return is for an account whose IAM could not be read
// at all; errs are the regions that could not be read (each still shows,
// as the findings its audit could make, or none).
func auditAccount(ctx context.Context, t awsguard.Target, regions []string) ([]*awsguard.Report, []error, error) {
	rep, err := iamguard.Audit(ctx, iam.NewFromConfig(t.Config), func(o *iamguard.AuditOptions) { o.Account = t.Account })
	if rep == nil && err != nil {
		return nil, nil, fmt.Errorf("iamguard: %w", err)
	}
	reports, errs := []*awsguard.Report{rep}, []error{err}
	for _, p := range regional {
		results, err := awsguard.ForEachRegion(ctx, t.Config, regions, func(ctx context.Context, rt awsguard.Target) (*awsguard.Report, error) {
			rt.Account = t.Account
			return p.audit(ctx, rt)
		})
		if err != nil {
			return nil, nil, err
		}
		for _, r := range results {
			reports = append(reports, r.Value)
			if r.Value == nil && r.Err != nil {
				reports = append(reports, unread(p.checks(), t.Account, r.Region, p.name, r.Err))
			}
			if r.Err != nil {
				errs = append(errs, fmt.Errorf("%s in %s: %w", p.name, r.Region, r.Err))
			}
		}
	}
	return reports, errs, nil
}

// checkRef is what an ERROR finding needs of a check.
type checkRef struct {
	id       string
	severity awsguard.Severity
	controls []string
}

func inspectChecks(prefix string) func() []checkRef {
	return func() (out []checkRef) {
		for _, c := range inspect.Checks() {
			if strings.HasPrefix(c.ID, prefix) {
				out = append(out, checkRef{c.ID, c.Severity, c.Controls})
			}
		}
		return out
	}
}

// unread returns the findings of a regional audit that gave no report for
// a region: one ERROR finding per check, saying why (as audit does).
func unread(checks []checkRef, account, region, name string, err error) *awsguard.Report {
	var fs []awsguard.Finding
	for _, c := range checks {
		fs = append(fs, awsguard.Finding{Check: c.id, Status: awsguard.StatusError, Severity: c.severity,
			Account: account, Region: region, Resource: "region/" + region,
			Title:    "The " + name + " audit could not read region " + region,
			Evidence: map[string]string{"error": err.Error()}, Controls: slices.Clone(c.controls)})
	}
	return awsguard.NewReport(time.Now(), fs...)
}
