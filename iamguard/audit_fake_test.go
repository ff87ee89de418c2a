package iamguard_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// auditFake implements iamguard.AuditAPI with a function per method. A
// method without a function fails the call instead of panicking.
type auditFake struct {
	mu       sync.Mutex
	calls    []string
	generate func() (*iam.GenerateCredentialReportOutput, error)
	get      func() (*iam.GetCredentialReportOutput, error)
	policy   func() (*iam.GetAccountPasswordPolicyOutput, error)
	summary  func() (*iam.GetAccountSummaryOutput, error)
	details  func(in *iam.GetAccountAuthorizationDetailsInput) (*iam.GetAccountAuthorizationDetailsOutput, error)
}

func (f *auditFake) record(ctx context.Context, op string) error {
	f.mu.Lock()
	f.calls = append(f.calls, op)
	f.mu.Unlock()
	return ctx.Err()
}

func auditFakeUnexpected(op string) error { return fmt.Errorf("fake: unexpected call %s", op) }

func (f *auditFake) GenerateCredentialReport(ctx context.Context, _ *iam.GenerateCredentialReportInput, _ ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error) {
	if err := f.record(ctx, "GenerateCredentialReport"); err != nil {
		return nil, err
	}
	if f.generate == nil {
		return nil, auditFakeUnexpected("GenerateCredentialReport")
	}
	return f.generate()
}

func (f *auditFake) GetCredentialReport(ctx context.Context, _ *iam.GetCredentialReportInput, _ ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error) {
	if err := f.record(ctx, "GetCredentialReport"); err != nil {
		return nil, err
	}
	if f.get == nil {
		return nil, auditFakeUnexpected("GetCredentialReport")
	}
	return f.get()
}

func (f *auditFake) GetAccountPasswordPolicy(ctx context.Context, _ *iam.GetAccountPasswordPolicyInput, _ ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error) {
	if err := f.record(ctx, "GetAccountPasswordPolicy"); err != nil {
		return nil, err
	}
	if f.policy == nil {
		return nil, auditFakeUnexpected("GetAccountPasswordPolicy")
	}
	return f.policy()
}

func (f *auditFake) GetAccountSummary(ctx context.Context, _ *iam.GetAccountSummaryInput, _ ...func(*iam.Options)) (*iam.GetAccountSummaryOutput, error) {
	if err := f.record(ctx, "GetAccountSummary"); err != nil {
		return nil, err
	}
	if f.summary == nil {
		return nil, auditFakeUnexpected("GetAccountSummary")
	}
	return f.summary()
}

func (f *auditFake) GetAccountAuthorizationDetails(ctx context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	if err := f.record(ctx, "GetAccountAuthorizationDetails"); err != nil {
		return nil, err
	}
	if f.details == nil {
		return nil, auditFakeUnexpected("GetAccountAuthorizationDetails")
	}
	return f.details(in)
}

func (f *auditFake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// auditReportHeader is the credential report header AWS writes.
const auditReportHeader = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"

const auditAccount = "111122223333"

// auditReportRow is one row of a test credential report; empty fields get the
// report's "no value" spelling.
type auditReportRow struct {
	user, created, password, mfa string
	k1Active, k1Rotated, k1Used  string
	k2Active, k2Rotated, k2Used  string
}

func reportOrNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

func reportOrFalse(s string) string {
	if s == "" {
		return "false"
	}
	return s
}

func (r auditReportRow) csv() string {
	arn := "arn:aws:iam::" + auditAccount + ":user/" + r.user
	pw := reportOrFalse(r.password)
	if r.user == "<root_account>" {
		arn = "arn:aws:iam::" + auditAccount + ":root"
		pw = "not_supported"
	}
	created := r.created
	if created == "" {
		created = "2020-01-01T00:00:00+00:00"
	}
	return strings.Join([]string{
		r.user, arn, created, pw, "no_information", "N/A", "not_supported", reportOrFalse(r.mfa),
		reportOrFalse(r.k1Active), reportOrNA(r.k1Rotated), reportOrNA(r.k1Used), "N/A", "N/A",
		reportOrFalse(r.k2Active), reportOrNA(r.k2Rotated), reportOrNA(r.k2Used), "N/A", "N/A",
		"false", "N/A", "false", "N/A",
	}, ",")
}

func auditReportCSV(rows ...auditReportRow) []byte {
	lines := []string{auditReportHeader}
	for _, r := range rows {
		lines = append(lines, r.csv())
	}
	return []byte(strings.Join(lines, "\n") + "\n")
}

var auditReportTime = time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)

// auditCompleteReport makes a fake whose report is ready at once.
func auditCompleteReport(f *auditFake, content []byte) {
	f.generate = func() (*iam.GenerateCredentialReportOutput, error) {
		return &iam.GenerateCredentialReportOutput{State: types.ReportStateTypeComplete}, nil
	}
	f.get = func() (*iam.GetCredentialReportOutput, error) {
		return &iam.GetCredentialReportOutput{Content: content, GeneratedTime: aws.Time(auditReportTime), ReportFormat: types.ReportFormatTypeTextCsv}, nil
	}
}

func auditUserDetail(name, created string, groups []string, attached []string, inline []string) types.UserDetail {
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		panic(err)
	}
	d := types.UserDetail{
		UserName:   aws.String(name),
		Arn:        aws.String("arn:aws:iam::" + auditAccount + ":user/" + name),
		CreateDate: aws.Time(t),
		GroupList:  groups,
	}
	for _, p := range attached {
		d.AttachedManagedPolicies = append(d.AttachedManagedPolicies, types.AttachedPolicy{PolicyName: aws.String(p), PolicyArn: aws.String("arn:aws:iam::aws:policy/" + p)})
	}
	for _, p := range inline {
		d.UserPolicyList = append(d.UserPolicyList, types.PolicyDetail{PolicyName: aws.String(p)})
	}
	return d
}
