package inspect_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

// motoAMI is an image moto knows in every region.
const motoAMI = "ami-12c6146b"

// lab builds crafted VPCs on moto.
type lab struct {
	t   testing.TB
	ctx context.Context
	api *ec2.Client
	vpc string
	igw string
}

// labT is the test that the lab helpers fail; integration tests run one
// at a time (awstest resets the emulator per test).
var labT testing.TB

// must fails the current lab test on err.
func must[T any](v T, err error) T {
	labT.Helper()
	if err != nil {
		labT.Fatal(err)
	}
	return v
}

func newLab(t testing.TB, api *ec2.Client) *lab {
	t.Helper()
	labT = t
	l := &lab{t: t, ctx: context.Background(), api: api}
	vpc := must(api.CreateVpc(l.ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"), AmazonProvidedIpv6CidrBlock: aws.Bool(true)}))
	l.vpc = aws.ToString(vpc.Vpc.VpcId)
	igw := must(api.CreateInternetGateway(l.ctx, &ec2.CreateInternetGatewayInput{}))
	l.igw = aws.ToString(igw.InternetGateway.InternetGatewayId)
	must(api.AttachInternetGateway(l.ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: aws.String(l.igw), VpcId: aws.String(l.vpc)}))
	return l
}

func (l *lab) subnet(cidr, ipv6 string) string {
	l.t.Helper()
	in := &ec2.CreateSubnetInput{VpcId: aws.String(l.vpc), CidrBlock: aws.String(cidr)}
	if ipv6 != "" {
		in.Ipv6CidrBlock = aws.String(ipv6)
	}
	out := must(l.api.CreateSubnet(l.ctx, in))
	return aws.ToString(out.Subnet.SubnetId)
}

// routeTable creates a table with the given default-route targets and
// associates it with the subnets.
func (l *lab) routeTable(v4Target, v6Target string, subnets ...string) string {
	l.t.Helper()
	rt := must(l.api.CreateRouteTable(l.ctx, &ec2.CreateRouteTableInput{VpcId: aws.String(l.vpc)}))
	id := aws.ToString(rt.RouteTable.RouteTableId)
	if v4Target != "" {
		in := &ec2.CreateRouteInput{RouteTableId: aws.String(id), DestinationCidrBlock: aws.String("0.0.0.0/0")}
		if strings.HasPrefix(v4Target, "nat-") {
			in.NatGatewayId = aws.String(v4Target)
		} else {
			in.GatewayId = aws.String(v4Target)
		}
		must(l.api.CreateRoute(l.ctx, in))
	}
	if v6Target != "" {
		must(l.api.CreateRoute(l.ctx, &ec2.CreateRouteInput{RouteTableId: aws.String(id), DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: aws.String(v6Target)}))
	}
	for _, s := range subnets {
		must(l.api.AssociateRouteTable(l.ctx, &ec2.AssociateRouteTableInput{RouteTableId: aws.String(id), SubnetId: aws.String(s)}))
	}
	return id
}

type perm struct {
	proto    string
	from, to int32
	cidr     string // or ::/0 or sg- or pl-
}

func (l *lab) group(name string, perms ...perm) string {
	l.t.Helper()
	g := must(l.api.CreateSecurityGroup(l.ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(l.vpc)}))
	id := aws.ToString(g.GroupId)
	for _, p := range perms {
		ip := ec2types.IpPermission{IpProtocol: aws.String(p.proto), FromPort: aws.Int32(p.from), ToPort: aws.Int32(p.to)}
		switch {
		case strings.HasPrefix(p.cidr, "sg-"):
			ip.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(p.cidr)}}
		case strings.HasPrefix(p.cidr, "pl-"):
			ip.PrefixListIds = []ec2types.PrefixListId{{PrefixListId: aws.String(p.cidr)}}
		case strings.Contains(p.cidr, ":"):
			ip.Ipv6Ranges = []ec2types.Ipv6Range{{CidrIpv6: aws.String(p.cidr)}}
		default:
			ip.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(p.cidr), Description: aws.String("rule of " + name)}}
		}
		must(l.api.AuthorizeSecurityGroupIngress(l.ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []ec2types.IpPermission{ip}}))
	}
	return id
}

type entry struct {
	num    int32
	egress bool
	proto  string
	from   int32
	to     int32
	cidr   string
	allow  bool
}

