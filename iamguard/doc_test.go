package iamguard_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/iamguard"
)

// The check table of the package documentation matches Checks.
func TestDocCheckTable(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ ID, Severity, Remediation string }
	var got []row
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//\t| iam.") {
			continue
		}
		cells := strings.Split(line, "|")
		got = append(got, row{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[6])})
	}
	var want []row
	for _, c := range iamguard.Checks() {
		want = append(want, row{c.ID, string(c.Severity), c.Remediation})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go check table (-Checks +doc):\n%s", diff)
	}
}
