package awsguard_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", name, diff)
	}
}

var generated = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// sample is deliberately out of order.
func sample() []awsguard.Finding {
	return []awsguard.Finding{
		{
			Check: "iam.user.console_mfa", Status: awsguard.StatusPass, Severity: awsguard.SeverityHigh,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:user/bob",
			Title: "Console user bob has an MFA device", Evidence: map[string]string{"password_enabled": "true", "mfa_active": "true"},
			Controls: []string{"ISMS-P:2.5.3", "CIS:1.10"},
		},
		{
			Check: "iam.password_policy", Status: awsguard.StatusFail, Severity: awsguard.SeverityMedium,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:root",
			Title: "No account password policy", Controls: []string{"ISMS-P:2.5.4"}, Remediation: "iamguard.EnablePasswordPolicy",
		},
		{
			Check: "iam.user.console_mfa", Status: awsguard.StatusFail, Severity: awsguard.SeverityHigh,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:user/alice",
			Title: "Console user alice has no MFA device", Evidence: map[string]string{"password_enabled": "true", "mfa_active": "false"},
			Controls: []string{"ISMS-P:2.5.3", "CIS:1.10"}, Remediation: "iamguard.EnforceMFA",
		},
		{
			Check: "iam.user.direct_policies", Status: awsguard.StatusFail, Severity: awsguard.SeverityLow,
			Account: "123456789012", Region: awsguard.RegionGlobal, Resource: "arn:aws:iam::123456789012:user/=cmd|' /C calc'!A0",
			Title: "=cmd|' /C calc'!A0 has \"inline\" policies,\nsplit", Evidence: map[string]string{"inline": "p1,p2"},
			Controls: []string{"ISMS-P:2.5.1", "CIS:1.15"},
		},
		{
			Check: "ec2.sg.open_ssh", Status: awsguard.StatusError, Severity: awsguard.SeverityCritical,
			Account: "123456789012", Region: "ap-northeast-2", Resource: "sg-0123",
			Title: "Could not read security group sg-0123", Evidence: map[string]string{"error": "AccessDenied"},
		},
	}
}

func TestReportJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := awsguard.NewReport(generated, sample()...).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json", buf.Bytes())
}

func TestReportCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := awsguard.NewReport(generated, sample()...).WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", buf.Bytes())
	if strings.Contains(buf.String(), ",=cmd") || strings.Contains(buf.String(), "\"=cmd") {
		t.Error("a cell starting with = was written unescaped")
	}
	if !strings.Contains(buf.String(), `"'=cmd`) {
		t.Error("the formula-like title did not get its leading apostrophe")
	}
}

func TestReportTableGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := awsguard.NewReport(generated, sample()...).WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", buf.Bytes())
}

