package inspect

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard"
)

// FindingFilter chooses the Inspector findings Findings lists. The zero
// value lists the ACTIVE findings.
type FindingFilter struct {
	// Statuses are the finding statuses (ACTIVE, SUPPRESSED, CLOSED);
	// default ACTIVE.
	Statuses []i2types.FindingStatus
	// Severities, if set, keep only these severities.
	Severities []i2types.Severity
	// Criteria, if set, is sent as it is and the fields above are ignored.
	Criteria *i2types.FilterCriteria
	// PageSize is ListFindings' maxResults; default 100 (the maximum).
	PageSize int32
	// MaxPages bounds the pages read; default DefaultMaxPages. Past it the
	// iterator yields an error matching ErrTooManyPages.
	MaxPages int
}

func (f FindingFilter) criteria() *i2types.FilterCriteria {
	if f.Criteria != nil {
		return f.Criteria
	}
	c := &i2types.FilterCriteria{}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = []i2types.FindingStatus{i2types.FindingStatusActive}
	}
	for _, s := range statuses {
		c.FindingStatus = append(c.FindingStatus, i2types.StringFilter{Comparison: i2types.StringComparisonEquals, Value: aws.String(string(s))})
	}
	for _, s := range f.Severities {
		c.Severity = append(c.Severity, i2types.StringFilter{Comparison: i2types.StringComparisonEquals, Value: aws.String(string(s))})
	}
	return c
}

// Findings lists Inspector's findings in the client's region, page by
// page (inspector2:ListFindings). Pages that come back empty but still
// carry a NextToken are followed; a token that repeats or more than
// MaxPages pages end the listing with an error matching ErrTooManyPages.
// The first error is yielded once, after the findings before it, and ends
// the sequence. Stopping the range early stops the listing.
func Findings(ctx context.Context, api FindingsAPI, filter FindingFilter) iter.Seq2[i2types.Finding, error] {
	return func(yield func(i2types.Finding, error) bool) {
		if err := needClient("inspect.Findings", api); err != nil {
			yield(i2types.Finding{}, err)
			return
		}
		size := filter.PageSize
		if size <= 0 || size > 100 {
			size = 100
		}
		crit := filter.criteria()
		stopped := false
		err := paginate(ctx, "ListFindings", filter.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
			out, err := api.ListFindings(ctx, &inspector2.ListFindingsInput{FilterCriteria: crit, MaxResults: aws.Int32(size), NextToken: tok})
			if err != nil {
				return nil, fmt.Errorf("inspect: list Inspector findings: %w", err)
			}
			for _, f := range out.Findings {
				if !yield(f, nil) {
					stopped = true
					return nil, nil
				}
			}
			return out.NextToken, nil
		})
		if err != nil && !stopped {
			yield(i2types.Finding{}, err)
		}
	}
}

// Summary counts Inspector findings.
type Summary struct {
	Total int
	// BySeverity counts findings per Inspector severity (CRITICAL, HIGH,
	// MEDIUM, LOW, INFORMATIONAL, UNTRIAGED).
	BySeverity map[i2types.Severity]int
	// ByResource counts per resource, most critical first.
	ByResource []ResourceCount
	// TopVulnerabilities are the vulnerabilities (CVE or finding title)
	// found on the most resources, most severe first among equals.
	TopVulnerabilities []Vulnerability
}

// ResourceCount is the findings of one resource.
type ResourceCount struct {
	Resource string // the resource ID (an instance ID, an image or function ARN)
	Type     string // AWS_EC2_INSTANCE, AWS_ECR_CONTAINER_IMAGE, AWS_LAMBDA_FUNCTION, ...
	Account  string
	Region   string
	Critical int
	High     int
	Medium   int
	Low      int
	Other    int // INFORMATIONAL and UNTRIAGED
	Total    int
}

// Vulnerability is one vulnerability and where it was found.
type Vulnerability struct {
	ID       string // the CVE (or other) ID, or the finding's title
	Severity i2types.Severity
	// Packages are the vulnerable packages as name@version.
	Packages []string
	// FixAvailable is YES when every finding of it has a fix, PARTIAL when
	// some do, NO when none does.
	FixAvailable i2types.FixAvailable
	Findings     int
	Resources    int
}

