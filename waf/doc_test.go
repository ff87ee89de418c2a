package waf_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/waf"
)

func docRows(t *testing.T, prefix string) [][]string {
	t.Helper()
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "//\t| ") {
			continue
		}
		cells := strings.Split(line, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[1], prefix) {
			out = append(out, cells[1:len(cells)-1])
		}
	}
	return out
}

// The check table of the package documentation matches Checks.
func TestDocCheckTable(t *testing.T) {
	type row struct{ ID, Severity, Remediation string }
	var got []row
	for _, c := range append(docRows(t, "waf."), append(docRows(t, "elb."), docRows(t, "acm.")...)...) {
		got = append(got, row{c[0], c[1], c[5]})
	}
	var want []row
	for _, c := range waf.Checks() {
		want = append(want, row{c.ID, string(c.Severity), c.Remediation})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go check table (-Checks +doc):\n%s", diff)
	}
}

// The state tables of the package documentation name every state.
func TestDocStateTables(t *testing.T) {
	names := map[string]bool{}
	for _, prefix := range []string{""} {
		for _, r := range docRows(t, prefix) {
			names[r[0]] = true
		}
	}
	for _, s := range []interface{ String() string }{waf.ACLAbsent, waf.ACLIncomplete, waf.ACLComplete, waf.ACLForeign, waf.AssocNone, waf.AssocOurs, waf.AssocOther} {
		if !names[s.String()] {
			t.Errorf("state %s is not in doc.go's tables", s)
		}
	}
	if got := waf.ACLState(9).String(); got != "ACLState(9)" {
		t.Errorf("unknown state: %s", got)
	}
}

// The states round-trip through JSON by name.
func TestStateJSON(t *testing.T) {
	in := waf.WebACL{State: waf.ACLIncomplete, Association: waf.AssocOther}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out waf.WebACL
	if err := json.Unmarshal(b, &out); err != nil || out.State != in.State || out.Association != in.Association {
		t.Errorf("%s -> %+v, %v", b, out, err)
	}
	if err := json.Unmarshal([]byte(`{"state":"nope"}`), &out); err == nil {
		t.Error("unknown state accepted")
	}
}
