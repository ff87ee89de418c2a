package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

func asffReport() *awsguard.Report {
	return awsguard.NewReport(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		awsguard.Finding{Check: "iam.user.console_mfa", Status: awsguard.StatusFail, Severity: awsguard.SeverityHigh,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:user/alice",
			Title: "Console user alice has no MFA device", Evidence: map[string]string{"password_enabled": "true", "mfa_active": "false"},
			Controls: []string{"ISMS-P:2.5.3", "CIS:1.10"}, Remediation: "iamguard.CreateVirtualMFA"},
		awsguard.Finding{Check: "observe.alerts.topic", Status: awsguard.StatusPass, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: "ap-northeast-2", Resource: "arn:aws:sns:ap-northeast-2:123456789012:awsguard-alerts",
			Title: "An SNS topic has a confirmed subscription", Controls: []string{"ISMS-P:2.11.3"}},
		awsguard.Finding{Check: "observe.logs.retention", Status: awsguard.StatusError, Severity: awsguard.SeverityLow,
			Region: "ap-northeast-2", Resource: "arn:aws:logs:ap-northeast-2:123456789012:log-group:*",
			Title: "Log groups could not be read", Evidence: map[string]string{"error": "AccessDenied"}, Remediation: "observe.EnsureLogGroups"},
	)
}

func TestWriteASFFGolden(t *testing.T) {
	var buf bytes.Buffer
	must(t, observe.WriteASFF(&buf, asffReport(), "123456789012", "ap-northeast-2"))
	golden(t, "asff.json", buf.Bytes())
	var doc struct{ Findings []map[string]any }
	must(t, json.Unmarshal(buf.Bytes(), &doc))
	required := []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"}
	for _, f := range doc.Findings {
		for _, k := range required {
			if v, ok := f[k]; !ok || v == "" || v == nil {
				t.Errorf("finding %v lacks %s", f["Id"], k)
			}
		}
		if f["ProductArn"] != "arn:aws:securityhub:ap-northeast-2:123456789012:product/123456789012/default" {
			t.Errorf("ProductArn = %v", f["ProductArn"])
		}
	}
	if _, err := observe.ToASFF(asffReport(), "12345", "ap-northeast-2"); err == nil {
		t.Error("accepted a bad account")
	}
}

// The ID stays when the status and title change, and differs by control.
func TestFindingIDStable(t *testing.T) {
	f := asffReport().Findings[0]
	id := observe.FindingID(f, "123456789012", "ap-northeast-2")
	g := f
	g.Status, g.Title, g.Evidence = awsguard.StatusPass, "Console user alice has MFA", nil
	if observe.FindingID(g, "123456789012", "ap-northeast-2") != id {
		t.Error("ID changed with the status and title")
	}
	g.Controls = []string{"CIS:4.1"}
	if observe.FindingID(g, "123456789012", "ap-northeast-2") == id {
		t.Error("ID did not change with the controls")
	}
	if !strings.HasPrefix(id, "awsguard/iam.user.console_mfa/") {
		t.Errorf("id = %s", id)
	}
}

// fakeHub refuses the findings whose ID is in refuse.
type fakeHub struct {
	calls  []int
	refuse map[string]bool
}

func (h *fakeHub) BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	h.calls = append(h.calls, len(in.Findings))
	out := &securityhub.BatchImportFindingsOutput{}
	ok := int32(0)
	for _, f := range in.Findings {
		if h.refuse[aws.ToString(f.Id)] {
			out.FailedFindings = append(out.FailedFindings, shtypes.ImportFindingsError{Id: f.Id, ErrorCode: aws.String("InvalidInput"), ErrorMessage: aws.String("refused")})
			continue
		}
		ok++
	}
	out.SuccessCount, out.FailedCount = aws.Int32(ok), aws.Int32(int32(len(out.FailedFindings)))
	return out, nil
}

func bigReport(n int) *awsguard.Report {
	rep := awsguard.NewReport(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	for i := range n {
		rep.Add(awsguard.Finding{Check: "observe.logs.retention", Status: awsguard.StatusFail, Severity: awsguard.SeverityLow,
			Account: "123456789012", Region: "us-east-1", Resource: fmt.Sprintf("arn:aws:logs:us-east-1:123456789012:log-group:g%03d", i), Title: "no retention"})
	}
	return rep
}

func TestPublishFindingsBatches(t *testing.T) {
	rep := bigReport(250)
	fs, err := observe.ToASFF(rep, "123456789012", "us-east-1")
	must(t, err)
	hub := &fakeHub{refuse: map[string]bool{fs[7].ID: true, fs[201].ID: true}}
	res, err := observe.PublishFindings(context.Background(), hub, rep)
	if !errors.Is(err, observe.ErrPartialFailure) {
		t.Fatalf("err = %v", err)
	}
	if cmpDiff([]int{100, 100, 50}, hub.calls) != "" || res.Batches != 3 || res.Imported != 248 || len(res.Failed) != 2 {
		t.Fatalf("calls %v, result %+v", hub.calls, res)
	}
	if res.Failed[0].ID != fs[7].ID || res.Failed[0].Resource != fs[7].Resources[0].ID || res.Failed[0].Check != "observe.logs.retention" {
		t.Errorf("failed = %+v", res.Failed[0])
	}
}

func TestPublishFindingsMoto(t *testing.T) {
	env := sharedEnv(t)
	cfg, calls := counted(env)
	res, err := observe.PublishFindings(context.Background(), securityhub.NewFromConfig(cfg), bigReport(120))
	must(t, err)
	if res.Imported != 120 || res.Batches != 2 || calls.Count("SecurityHub", "BatchImportFindings") != 2 {
		t.Errorf("result %+v, calls %v", res, calls)
	}
}
