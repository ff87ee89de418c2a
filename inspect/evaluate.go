package inspect

import (
	"fmt"
	"slices"
	"strings"
)

// Layer is where a path from the internet to an instance is decided.
type Layer int

// The layers of a path, in the order a packet from the internet meets
// them (the address first: without one nothing routes to the instance).
const (
	// LayerNone: nothing stops the traffic; the port is exposed.
	LayerNone Layer = iota
	// LayerAddress: the interface has no public IPv4 (or Elastic IP) or no
	// global IPv6 address.
	LayerAddress
	// LayerRoute: the subnet's route table has no 0.0.0.0/0 (or ::/0)
	// route to an internet gateway attached to the VPC.
	LayerRoute
	// LayerSecurityGroup: no security group of the interface allows the
	// port from 0.0.0.0/0 (or ::/0), directly or through a prefix list.
	LayerSecurityGroup
	// LayerNACLInbound: the subnet's network ACL does not allow the port
	// in from anywhere (first matching entry by rule number, implicit deny).
	LayerNACLInbound
	// LayerNACLOutbound: the network ACL does not let the return traffic
	// out to any ephemeral port (1024-65535).
	LayerNACLOutbound
)

var layerNames = [...]string{"open", "address", "route", "security-group", "nacl-inbound", "nacl-outbound"}

// String names the layer as evidence shows it: "open", "address",
// "route", "security-group", "nacl-inbound" or "nacl-outbound".
func (l Layer) String() string {
	if l >= 0 && int(l) < len(layerNames) {
		return layerNames[l]
	}
	return fmt.Sprintf("Layer(%d)", int(l))
}

// Exposure is the verdict for one instance and one port: whether the
// internet reaches it, through which interface and family, which layer
// stops it otherwise, and the path in words.
type Exposure struct {
	Instance string
	Port     Port
	Open     bool
	// StoppedBy is LayerNone when Open; otherwise the layer that stops the
	// path that got furthest (over every interface and family).
	StoppedBy Layer
	// Interface and Family are those of the open path (or the furthest).
	Interface string
	Family    Family
	// Groups are the security groups whose rules let the port in on the
	// open path, and Rules those rules.
	Groups []string
	Rules  []SGRule
	// NACL is the network ACL of the path's subnet.
	NACL string
	// Path describes every layer of the open path; when closed, every
	// path tried and where each stops.
	Path string
}

// index holds a snapshot's lookups.
type index struct {
	s         *Snapshot
	groups    map[string]*SecurityGroup
	aclSubnet map[string]*NetworkACL
	aclVPC    map[string]*NetworkACL
	rtSubnet  map[string]*RouteTable
	rtMain    map[string]*RouteTable
	igwVPC    map[string]map[string]bool
	prefix    map[string]*PrefixList
}

func newIndex(s *Snapshot) *index {
	ix := &index{s: s, groups: map[string]*SecurityGroup{}, aclSubnet: map[string]*NetworkACL{}, aclVPC: map[string]*NetworkACL{},
		rtSubnet: map[string]*RouteTable{}, rtMain: map[string]*RouteTable{}, igwVPC: map[string]map[string]bool{}, prefix: map[string]*PrefixList{}}
	for i := range s.SecurityGroups {
		ix.groups[s.SecurityGroups[i].ID] = &s.SecurityGroups[i]
	}
	for i := range s.NetworkACLs {
		a := &s.NetworkACLs[i]
		for _, sub := range a.Subnets {
			ix.aclSubnet[sub] = a
		}
		if a.Default {
			ix.aclVPC[a.VpcID] = a
		}
	}
	for i := range s.RouteTables {
		rt := &s.RouteTables[i]
		for _, sub := range rt.Subnets {
			ix.rtSubnet[sub] = rt
		}
		if rt.Main {
			ix.rtMain[rt.VpcID] = rt
		}
	}
	for _, g := range s.InternetGateways {
		for _, v := range g.VPCs {
			if ix.igwVPC[g.ID] == nil {
				ix.igwVPC[g.ID] = map[string]bool{}
			}
			ix.igwVPC[g.ID][v] = true
		}
	}
	for i := range s.PrefixLists {
		ix.prefix[s.PrefixLists[i].ID] = &s.PrefixLists[i]
	}
	return ix
}