var severityRank = map[i2types.Severity]int{
	i2types.SeverityCritical: 0, i2types.SeverityHigh: 1, i2types.SeverityMedium: 2, i2types.SeverityLow: 3,
	i2types.SeverityInformational: 4, i2types.SeverityUntriaged: 5,
}

func rank(s i2types.Severity) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return 6
}

// Summarize counts the findings of seq by severity, by resource and by
// vulnerability, keeping the top vulnerabilities (10 when top is 0). It
// stops at seq's first error and returns it with the counts so far.
func Summarize(seq iter.Seq2[i2types.Finding, error], top int) (*Summary, error) {
	if top <= 0 {
		top = 10
	}
	s := &Summary{BySeverity: map[i2types.Severity]int{}}
	res := map[string]*ResourceCount{}
	type vulnAcc struct {
		Vulnerability
		resources map[string]bool
		fixes     int
	}
	vulns := map[string]*vulnAcc{}
	var err error
	for f, e := range seq {
		if e != nil {
			err = e
			break
		}
		s.Total++
		s.BySeverity[f.Severity]++
		for _, r := range f.Resources {
			id := aws.ToString(r.Id)
			rc := res[id]
			if rc == nil {
				rc = &ResourceCount{Resource: id, Type: string(r.Type), Account: aws.ToString(f.AwsAccountId), Region: aws.ToString(r.Region)}
				res[id] = rc
			}
			rc.Total++
			switch f.Severity {
			case i2types.SeverityCritical:
				rc.Critical++
			case i2types.SeverityHigh:
				rc.High++
			case i2types.SeverityMedium:
				rc.Medium++
			case i2types.SeverityLow:
				rc.Low++
			default:
				rc.Other++
			}
		}
		id := aws.ToString(f.Title)
		var pkgs []string
		if d := f.PackageVulnerabilityDetails; d != nil {
			id = cmp.Or(aws.ToString(d.VulnerabilityId), id)
			for _, p := range d.VulnerablePackages {
				pkgs = append(pkgs, aws.ToString(p.Name)+"@"+aws.ToString(p.Version))
			}
		}
		if id == "" {
			id = aws.ToString(f.FindingArn)
		}
		v := vulns[id]
		if v == nil {
			v = &vulnAcc{Vulnerability: Vulnerability{ID: id, Severity: f.Severity}, resources: map[string]bool{}}
			vulns[id] = v
		}
		v.Findings++
		if rank(f.Severity) < rank(v.Severity) {
			v.Severity = f.Severity
		}
		for _, p := range pkgs {
			if !slices.Contains(v.Packages, p) {
				v.Packages = append(v.Packages, p)
			}
		}
		for _, r := range f.Resources {
			v.resources[aws.ToString(r.Id)] = true
		}
		if f.FixAvailable == i2types.FixAvailableYes {
			v.fixes++
		}
	}
	for _, rc := range res {
		s.ByResource = append(s.ByResource, *rc)
	}
	slices.SortFunc(s.ByResource, func(a, b ResourceCount) int {
		return cmp.Or(cmp.Compare(b.Critical, a.Critical), cmp.Compare(b.High, a.High), cmp.Compare(b.Total, a.Total), cmp.Compare(a.Resource, b.Resource))
	})
	var all []Vulnerability
	for _, v := range vulns {
		v.Resources = len(v.resources)
		switch {
		case v.fixes == v.Findings:
			v.FixAvailable = i2types.FixAvailableYes
		case v.fixes > 0:
			v.FixAvailable = i2types.FixAvailablePartial
		default:
			v.FixAvailable = i2types.FixAvailableNo
		}
		slices.Sort(v.Packages)
		all = append(all, v.Vulnerability)
	}
	slices.SortFunc(all, func(a, b Vulnerability) int {
		return cmp.Or(cmp.Compare(b.Resources, a.Resources), cmp.Compare(rank(a.Severity), rank(b.Severity)), cmp.Compare(b.Findings, a.Findings), cmp.Compare(a.ID, b.ID))
	})
	s.TopVulnerabilities = all[:min(top, len(all))]
	return s, err
}

