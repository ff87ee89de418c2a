package observe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/awsguard/awsguard"
)

// SecurityHubAPI is the part of *securityhub.Client that PublishFindings
// calls: securityhub:BatchImportFindings.
type SecurityHubAPI interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ SecurityHubAPI = (*securityhub.Client)(nil)

// ASFFSchemaVersion is the AWS Security Finding Format version written.
const ASFFSchemaVersion = "2018-10-08"

// ASFF is one finding in AWS Security Finding Format, with the fields
// awsguard fills. Its JSON is what BatchImportFindings takes.
type ASFF struct {
	SchemaVersion string            `json:"SchemaVersion"`
	ID            string            `json:"Id"`
	ProductArn    string            `json:"ProductArn"`
	ProductName   string            `json:"ProductName"`
	CompanyName   string            `json:"CompanyName"`
	GeneratorID   string            `json:"GeneratorId"`
	AwsAccountID  string            `json:"AwsAccountId"`
	Region        string            `json:"Region"`
	Types         []string          `json:"Types"`
	CreatedAt     string            `json:"CreatedAt"`
	UpdatedAt     string            `json:"UpdatedAt"`
	Severity      ASFFSeverity      `json:"Severity"`
	Title         string            `json:"Title"`
	Description   string            `json:"Description"`
	Remediation   *ASFFRemediation  `json:"Remediation,omitempty"`
	ProductFields map[string]string `json:"ProductFields,omitempty"`
	Resources     []ASFFResource    `json:"Resources"`
	Compliance    ASFFCompliance    `json:"Compliance"`
	Workflow      ASFFWorkflow      `json:"Workflow"`
	RecordState   string            `json:"RecordState"`
}

// ASFFSeverity is the finding's severity label: INFORMATIONAL, LOW,
// MEDIUM, HIGH or CRITICAL.
type ASFFSeverity struct {
	Label string `json:"Label"`
}

// ASFFRemediation says which awsguard function fixes the finding.
type ASFFRemediation struct {
	Recommendation struct {
		Text string `json:"Text"`
	} `json:"Recommendation"`
}

// ASFFResource is the resource a finding is about.
type ASFFResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition,omitempty"`
	Region    string `json:"Region,omitempty"`
}

// ASFFCompliance carries the check's verdict and the baseline items
// (RelatedRequirements, such as "ISMS-P:2.5.3" or "CIS:1.10").
type ASFFCompliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

// ASFFWorkflow is the finding's workflow status: NEW or RESOLVED.
type ASFFWorkflow struct {
	Status string `json:"Status"`
}

var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// DefaultProductARN is the ARN of Security Hub's default product of an
// account and region, through which an account imports its own findings.
func DefaultProductARN(account, region string) string {
	return "arn:" + partitionOf(region) + ":securityhub:" + region + ":" + account + ":product/" + account + "/default"
}

func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// FindingID is the stable ASFF ID of a finding: the same check about the
// same resource, account, region and controls always gets the same ID,
// whatever its status or title, so that publishing again updates the
// finding rather than adding one.
func FindingID(f awsguard.Finding, account, region string) string {
	if f.Account != "" {
		account = f.Account
	}
	if f.Region != "" {
		region = f.Region
	}
	controls := slices.Clone(f.Controls)
	slices.Sort(controls)
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Check, account, region, f.Resource, strings.Join(controls, ",")}, "\x00")))
	return "awsguard/" + f.Check + "/" + hex.EncodeToString(sum[:12])
}

var severityLabels = map[awsguard.Severity]string{
	awsguard.SeverityCritical: "CRITICAL", awsguard.SeverityHigh: "HIGH", awsguard.SeverityMedium: "MEDIUM",
	awsguard.SeverityLow: "LOW", awsguard.SeverityInfo: "INFORMATIONAL",
}