// nacl returns the subnet's network ACL: its association, else the VPC's
// default ACL.
func (ix *index) nacl(subnet, vpc string) *NetworkACL {
	if a := ix.aclSubnet[subnet]; a != nil {
		return a
	}
	return ix.aclVPC[vpc]
}

// routeTable returns the subnet's route table, explicit association first,
// else the VPC's main table, and which it is.
func (ix *index) routeTable(subnet, vpc string) (*RouteTable, string) {
	if rt := ix.rtSubnet[subnet]; rt != nil {
		return rt, "explicit"
	}
	if rt := ix.rtMain[vpc]; rt != nil {
		return rt, "main"
	}
	return nil, ""
}

// Evaluate decides, for every instance of the snapshot (terminated ones
// left out) and every port, whether the internet reaches it. It calls
// nothing: the same snapshot always gives the same answer, in the order
// of the instances and ports given.
func Evaluate(s *Snapshot, ports []Port) []Exposure {
	ix := newIndex(s)
	var out []Exposure
	for _, inst := range s.Instances {
		if skipInstance(inst) {
			continue
		}
		for _, p := range ports {
			out = append(out, ix.exposure(inst, p))
		}
	}
	return out
}

func skipInstance(inst Instance) bool {
	return inst.State == "terminated" || inst.State == "shutting-down"
}

// attempt is one path tried: one interface, one family.
type attempt struct {
	iface   string
	family  Family
	stopped Layer
	steps   []string
	groups  []string
	rules   []SGRule
	nacl    string
}

func (a attempt) String() string {
	head := a.iface + " " + string(a.family)
	if a.stopped == LayerNone {
		return head + ": " + strings.Join(a.steps, " -> ")
	}
	return head + ": stopped at " + a.stopped.String() + " (" + strings.Join(a.steps, " -> ") + ")"
}

func (ix *index) exposure(inst Instance, p Port) Exposure {
	e := Exposure{Instance: inst.ID, Port: p, StoppedBy: LayerAddress}
	var tried []attempt
	best := -1 // the attempt that got furthest
	for _, ifc := range inst.Interfaces {
		for _, fam := range []Family{IPv4, IPv6} {
			a := ix.try(ifc, fam, p)
			tried = append(tried, a)
			if a.stopped == LayerNone {
				e.Open, e.StoppedBy = true, LayerNone
				e.Interface, e.Family, e.Groups, e.Rules, e.NACL = a.iface, a.family, a.groups, a.rules, a.nacl
				e.Path = a.String()
				return e
			}
			if best < 0 || a.stopped > tried[best].stopped {
				best = len(tried) - 1
			}
		}
	}
	if best < 0 {
		e.Path = "no network interface"
		return e
	}
	b := tried[best]
	e.StoppedBy, e.Interface, e.Family, e.NACL = b.stopped, b.iface, b.family, b.nacl
	parts := make([]string, len(tried))
	for i, a := range tried {
		parts[i] = a.String()
	}
	e.Path = strings.Join(parts, "; ")
	return e
}

