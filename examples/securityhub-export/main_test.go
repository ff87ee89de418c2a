package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/observe"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestExport(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	ctx := context.Background()
	// observe's own audit of the empty region: printed as ASFF, then sent.
	var out bytes.Buffer
	if err := run(ctx, []string{"-dry-run"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var doc struct{ Findings []observe.ASFF }
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil || len(doc.Findings) == 0 {
		t.Fatalf("dry run: %v\n%s", err, out.String())
	}
	if doc.Findings[0].AwsAccountID != awstest.DefaultAccount || doc.Findings[0].ProductArn != observe.DefaultProductARN(awstest.DefaultAccount, awstest.DefaultRegion) {
		t.Errorf("finding = %+v", doc.Findings[0])
	}
	out.Reset()
	if err := run(ctx, []string{"-format", "json"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var res observe.PublishResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Imported != len(doc.Findings) || res.Batches != 1 {
		t.Errorf("publish = %+v (%v)", res, err)
	}
	// A report file from audit.
	rep := awsguard.NewReport(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), awsguard.Finding{Check: "iam.root.mfa", Status: awsguard.StatusFail,
		Severity: awsguard.SeverityCritical, Account: awstest.DefaultAccount, Region: awsguard.RegionGlobal,
		Resource: "arn:aws:iam::123456789012:root", Title: "The root user has no MFA", Controls: []string{"CIS:1.5"}})
	path := filepath.Join(t.TempDir(), "report.json")
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"-report", path}, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "1 findings imported in 1 calls, 0 refused") {
		t.Errorf("report file: %v\n%s", err, out.String())
	}
	stdin = strings.NewReader("not json")
	if err := run(ctx, []string{"-report", "-"}, &out, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("bad stdin: err = %v", err)
	}
}