// nacl creates a network ACL with the entries and moves the subnets to it.
func (l *lab) nacl(subnets []string, entries ...entry) string {
	l.t.Helper()
	a := must(l.api.CreateNetworkAcl(l.ctx, &ec2.CreateNetworkAclInput{VpcId: aws.String(l.vpc)}))
	id := aws.ToString(a.NetworkAcl.NetworkAclId)
	for _, e := range entries {
		in := &ec2.CreateNetworkAclEntryInput{NetworkAclId: aws.String(id), RuleNumber: aws.Int32(e.num), Egress: aws.Bool(e.egress),
			Protocol: aws.String(e.proto), RuleAction: ec2types.RuleActionDeny}
		if e.allow {
			in.RuleAction = ec2types.RuleActionAllow
		}
		if strings.Contains(e.cidr, ":") {
			in.Ipv6CidrBlock = aws.String(e.cidr)
		} else {
			in.CidrBlock = aws.String(e.cidr)
		}
		if e.proto == "6" {
			in.PortRange = &ec2types.PortRange{From: aws.Int32(e.from), To: aws.Int32(e.to)}
		}
		must(l.api.CreateNetworkAclEntry(l.ctx, in))
	}
	acls := must(l.api.DescribeNetworkAcls(l.ctx, &ec2.DescribeNetworkAclsInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{l.vpc}}}}))
	for _, s := range subnets {
		for _, x := range acls.NetworkAcls {
			for _, as := range x.Associations {
				if aws.ToString(as.SubnetId) == s {
					must(l.api.ReplaceNetworkAclAssociation(l.ctx, &ec2.ReplaceNetworkAclAssociationInput{AssociationId: as.NetworkAclAssociationId, NetworkAclId: aws.String(id)}))
				}
			}
		}
	}
	return id
}