// try follows one interface and family through every layer.
func (ix *index) try(ifc Interface, fam Family, p Port) attempt {
	a := attempt{iface: ifc.ID, family: fam}
	stop := func(l Layer, why string) attempt {
		a.stopped = l
		a.steps = append(a.steps, why)
		return a
	}
	// Address.
	if fam == IPv4 {
		if ifc.PublicIPv4 == "" {
			return stop(LayerAddress, "no public IPv4 address")
		}
		a.steps = append(a.steps, "public "+ifc.PublicIPv4)
	} else {
		var global []string
		for _, ip := range ifc.IPv6 {
			if isGlobalIPv6(ip) {
				global = append(global, ip)
			}
		}
		if len(global) == 0 {
			return stop(LayerAddress, "no global IPv6 address")
		}
		a.steps = append(a.steps, "global "+strings.Join(global, ","))
	}
	// Route.
	if why, ok := ix.routeOut(ifc, fam); !ok {
		return stop(LayerRoute, why)
	} else {
		a.steps = append(a.steps, why)
	}
	// Security groups.
	want := p.span()
	open, rules := ix.groupsOpen(ifc.Groups, fam)
	if !covered(open, want) {
		return stop(LayerSecurityGroup, fmt.Sprintf("no rule of %s allows tcp %s from %s", strings.Join(ifc.Groups, ","), p, fam.anywhere()))
	}
	for _, r := range rules {
		if s, ok := tcpSpan(r.Protocol, r.FromPort, r.ToPort); ok && len(portSet{s}.intersect(want)) > 0 {
			a.rules = append(a.rules, r)
			if !slices.Contains(a.groups, r.Group) {
				a.groups = append(a.groups, r.Group)
			}
		}
	}
	a.steps = append(a.steps, fmt.Sprintf("%s allows tcp %s from %s (%s)", strings.Join(a.groups, ","), p, fam.anywhere(), describeRules(a.rules)))
	// Network ACL.
	acl := ix.nacl(ifc.SubnetID, ifc.VpcID)
	if acl == nil {
		return stop(LayerNACLInbound, "no network ACL found for subnet "+ifc.SubnetID)
	}
	a.nacl = acl.ID
	in, why := aclAllows(acl, false, fam, want)
	if !covered(in, want) {
		return stop(LayerNACLInbound, acl.ID+" inbound: "+why)
	}
	a.steps = append(a.steps, acl.ID+" inbound: "+why)
	ret, why := aclAllows(acl, true, fam, span{EphemeralFrom, EphemeralTo})
	if ret.empty() {
		return stop(LayerNACLOutbound, acl.ID+" outbound return traffic: "+why)
	}
	a.steps = append(a.steps, acl.ID+" outbound return traffic: "+why)
	a.stopped = LayerNone
	return a
}

func covered(s portSet, want span) bool { return s.covers(want) }

// routeOut reports whether the subnet routes the family's default route to
// an internet gateway attached to the VPC, and the route table's story.
func (ix *index) routeOut(ifc Interface, fam Family) (string, bool) {
	rt, kind := ix.routeTable(ifc.SubnetID, ifc.VpcID)
	if rt == nil {
		return "no route table for subnet " + ifc.SubnetID, false
	}
	var other []string
	for _, r := range rt.Routes {
		if !isAnywhere(r.Destination, fam) {
			continue
		}
		switch {
		case r.Blackhole:
			other = append(other, r.Target+" (blackhole)")
		case strings.HasPrefix(r.Target, "igw-") && ix.igwVPC[r.Target][rt.VpcID]:
			return fmt.Sprintf("%s (%s) routes %s to %s", rt.ID, kind, fam.anywhere(), r.Target), true
		case strings.HasPrefix(r.Target, "igw-"):
			other = append(other, r.Target+" (not attached to "+rt.VpcID+")")
		default:
			other = append(other, r.Target)
		}
	}
	if len(other) == 0 {
		return fmt.Sprintf("%s (%s) has no %s route", rt.ID, kind, fam.anywhere()), false
	}
	return fmt.Sprintf("%s (%s) routes %s to %s, not an internet gateway", rt.ID, kind, fam.anywhere(), strings.Join(other, ",")), false
}

