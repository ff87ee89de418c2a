package inspect_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/awsguard/awsguard/inspect"
)

// byteSource draws choices from fuzz input (zeros once it runs out).
type byteSource struct {
	b []byte
	r *rand.Rand
}

func (s *byteSource) n(k int) int {
	if k <= 0 {
		return 0
	}
	if s.r != nil {
		return s.r.IntN(k)
	}
	if len(s.b) == 0 {
		return 0
	}
	v := int(s.b[0])
	s.b = s.b[1:]
	return v % k
}

var (
	genCIDRs  = []string{"0.0.0.0/0", "::/0", "10.0.0.0/8", "203.0.113.0/24", "2001:db8::/32", "0.0.0.0/1", "bogus"}
	genProtos = []string{"-1", "6", "tcp", "17", "1", "58", "icmp"}
	genPorts  = []int32{0, 21, 22, 23, 443, 1023, 1024, 3389, 5432, 32768, 65535}
	genIPv6   = []string{"2600:1f18::1", "fe80::1", "fd00::2", "::ffff:1.2.3.4"}
)

// genSnapshot builds a small random network: two VPCs, three subnets,
// several groups, NACLs, route tables and instances.
func genSnapshot(src *byteSource) *inspect.Snapshot {
	s := &inspect.Snapshot{Account: "123456789012", Region: "us-east-1"}
	vpcs := []string{"vpc-1", "vpc-2"}
	subnets := []string{"subnet-1", "subnet-2", "subnet-3"}
	vpcOf := func(sub string) string {
		if sub == "subnet-3" {
			return "vpc-2"
		}
		return "vpc-1"
	}
	s.InternetGateways = []inspect.InternetGateway{{ID: "igw-1", VPCs: []string{vpcs[src.n(2)]}}}
	s.PrefixLists = []inspect.PrefixList{{ID: "pl-1", CIDRs: []string{genCIDRs[src.n(len(genCIDRs))]}}}
	targets := []string{"igw-1", "nat-1", "local", "igw-2"}
	for i, v := range vpcs {
		rt := inspect.RouteTable{ID: fmt.Sprintf("rtb-main-%d", i), VpcID: v, Main: true}
		for range src.n(4) {
			rt.Routes = append(rt.Routes, inspect.Route{Destination: genCIDRs[src.n(len(genCIDRs))], Target: targets[src.n(len(targets))], Blackhole: src.n(5) == 0})
		}
		s.RouteTables = append(s.RouteTables, rt)
		s.NetworkACLs = append(s.NetworkACLs, inspect.NetworkACL{ID: fmt.Sprintf("acl-default-%d", i), VpcID: v, Default: true})
	}
	for _, sub := range subnets {
		if src.n(2) == 0 {
			rt := inspect.RouteTable{ID: "rtb-" + sub, VpcID: vpcOf(sub), Subnets: []string{sub}}
			for range src.n(3) {
				rt.Routes = append(rt.Routes, inspect.Route{Destination: genCIDRs[src.n(len(genCIDRs))], Target: targets[src.n(len(targets))]})
			}
			s.RouteTables = append(s.RouteTables, rt)
		}
		if src.n(2) == 0 {
			s.NetworkACLs = append(s.NetworkACLs, inspect.NetworkACL{ID: "acl-" + sub, VpcID: vpcOf(sub), Subnets: []string{sub}})
		}
	}
	for i := range s.NetworkACLs {
		for range src.n(7) {
			s.NetworkACLs[i].Entries = append(s.NetworkACLs[i].Entries, genEntry(src))
		}
	}
	for g := range 3 {
		sg := inspect.SecurityGroup{ID: fmt.Sprintf("sg-%d", g), VpcID: "vpc-1"}
		for range src.n(4) {
			sg.Ingress = append(sg.Ingress, genRule(src, sg.ID))
		}
		s.SecurityGroups = append(s.SecurityGroups, sg)
	}
	for i := range 1 + src.n(3) {
		inst := inspect.Instance{ID: fmt.Sprintf("i-%d", i), State: []string{"running", "stopped", "terminated"}[src.n(3)]}
		for j := range 1 + src.n(2) {
			sub := subnets[src.n(3)]
			ifc := inspect.Interface{ID: fmt.Sprintf("eni-%d-%d", i, j), SubnetID: sub, VpcID: vpcOf(sub)}
			if src.n(2) == 0 {
				ifc.PublicIPv4 = "54.0.0.1"
			}
			if src.n(3) == 0 {
				ifc.IPv6 = []string{genIPv6[src.n(len(genIPv6))]}
			}
			for g := range 3 {
				if src.n(2) == 0 {
					ifc.Groups = append(ifc.Groups, fmt.Sprintf("sg-%d", g))
				}
			}
			inst.Interfaces = append(inst.Interfaces, ifc)
		}
		s.Instances = append(s.Instances, inst)
	}
	return s
}

