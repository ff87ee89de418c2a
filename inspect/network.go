package inspect

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
)

// NetworkOptions tune AuditNetwork and ReadSnapshot.
type NetworkOptions struct {
	// Ports are the TCP ports checked (AllPorts for the whole range);
	// default DefaultPorts.
	Ports []Port
	// Account and Region go into the findings and their ARNs. Default: the
	// account that owns the instances and security groups, and the
	// client's region (when the client is an *ec2.Client).
	Account, Region string
	// Partition of the ARNs; default "aws".
	Partition string
	// MaxPages bounds each paginated Describe call; default
	// DefaultMaxPages.
	MaxPages int
	// Logger receives one record per call made; default discards.
	Logger *slog.Logger
	// Now stamps the report; default time.Now.
	Now func() time.Time
}

func networkOptions(optFns []func(*NetworkOptions)) (NetworkOptions, error) {
	var o NetworkOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Ports == nil {
		o.Ports = slices.Clone(DefaultPorts)
	}
	seen := map[Port]bool{}
	for i, p := range o.Ports {
		if !p.valid() || seen[p] {
			return o, &awsguard.InputError{Operation: "inspect.AuditNetwork", Field: fmt.Sprintf("NetworkOptions.Ports[%d]", i),
				Value: fmt.Sprint(int32(p)), Allowed: "distinct TCP ports 0-65535, or AllPorts"}
		}
		seen[p] = true
	}
	if len(o.Ports) == 0 {
		return o, &awsguard.InputError{Operation: "inspect.AuditNetwork", Field: "NetworkOptions.Ports", Value: "[]", Allowed: "at least one port"}
	}
	if o.MaxPages < 0 {
		return o, &awsguard.InputError{Operation: "inspect.AuditNetwork", Field: "NetworkOptions.MaxPages", Value: fmt.Sprint(o.MaxPages), Allowed: "0 (default) or more"}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}

// ec2Region returns the region of an *ec2.Client (or anything with its
// Options method), or "".
func ec2Region(api any) string {
	if c, ok := api.(interface{ Options() ec2.Options }); ok {
		return c.Options().Region
	}
	return ""
}

// AuditNetwork reads the region's network (ReadSnapshot: a handful of
// paginated Describe calls, never one per instance) and returns the
// findings of NetworkFindings in a report.
//
// If a Describe call fails, nothing is evaluated (a partial network would
// give wrong verdicts): the report holds one StatusError finding per
// network check for the region, saying which call failed, and the error
// wraps ErrAuditIncomplete and the cause. Invalid options give an
// *awsguard.InputError before any call.
//
// Permissions: those NetworkAPI lists.
func AuditNetwork(ctx context.Context, api NetworkAPI, optFns ...func(*NetworkOptions)) (*awsguard.Report, error) {
	o, err := networkOptions(optFns)
	if err == nil {
		err = needClient("inspect.AuditNetwork", api)
	}
	if err != nil {
		return nil, err
	}
	snap, err := readSnapshot(ctx, api, o)
	if err != nil {
		rep := awsguard.NewReport(o.Now())
		for _, check := range []string{CheckInstanceExposed, CheckSGOpenPorts, CheckNACLOpenPorts} {
			f := snap.finding(check, "region/"+snap.Region)
			f.Status = awsguard.StatusError
			f.Title = "The network of region " + snap.Region + " could not be read"
			f.Evidence["error"] = err.Error()
			rep.Add(f)
		}
		return rep, fmt.Errorf("%w: %w", ErrAuditIncomplete, err)
	}
	return awsguard.NewReport(o.Now(), NetworkFindings(snap, o.Ports)...), nil
}

// ReadSnapshot reads what the evaluation needs of the client's region:
// DescribeInstances, DescribeNetworkInterfaces, DescribeSecurityGroups,
// DescribeNetworkAcls, DescribeRouteTables, DescribeInternetGateways and
// DescribeManagedPrefixLists, each paginated, plus
// GetManagedPrefixListEntries for each customer-managed prefix list a
// security group rule refers to. Their number does not grow with the
// number of instances beyond pagination (1,000 items a page).
func ReadSnapshot(ctx context.Context, api NetworkAPI, optFns ...func(*NetworkOptions)) (*Snapshot, error) {
	o, err := networkOptions(optFns)
	if err == nil {
		err = needClient("inspect.ReadSnapshot", api)
	}
	if err != nil {
		return nil, err
	}
	return readSnapshot(ctx, api, o)
}

func readSnapshot(ctx context.Context, api NetworkAPI, o NetworkOptions) (*Snapshot, error) {
	s := &Snapshot{Account: o.Account, Region: o.Region, Partition: o.Partition}
	if s.Region == "" {
		s.Region = ec2Region(api)
	}
	log := o.Logger.With("operation", "inspect.AuditNetwork", "region", s.Region)
	max := aws.Int32(1000) // DescribeNetworkAcls, DescribeRouteTables and the prefix lists allow 100
	owner := ""
	steps := []struct {
		op  string
		run func(ctx context.Context) error
	}{
		{"DescribeInstances", func(ctx context.Context) error {
			return paginate(ctx, "DescribeInstances", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{NextToken: tok, MaxResults: max})
				if err != nil {
					return nil, err
				}
				for _, r := range out.Reservations {
					owner = cmp.Or(owner, aws.ToString(r.OwnerId))
					for _, in := range r.Instances {
						s.Instances = append(s.Instances, convertInstance(in))
					}
				}
				return out.NextToken, nil
			})
		}},
		{"DescribeNetworkInterfaces", func(ctx context.Context) error {
			var enis []ec2types.NetworkInterface
			err := paginate(ctx, "DescribeNetworkInterfaces", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{NextToken: tok, MaxResults: max})
				if err != nil {
					return nil, err
				}
				enis = append(enis, out.NetworkInterfaces...)
				return out.NextToken, nil
			})
			mergeInterfaces(s, enis)
			return err
		}},
		{"DescribeSecurityGroups", func(ctx context.Context) error {
			return paginate(ctx, "DescribeSecurityGroups", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{NextToken: tok, MaxResults: max})
				if err != nil {
					return nil, err
				}
				for _, g := range out.SecurityGroups {
					owner = cmp.Or(owner, aws.ToString(g.OwnerId))
					s.SecurityGroups = append(s.SecurityGroups, convertGroup(g))
				}
				return out.NextToken, nil
			})
		}},
		{"DescribeNetworkAcls", func(ctx context.Context) error {
			return paginate(ctx, "DescribeNetworkAcls", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeNetworkAcls(ctx, &ec2.DescribeNetworkAclsInput{NextToken: tok, MaxResults: aws.Int32(100)})
				if err != nil {
					return nil, err
				}
				for _, a := range out.NetworkAcls {
					s.NetworkACLs = append(s.NetworkACLs, convertACL(a))
				}
				return out.NextToken, nil
			})
		}},
		{"DescribeRouteTables", func(ctx context.Context) error {
			return paginate(ctx, "DescribeRouteTables", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{NextToken: tok, MaxResults: aws.Int32(100)})
				if err != nil {
					return nil, err
				}
				for _, rt := range out.RouteTables {
					s.RouteTables = append(s.RouteTables, convertRouteTable(rt))
				}
				return out.NextToken, nil
			})
		}},
		{"DescribeInternetGateways", func(ctx context.Context) error {
			return paginate(ctx, "DescribeInternetGateways", o.MaxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{NextToken: tok, MaxResults: aws.Int32(1000)})
				if err != nil {
					return nil, err
				}
				for _, g := range out.InternetGateways {
					ig := InternetGateway{ID: aws.ToString(g.InternetGatewayId)}
					for _, at := range g.Attachments {
						if at.State != ec2types.AttachmentStatusDetached && at.State != ec2types.AttachmentStatusDetaching {
							ig.VPCs = append(ig.VPCs, aws.ToString(at.VpcId))
						}
					}
					s.InternetGateways = append(s.InternetGateways, ig)
				}
				return out.NextToken, nil
			})
		}},
		{"DescribeManagedPrefixLists", func(ctx context.Context) error {
			return readPrefixLists(ctx, api, s, o.MaxPages)
		}},
	}
	for _, st := range steps {
		log.DebugContext(ctx, "describe", "step", st.op)
		if err := st.run(ctx); err != nil {
			s.Account = cmp.Or(s.Account, owner)
			return s, fmt.Errorf("inspect: %s in %s: %w", st.op, s.Region, err)
		}
	}
	s.Account = cmp.Or(s.Account, owner)
	return s, nil
}

