package inspect_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
)

type brief struct {
	Check    string
	Resource string
	Status   awsguard.Status
	Severity awsguard.Severity
}

func briefs(fs []awsguard.Finding) []brief {
	var out []brief
	for _, f := range fs {
		out = append(out, brief{f.Check, f.Resource[strings.LastIndex(f.Resource, "/")+1:], f.Status, f.Severity})
	}
	return out
}

// Each layer alone is judged by what stands behind it: an open group
// behind a NACL that denies the port, or an open NACL in front of a closed
// group, is LOW; the instance is exposed only when every layer lets the
// traffic through.
func TestNetworkFindingsLayers(t *testing.T) {
	ports := []inspect.Port{22}
	tests := []struct {
		name     string
		mutate   func(s *inspect.Snapshot)
		want     []brief
		evidence map[string]string // finding resource -> substring of its port.22 (or path.22)
	}{
		{name: "every layer open", want: []brief{
			{"network.instance.exposed", "i-1", "FAIL", "HIGH"},
			{"network.sg.open_admin_ports", "sg-1", "FAIL", "MEDIUM"},
			{"network.nacl.open_admin_ports", "acl-1", "FAIL", "MEDIUM"},
		}, evidence: map[string]string{"sg-1": "lets the internet reach i-1", "acl-1": "lets the internet reach i-1"}},
		{name: "open group behind a denying NACL",
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = append(acl(s).Entries, tcpEntry(10, false, 22, 22, "0.0.0.0/0", false))
			},
			want: []brief{
				{"network.instance.exposed", "i-1", "PASS", "HIGH"},
				{"network.sg.open_admin_ports", "sg-1", "FAIL", "LOW"},
				// The IPv6 entries still let SSH in: open alone, but the
				// instance has no IPv6 address.
				{"network.nacl.open_admin_ports", "acl-1", "FAIL", "LOW"},
			}, evidence: map[string]string{"sg-1": "nothing behind it is exposed: i-1 stopped at nacl-inbound", "i-1": "rule 10 denies 22"}},
		{name: "open NACL in front of a closed group",
			mutate: func(s *inspect.Snapshot) { sg(s).Ingress[0].CIDR = "10.0.0.0/8" },
			want: []brief{
				{"network.instance.exposed", "i-1", "PASS", "HIGH"},
				{"network.sg.open_admin_ports", "sg-1", "PASS", "MEDIUM"},
				{"network.nacl.open_admin_ports", "acl-1", "FAIL", "LOW"},
			}, evidence: map[string]string{"acl-1": "nothing behind it is exposed: i-1 stopped at security-group"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := publicWorld()
			if tt.mutate != nil {
				tt.mutate(s)
			}
			fs := inspect.NetworkFindings(s, ports)
			if diff := cmp.Diff(tt.want, briefs(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				id := f.Resource[strings.LastIndex(f.Resource, "/")+1:]
				want, ok := tt.evidence[id]
				if !ok {
					continue
				}
				got := f.Evidence["port.22"] + f.Evidence["path.22"]
				if !strings.Contains(got, want) {
					t.Errorf("%s evidence %q lacks %q", id, got, want)
				}
			}
		})
	}
}
