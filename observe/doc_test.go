package observe_test

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/observe"
)

// tableRows returns the cells of the doc.go table rows whose first cell
// starts with prefix.
func tableRows(t *testing.T, prefix string) [][]string {
	b, err := os.ReadFile("doc.go")
	must(t, err)
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//\t| "+prefix) {
			continue
		}
		cells := strings.Split(line, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		out = append(out, cells[1:len(cells)-1])
	}
	return out
}

// The check table of the package documentation matches Checks.
func TestDocCheckTable(t *testing.T) {
	type row struct{ ID, Severity, Remediation string }
	var got, want []row
	for _, c := range tableRows(t, "observe.") {
		got = append(got, row{c[0], c[1], c[5]})
	}
	for _, c := range observe.Checks() {
		want = append(want, row{c.ID, string(c.Severity), c.Remediation})
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("doc.go check table (-Checks +doc):\n%s", d)
	}
}

// The state table of the package documentation lists every state.
func TestDocStateTable(t *testing.T) {
	var got, want []string
	for _, c := range tableRows(t, "Ensure") {
		got = append(got, c[0]+" "+c[1])
	}
	for s := observe.TopicAbsent; s <= observe.TopicCompliant; s++ {
		want = append(want, "EnsureAlertTopic "+s.String())
	}
	for s := observe.RuleAbsent; s <= observe.RuleCompliant; s++ {
		want = append(want, "EnsureEventRule "+s.String())
	}
	for s := observe.TrailAbsent; s <= observe.TrailCompliant; s++ {
		want = append(want, "EnsureTrailLogs "+s.String())
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("doc.go state table (-enums +doc):\n%s", d)
	}
	if s := observe.TopicState(99).String(); s != "TopicState(99)" {
		t.Errorf("unknown state = %s", s)
	}
}
