package inspect

import (
	"fmt"
	"slices"
	"strings"

	"github.com/awsguard/awsguard"
)

// NetworkFindings evaluates the snapshot (see Evaluate) and returns its
// findings: network.instance.exposed per instance, network.sg.open_admin_ports
// per security group and network.nacl.open_admin_ports per network ACL.
// It calls nothing.
func NetworkFindings(s *Snapshot, ports []Port) []awsguard.Finding {
	exps := Evaluate(s, ports)
	ix := newIndex(s)
	var out []awsguard.Finding
	byInstance := map[string][]Exposure{}
	byPort := map[Port][]Exposure{}
	for _, e := range exps {
		byInstance[e.Instance] = append(byInstance[e.Instance], e)
		byPort[e.Port] = append(byPort[e.Port], e)
	}
	for _, inst := range s.Instances {
		if skipInstance(inst) {
			continue
		}
		out = append(out, instanceFinding(s, inst, byInstance[inst.ID]))
	}
	for _, g := range s.SecurityGroups {
		out = append(out, groupFinding(s, ix, g, ports, byPort))
	}
	for _, a := range s.NetworkACLs {
		out = append(out, naclFinding(s, ix, &a, ports, byPort))
	}
	return out
}

func (s *Snapshot) arn(kind, id string) string {
	if s.Account == "" || s.Region == "" {
		return id
	}
	part := s.Partition
	if part == "" {
		part = "aws"
	}
	return fmt.Sprintf("arn:%s:ec2:%s:%s:%s/%s", part, s.Region, s.Account, kind, id)
}

func (s *Snapshot) finding(check, resource string) awsguard.Finding {
	c := checkByID(check)
	return awsguard.Finding{Check: check, Severity: c.Severity, Account: s.Account, Region: s.Region, Resource: resource,
		Controls: slices.Clone(c.Controls), Evidence: map[string]string{}}
}

