package inspect_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/inspect"
)

// netEC2 is an inspect.NetworkAPI for a region with one VPC routed to
// an internet gateway and one instance with a public address, whose
// security group opens SSH and RDP to the world while the subnet's
// network ACL denies SSH before it allows everything.
type netEC2 struct{}

func (netEC2) DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error) {
	return &ec2.DescribeInstancesOutput{Reservations: []ec2types.Reservation{{OwnerId: aws.String("123456789012"), Instances: []ec2types.Instance{{
		InstanceId: aws.String("i-0aaaaaaaaaaaaaaa1"), State: &ec2types.InstanceState{Name: ec2types.InstanceStateNameRunning},
		NetworkInterfaces: []ec2types.InstanceNetworkInterface{{NetworkInterfaceId: aws.String("eni-1"), SubnetId: aws.String("subnet-1"), VpcId: aws.String("vpc-1"),
			Association: &ec2types.InstanceNetworkInterfaceAssociation{PublicIp: aws.String("198.51.100.7")},
			Attachment:  &ec2types.InstanceNetworkInterfaceAttachment{DeviceIndex: aws.Int32(0)},
			Groups:      []ec2types.GroupIdentifier{{GroupId: aws.String("sg-1")}}}},
	}}}}}, nil
}

func (netEC2) DescribeNetworkInterfaces(context.Context, *ec2.DescribeNetworkInterfacesInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkInterfacesOutput, error) {
	return &ec2.DescribeNetworkInterfacesOutput{}, nil
}

func (netEC2) DescribeSecurityGroups(context.Context, *ec2.DescribeSecurityGroupsInput, ...func(*ec2.Options)) (*ec2.DescribeSecurityGroupsOutput, error) {
	world := []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}
	return &ec2.DescribeSecurityGroupsOutput{SecurityGroups: []ec2types.SecurityGroup{{GroupId: aws.String("sg-1"), GroupName: aws.String("bastion"),
		OwnerId: aws.String("123456789012"), VpcId: aws.String("vpc-1"), IpPermissions: []ec2types.IpPermission{
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: world},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(3389), ToPort: aws.Int32(3389), IpRanges: world}}}}}, nil
}

func (netEC2) DescribeNetworkAcls(context.Context, *ec2.DescribeNetworkAclsInput, ...func(*ec2.Options)) (*ec2.DescribeNetworkAclsOutput, error) {
	entry := func(n int32, egress bool, proto string, ports *ec2types.PortRange, action ec2types.RuleAction) ec2types.NetworkAclEntry {
		return ec2types.NetworkAclEntry{RuleNumber: aws.Int32(n), Egress: aws.Bool(egress), Protocol: aws.String(proto), PortRange: ports,
			CidrBlock: aws.String("0.0.0.0/0"), RuleAction: action}
	}
	return &ec2.DescribeNetworkAclsOutput{NetworkAcls: []ec2types.NetworkAcl{{NetworkAclId: aws.String("acl-1"), VpcId: aws.String("vpc-1"),
		Associations: []ec2types.NetworkAclAssociation{{SubnetId: aws.String("subnet-1")}},
		Entries: []ec2types.NetworkAclEntry{
			entry(90, false, "6", &ec2types.PortRange{From: aws.Int32(22), To: aws.Int32(22)}, ec2types.RuleActionDeny),
			entry(100, false, "-1", nil, ec2types.RuleActionAllow),
			entry(100, true, "-1", nil, ec2types.RuleActionAllow)}}}}, nil
}

func (netEC2) DescribeRouteTables(context.Context, *ec2.DescribeRouteTablesInput, ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	return &ec2.DescribeRouteTablesOutput{RouteTables: []ec2types.RouteTable{{RouteTableId: aws.String("rtb-1"), VpcId: aws.String("vpc-1"),
		Associations: []ec2types.RouteTableAssociation{{Main: aws.Bool(true)}},
		Routes:       []ec2types.Route{{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: aws.String("igw-1")}}}}}, nil
}

func (netEC2) DescribeInternetGateways(context.Context, *ec2.DescribeInternetGatewaysInput, ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	return &ec2.DescribeInternetGatewaysOutput{InternetGateways: []ec2types.InternetGateway{{InternetGatewayId: aws.String("igw-1"),
		Attachments: []ec2types.InternetGatewayAttachment{{VpcId: aws.String("vpc-1"), State: ec2types.AttachmentStatusAttached}}}}}, nil
}

func (netEC2) DescribeManagedPrefixLists(context.Context, *ec2.DescribeManagedPrefixListsInput, ...func(*ec2.Options)) (*ec2.DescribeManagedPrefixListsOutput, error) {
	return &ec2.DescribeManagedPrefixListsOutput{}, nil
}

func (netEC2) GetManagedPrefixListEntries(context.Context, *ec2.GetManagedPrefixListEntriesInput, ...func(*ec2.Options)) (*ec2.GetManagedPrefixListEntriesOutput, error) {
	return &ec2.GetManagedPrefixListEntriesOutput{}, nil
}

var _ inspect.NetworkAPI = netEC2{}

// AuditNetwork reads the region's network in a handful of Describe calls
// and reports which instances are reachable from the internet on which
// ports, which security groups and network ACLs open them, and why. Here
// RDP is open end to end and SSH is stopped by the network ACL. (A fake
// EC2 stands in for AWS.)
func ExampleAuditNetwork() {
	rep, err := inspect.AuditNetwork(context.Background(), netEC2{}, func(o *inspect.NetworkOptions) {
		o.Region = "ap-northeast-2"
		o.Ports = []inspect.Port{22, 3389}
		o.Now = func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Status, f.Check, f.Title)
	}
	// Output:
	// FAIL network.instance.exposed Instance i-0aaaaaaaaaaaaaaa1 is reachable from the internet on ports 3389
	// FAIL network.nacl.open_admin_ports Network ACL acl-1 lets ports 3389 in from the internet
	// FAIL network.sg.open_admin_ports Security group sg-1 allows ports 22,3389 from the internet
}
