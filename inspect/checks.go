package inspect

import "github.com/awsguard/awsguard"

// Check IDs. They are stable and never renamed.
const (
	CheckInstanceExposed = "network.instance.exposed"
	CheckSGOpenPorts     = "network.sg.open_admin_ports"
	CheckNACLOpenPorts   = "network.nacl.open_admin_ports"
	CheckEnabled         = "inspector.enabled"
	CheckFindings        = "inspector.findings"
)

// Check describes one check of the package.
type Check struct {
	ID string
	// Severity is the severity of its findings; SeverityNote says when it
	// differs.
	Severity     awsguard.Severity
	SeverityNote string
	// Summary says in words when the check passes.
	Summary string
	// Controls are the baseline items it serves.
	Controls []string
	// Remediation names the function that fixes a failure, or "".
	Remediation string
}

// Checks returns the package's checks in the order of the documentation.
func Checks() []Check {
	return []Check{
		{CheckInstanceExposed, awsguard.SeverityHigh, "CRITICAL when all ports are open",
			"no checked port of the instance is reachable from the internet", []string{"ISMS-P:2.6.1"}, "inspect.CloseExposure"},
		{CheckSGOpenPorts, awsguard.SeverityMedium, "LOW when nothing behind it is exposed",
			"the security group allows no checked port from 0.0.0.0/0 or ::/0", []string{"ISMS-P:2.6.1"}, "inspect.CloseExposure"},
		{CheckNACLOpenPorts, awsguard.SeverityMedium, "LOW when nothing behind it is exposed",
			"the network ACL lets no checked port in from the internet", []string{"ISMS-P:2.6.1"}, ""},
		{CheckEnabled, awsguard.SeverityHigh, "",
			"Inspector scans the resource type in the region", []string{"ISMS-P:2.11.2"}, "inspect.Enable"},
		{CheckFindings, awsguard.SeverityHigh, "CRITICAL with a critical finding, PASS without critical or high",
			"the resource has no critical or high ACTIVE Inspector finding", []string{"ISMS-P:2.10.1"}, ""},
	}
}

func checkByID(id string) Check {
	for _, c := range Checks() {
		if c.ID == id {
			return c
		}
	}
	return Check{ID: id}
}