// prefixListAPI is what readPrefixLists calls.
type prefixListAPI interface {
	DescribeManagedPrefixLists(ctx context.Context, in *ec2.DescribeManagedPrefixListsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error)
	GetManagedPrefixListEntries(ctx context.Context, in *ec2.GetManagedPrefixListEntriesInput, optFns ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error)
}

// readPrefixLists lists the managed prefix lists and reads the entries of
// those the snapshot's security group rules refer to. AWS-managed lists
// (owner "AWS": service endpoints) never hold 0.0.0.0/0 and are not read.
func readPrefixLists(ctx context.Context, api prefixListAPI, s *Snapshot, maxPages int) error {
	used := map[string]bool{}
	for _, g := range s.SecurityGroups {
		for _, r := range g.Ingress {
			if r.PrefixListID != "" {
				used[r.PrefixListID] = true
			}
		}
	}
	var lists []ec2types.ManagedPrefixList
	err := paginate(ctx, "DescribeManagedPrefixLists", maxPages, func(ctx context.Context, tok *string) (*string, error) {
		out, err := api.DescribeManagedPrefixLists(ctx, &ec2.DescribeManagedPrefixListsInput{NextToken: tok, MaxResults: aws.Int32(100)})
		if err != nil {
			return nil, err
		}
		lists = append(lists, out.PrefixLists...)
		return out.NextToken, nil
	})
	if err != nil {
		return err
	}
	for _, l := range lists {
		id := aws.ToString(l.PrefixListId)
		pl := PrefixList{ID: id, Name: aws.ToString(l.PrefixListName)}
		if used[id] && aws.ToString(l.OwnerId) != "AWS" {
			err := paginate(ctx, "GetManagedPrefixListEntries", maxPages, func(ctx context.Context, tok *string) (*string, error) {
				out, err := api.GetManagedPrefixListEntries(ctx, &ec2.GetManagedPrefixListEntriesInput{PrefixListId: l.PrefixListId, NextToken: tok, MaxResults: aws.Int32(100)})
				if err != nil {
					return nil, err
				}
				for _, e := range out.Entries {
					pl.CIDRs = append(pl.CIDRs, aws.ToString(e.Cidr))
				}
				return out.NextToken, nil
			})
			if err != nil {
				return fmt.Errorf("GetManagedPrefixListEntries %s: %w", id, err)
			}
		}
		s.PrefixLists = append(s.PrefixLists, pl)
	}
	return nil
}

