package inspect_test

import (
	"fmt"

	"github.com/awsguard/awsguard/inspect"
)

// Evaluate decides exposure from a snapshot without calling AWS: here the
// security group opens SSH and RDP to the world, but the subnet's network
// ACL denies SSH before it allows everything.
func ExampleEvaluate() {
	s := &inspect.Snapshot{
		Instances: []inspect.Instance{{ID: "i-1", State: "running", Interfaces: []inspect.Interface{
			{ID: "eni-1", SubnetID: "subnet-1", VpcID: "vpc-1", PublicIPv4: "198.51.100.7", Groups: []string{"sg-1"}}}}},
		SecurityGroups: []inspect.SecurityGroup{{ID: "sg-1", Ingress: []inspect.SGRule{
			{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"},
			{Protocol: "tcp", FromPort: 3389, ToPort: 3389, CIDR: "0.0.0.0/0"}}}},
		NetworkACLs: []inspect.NetworkACL{{ID: "acl-1", VpcID: "vpc-1", Subnets: []string{"subnet-1"}, Entries: []inspect.ACLEntry{
			{RuleNumber: 90, Protocol: "6", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"},
			{RuleNumber: 100, Protocol: "-1", CIDR: "0.0.0.0/0", Allow: true},
			{RuleNumber: 100, Egress: true, Protocol: "-1", CIDR: "0.0.0.0/0", Allow: true}}}},
		RouteTables: []inspect.RouteTable{{ID: "rtb-1", VpcID: "vpc-1", Main: true, Routes: []inspect.Route{
			{Destination: "0.0.0.0/0", Target: "igw-1"}}}},
		InternetGateways: []inspect.InternetGateway{{ID: "igw-1", VPCs: []string{"vpc-1"}}},
	}
	for _, e := range inspect.Evaluate(s, []inspect.Port{22, 3389}) {
		fmt.Printf("%s port %s: open=%v, decided at %s\n", e.Instance, e.Port, e.Open, e.StoppedBy)
	}
	// Output:
	// i-1 port 22: open=false, decided at nacl-inbound
	// i-1 port 3389: open=true, decided at open
}
