package inspect

import (
	"net/netip"
	"strings"
)

// Snapshot is what AuditNetwork reads of one region, in the few fields the
// evaluation needs. ReadSnapshot fills it from paginated Describe calls;
// Evaluate and NetworkFindings work on it without calling AWS, so a caller
// can build one by hand (or from saved Describe output) and evaluate it.
type Snapshot struct {
	Account string
	Region  string
	// Partition of the ARNs in findings; default "aws".
	Partition        string
	Instances        []Instance
	SecurityGroups   []SecurityGroup
	NetworkACLs      []NetworkACL
	RouteTables      []RouteTable
	InternetGateways []InternetGateway
	PrefixLists      []PrefixList
}

// Instance is an EC2 instance and its network interfaces.
type Instance struct {
	ID    string
	Name  string // the Name tag
	State string // pending, running, stopped, ...
	// Interfaces are the instance's network interfaces, primary first.
	Interfaces []Interface
}

// Interface is one network interface of an instance.
type Interface struct {
	ID       string
	SubnetID string
	VpcID    string
	// PublicIPv4 is the interface's public IPv4 address (an auto-assigned
	// one or an Elastic IP), or "".
	PublicIPv4 string
	// IPv6 lists the interface's IPv6 addresses.
	IPv6 []string
	// Groups are the IDs of the interface's security groups.
	Groups []string
}

// SecurityGroup is a security group and its inbound rules.
type SecurityGroup struct {
	ID      string
	Name    string
	VpcID   string
	Ingress []SGRule
}

// SGRule is one inbound rule of a security group with one source: a CIDR
// (IPv4 or IPv6), a prefix list or another security group (SourceGroupID).
type SGRule struct {
	// Group is the security group that holds the rule.
	Group string
	// Protocol is "-1" (all), "tcp", "udp", "icmp", "icmpv6" or a number.
	Protocol string
	// FromPort and ToPort bound the ports (TCP, UDP); ignored for "-1".
	FromPort, ToPort int32
	CIDR             string
	PrefixListID     string
	SourceGroupID    string
	Description      string
}

// NetworkACL is a network ACL, the subnets associated with it and its
// entries in both directions.
type NetworkACL struct {
	ID      string
	VpcID   string
	Default bool
	Subnets []string
	Entries []ACLEntry
}

// ACLEntry is one numbered entry of a network ACL.
type ACLEntry struct {
	RuleNumber int32
	Egress     bool
	// Protocol is "-1" (all) or a protocol number ("6" TCP, "17" UDP,
	// "1" ICMP, "58" ICMPv6); names are accepted too.
	Protocol string
	// FromPort and ToPort bound the ports for TCP and UDP.
	FromPort, ToPort int32
	// CIDR is the entry's IPv4 or IPv6 block.
	CIDR  string
	Allow bool
}

// RouteTable is a route table, its subnet associations and its routes.
type RouteTable struct {
	ID    string
	VpcID string
	// Main is true for the VPC's main table, used by every subnet without
	// an explicit association.
	Main    bool
	Subnets []string
	Routes  []Route
}

// Route is one route of a route table.
type Route struct {
	// Destination is an IPv4 or IPv6 CIDR.
	Destination string
	// Target is the ID of the gateway, NAT gateway, interface, ...
	Target string
	// Blackhole is true when the target is gone.
	Blackhole bool
}

// InternetGateway is an internet gateway and the VPCs it is attached to.
type InternetGateway struct {
	ID   string
	VPCs []string
}

// PrefixList is a managed prefix list and its CIDRs.
type PrefixList struct {
	ID    string
	Name  string
	CIDRs []string
}

// Family is an IP address family.
type Family string

// The families a path from the internet can take.
const (
	IPv4 Family = "ipv4"
	IPv6 Family = "ipv6"
)

// anywhere is the CIDR of every address of the family.
func (f Family) anywhere() string {
	if f == IPv6 {
		return "::/0"
	}
	return "0.0.0.0/0"
}

// isAnywhere reports whether cidr is 0.0.0.0/0 (IPv4) or ::/0 (IPv6),
// whatever its spelling.
func isAnywhere(cidr string, f Family) bool {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	if err != nil || p.Bits() != 0 {
		return false
	}
	return p.Addr().Is6() == (f == IPv6) && !p.Addr().Is4In6()
}

// familyOf returns the family of a CIDR, or "" when it does not parse.
func familyOf(cidr string) Family {
	p, err := netip.ParsePrefix(strings.TrimSpace(cidr))
	switch {
	case err != nil:
		return ""
	case p.Addr().Is4():
		return IPv4
	}
	return IPv6
}

var globalUnicast = netip.MustParsePrefix("2000::/3")

// isGlobalIPv6 reports whether addr is a global unicast IPv6 address, one
// the internet can route to.
func isGlobalIPv6(addr string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	return err == nil && a.Is6() && !a.Is4In6() && globalUnicast.Contains(a)
}

// protocolNumber normalises an EC2 protocol to its number ("-1" for all).
func protocolNumber(p string) string {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case "-1", "all":
		return "-1"
	case "tcp", "6":
		return "6"
	case "udp", "17":
		return "17"
	case "icmp", "1":
		return "1"
	case "icmpv6", "58":
		return "58"
	}
	return strings.ToLower(strings.TrimSpace(p))
}

// tcpSpan returns the TCP ports a rule of the given protocol and port
// range covers, and false when it covers no TCP port.
func tcpSpan(protocol string, from, to int32) (span, bool) {
	switch protocolNumber(protocol) {
	case "-1":
		return span{0, 65535}, true
	case "6":
		from, to = max(from, 0), min(to, 65535)
		if from > to {
			return span{}, false
		}
		return span{from, to}, true
	}
	return span{}, false
}
