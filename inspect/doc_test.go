package inspect_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/inspect"
)

// The check table of the package documentation matches Checks.
func TestDocCheckTable(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Severity, Note, ISMSP, Remediation string }
	var got []row
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//\t| network.") && !strings.HasPrefix(line, "//\t| inspector.") {
			continue
		}
		c := strings.Split(line, "|")
		for i := range c {
			c[i] = strings.TrimSpace(c[i])
		}
		got = append(got, row{c[1], c[2], c[3], c[4], c[5]})
	}
	var want []row
	for _, c := range inspect.Checks() {
		var isms []string
		for _, ctl := range c.Controls {
			if s, ok := strings.CutPrefix(ctl, "ISMS-P:"); ok {
				isms = append(isms, s)
			}
		}
		want = append(want, row{c.ID, string(c.Severity), c.SeverityNote, strings.Join(isms, ", "), c.Remediation})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go check table (-Checks +doc):\n%s", diff)
	}
}

// Every finding the package makes uses a check of the table, with its
// controls.
func TestFindingsUseDocumentedChecks(t *testing.T) {
	checks := map[string]inspect.Check{}
	for _, c := range inspect.Checks() {
		checks[c.ID] = c
	}
	for _, f := range inspect.NetworkFindings(publicWorld(), inspect.DefaultPorts) {
		c, ok := checks[f.Check]
		if !ok || !cmp.Equal(c.Controls, f.Controls) {
			t.Errorf("finding %s with controls %v is not in the table", f.Check, f.Controls)
		}
	}
}
