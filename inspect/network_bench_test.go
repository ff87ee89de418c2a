package inspect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

const (
	benchInstances = 1000
	benchGroups    = 100
)

var benchRegions = []string{"us-east-1", "us-west-2", "eu-west-1", "ap-northeast-2"}

// seedBench fills one region with benchGroups security groups (a third
// open to the world) and benchInstances instances spread over them, in
// launches of 100.
func seedBench(b *testing.B, env *awstest.Env, region string) {
	cfg := env.Config()
	cfg.Region = region
	api := ec2.NewFromConfig(cfg)
	l := newLab(b, api)
	sub := l.subnet("10.0.0.0/20", "") // room for 1,000 addresses
	l.routeTable(l.igw, "", sub)
	groups := make([]string, benchGroups)
	for i := range groups {
		if i%3 == 0 {
			groups[i] = l.group(fmt.Sprint("g", i), perm{"tcp", 22, 22, "0.0.0.0/0"})
		} else {
			groups[i] = l.group(fmt.Sprint("g", i), perm{"tcp", 443, 443, "0.0.0.0/0"})
		}
	}
	for i := 0; i < benchInstances; i += 100 {
		_, err := api.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
			MinCount: aws.Int32(100), MaxCount: aws.Int32(100), SubnetId: aws.String(sub), SecurityGroupIds: []string{groups[(i/100)%benchGroups], groups[(i/100+50)%benchGroups]}})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuditNetwork audits 1,000 instances with 100 security groups in
// one region, then the same in 4 regions concurrently and sequentially.
// It reports calls per audit beside time. Seeding takes a while; run it
// on its own (go test runs no benchmark without -bench):
//
//	go test -run '^$' -bench AuditNetwork -benchtime 3x ./inspect/
func BenchmarkAuditNetwork(b *testing.B) {
	env := awstest.New(b)
	start := time.Now()
	for _, r := range benchRegions {
		seedBench(b, env, r)
	}
	b.Logf("seeded %d regions × %d instances, %d groups in %v", len(benchRegions), benchInstances, benchGroups, time.Since(start).Round(time.Millisecond))
	ports := func(o *inspect.NetworkOptions) { o.Ports = inspect.DefaultPorts }

	b.Run("one-region", func(b *testing.B) {
		c := apicalls.New()
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
		api := ec2.NewFromConfig(cfg)
		for b.Loop() {
			rep, err := inspect.AuditNetwork(context.Background(), api, ports)
			if err != nil {
				b.Fatal(err)
			}
			if n := len(rep.Findings); n < benchInstances+benchGroups {
				b.Fatalf("findings = %d", n)
			}
		}
		per := float64(c.Total()) / float64(b.N)
		b.ReportMetric(per, "calls/op")
		b.Logf("one region: %s", c)
		if per > 12 {
			b.Errorf("%.0f calls for %d instances, want a handful", per, benchInstances)
		}
	})
	for _, conc := range []int{len(benchRegions), 1} {
		name := "4-regions-concurrent"
		if conc == 1 {
			name = "4-regions-sequential"
		}
		b.Run(name, func(b *testing.B) {
			c := apicalls.New()
			cfg := env.Config()
			cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
			for b.Loop() {
				rep, err := inspect.AuditNetworkRegions(context.Background(), cfg, benchRegions, conc, ports)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(rep.Findings); n < len(benchRegions)*(benchInstances+benchGroups) {
					b.Fatalf("findings = %d", n)
				}
			}
			b.ReportMetric(float64(c.Total())/float64(b.N), "calls/op")
		})
	}
}

// BenchmarkNetworkFindings is the evaluation alone (no AWS): 1,000
// instances, 100 groups, the default ports.
func BenchmarkNetworkFindings(b *testing.B) {
	s := publicWorld()
	s.Instances = nil
	s.SecurityGroups = nil
	for g := range benchGroups {
		s.SecurityGroups = append(s.SecurityGroups, inspect.SecurityGroup{ID: fmt.Sprint("sg-", g), Ingress: []inspect.SGRule{
			{Protocol: "tcp", FromPort: 22, ToPort: 22, CIDR: "0.0.0.0/0"}, {Protocol: "tcp", FromPort: 443, ToPort: 443, CIDR: "0.0.0.0/0"}}})
	}
	for i := range benchInstances {
		s.Instances = append(s.Instances, inspect.Instance{ID: fmt.Sprint("i-", i), State: "running", Interfaces: []inspect.Interface{
			{ID: fmt.Sprint("eni-", i), SubnetID: "subnet-1", VpcID: "vpc-1", PublicIPv4: "54.0.0.1", Groups: []string{fmt.Sprint("sg-", i%benchGroups)}}}})
	}
	for b.Loop() {
		if n := len(inspect.NetworkFindings(s, inspect.DefaultPorts)); n != benchInstances+benchGroups+1 {
			b.Fatalf("findings = %d", n)
		}
	}
}