// Findings returns one inspector.findings finding per resource with
// findings: FAIL and CRITICAL with a critical finding, FAIL and HIGH with
// a high one, PASS otherwise; the counts are in evidence.
func (s *Summary) Findings() []awsguard.Finding {
	c := checkByID(CheckFindings)
	var out []awsguard.Finding
	for _, r := range s.ByResource {
		f := awsguard.Finding{Check: CheckFindings, Severity: c.Severity, Account: r.Account, Region: r.Region, Resource: r.Resource,
			Controls: slices.Clone(c.Controls), Evidence: map[string]string{
				"resource_type": r.Type, "critical": strconv.Itoa(r.Critical), "high": strconv.Itoa(r.High),
				"medium": strconv.Itoa(r.Medium), "low": strconv.Itoa(r.Low), "other": strconv.Itoa(r.Other), "total": strconv.Itoa(r.Total)}}
		switch {
		case r.Critical > 0:
			f.Status, f.Severity = awsguard.StatusFail, awsguard.SeverityCritical
			f.Title = fmt.Sprintf("%s has %d critical and %d high Inspector findings", r.Resource, r.Critical, r.High)
		case r.High > 0:
			f.Status = awsguard.StatusFail
			f.Title = fmt.Sprintf("%s has %d high Inspector findings", r.Resource, r.High)
		default:
			f.Status = awsguard.StatusPass
			f.Title = fmt.Sprintf("%s has no critical or high Inspector finding (%d in all)", r.Resource, r.Total)
		}
		out = append(out, f)
	}
	return out
}

// AuditAPI is the part of *inspector2.Client that Audit calls:
// inspector2:BatchGetAccountStatus and inspector2:ListFindings.
type AuditAPI interface {
	StatusAPI
	FindingsAPI
}

var _ AuditAPI = (*inspector2.Client)(nil)

// Audit reads Inspector's status and ACTIVE findings in the client's
// region and returns inspector.enabled findings (per resource type) and
// inspector.findings findings (per resource with findings). A source that
// cannot be read gives StatusError findings for its check and an error
// wrapping ErrAuditIncomplete; the other check is still reported.
func Audit(ctx context.Context, api AuditAPI, filter FindingFilter, optFns ...func(*InspectorOptions)) (*awsguard.Report, *Summary, error) {
	o, err := inspectorOptions("inspect.Audit", api, optFns)
	if err == nil {
		err = needClient("inspect.Audit", api)
	}
	if err != nil {
		return nil, nil, err
	}
	rep := awsguard.NewReport(o.Now())
	var errs []error
	st, err := readStatus(ctx, api, o)
	if err != nil {
		errs = append(errs, err)
		rep.Add(errorFinding(CheckEnabled, o, err))
	} else {
		rep.Add(StatusFindings([]*AccountStatus{st}, o.ResourceTypes)...)
	}
	sum, err := Summarize(Findings(ctx, api, filter), 0)
	if err != nil {
		errs = append(errs, err)
		rep.Add(errorFinding(CheckFindings, o, err))
	} else {
		rep.Add(sum.Findings()...)
	}
	if len(errs) > 0 {
		return rep, sum, fmt.Errorf("%w: %w", ErrAuditIncomplete, joinErrors(errs))
	}
	return rep, sum, nil
}

func errorFinding(check string, o InspectorOptions, err error) awsguard.Finding {
	c := checkByID(check)
	return awsguard.Finding{Check: check, Status: awsguard.StatusError, Severity: c.Severity, Account: o.Account, Region: o.Region,
		Resource: "inspector2/" + o.Region, Title: "Inspector could not be read in " + o.Region, Controls: slices.Clone(c.Controls),
		Evidence: map[string]string{"error": err.Error()}}
}
