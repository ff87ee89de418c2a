package inspect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Port is a TCP port checked for exposure, or AllPorts.
type Port int32

// AllPorts stands for every TCP port (0-65535) at once: it is exposed when
// the whole range is reachable, as through an "all traffic" rule.
const AllPorts Port = -1

// DefaultPorts are the admin and database ports checked by default (SSH,
// RDP, MySQL, PostgreSQL, SQL Server, Oracle, MongoDB, Redis,
// Elasticsearch, Kibana) and AllPorts.
var DefaultPorts = []Port{22, 3389, 3306, 5432, 1433, 1521, 27017, 6379, 9200, 5601, AllPorts}

// The ephemeral ports the return traffic of an inbound connection goes
// to: the client picks its source port, AWS recommends allowing 1024-65535
// outbound in a network ACL.
const (
	EphemeralFrom = 1024
	EphemeralTo   = 65535
)

// String renders the port as "22" or "all".
func (p Port) String() string {
	if p == AllPorts {
		return "all"
	}
	return strconv.Itoa(int(p))
}

// valid reports whether the port is 0-65535 or AllPorts.
func (p Port) valid() bool { return p == AllPorts || (p >= 0 && p <= 65535) }

func (p Port) span() span {
	if p == AllPorts {
		return span{0, 65535}
	}
	return span{int32(p), int32(p)}
}

// ParsePort reads "22" or "all" (as a command line gives it).
func ParsePort(s string) (Port, error) {
	if strings.EqualFold(s, "all") {
		return AllPorts, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %q: want 0-65535 or \"all\"", s)
	}
	return Port(n), nil
}

// span is an inclusive range of ports.
type span struct{ from, to int32 }

func (s span) String() string {
	if s.from == s.to {
		return strconv.Itoa(int(s.from))
	}
	return fmt.Sprintf("%d-%d", s.from, s.to)
}

// portSet is a set of ports as sorted, disjoint, non-adjacent spans.
type portSet []span

func (s portSet) add(x span) portSet {
	if x.from > x.to {
		return s
	}
	out := make(portSet, 0, len(s)+1)
	for _, y := range s {
		if y.to+1 < x.from || x.to+1 < y.from {
			out = append(out, y)
			continue
		}
		x = span{min(x.from, y.from), max(x.to, y.to)}
	}
	out = append(out, x)
	slices.SortFunc(out, func(a, b span) int { return int(a.from) - int(b.from) })
	return out
}

func (s portSet) intersect(x span) portSet {
	var out portSet
	for _, y := range s {
		lo, hi := max(x.from, y.from), min(x.to, y.to)
		if lo <= hi {
			out = append(out, span{lo, hi})
		}
	}
	return out
}

func (s portSet) minus(x span) portSet {
	var out portSet
	for _, y := range s {
		if x.to < y.from || y.to < x.from {
			out = append(out, y)
			continue
		}
		if y.from < x.from {
			out = append(out, span{y.from, x.from - 1})
		}
		if x.to < y.to {
			out = append(out, span{x.to + 1, y.to})
		}
	}
	return out
}

// covers reports whether every port of x is in the set.
func (s portSet) covers(x span) bool {
	for _, y := range s {
		if y.from <= x.from && x.to <= y.to {
			return true
		}
	}
	return false
}

func (s portSet) empty() bool { return len(s) == 0 }

func (s portSet) String() string {
	if len(s) == 0 {
		return "none"
	}
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = x.String()
	}
	return strings.Join(parts, ",")
}