func nameTag(tags []ec2types.Tag) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == "Name" {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

func convertInstance(in ec2types.Instance) Instance {
	inst := Instance{ID: aws.ToString(in.InstanceId), Name: nameTag(in.Tags)}
	if in.State != nil {
		inst.State = string(in.State.Name)
	}
	type indexed struct {
		idx int32
		ifc Interface
	}
	var ifcs []indexed
	for _, n := range in.NetworkInterfaces {
		ifc := Interface{ID: aws.ToString(n.NetworkInterfaceId), SubnetID: aws.ToString(n.SubnetId), VpcID: aws.ToString(n.VpcId)}
		if n.Association != nil {
			ifc.PublicIPv4 = aws.ToString(n.Association.PublicIp)
		}
		for _, a := range n.Ipv6Addresses {
			ifc.IPv6 = append(ifc.IPv6, aws.ToString(a.Ipv6Address))
		}
		for _, g := range n.Groups {
			ifc.Groups = append(ifc.Groups, aws.ToString(g.GroupId))
		}
		var idx int32
		if n.Attachment != nil {
			idx = aws.ToInt32(n.Attachment.DeviceIndex)
		}
		ifcs = append(ifcs, indexed{idx, ifc})
	}
	slices.SortStableFunc(ifcs, func(a, b indexed) int { return cmp.Compare(a.idx, b.idx) })
	for _, x := range ifcs {
		inst.Interfaces = append(inst.Interfaces, x.ifc)
	}
	if len(inst.Interfaces) == 0 && aws.ToString(in.SubnetId) != "" {
		// No interface listed: describe the primary one from the instance.
		ifc := Interface{ID: "primary", SubnetID: aws.ToString(in.SubnetId), VpcID: aws.ToString(in.VpcId), PublicIPv4: aws.ToString(in.PublicIpAddress)}
		for _, g := range in.SecurityGroups {
			ifc.Groups = append(ifc.Groups, aws.ToString(g.GroupId))
		}
		inst.Interfaces = append(inst.Interfaces, ifc)
	} else if len(inst.Interfaces) > 0 && inst.Interfaces[0].PublicIPv4 == "" {
		inst.Interfaces[0].PublicIPv4 = aws.ToString(in.PublicIpAddress)
	}
	return inst
}

// mergeInterfaces lets DescribeNetworkInterfaces, the interfaces' own
// record, decide their addresses and groups, and adds interfaces attached
// to an instance that DescribeInstances did not list.
func mergeInterfaces(s *Snapshot, enis []ec2types.NetworkInterface) {
	pos := map[string]int{}
	for i, inst := range s.Instances {
		pos[inst.ID] = i
	}
	for _, n := range enis {
		if n.Attachment == nil {
			continue
		}
		i, ok := pos[aws.ToString(n.Attachment.InstanceId)]
		if !ok {
			continue
		}
		ifc := Interface{ID: aws.ToString(n.NetworkInterfaceId), SubnetID: aws.ToString(n.SubnetId), VpcID: aws.ToString(n.VpcId)}
		if n.Association != nil {
			ifc.PublicIPv4 = aws.ToString(n.Association.PublicIp)
		}
		for _, a := range n.Ipv6Addresses {
			ifc.IPv6 = append(ifc.IPv6, aws.ToString(a.Ipv6Address))
		}
		for _, g := range n.Groups {
			ifc.Groups = append(ifc.Groups, aws.ToString(g.GroupId))
		}
		inst := &s.Instances[i]
		j := slices.IndexFunc(inst.Interfaces, func(x Interface) bool { return x.ID == ifc.ID })
		switch {
		case j < 0:
			inst.Interfaces = append(inst.Interfaces, ifc)
		default:
			if ifc.PublicIPv4 == "" {
				ifc.PublicIPv4 = inst.Interfaces[j].PublicIPv4
			}
			inst.Interfaces[j] = ifc
		}
	}
}

func convertGroup(g ec2types.SecurityGroup) SecurityGroup {
	sg := SecurityGroup{ID: aws.ToString(g.GroupId), Name: aws.ToString(g.GroupName), VpcID: aws.ToString(g.VpcId)}
	for _, p := range g.IpPermissions {
		sg.Ingress = append(sg.Ingress, flattenPermission(sg.ID, p)...)
	}
	return sg
}

// flattenPermission splits an IpPermission into one rule per source.
func flattenPermission(group string, p ec2types.IpPermission) []SGRule {
	base := SGRule{Group: group, Protocol: aws.ToString(p.IpProtocol), FromPort: aws.ToInt32(p.FromPort), ToPort: aws.ToInt32(p.ToPort)}
	var out []SGRule
	for _, r := range p.IpRanges {
		x := base
		x.CIDR, x.Description = aws.ToString(r.CidrIp), aws.ToString(r.Description)
		out = append(out, x)
	}
	for _, r := range p.Ipv6Ranges {
		x := base
		x.CIDR, x.Description = aws.ToString(r.CidrIpv6), aws.ToString(r.Description)
		out = append(out, x)
	}
	for _, r := range p.PrefixListIds {
		x := base
		x.PrefixListID, x.Description = aws.ToString(r.PrefixListId), aws.ToString(r.Description)
		out = append(out, x)
	}
	for _, r := range p.UserIdGroupPairs {
		x := base
		x.SourceGroupID, x.Description = aws.ToString(r.GroupId), aws.ToString(r.Description)
		out = append(out, x)
	}
	return out
}

func convertACL(a ec2types.NetworkAcl) NetworkACL {
	acl := NetworkACL{ID: aws.ToString(a.NetworkAclId), VpcID: aws.ToString(a.VpcId), Default: aws.ToBool(a.IsDefault)}
	for _, as := range a.Associations {
		if sub := aws.ToString(as.SubnetId); sub != "" {
			acl.Subnets = append(acl.Subnets, sub)
		}
	}
	for _, e := range a.Entries {
		x := ACLEntry{RuleNumber: aws.ToInt32(e.RuleNumber), Egress: aws.ToBool(e.Egress), Protocol: aws.ToString(e.Protocol),
			CIDR: cmp.Or(aws.ToString(e.CidrBlock), aws.ToString(e.Ipv6CidrBlock)), Allow: e.RuleAction == ec2types.RuleActionAllow}
		if e.PortRange != nil {
			x.FromPort, x.ToPort = aws.ToInt32(e.PortRange.From), aws.ToInt32(e.PortRange.To)
		} else if protocolNumber(x.Protocol) == "6" {
			x.FromPort, x.ToPort = 0, 65535
		}
		acl.Entries = append(acl.Entries, x)
	}
	return acl
}

func convertRouteTable(rt ec2types.RouteTable) RouteTable {
	t := RouteTable{ID: aws.ToString(rt.RouteTableId), VpcID: aws.ToString(rt.VpcId)}
	for _, as := range rt.Associations {
		if aws.ToBool(as.Main) {
			t.Main = true
		}
		if sub := aws.ToString(as.SubnetId); sub != "" {
			t.Subnets = append(t.Subnets, sub)
		}
	}
	for _, r := range rt.Routes {
		dest := cmp.Or(aws.ToString(r.DestinationCidrBlock), aws.ToString(r.DestinationIpv6CidrBlock))
		if dest == "" {
			continue // a prefix-list destination is narrower than the internet
		}
		target := cmp.Or(aws.ToString(r.GatewayId), aws.ToString(r.NatGatewayId), aws.ToString(r.TransitGatewayId),
			aws.ToString(r.VpcPeeringConnectionId), aws.ToString(r.EgressOnlyInternetGatewayId), aws.ToString(r.NetworkInterfaceId),
			aws.ToString(r.InstanceId), aws.ToString(r.LocalGatewayId), aws.ToString(r.CarrierGatewayId), "unknown")
		t.Routes = append(t.Routes, Route{Destination: dest, Target: target, Blackhole: r.State == ec2types.RouteStateBlackhole})
	}
	return t
}