// resourceType names the ASFF resource type of an ARN or ID.
func resourceType(res string) string {
	a, err := arn.Parse(res)
	if err != nil {
		if strings.HasPrefix(res, "i-") {
			return "AwsEc2Instance"
		}
		return "Other"
	}
	switch {
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return "AwsIamUser"
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		return "AwsIamRole"
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "group/"):
		return "AwsIamGroup"
	case a.Service == "iam" && strings.HasPrefix(a.Resource, "policy/"):
		return "AwsIamPolicy"
	case a.Service == "iam" && a.Resource == "root":
		return "AwsAccount"
	case a.Service == "sns" && a.Resource != "*":
		return "AwsSnsTopic"
	case a.Service == "ec2" && strings.HasPrefix(a.Resource, "instance/"):
		return "AwsEc2Instance"
	case a.Service == "ec2" && strings.HasPrefix(a.Resource, "security-group/"):
		return "AwsEc2SecurityGroup"
	case a.Service == "wafv2":
		return "AwsWafv2WebAcl"
	}
	return "Other"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}

// ToASFF converts a report into AWS Security Finding Format, for import
// into Security Hub by the given account in the given region (the
// default product's ProductArn). It makes no call. A finding's own
// account and region are kept when set (RegionGlobal becomes the import
// region); FAIL becomes Compliance FAILED with Workflow NEW, PASS becomes
// PASSED and RESOLVED, ERROR becomes WARNING and NEW, NOT_APPLICABLE
// becomes NOT_AVAILABLE and RESOLVED. The controls go to
// Compliance.RelatedRequirements, the evidence to ProductFields
// ("awsguard/evidence/KEY"), the remediation to
// Remediation.Recommendation. IDs are FindingID's.
func ToASFF(rep *awsguard.Report, account, region string) ([]ASFF, error) {
	const op = "observe.ToASFF"
	if !accountRE.MatchString(account) {
		return nil, inputErr(op, "account", account, "a 12-digit AWS account ID")
	}
	if !regionRE.MatchString(region) {
		return nil, inputErr(op, "region", region, "an AWS region such as ap-northeast-2")
	}
	if rep == nil {
		return nil, inputErr(op, "report", "nil", "a report")
	}
	at := rep.GeneratedAt.UTC()
	if at.IsZero() {
		at = time.Unix(0, 0).UTC()
	}
	stamp := at.Format(time.RFC3339)
	product := DefaultProductARN(account, region)
	fs := slices.Clone(rep.Findings)
	(&awsguard.Report{Findings: fs}).Sort()
	out := make([]ASFF, 0, len(fs))
	for _, f := range fs {
		acct := f.Account
		if acct == "" {
			acct = account
		}
		reg := f.Region
		if reg == "" || reg == awsguard.RegionGlobal {
			reg = region
		}
		a := ASFF{
			SchemaVersion: ASFFSchemaVersion,
			ID:            FindingID(f, account, region),
			ProductArn:    product,
			ProductName:   "awsguard",
			CompanyName:   "awsguard",
			GeneratorID:   "awsguard/" + f.Check,
			AwsAccountID:  acct,
			Region:        reg,
			Types:         []string{"Software and Configuration Checks/AWS Security Best Practices"},
			CreatedAt:     stamp,
			UpdatedAt:     stamp,
			Severity:      ASFFSeverity{Label: severityLabels[f.Severity]},
			Title:         truncate(f.Title, 256),
			RecordState:   "ACTIVE",
		}
		if a.Severity.Label == "" {
			a.Severity.Label = "INFORMATIONAL"
		}
		if a.Title == "" {
			a.Title = f.Check
		}
		if len(f.Controls) > 0 {
			a.Types = []string{"Software and Configuration Checks/Industry and Regulatory Standards"}
			a.Compliance.RelatedRequirements = slices.Clone(f.Controls)
			if len(a.Compliance.RelatedRequirements) > 32 {
				a.Compliance.RelatedRequirements = a.Compliance.RelatedRequirements[:32]
			}
		}
		switch f.Status {
		case awsguard.StatusPass:
			a.Compliance.Status, a.Workflow.Status, a.Severity.Label = "PASSED", "RESOLVED", "INFORMATIONAL"
		case awsguard.StatusFail:
			a.Compliance.Status, a.Workflow.Status = "FAILED", "NEW"
		case awsguard.StatusError:
			a.Compliance.Status, a.Workflow.Status = "WARNING", "NEW"
		default:
			a.Compliance.Status, a.Workflow.Status = "NOT_AVAILABLE", "RESOLVED"
		}
		keys := slices.Sorted(maps.Keys(f.Evidence))
		var ev []string
		a.ProductFields = map[string]string{"awsguard/check": f.Check, "awsguard/status": string(f.Status)}
		for _, k := range keys {
			ev = append(ev, k+"="+f.Evidence[k])
			if len(a.ProductFields) < 50 {
				a.ProductFields[truncate("awsguard/evidence/"+k, 128)] = truncate(f.Evidence[k], 2048)
			}
		}
		desc := f.Title
		if len(ev) > 0 {
			desc += " (" + strings.Join(ev, ", ") + ")"
		}
		a.Description = truncate(desc, 1024)
		if a.Description == "" {
			a.Description = a.Title
		}
		if f.Remediation != "" {
			a.Remediation = &ASFFRemediation{}
			a.Remediation.Recommendation.Text = truncate("Fix with awsguard: "+f.Remediation, 512)
		}
		res := ASFFResource{Type: resourceType(f.Resource), ID: f.Resource, Partition: partitionOf(reg), Region: reg}
		if res.ID == "" {
			res.ID = "AWS::::Account:" + acct
			res.Type = "AwsAccount"
		}
		a.Resources = []ASFFResource{res}
		out = append(out, a)
	}
	return out, nil
}