func portList(ps []Port) string {
	if len(ps) == 0 {
		return "none"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

func instanceLabel(inst Instance) string {
	if inst.Name != "" {
		return fmt.Sprintf("%s (%s)", inst.ID, inst.Name)
	}
	return inst.ID
}

func instanceFinding(s *Snapshot, inst Instance, exps []Exposure) awsguard.Finding {
	f := s.finding(CheckInstanceExposed, s.arn("instance", inst.ID))
	f.Evidence["instance_id"] = inst.ID
	f.Evidence["state"] = inst.State
	if inst.Name != "" {
		f.Evidence["name"] = inst.Name
	}
	var open []Port
	for _, e := range exps {
		key := e.Port.String()
		f.Evidence["layer."+key] = e.StoppedBy.String()
		f.Evidence["path."+key] = e.Path
		if e.Open {
			open = append(open, e.Port)
			if e.Port == AllPorts {
				f.Severity = awsguard.SeverityCritical
			}
		}
	}
	f.Evidence["exposed_ports"] = portList(open)
	if len(open) == 0 {
		f.Status = awsguard.StatusPass
		f.Title = fmt.Sprintf("Instance %s is not reachable from the internet on the checked ports", instanceLabel(inst))
		return f
	}
	f.Status = awsguard.StatusFail
	f.Remediation = "inspect.CloseExposure"
	f.Title = fmt.Sprintf("Instance %s is reachable from the internet on ports %s", instanceLabel(inst), portList(open))
	return f
}

// behind lists, for the exposures on port p of the instances that use
// the resource (uses), the exposed ones and where the others stop.
func behind(exps []Exposure, p Port, uses func(Exposure) bool, through func(Exposure) bool) (exposed, stopped []string) {
	for _, e := range exps {
		if e.Port != p || !uses(e) {
			continue
		}
		switch {
		case e.Open && through(e):
			exposed = append(exposed, e.Instance)
		case e.Open:
			stopped = append(stopped, e.Instance+" exposed through another interface "+e.Interface)
		default:
			stopped = append(stopped, e.Instance+" stopped at "+e.StoppedBy.String())
		}
	}
	return exposed, stopped
}

func groupFinding(s *Snapshot, ix *index, g SecurityGroup, ports []Port, exps map[Port][]Exposure) awsguard.Finding {
	f := s.finding(CheckSGOpenPorts, s.arn("security-group", g.ID))
	f.Evidence["group_id"] = g.ID
	if g.Name != "" {
		f.Evidence["group_name"] = g.Name
	}
	users := map[string]bool{}
	for _, inst := range s.Instances {
		for _, ifc := range inst.Interfaces {
			if slices.Contains(ifc.Groups, g.ID) {
				users[inst.ID] = true
			}
		}
	}
	var open []Port
	anyExposed := false
	for _, p := range ports {
		key := "port." + p.String()
		var how []string
		var rules []SGRule
		for _, fam := range []Family{IPv4, IPv6} {
			set, rs := ix.groupsOpen([]string{g.ID}, fam)
			if set.covers(p.span()) {
				how = append(how, fam.anywhere())
				for _, r := range rs {
					if sp, ok := tcpSpan(r.Protocol, r.FromPort, r.ToPort); ok && !(portSet{sp}).intersect(p.span()).empty() {
						rules = append(rules, r)
					}
				}
			}
		}
		if len(how) == 0 {
			f.Evidence[key] = "closed: no rule allows tcp " + p.String() + " from 0.0.0.0/0 or ::/0"
			continue
		}
		open = append(open, p)
		exposed, stopped := behind(exps[p], p, func(e Exposure) bool { return users[e.Instance] },
			func(e Exposure) bool { return slices.Contains(e.Groups, g.ID) })
		msg := fmt.Sprintf("open from %s (%s)", strings.Join(how, " and "), describeRules(rules))
		switch {
		case len(exposed) > 0:
			anyExposed = true
			msg += "; lets the internet reach " + strings.Join(exposed, ",")
		case len(stopped) > 0:
			msg += "; nothing behind it is exposed: " + strings.Join(stopped, ", ")
		default:
			msg += "; no instance uses it"
		}
		f.Evidence[key] = msg
	}
	f.Evidence["open_ports"] = portList(open)
	if len(open) == 0 {
		f.Status = awsguard.StatusPass
		f.Title = fmt.Sprintf("Security group %s allows none of the checked ports from the internet", g.ID)
		return f
	}
	f.Status = awsguard.StatusFail
	f.Remediation = "inspect.CloseExposure"
	if !anyExposed {
		f.Severity = awsguard.SeverityLow
		f.Title = fmt.Sprintf("Security group %s allows ports %s from the internet, but nothing behind it is exposed", g.ID, portList(open))
		return f
	}
	f.Title = fmt.Sprintf("Security group %s allows ports %s from the internet", g.ID, portList(open))
	return f
}

func naclFinding(s *Snapshot, ix *index, a *NetworkACL, ports []Port, exps map[Port][]Exposure) awsguard.Finding {
	f := s.finding(CheckNACLOpenPorts, s.arn("network-acl", a.ID))
	behindIt := map[string]bool{} // instances with an interface in a subnet of this ACL
	for _, inst := range s.Instances {
		for _, ifc := range inst.Interfaces {
			if n := ix.nacl(ifc.SubnetID, ifc.VpcID); n != nil && n.ID == a.ID {
				behindIt[inst.ID] = true
			}
		}
	}
	f.Evidence["nacl_id"] = a.ID
	f.Evidence["default"] = fmt.Sprint(a.Default)
	f.Evidence["subnets"] = strings.Join(a.Subnets, ",")
	var open []Port
	anyExposed := false
	for _, p := range ports {
		key := "port." + p.String()
		var how []string
		var closed []string
		for _, fam := range []Family{IPv4, IPv6} {
			in, whyIn := aclAllows(a, false, fam, p.span())
			ret, whyOut := aclAllows(a, true, fam, span{EphemeralFrom, EphemeralTo})
			switch {
			case !in.covers(p.span()):
				closed = append(closed, string(fam)+" inbound: "+whyIn)
			case ret.empty():
				closed = append(closed, string(fam)+" outbound return traffic: "+whyOut)
			default:
				how = append(how, fmt.Sprintf("%s inbound: %s; outbound return traffic: %s", fam, whyIn, whyOut))
			}
		}
		if len(how) == 0 {
			f.Evidence[key] = "closed: " + strings.Join(closed, "; ")
			continue
		}
		open = append(open, p)
		exposed, stopped := behind(exps[p], p, func(e Exposure) bool { return behindIt[e.Instance] },
			func(e Exposure) bool { return e.NACL == a.ID })
		msg := "open: " + strings.Join(how, "; ")
		switch {
		case len(exposed) > 0:
			anyExposed = true
			msg += "; lets the internet reach " + strings.Join(exposed, ",")
		case len(stopped) > 0:
			msg += "; nothing behind it is exposed: " + strings.Join(stopped, ", ")
		default:
			msg += "; no instance behind it"
		}
		f.Evidence[key] = msg
	}
	f.Evidence["open_ports"] = portList(open)
	if len(open) == 0 {
		f.Status = awsguard.StatusPass
		f.Title = fmt.Sprintf("Network ACL %s lets none of the checked ports in from the internet", a.ID)
		return f
	}
	f.Status = awsguard.StatusFail
	if !anyExposed {
		f.Severity = awsguard.SeverityLow
		f.Title = fmt.Sprintf("Network ACL %s lets ports %s in from the internet, but nothing behind it is exposed", a.ID, portList(open))
		return f
	}
	f.Title = fmt.Sprintf("Network ACL %s lets ports %s in from the internet", a.ID, portList(open))
	return f
}
