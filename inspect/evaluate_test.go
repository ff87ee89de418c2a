package inspect_test

import (
	"strings"
	"testing"

	"github.com/awsguard/awsguard/inspect"
)

func allowAll(num int32, egress bool, cidr string) inspect.ACLEntry {
	return inspect.ACLEntry{RuleNumber: num, Egress: egress, Protocol: "-1", CIDR: cidr, Allow: true}
}

func denyAll(num int32, egress bool, cidr string) inspect.ACLEntry {
	return inspect.ACLEntry{RuleNumber: num, Egress: egress, Protocol: "-1", CIDR: cidr}
}

func tcpEntry(num int32, egress bool, from, to int32, cidr string, allow bool) inspect.ACLEntry {
	return inspect.ACLEntry{RuleNumber: num, Egress: egress, Protocol: "6", FromPort: from, ToPort: to, CIDR: cidr, Allow: allow}
}

// defaultEntries are a default NACL's: allow everything, then the
// implicit deny that AWS lists as rule 32767, for both families.
func defaultEntries() []inspect.ACLEntry {
	var out []inspect.ACLEntry
	for _, eg := range []bool{false, true} {
		out = append(out, allowAll(100, eg, "0.0.0.0/0"), allowAll(101, eg, "::/0"), denyAll(32767, eg, "0.0.0.0/0"), denyAll(32767, eg, "::/0"))
	}
	return out
}

