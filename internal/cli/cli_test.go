package cli_test

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestFail(t *testing.T) {
	var buf bytes.Buffer
	if code := cli.Fail(&buf, "tool", errors.New("step one failed:\n  detail")); code != 1 {
		t.Errorf("code = %d, want 1", code)
	}
	if got := buf.String(); got != "tool: step one failed: detail\n" {
		t.Errorf("stderr = %q, want one line", got)
	}
	buf.Reset()
	if code := cli.Fail(&buf, "tool", cli.Usagef("bad flag %s", "-x")); code != 2 || buf.String() != "tool: bad flag -x\n" {
		t.Errorf("usage: code %d, stderr %q", code, buf.String())
	}
	buf.Reset()
	if code := cli.Fail(&buf, "tool", flag.ErrHelp); code != 0 || buf.Len() != 0 {
		t.Errorf("help: code %d, stderr %q", code, buf.String())
	}
}

func TestWriteReport(t *testing.T) {
	r := awsguard.NewReport(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), awsguard.Finding{
		Check: "a.b.c", Status: awsguard.StatusFail, Severity: awsguard.SeverityLow, Resource: "r1", Title: "t",
	})
	for format, want := range map[string]string{
		"json":  `"generated_at": "2026-01-02T03:04:05Z"`,
		"csv":   "2026-01-02T03:04:05Z,a.b.c,FAIL,LOW",
		"table": "FAIL    LOW",
	} {
		var buf bytes.Buffer
		if err := cli.WriteReport(&buf, r, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s output lacks %q:\n%s", format, want, buf.String())
		}
	}
	if err := cli.WriteReport(&bytes.Buffer{}, r, "xml"); err == nil {
		t.Error("unknown format accepted")
	}
}