// instance launches one instance; eip gives it an Elastic IP, ipv6 an
// IPv6 address.
func (l *lab) instance(name, subnet string, eip, ipv6 bool, groups ...string) string {
	l.t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		SubnetId: aws.String(subnet), SecurityGroupIds: groups,
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}}
	if ipv6 {
		in.Ipv6AddressCount = aws.Int32(1)
	}
	out := must(l.api.RunInstances(l.ctx, in))
	id := aws.ToString(out.Instances[0].InstanceId)
	if eip {
		a := must(l.api.AllocateAddress(l.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
		must(l.api.AssociateAddress(l.ctx, &ec2.AssociateAddressInput{AllocationId: a.AllocationId, InstanceId: aws.String(id)}))
	}
	return id
}

// craftedLab is the integration scenario: public and private subnets,
// open and closed groups, a NACL that denies before it allows, an
// instance without a public address and an IPv6-only path.
type craftedLab struct {
	*lab
	web, private, denied, closed, nopub, v6, all string
	sgOpen, sgSSH, sgClosed, sgV6, sgAll         string
	aclDeny                                      string
}

func buildCraftedLab(t testing.TB, api *ec2.Client) *craftedLab {
	l := newLab(t, api)
	c := &craftedLab{lab: l}
	pub := l.subnet("10.0.1.0/24", "")
	priv := l.subnet("10.0.2.0/24", "")
	den := l.subnet("10.0.3.0/24", "")
	vpcOut := must(api.DescribeVpcs(l.ctx, &ec2.DescribeVpcsInput{VpcIds: []string{l.vpc}}))
	v6 := ""
	if a := vpcOut.Vpcs[0].Ipv6CidrBlockAssociationSet; len(a) > 0 {
		v6 = aws.ToString(a[0].Ipv6CidrBlock)
	}
	if v6 == "" {
		t.Fatal("moto gave the VPC no IPv6 block")
	}
	six := l.subnet("10.0.4.0/24", strings.Replace(v6, "::/56", "::/64", 1))
	l.routeTable(l.igw, l.igw, pub, den, six)
	eipSub := must(api.AllocateAddress(l.ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	nat := must(api.CreateNatGateway(l.ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(pub), AllocationId: eipSub.AllocationId}))
	l.routeTable(aws.ToString(nat.NatGateway.NatGatewayId), "", priv)
	c.aclDeny = l.nacl([]string{den},
		entry{90, false, "6", 22, 22, "0.0.0.0/0", false},
		entry{100, false, "-1", 0, 0, "0.0.0.0/0", true},
		entry{100, true, "-1", 0, 0, "0.0.0.0/0", true})
	// moto's default NACL has no IPv6 entries (AWS adds them to the
	// default NACL of a VPC with IPv6): give the IPv6 subnet its own.
	l.nacl([]string{six},
		entry{100, false, "-1", 0, 0, "::/0", true},
		entry{100, true, "-1", 0, 0, "::/0", true})
	c.sgOpen = l.group("open", perm{"tcp", 22, 22, "0.0.0.0/0"}, perm{"tcp", 3389, 3389, "0.0.0.0/0"})
	c.sgSSH = l.group("ssh", perm{"tcp", 22, 22, "0.0.0.0/0"})
	c.sgClosed = l.group("closed", perm{"tcp", 22, 22, "203.0.113.0/24"}, perm{"tcp", 5432, 5432, c.sgOpen})
	c.sgV6 = l.group("v6", perm{"tcp", 22, 22, "::/0"})
	c.sgAll = l.group("all", perm{"-1", 0, 0, "0.0.0.0/0"})
	c.web = l.instance("web", pub, true, false, c.sgOpen)
	c.private = l.instance("private", priv, true, false, c.sgOpen)
	c.denied = l.instance("denied", den, true, false, c.sgSSH)
	c.closed = l.instance("closed", pub, true, false, c.sgClosed)
	c.nopub = l.instance("nopub", pub, false, false, c.sgOpen)
	c.v6 = l.instance("v6", six, false, true, c.sgV6)
	c.all = l.instance("all", pub, true, false, c.sgAll)
	return c
}

type verdict struct {
	Status   awsguard.Status
	Severity awsguard.Severity
	Exposed  string
	Layer22  string
}

func TestAuditNetworkMoto(t *testing.T) {
	env := awstest.New(t)
	api := ec2.NewFromConfig(env.Config())
	c := buildCraftedLab(t, api)
	rep, err := inspect.AuditNetwork(context.Background(), api)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]verdict{}
	for _, f := range rep.Findings {
		if f.Check == inspect.CheckInstanceExposed {
			got[f.Evidence["instance_id"]] = verdict{f.Status, f.Severity, f.Evidence["exposed_ports"], f.Evidence["layer.22"]}
			if f.Account != awstest.DefaultAccount || f.Region != awstest.DefaultRegion || !strings.HasPrefix(f.Resource, "arn:aws:ec2:us-east-1:") {
				t.Errorf("finding's account/region/resource: %s %s %s", f.Account, f.Region, f.Resource)
			}
		}
	}
	want := map[string]verdict{
		c.web:     {"FAIL", "HIGH", "22,3389", "open"},
		c.private: {"PASS", "HIGH", "none", "route"},
		c.denied:  {"PASS", "HIGH", "none", "nacl-inbound"},
		c.closed:  {"PASS", "HIGH", "none", "security-group"},
		c.nopub:   {"PASS", "HIGH", "none", "address"},
		c.v6:      {"FAIL", "HIGH", "22", "open"},
		c.all:     {"FAIL", "CRITICAL", "22,3389,3306,5432,1433,1521,27017,6379,9200,5601,all", "open"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		for _, f := range rep.Findings {
			if f.Check == inspect.CheckInstanceExposed {
				t.Logf("%s: %s", f.Evidence["instance_id"], f.Evidence["path.22"])
			}
		}
		t.Fatalf("instance verdicts (-want +got):\n%s", diff)
	}
	groups := map[string]string{}
	for _, f := range rep.Findings {
		switch f.Check {
		case inspect.CheckSGOpenPorts:
			groups[f.Evidence["group_id"]] = fmt.Sprintf("%s %s %s", f.Status, f.Severity, f.Evidence["open_ports"])
		case inspect.CheckNACLOpenPorts:
			if f.Evidence["nacl_id"] == c.aclDeny {
				groups[c.aclDeny] = fmt.Sprintf("%s %s %s", f.Status, f.Severity, f.Evidence["open_ports"])
			}
		}
	}
	wantGroups := map[string]string{
		c.sgOpen:   "FAIL MEDIUM 22,3389",
		c.sgSSH:    "FAIL LOW 22", // only the denied instance uses it: its NACL stops SSH
		c.sgClosed: "PASS MEDIUM none",
		c.sgV6:     "FAIL MEDIUM 22",
		c.sgAll:    "FAIL MEDIUM 22,3389,3306,5432,1433,1521,27017,6379,9200,5601,all",
		// The denying NACL lets in every checked port but SSH, and nothing
		// behind it is exposed on them.
		c.aclDeny: "FAIL LOW 3389,3306,5432,1433,1521,27017,6379,9200,5601",
	}
	for id, w := range wantGroups {
		if groups[id] != w {
			t.Errorf("%s: %q, want %q", id, groups[id], w)
		}
	}
}

// The calls per region do not grow with the number of instances.
func TestAuditNetworkConstantCalls(t *testing.T) {
	env := awstest.New(t)
	api := ec2.NewFromConfig(env.Config())
	l := newLab(t, api)
	sub := l.subnet("10.0.1.0/24", "")
	l.routeTable(l.igw, "", sub)
	g := l.group("open", perm{"tcp", 22, 22, "0.0.0.0/0"})
	count := func() int {
		c := apicalls.New()
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
		if _, err := inspect.AuditNetwork(context.Background(), ec2.NewFromConfig(cfg)); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s", c)
		return c.Total()
	}
	l.instance("a", sub, true, false, g)
	few := count()
	for i := range 10 {
		l.instance(fmt.Sprint("b", i), sub, i%3 == 0, false, g)
	}
	many := count()
	if few != many || few > 10 {
		t.Errorf("calls: %d with 1 instance, %d with 11; want the same handful", few, many)
	}
}