// publicWorld is one instance in a public subnet of a VPC whose main route
// table goes to an attached internet gateway, behind the default NACL and
// a group that opens SSH to the world.
func publicWorld() *inspect.Snapshot {
	return &inspect.Snapshot{
		Account: "123456789012", Region: "us-east-1",
		Instances: []inspect.Instance{{ID: "i-1", State: "running", Interfaces: []inspect.Interface{
			{ID: "eni-1", SubnetID: "subnet-1", VpcID: "vpc-1", PublicIPv4: "54.0.0.1", Groups: []string{"sg-1"}},
		}}},
		SecurityGroups: []inspect.SecurityGroup{{ID: "sg-1", VpcID: "vpc-1", Ingress: []inspect.SGRule{
			{Group: "sg-1", Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"},
		}}},
		NetworkACLs: []inspect.NetworkACL{{ID: "acl-1", VpcID: "vpc-1", Default: true, Subnets: []string{"subnet-1"}, Entries: defaultEntries()}},
		RouteTables: []inspect.RouteTable{{ID: "rtb-main", VpcID: "vpc-1", Main: true, Routes: []inspect.Route{
			{Destination: "10.0.0.0/16", Target: "local"},
			{Destination: "0.0.0.0/0", Target: "igw-1"},
			{Destination: "::/0", Target: "igw-1"},
		}}},
		InternetGateways: []inspect.InternetGateway{{ID: "igw-1", VPCs: []string{"vpc-1"}}},
	}
}

func ifc(s *inspect.Snapshot) *inspect.Interface    { return &s.Instances[0].Interfaces[0] }
func sg(s *inspect.Snapshot) *inspect.SecurityGroup { return &s.SecurityGroups[0] }
func acl(s *inspect.Snapshot) *inspect.NetworkACL   { return &s.NetworkACLs[0] }

func TestEvaluateTrickyCases(t *testing.T) {
	tests := []struct {
		name    string
		port    inspect.Port
		mutate  func(s *inspect.Snapshot)
		open    bool
		stopped inspect.Layer
		family  inspect.Family
		// inPath must appear in the exposure's path.
		inPath string
	}{
		{name: "open ssh through the default NACL", port: 22, open: true, family: inspect.IPv4,
			inPath: "rtb-main (main) routes 0.0.0.0/0 to igw-1"},
		{name: "port the group does not open", port: 3389, stopped: inspect.LayerSecurityGroup},
		{name: "no public address", port: 22, stopped: inspect.LayerAddress,
			mutate: func(s *inspect.Snapshot) { ifc(s).PublicIPv4 = "" }},
		{name: "NAT route is not an internet gateway", port: 22, stopped: inspect.LayerRoute, inPath: "nat-1, not an internet gateway",
			mutate: func(s *inspect.Snapshot) {
				s.RouteTables[0].Routes = []inspect.Route{{Destination: "0.0.0.0/0", Target: "nat-1"}}
			}},
		{name: "blackhole route", port: 22, stopped: inspect.LayerRoute,
			mutate: func(s *inspect.Snapshot) {
				s.RouteTables[0].Routes[1].Blackhole = true
				s.RouteTables[0].Routes[2].Blackhole = true
			}},
		{name: "gateway not attached to the VPC", port: 22, stopped: inspect.LayerRoute, inPath: "not attached",
			mutate: func(s *inspect.Snapshot) { s.InternetGateways[0].VPCs = []string{"vpc-2"} }},
		{name: "explicit association beats the main table", port: 22, stopped: inspect.LayerRoute, inPath: "rtb-private (explicit)",
			mutate: func(s *inspect.Snapshot) {
				s.RouteTables = append(s.RouteTables, inspect.RouteTable{ID: "rtb-private", VpcID: "vpc-1", Subnets: []string{"subnet-1"},
					Routes: []inspect.Route{{Destination: "10.0.0.0/16", Target: "local"}}})
			}},
		{name: "main table of a private VPC, explicit public table elsewhere", port: 22, stopped: inspect.LayerRoute, inPath: "(main)",
			mutate: func(s *inspect.Snapshot) {
				s.RouteTables[0].Main = false
				s.RouteTables[0].Subnets = []string{"subnet-other"}
				s.RouteTables = append(s.RouteTables, inspect.RouteTable{ID: "rtb-2", VpcID: "vpc-1", Main: true})
			}},
		{name: "narrow route to the gateway is not the internet", port: 22, stopped: inspect.LayerRoute,
			mutate: func(s *inspect.Snapshot) {
				s.RouteTables[0].Routes = []inspect.Route{{Destination: "203.0.113.0/24", Target: "igw-1"}}
			}},
		{name: "group referencing another group is not internet exposure", port: 22, stopped: inspect.LayerSecurityGroup,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress = []inspect.SGRule{{Group: "sg-1", Protocol: "tcp", FromPort: 22, ToPort: 22, SourceGroupID: "sg-9"}}
			}},
		{name: "office CIDR is not the internet", port: 22, stopped: inspect.LayerSecurityGroup,
			mutate: func(s *inspect.Snapshot) { sg(s).Ingress[0].CIDR = "203.0.113.0/24" }},
		{name: "prefix list holding 0.0.0.0/0", port: 5432, open: true,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress = []inspect.SGRule{{Group: "sg-1", Protocol: "tcp", FromPort: 5432, ToPort: 5432, PrefixListID: "pl-1"}}
				s.PrefixLists = []inspect.PrefixList{{ID: "pl-1", CIDRs: []string{"10.0.0.0/8", "0.0.0.0/0"}}}
			}},
		{name: "prefix list of narrow ranges", port: 5432, stopped: inspect.LayerSecurityGroup,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress = []inspect.SGRule{{Group: "sg-1", Protocol: "tcp", FromPort: 5432, ToPort: 5432, PrefixListID: "pl-1"}}
				s.PrefixLists = []inspect.PrefixList{{ID: "pl-1", CIDRs: []string{"10.0.0.0/8"}}}
			}},
		{name: "all-traffic group rule opens every port", port: inspect.AllPorts, open: true,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress[0] = inspect.SGRule{Group: "sg-1", Protocol: "-1", CIDR: "0.0.0.0/0"}
			}},
		{name: "two rules that together cover every port", port: inspect.AllPorts, open: true,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress = []inspect.SGRule{{Group: "sg-1", Protocol: "tcp", FromPort: 0, ToPort: 1000, CIDR: "0.0.0.0/0"},
					{Group: "sg-1", Protocol: "6", FromPort: 1001, ToPort: 65535, CIDR: "0.0.0.0/0"}}
			}},
		{name: "udp and icmp rules do not open tcp", port: 22, stopped: inspect.LayerSecurityGroup,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress = []inspect.SGRule{{Group: "sg-1", Protocol: "udp", FromPort: 0, ToPort: 65535, CIDR: "0.0.0.0/0"},
					{Group: "sg-1", Protocol: "icmp", FromPort: -1, ToPort: -1, CIDR: "0.0.0.0/0"}}
			}},
		{name: "deny before allow", port: 22, stopped: inspect.LayerNACLInbound, inPath: "rule 90 denies 22",
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = append(acl(s).Entries, tcpEntry(90, false, 22, 22, "0.0.0.0/0", false))
			}},
		{name: "allow before deny", port: 22, open: true, inPath: "rule 80 allows 22",
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = append(acl(s).Entries, tcpEntry(80, false, 22, 22, "0.0.0.0/0", true), tcpEntry(90, false, 22, 22, "0.0.0.0/0", false))
			}},
		{name: "rule numbers decide, not list order", port: 22, stopped: inspect.LayerNACLInbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = append([]inspect.ACLEntry{tcpEntry(200, false, 0, 65535, "0.0.0.0/0", true)}, acl(s).Entries...)
				acl(s).Entries = append(acl(s).Entries, tcpEntry(50, false, 20, 30, "0.0.0.0/0", false))
			}},
		{name: "overlapping ranges: a wide deny after a narrow allow", port: 22, open: true,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{tcpEntry(10, false, 22, 22, "0.0.0.0/0", true), tcpEntry(20, false, 0, 1023, "0.0.0.0/0", false),
					allowAll(100, true, "0.0.0.0/0")}
			}},
		{name: "a narrow allow inside a wide deny comes too late", port: 22, stopped: inspect.LayerNACLInbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{tcpEntry(10, false, 0, 1023, "0.0.0.0/0", false), tcpEntry(20, false, 22, 22, "0.0.0.0/0", true),
					allowAll(100, true, "0.0.0.0/0")}
			}},
		{name: "implicit deny: no inbound entry at all", port: 22, stopped: inspect.LayerNACLInbound, inPath: "implicit deny",
			mutate: func(s *inspect.Snapshot) { acl(s).Entries = []inspect.ACLEntry{allowAll(100, true, "0.0.0.0/0")} }},
		{name: "inbound icmp allow does not let tcp in", port: 22, stopped: inspect.LayerNACLInbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{{RuleNumber: 10, Protocol: "1", CIDR: "0.0.0.0/0", Allow: true}, allowAll(100, true, "0.0.0.0/0")}
			}},
		{name: "narrow deny does not close the internet", port: 22, open: true,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = append(acl(s).Entries, tcpEntry(10, false, 22, 22, "198.51.100.0/24", false))
			}},
		{name: "no return traffic: outbound denies the ephemeral ports", port: 22, stopped: inspect.LayerNACLOutbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{allowAll(100, false, "0.0.0.0/0"), tcpEntry(100, true, 80, 443, "0.0.0.0/0", true)}
			}},
		{name: "return traffic on part of the ephemeral range is enough", port: 22, open: true, inPath: "rule 100 allows 32768-65535",
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{allowAll(100, false, "0.0.0.0/0"), tcpEntry(100, true, 32768, 65535, "0.0.0.0/0", true)}
			}},
		{name: "outbound allows only ports below the ephemeral range", port: 22, stopped: inspect.LayerNACLOutbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Entries = []inspect.ACLEntry{allowAll(100, false, "0.0.0.0/0"), tcpEntry(100, true, 0, 1023, "0.0.0.0/0", true)}
			}},
		{name: "IPv4 NACL entries do not decide IPv6 traffic", port: 22, stopped: inspect.LayerNACLInbound, family: inspect.IPv6,
			mutate: func(s *inspect.Snapshot) {
				ifc(s).PublicIPv4 = ""
				ifc(s).IPv6 = []string{"2600:1f18::10"}
				sg(s).Ingress[0].CIDR = "::/0"
				acl(s).Entries = []inspect.ACLEntry{allowAll(100, false, "0.0.0.0/0"), allowAll(100, true, "0.0.0.0/0"), allowAll(101, true, "::/0")}
			}},
		{name: "IPv6-only path", port: 22, open: true, family: inspect.IPv6, inPath: "routes ::/0 to igw-1",
			mutate: func(s *inspect.Snapshot) {
				ifc(s).PublicIPv4 = ""
				ifc(s).IPv6 = []string{"2600:1f18::10"}
				sg(s).Ingress[0].CIDR = "::/0"
			}},
		{name: "IPv6 link-local or unique-local address is not global", port: 22, stopped: inspect.LayerAddress,
			mutate: func(s *inspect.Snapshot) {
				ifc(s).PublicIPv4 = ""
				ifc(s).IPv6 = []string{"fe80::1", "fd00::1"}
				sg(s).Ingress[0].CIDR = "::/0"
			}},
		{name: "group open to ::/0 only, instance only IPv4", port: 22, stopped: inspect.LayerSecurityGroup,
			mutate: func(s *inspect.Snapshot) { sg(s).Ingress[0].CIDR = "::/0" }},
		{name: "all ports: one NACL deny in the middle keeps it from being all", port: inspect.AllPorts, stopped: inspect.LayerNACLInbound,
			mutate: func(s *inspect.Snapshot) {
				sg(s).Ingress[0] = inspect.SGRule{Group: "sg-1", Protocol: "-1", CIDR: "0.0.0.0/0"}
				acl(s).Entries = append(acl(s).Entries, tcpEntry(50, false, 445, 445, "0.0.0.0/0", false))
			}},
		{name: "second interface is the exposed one", port: 22, open: true,
			mutate: func(s *inspect.Snapshot) {
				ifc(s).PublicIPv4 = ""
				s.Instances[0].Interfaces = append(s.Instances[0].Interfaces, inspect.Interface{ID: "eni-2", SubnetID: "subnet-1", VpcID: "vpc-1",
					PublicIPv4: "54.0.0.2", Groups: []string{"sg-1"}})
			}},
		{name: "subnet without association uses the VPC's default NACL", port: 22, stopped: inspect.LayerNACLInbound,
			mutate: func(s *inspect.Snapshot) {
				acl(s).Subnets = nil
				acl(s).Entries = []inspect.ACLEntry{allowAll(100, true, "0.0.0.0/0")}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := publicWorld()
			if tt.mutate != nil {
				tt.mutate(s)
			}
			exps := inspect.Evaluate(s, []inspect.Port{tt.port})
			if len(exps) != 1 {
				t.Fatalf("%d exposures", len(exps))
			}
			e := exps[0]
			if e.Open != tt.open || e.StoppedBy != tt.stopped {
				t.Errorf("open=%v stopped by %s, want open=%v stopped by %s\npath: %s", e.Open, e.StoppedBy, tt.open, tt.stopped, e.Path)
			}
			if tt.family != "" && e.Family != tt.family {
				t.Errorf("family %s, want %s; path %s", e.Family, tt.family, e.Path)
			}
			if tt.inPath != "" && !strings.Contains(e.Path, tt.inPath) {
				t.Errorf("path %q lacks %q", e.Path, tt.inPath)
			}
			if e.Open && (len(e.Groups) == 0 || len(e.Rules) == 0 || e.NACL == "") {
				t.Errorf("open exposure without its groups, rules or NACL: %+v", e)
			}
		})
	}
}

func TestEvaluateSkipsTerminated(t *testing.T) {
	s := publicWorld()
	s.Instances[0].State = "terminated"
	if got := inspect.Evaluate(s, inspect.DefaultPorts); len(got) != 0 {
		t.Errorf("terminated instance evaluated: %+v", got)
	}
}