// groupsOpen returns the TCP ports the groups let in from anywhere in the
// family (directly or through a prefix list holding 0.0.0.0/0 or ::/0)
// and the rules that do. Rules whose source is a security group are not
// internet exposure.
func (ix *index) groupsOpen(ids []string, fam Family) (portSet, []SGRule) {
	var open portSet
	var rules []SGRule
	for _, id := range ids {
		g := ix.groups[id]
		if g == nil {
			continue
		}
		for _, r := range g.Ingress {
			if !ix.ruleFromAnywhere(r, fam) {
				continue
			}
			s, ok := tcpSpan(r.Protocol, r.FromPort, r.ToPort)
			if !ok {
				continue
			}
			open = open.add(s)
			r.Group = id
			rules = append(rules, r)
		}
	}
	return open, rules
}

// ruleFromAnywhere reports whether the rule's source is every address of
// the family.
func (ix *index) ruleFromAnywhere(r SGRule, fam Family) bool {
	switch {
	case r.SourceGroupID != "":
		return false
	case r.CIDR != "":
		return isAnywhere(r.CIDR, fam)
	case r.PrefixListID != "":
		if pl := ix.prefix[r.PrefixListID]; pl != nil {
			return slices.ContainsFunc(pl.CIDRs, func(c string) bool { return isAnywhere(c, fam) })
		}
	}
	return false
}

func describeRules(rules []SGRule) string {
	parts := make([]string, 0, len(rules))
	for _, r := range rules {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, "; ")
}

// String renders the rule as "sg-1 tcp 22 from 0.0.0.0/0".
func (r SGRule) String() string {
	var b strings.Builder
	if r.Group != "" {
		b.WriteString(r.Group + " ")
	}
	proto := strings.ToLower(r.Protocol)
	switch protocolNumber(proto) {
	case "-1":
		b.WriteString("all traffic")
	case "6", "17":
		name := map[string]string{"6": "tcp", "17": "udp"}[protocolNumber(proto)]
		fmt.Fprintf(&b, "%s %s", name, span{r.FromPort, r.ToPort})
	default:
		b.WriteString("protocol " + proto)
	}
	b.WriteString(" from " + r.source())
	return b.String()
}

func (r SGRule) source() string {
	switch {
	case r.CIDR != "":
		return r.CIDR
	case r.PrefixListID != "":
		return r.PrefixListID
	}
	return r.SourceGroupID
}

// aclAllows evaluates a network ACL in one direction for TCP traffic from
// (or to) anywhere in the family over the ports of want: entries in rule
// number order, the first that matches a port decides it, ports no entry
// matches are denied. Entries of the other family, of other protocols
// (ICMP, UDP) and with a narrower CIDR than 0.0.0.0/0 (::/0) do not match
// an arbitrary internet address. It returns the allowed ports of want and
// the deciding entries in words.
func aclAllows(acl *NetworkACL, egress bool, fam Family, want span) (portSet, string) {
	entries := make([]ACLEntry, 0, len(acl.Entries))
	for _, e := range acl.Entries {
		if e.Egress == egress {
			entries = append(entries, e)
		}
	}
	slices.SortStableFunc(entries, func(a, b ACLEntry) int { return int(a.RuleNumber) - int(b.RuleNumber) })
	remaining := portSet{want}
	var allowed portSet
	var story []string
	for _, e := range entries {
		if remaining.empty() {
			break
		}
		if !isAnywhere(e.CIDR, fam) {
			continue
		}
		s, ok := tcpSpan(e.Protocol, e.FromPort, e.ToPort)
		if !ok {
			continue
		}
		m := remaining.intersect(s)
		if m.empty() {
			continue
		}
		verb := "denies"
		if e.Allow {
			verb = "allows"
			for _, x := range m {
				allowed = allowed.add(x)
			}
		}
		story = append(story, fmt.Sprintf("rule %d %s %s", e.RuleNumber, verb, m))
		for _, x := range m {
			remaining = remaining.minus(x)
		}
	}
	if !remaining.empty() {
		story = append(story, fmt.Sprintf("no rule matches %s: implicit deny", remaining))
	}
	return allowed, strings.Join(story, ", ")
}