func TestJSONRoundTrip(t *testing.T) {
	r := awsguard.NewReport(generated.Add(123*time.Millisecond).In(time.FixedZone("KST", 9*3600)), sample()...)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := awsguard.ReadReport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := awsguard.NewReport(generated, sample()...)
	// Nil evidence and controls come back empty: the JSON never says null.
	for i := range want.Findings {
		if want.Findings[i].Evidence == nil {
			want.Findings[i].Evidence = map[string]string{}
		}
		if want.Findings[i].Controls == nil {
			want.Findings[i].Controls = []string{}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestEmptyReportJSON(t *testing.T) {
	b, err := json.Marshal(awsguard.Report{GeneratedAt: generated})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"generated_at":"2026-11-22T10:00:00Z","findings":[]}`; string(b) != want {
		t.Errorf("empty report = %s, want %s", b, want)
	}
}

func TestReadReportRejects(t *testing.T) {
	for name, in := range map[string]string{
		"unknown status":   `{"generated_at":"2026-11-22T10:00:00Z","findings":[{"check":"a.b.c","status":"MAYBE","severity":"LOW"}]}`,
		"unknown severity": `{"generated_at":"2026-11-22T10:00:00Z","findings":[{"check":"a.b.c","status":"PASS","severity":"URGENT"}]}`,
		"missing status":   `{"generated_at":"2026-11-22T10:00:00Z","findings":[{"check":"a.b.c","severity":"LOW"}]}`,
		"missing check":    `{"generated_at":"2026-11-22T10:00:00Z","findings":[{"status":"PASS","severity":"LOW"}]}`,
		"bad time":         `{"generated_at":"yesterday","findings":[]}`,
		"not json":         `findings`,
	} {
		if _, err := awsguard.ReadReport(strings.NewReader(in)); err == nil {
			t.Errorf("%s: ReadReport accepted %s", name, in)
		}
	}
}

func TestDeterministicOrder(t *testing.T) {
	a := awsguard.NewReport(generated, sample()...)
	rev := sample()
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b := awsguard.NewReport(generated, rev...)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("order depends on input order (-a +b):\n%s", diff)
	}
	var got []string
	for _, f := range a.Findings {
		got = append(got, f.Check+" "+f.Resource)
	}
	want := []string{
		"ec2.sg.open_ssh sg-0123",
		"iam.password_policy arn:aws:iam::123456789012:root",
		"iam.user.console_mfa arn:aws:iam::123456789012:user/alice",
		"iam.user.console_mfa arn:aws:iam::123456789012:user/bob",
		"iam.user.direct_policies arn:aws:iam::123456789012:user/=cmd|' /C calc'!A0",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

func TestMergeAndSummary(t *testing.T) {
	s := sample()
	r1 := awsguard.NewReport(generated.Add(time.Hour), s[:2]...)
	r2 := awsguard.NewReport(generated, s[2:]...)
	m := awsguard.Merge(r1, nil, r2)
	if !m.GeneratedAt.Equal(generated) {
		t.Errorf("merged GeneratedAt = %v, want the oldest part's %v", m.GeneratedAt, generated)
	}
	if diff := cmp.Diff(awsguard.NewReport(generated, sample()...).Findings, m.Findings); diff != "" {
		t.Errorf("merged findings (-want +got):\n%s", diff)
	}
	sum := m.Summary()
	want := awsguard.Summary{
		Total:            5,
		ByStatus:         map[awsguard.Status]int{awsguard.StatusPass: 1, awsguard.StatusFail: 3, awsguard.StatusError: 1},
		BySeverity:       map[awsguard.Severity]int{awsguard.SeverityCritical: 1, awsguard.SeverityHigh: 2, awsguard.SeverityMedium: 1, awsguard.SeverityLow: 1},
		FailedBySeverity: map[awsguard.Severity]int{awsguard.SeverityHigh: 1, awsguard.SeverityMedium: 1, awsguard.SeverityLow: 1},
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if got, want := sum.String(), "5 findings, 1 PASS, 3 FAIL, 1 ERROR (failed: 1 HIGH, 1 MEDIUM, 1 LOW)"; got != want {
		t.Errorf("summary string = %q, want %q", got, want)
	}
	if got := m.Filter(func(f awsguard.Finding) bool { return f.Status == awsguard.StatusFail }).Summary().Total; got != 3 {
		t.Errorf("filtered total = %d, want 3", got)
	}
	if diff := cmp.Diff([]string{"ec2.sg.open_ssh", "iam.password_policy", "iam.user.console_mfa", "iam.user.direct_policies"}, m.Checks()); diff != "" {
		t.Errorf("checks (-want +got):\n%s", diff)
	}
}

func TestSeverityRank(t *testing.T) {
	if !(awsguard.SeverityCritical.Rank() < awsguard.SeverityHigh.Rank() && awsguard.SeverityLow.Rank() < awsguard.SeverityInfo.Rank() &&
		awsguard.SeverityInfo.Rank() < awsguard.Severity("BOGUS").Rank()) {
		t.Error("severity ranks are out of order")
	}
}

func FuzzReadReport(f *testing.F) {
	var buf bytes.Buffer
	_ = awsguard.NewReport(generated, sample()...).WriteJSON(&buf)
	f.Add(buf.String())
	f.Add(`{"generated_at":"2026-11-22T10:00:00Z","findings":[]}`)
	f.Fuzz(func(t *testing.T, in string) {
		r, err := awsguard.ReadReport(strings.NewReader(in))
		if err != nil {
			return
		}
		// Whatever was accepted writes and reads back to the same report.
		var out bytes.Buffer
		if err := r.WriteJSON(&out); err != nil {
			t.Fatal(err)
		}
		written := out.String()
		r2, err := awsguard.ReadReport(&out)
		if err != nil {
			t.Fatalf("re-read of written report: %v", err)
		}
		var out2 bytes.Buffer
		if err := r2.WriteJSON(&out2); err != nil {
			t.Fatal(err)
		}
		if written != out2.String() {
			t.Fatalf("not stable:\n%s\n%s", written, out2.String())
		}
		var csvOut bytes.Buffer
		if err := r.WriteCSV(&csvOut); err != nil {
			t.Fatal(err)
		}
	})
}
