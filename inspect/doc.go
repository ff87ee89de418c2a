// Package inspect finds what the internet can really reach and what Amazon
// Inspector (v2) knows about it: the effective network exposure of every
// EC2 instance, taking its address, route table, security groups and
// network ACLs into account together, and Inspector's enablement and
// findings, across regions.
//
//	api := ec2.NewFromConfig(cfg)
//	rep, err := inspect.AuditNetwork(ctx, api) // one region, a handful of Describe calls
//	for _, f := range rep.Findings {
//		if f.Check == inspect.CheckInstanceExposed && f.Status == awsguard.StatusFail {
//			targets, _ := inspect.TargetsFromFinding(f)
//			for _, t := range targets {
//				plan, err := inspect.CloseExposure(ctx, api, t, func(o *inspect.CloseOptions) { o.ReplaceCIDR = "203.0.113.0/24" })
//				...
//			}
//		}
//	}
//
// # Network exposure
//
// AuditNetwork reads a region with paginated Describe calls (instances,
// network interfaces, security groups, network ACLs, route tables,
// internet gateways, managed prefix lists, and the entries of the
// customer-managed prefix lists that rules refer to): never one call per
// instance, so 1,000 instances cost the same 7 calls as one. Evaluate, a
// pure function of that Snapshot, decides each instance and port. An
// instance is exposed on a TCP port when one of its network interfaces has
// a path from the internet through every layer, in IPv4 or in IPv6:
//
//   - address: a public IPv4 address (auto-assigned or Elastic IP), or a
//     global unicast IPv6 address (2000::/3);
//   - route: its subnet's route table (the explicit association, else the
//     VPC's main table) routes 0.0.0.0/0 (::/0) to an internet gateway
//     attached to the VPC; a NAT gateway, a blackhole or a narrower route
//     is not a way in;
//   - security group: a group of the interface allows the port from
//     0.0.0.0/0 (::/0), directly or through a prefix list that holds it; a
//     rule whose source is another security group, or a narrower CIDR, is
//     not internet exposure;
//   - network ACL inbound: the subnet's ACL (its association, else the
//     VPC's default ACL) lets the port in: entries are evaluated by rule
//     number, the first that matches decides, and the implicit deny ends
//     the list; protocol -1 matches everything, ICMP and UDP entries never
//     match TCP, IPv4 entries never match IPv6 traffic, and an entry with
//     a narrower CIDR than 0.0.0.0/0 (::/0) does not decide for an
//     arbitrary internet address;
//   - network ACL outbound: ACLs are stateless, so the return traffic must
//     be let out to the client's port: at least one port of the ephemeral
//     range 1024-65535 must be allowed out (the client picks its port).
//
// The ports are Options.Ports, by default the admin and database ports
// (22, 3389, 3306, 5432, 1433, 1521, 27017, 6379, 9200, 5601) and AllPorts,
// which is exposed when every TCP port 0-65535 is. The evidence of each
// instance finding is the whole path per port ("path.22"), or every path
// tried and the layer that stops each; "layer.22" names the deciding
// layer: open, address, route, security-group, nacl-inbound or
// nacl-outbound. The security group and NACL checks look at one layer
// alone, and say whether anything behind it is exposed: an open group in
// front of a NACL that denies the port, or an open NACL in front of closed
// groups, is LOW, not a breach.
//
// # Checks
//
// Check IDs are stable and never renamed. One finding per check and
// resource: instances, security groups and network ACLs by ARN
// (arn:aws:ec2:REGION:ACCOUNT:instance/ID, security-group/ID,
// network-acl/ID), Inspector statuses as inspector2/REGION/TYPE, Inspector
// findings by the resource's ID.
//
//	| check ID                      | severity | when it differs                                                 | ISMS-P | remediation           |
//	|-------------------------------|----------|-----------------------------------------------------------------|--------|-----------------------|
//	| network.instance.exposed      | HIGH     | CRITICAL when all ports are open                                | 2.6.1  | inspect.CloseExposure |
//	| network.sg.open_admin_ports   | MEDIUM   | LOW when nothing behind it is exposed                           | 2.6.1  | inspect.CloseExposure |
//	| network.nacl.open_admin_ports | MEDIUM   | LOW when nothing behind it is exposed                           | 2.6.1  |                       |
//	| inspector.enabled             | HIGH     |                                                                 | 2.11.2 | inspect.Enable        |
//	| inspector.findings            | HIGH     | CRITICAL with a critical finding, PASS without critical or high | 2.10.1 |                       |
//
// # Closing and restoring exposure
//
// CloseExposure revokes the rules that open a port to the internet on an
// instance's groups (or one group), or replaces each with the same rule
// from a given CIDR. Before revoking a rule it records it in a tag on its
// group (RecordTagPrefix); RestoreExposure reads those tags to put the
// rules back and remove the replacements. Both plan first (an
// awsguard.Plan of record-rule, authorize-replacement, revoke-rule, or
// authorize-rule, revoke-replacement, delete-record actions), honour
// DryRun, and are idempotent: a second run finds nothing to do, and a run
// interrupted at any call carries out only what is left when run again;
// no rule is ever revoked without its record. Restoring reopens a port to
// the internet, so its authorize actions are Weakening and need
// RestoreOptions.AllowWeaken.
//
// # Inspector
//
// Enable turns Inspector on for resource types (EC2, ECR, LAMBDA,
// LAMBDA_CODE) in a region and polls BatchGetAccountStatus, with bounded
// backoff up to MaxWait, until they are ENABLED; types already ENABLED
// get no Enable call. Disable is its reverse and is Weakening. Status
// reads the status per type. EnableRegions, DisableRegions, StatusRegions
// and AuditInspectorRegions fan out over regions with
// awsguard.ForEachRegion. Findings is an iterator over ListFindings
// (default filter ACTIVE) that follows empty pages still carrying a
// NextToken and stops with ErrTooManyPages on a repeating token or past
// MaxPages; Summarize counts by severity, by resource and the top
// vulnerabilities (CVE, packages, fix available). Audit returns the
// inspector.enabled and inspector.findings findings.
//
// # Permissions
//
//	AuditNetwork, ReadSnapshot  ec2:DescribeInstances, ec2:DescribeNetworkInterfaces, ec2:DescribeSecurityGroups,
//	                            ec2:DescribeNetworkAcls, ec2:DescribeRouteTables, ec2:DescribeInternetGateways,
//	                            ec2:DescribeManagedPrefixLists, ec2:GetManagedPrefixListEntries
//	CloseExposure               ec2:DescribeInstances, ec2:DescribeSecurityGroups, ec2:DescribeManagedPrefixLists,
//	                            ec2:GetManagedPrefixListEntries, ec2:CreateTags, ec2:AuthorizeSecurityGroupIngress,
//	                            ec2:RevokeSecurityGroupIngress
//	RestoreExposure             the same and ec2:DeleteTags
//	Status                      inspector2:BatchGetAccountStatus
//	Enable                      inspector2:BatchGetAccountStatus, inspector2:Enable (and iam:CreateServiceLinkedRole the first time)
//	Disable                     inspector2:BatchGetAccountStatus, inspector2:Disable
//	Findings                    inspector2:ListFindings
//	Audit                       inspector2:BatchGetAccountStatus, inspector2:ListFindings
//
// The interfaces NetworkAPI, ExposureAPI, StatusAPI, EnableAPI, DisableAPI,
// FindingsAPI and AuditAPI are those lists; *ec2.Client and
// *inspector2.Client satisfy them.
//
// The library prints nothing; it logs through the optional *slog.Logger of
// its options.
package inspect