// WriteASFF writes the report as {"Findings": [...]} in AWS Security
// Finding Format (ToASFF's), indented: the input BatchImportFindings
// takes (at most 100 findings a call).
func WriteASFF(w io.Writer, rep *awsguard.Report, account, region string) error {
	fs, err := ToASFF(rep, account, region)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(struct {
		Findings []ASFF `json:"Findings"`
	}{fs}, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// sdk converts the finding into the SDK's type.
func (a ASFF) sdk() shtypes.AwsSecurityFinding {
	f := shtypes.AwsSecurityFinding{
		SchemaVersion: aws.String(a.SchemaVersion), Id: aws.String(a.ID), ProductArn: aws.String(a.ProductArn),
		ProductName: aws.String(a.ProductName), CompanyName: aws.String(a.CompanyName),
		GeneratorId: aws.String(a.GeneratorID), AwsAccountId: aws.String(a.AwsAccountID), Region: aws.String(a.Region),
		Types: a.Types, CreatedAt: aws.String(a.CreatedAt), UpdatedAt: aws.String(a.UpdatedAt),
		Severity: &shtypes.Severity{Label: shtypes.SeverityLabel(a.Severity.Label)},
		Title:    aws.String(a.Title), Description: aws.String(a.Description), ProductFields: a.ProductFields,
		Compliance:  &shtypes.Compliance{Status: shtypes.ComplianceStatus(a.Compliance.Status), RelatedRequirements: a.Compliance.RelatedRequirements},
		Workflow:    &shtypes.Workflow{Status: shtypes.WorkflowStatus(a.Workflow.Status)},
		RecordState: shtypes.RecordState(a.RecordState),
	}
	if a.Remediation != nil {
		f.Remediation = &shtypes.Remediation{Recommendation: &shtypes.Recommendation{Text: aws.String(a.Remediation.Recommendation.Text)}}
	}
	for _, r := range a.Resources {
		f.Resources = append(f.Resources, shtypes.Resource{Type: aws.String(r.Type), Id: aws.String(r.ID),
			Partition: shtypes.Partition(r.Partition), Region: aws.String(r.Region)})
	}
	return f
}

// PublishOptions tune PublishFindings.
type PublishOptions struct {
	// Account and Region are the importing account and the Security Hub
	// region; by default the first account and region of the findings.
	Account, Region string
	// BatchSize is how many findings go in one call; default and at most
	// 100, BatchImportFindings' limit.
	BatchSize int
}

// FailedFinding is a finding Security Hub refused.
type FailedFinding struct {
	ID       string `json:"id"`
	Check    string `json:"check"`
	Resource string `json:"resource"`
	Code     string `json:"code"`
	Message  string `json:"message"`
}

// PublishResult says what PublishFindings sent.
type PublishResult struct {
	Imported int             `json:"imported"`
	Failed   []FailedFinding `json:"failed,omitempty"`
	// Batches is the number of BatchImportFindings calls made.
	Batches int `json:"batches"`
}

// PublishFindings sends the report's findings to Security Hub through the
// account's default product (ToASFF), in batches of up to 100. Publishing
// the same report again updates the findings (their IDs are stable) and
// adds none. Findings Security Hub refuses are listed by ID in the
// result's Failed and the error wraps ErrPartialFailure; a call that
// fails stops the publishing, with the result of the batches before it.
// Security Hub must be enabled in the region. Permissions:
// securityhub:BatchImportFindings.
func PublishFindings(ctx context.Context, api SecurityHubAPI, rep *awsguard.Report, optFns ...func(*PublishOptions)) (*PublishResult, error) {
	const op = "observe.PublishFindings"
	var o PublishOptions
	for _, f := range optFns {
		f(&o)
	}
	if rep == nil {
		return nil, inputErr(op, "report", "nil", "a report")
	}
	if o.BatchSize == 0 {
		o.BatchSize = 100
	}
	if o.BatchSize < 1 || o.BatchSize > 100 {
		return nil, inputErr(op, "PublishOptions.BatchSize", fmt.Sprint(o.BatchSize), "1..100")
	}
	for _, f := range rep.Findings {
		if o.Account == "" && accountRE.MatchString(f.Account) {
			o.Account = f.Account
		}
		if o.Region == "" && regionRE.MatchString(f.Region) {
			o.Region = f.Region
		}
	}
	if !accountRE.MatchString(o.Account) {
		return nil, inputErr(op, "PublishOptions.Account", o.Account, "a 12-digit AWS account ID (none in the findings)")
	}
	if !regionRE.MatchString(o.Region) {
		return nil, inputErr(op, "PublishOptions.Region", o.Region, "an AWS region (none in the findings)")
	}
	fs, err := ToASFF(rep, o.Account, o.Region)
	if err != nil {
		return nil, err
	}
	byID := map[string]ASFF{}
	for _, f := range fs {
		byID[f.ID] = f
	}
	res := &PublishResult{}
	for batch := range slices.Chunk(fs, o.BatchSize) {
		in := &securityhub.BatchImportFindingsInput{}
		for _, f := range batch {
			in.Findings = append(in.Findings, f.sdk())
		}
		out, err := api.BatchImportFindings(ctx, in)
		res.Batches++
		if err != nil {
			return res, fmt.Errorf("%s: batch %d of %d findings (%d imported before it): %w", op, res.Batches, len(batch), res.Imported, err)
		}
		res.Imported += int(aws.ToInt32(out.SuccessCount))
		for _, e := range out.FailedFindings {
			id := aws.ToString(e.Id)
			res.Failed = append(res.Failed, FailedFinding{ID: id, Check: byID[id].ProductFields["awsguard/check"],
				Resource: firstResource(byID[id]), Code: aws.ToString(e.ErrorCode), Message: aws.ToString(e.ErrorMessage)})
		}
	}
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("%s: %w: %d of %d findings refused", op, ErrPartialFailure, len(res.Failed), len(fs))
	}
	return res, nil
}

func firstResource(a ASFF) string {
	if len(a.Resources) == 0 {
		return ""
	}
	return a.Resources[0].ID
}