func genEntry(src *byteSource) inspect.ACLEntry {
	a, b := genPorts[src.n(len(genPorts))], genPorts[src.n(len(genPorts))]
	return inspect.ACLEntry{RuleNumber: int32(1 + src.n(300)), Egress: src.n(2) == 0, Protocol: genProtos[src.n(len(genProtos))],
		FromPort: min(a, b), ToPort: max(a, b), CIDR: genCIDRs[src.n(len(genCIDRs))], Allow: src.n(2) == 0}
}

func genRule(src *byteSource, group string) inspect.SGRule {
	a, b := genPorts[src.n(len(genPorts))], genPorts[src.n(len(genPorts))]
	r := inspect.SGRule{Group: group, Protocol: genProtos[src.n(len(genProtos))], FromPort: min(a, b), ToPort: max(a, b)}
	switch src.n(3) {
	case 0:
		r.CIDR = genCIDRs[src.n(len(genCIDRs))]
	case 1:
		r.PrefixListID = "pl-1"
	default:
		r.SourceGroupID = "sg-0"
	}
	return r
}

var propPorts = []inspect.Port{22, 3389, 1024, 0, 65535, inspect.AllPorts}

func openSet(s *inspect.Snapshot) map[string]bool {
	out := map[string]bool{}
	for _, e := range inspect.Evaluate(s, propPorts) {
		if e.Open {
			out[e.Instance+"/"+e.Port.String()] = true
		}
	}
	return out
}

func clone(s *inspect.Snapshot) *inspect.Snapshot {
	c := *s
	c.NetworkACLs = slices.Clone(s.NetworkACLs)
	for i := range c.NetworkACLs {
		c.NetworkACLs[i].Entries = slices.Clone(c.NetworkACLs[i].Entries)
	}
	c.SecurityGroups = slices.Clone(s.SecurityGroups)
	for i := range c.SecurityGroups {
		c.SecurityGroups[i].Ingress = slices.Clone(c.SecurityGroups[i].Ingress)
	}
	return &c
}

// checkMonotone asserts that adding a deny entry to any NACL, or removing
// any security group rule, never opens a port that was closed.
func checkMonotone(t *testing.T, s *inspect.Snapshot, src *byteSource) {
	t.Helper()
	before := openSet(s)
	// A deny entry anywhere in one NACL.
	c := clone(s)
	a := &c.NetworkACLs[src.n(len(c.NetworkACLs))]
	deny := genEntry(src)
	deny.Allow = false
	a.Entries = append(a.Entries, deny)
	for k := range openSet(c) {
		if !before[k] {
			t.Fatalf("adding deny %+v to %s opened %s", deny, a.ID, k)
		}
	}
	// One rule fewer in one group.
	c = clone(s)
	g := &c.SecurityGroups[src.n(len(c.SecurityGroups))]
	if len(g.Ingress) > 0 {
		i := src.n(len(g.Ingress))
		removed := g.Ingress[i]
		g.Ingress = slices.Delete(g.Ingress, i, i+1)
		for k := range openSet(c) {
			if !before[k] {
				t.Fatalf("removing %+v from %s opened %s", removed, g.ID, k)
			}
		}
	}
}

// checkInvariants asserts what every verdict must satisfy.
func checkInvariants(t *testing.T, s *inspect.Snapshot) {
	t.Helper()
	for _, e := range inspect.Evaluate(s, propPorts) {
		if e.Open != (e.StoppedBy == inspect.LayerNone) {
			t.Fatalf("open=%v but stopped by %s: %+v", e.Open, e.StoppedBy, e)
		}
		if e.Path == "" {
			t.Fatalf("no path: %+v", e)
		}
	}
	for _, f := range inspect.NetworkFindings(s, propPorts) {
		if f.Check == "" || !f.Status.Valid() || !f.Severity.Valid() {
			t.Fatalf("bad finding %+v", f)
		}
	}
}

func TestPropertyMonotone(t *testing.T) {
	for seed := range uint64(1500) {
		src := &byteSource{r: rand.New(rand.NewPCG(seed, 7))}
		s := genSnapshot(src)
		checkInvariants(t, s)
		checkMonotone(t, s, src)
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	f.Add([]byte("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := genSnapshot(&byteSource{b: b})
		checkInvariants(t, s)
		checkMonotone(t, s, &byteSource{b: b})
	})
}

func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"22", "all", "ALL", "-1", "65536", "0", "", "1e3", " 22"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := inspect.ParsePort(s)
		if err != nil {
			return
		}
		if q, err := inspect.ParsePort(p.String()); err != nil || q != p {
			t.Fatalf("%q -> %v -> %v, %v", s, p, q, err)
		}
	})
}
