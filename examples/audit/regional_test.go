package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/observe"
)

// motoAMI is an image moto knows; al2023AMI one of its Amazon Linux 2023
// images (which ship the EC2 Instance Connect agent).
const (
	motoAMI   = "ami-12c6146b"
	al2023AMI = "ami-0ed094fb1304fd857"
)

// seeded is what seedRegional made.
type seeded struct {
	alb, instance, group string
}

// seedRegional adds to the account, in the default region: an
// internet-facing ALB without a web ACL (a web ACL exists, on nothing), an
// instance exposed on SSH (an Elastic IP, a route to an internet gateway,
// a security group open on 22 to the world and on 5432 to a prefix list of
// the office, the VPC's default NACL) and no alert topic.
func seedRegional(t *testing.T, env *awstest.Env) seeded {
	t.Helper()
	ctx := context.Background()
	cfg := env.Config()
	e := ec2.NewFromConfig(cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var s seeded

	// The ALB, on the default VPC's subnets.
	sn, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	must(err)
	var subnets []string
	for _, x := range sn.Subnets[:2] {
		subnets = append(subnets, aws.ToString(x.SubnetId))
	}
	lb, err := elbv2.NewFromConfig(cfg).CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("shop"), Subnets: subnets,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternetFacing})
	must(err)
	s.alb = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	_, err = wafv2.NewFromConfig(cfg).CreateWebACL(ctx, &wafv2.CreateWebACLInput{Name: aws.String("unused"), Scope: waftypes.ScopeRegional,
		DefaultAction:    &waftypes.DefaultAction{Allow: &waftypes.AllowAction{}},
		VisibilityConfig: &waftypes.VisibilityConfig{CloudWatchMetricsEnabled: true, MetricName: aws.String("unused"), SampledRequestsEnabled: true}})
	must(err)

	// The exposed instance, in a public subnet of a VPC of its own.
	vpc, err := e.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	must(err)
	vpcID := vpc.Vpc.VpcId
	igw, err := e.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	must(err)
	_, err = e.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: vpcID})
	must(err)
	sub, err := e.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpcID, CidrBlock: aws.String("10.9.1.0/24")})
	must(err)
	rt, err := e.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpcID})
	must(err)
	_, err = e.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw.InternetGateway.InternetGatewayId})
	must(err)
	_, err = e.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: sub.Subnet.SubnetId})
	must(err)
	pl, err := e.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("office"), AddressFamily: aws.String("IPv4"),
		MaxEntries: aws.Int32(5), Entries: []ec2types.AddPrefixListEntry{{Cidr: aws.String("203.0.113.0/24")}}})
	must(err)
	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh-open"), Description: aws.String("ssh from anywhere"), VpcId: vpcID})
	must(err)
	s.group = aws.ToString(sg.GroupId)
	_, err = e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
		{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432), PrefixListIds: []ec2types.PrefixListId{{PrefixListId: pl.PrefixList.PrefixListId}}},
	}})
	must(err)
	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: sub.Subnet.SubnetId, SecurityGroupIds: []string{s.group}})
	must(err)
	s.instance = aws.ToString(run.Instances[0].InstanceId)
	eip, err := e.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: ec2types.DomainTypeVpc})
	must(err)
	_, err = e.AssociateAddress(ctx, &ec2.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(s.instance)})
	must(err)

	return s
}

// The regional providers on one seeded account (seeded once: the subtests
// share it, the least-privilege proof last, as it enforces
// authentication).
func TestRegionalMoto(t *testing.T) {
	env, _ := motoEnv(t)
	s := seedRegional(t, env)
	t.Run("checks", func(t *testing.T) { regionalChecks(t, s) })
	t.Run("asff", formatASFF)
	t.Run("least-privilege", func(t *testing.T) { leastPrivilegeRegional(t, env) })
}

// The ALB without a web ACL, the instance open on SSH and the missing
// alert topic each FAIL, and the audit exits 3.
func regionalChecks(t *testing.T, s seeded) {
	r := runAudit(t, "-format", "json", "-checks", "waf.,network.,observe.")
	if r.code != 3 {
		t.Errorf("code %d, want 3\n%s", r.code, r.stderr)
	}
	rep := readReport(t, r)
	failed := map[string]awsguard.Finding{}
	for _, f := range rep.Findings {
		if !strings.HasPrefix(f.Check, "waf.") && !strings.HasPrefix(f.Check, "network.") && !strings.HasPrefix(f.Check, "observe.") {
			t.Errorf("-checks let through %s", f.Check)
		}
		if f.Region != awstest.DefaultRegion || f.Account != awstest.DefaultAccount {
			t.Errorf("%s %s: region %q account %q", f.Check, f.Resource, f.Region, f.Account)
		}
		if f.Status == awsguard.StatusError {
			t.Errorf("ERROR finding: %+v", f)
		}
		if f.Status == awsguard.StatusFail {
			failed[f.Check+" "+f.Resource] = f
		}
	}
	instanceARN := "arn:aws:ec2:" + awstest.DefaultRegion + ":" + awstest.DefaultAccount + ":instance/" + s.instance
	groupARN := "arn:aws:ec2:" + awstest.DefaultRegion + ":" + awstest.DefaultAccount + ":security-group/" + s.group
	for _, want := range []struct{ check, resource string }{
		{"waf.alb.web_acl", s.alb},
		{"waf.alb.sqli_rules", s.alb},
		{"network.instance.exposed", instanceARN},
		{"network.sg.open_admin_ports", groupARN},
	} {
		f, ok := failed[want.check+" "+want.resource]
		if !ok {
			t.Errorf("no FAIL %s on %s; FAILs: %v", want.check, want.resource, keys(failed))
			continue
		}
		if want.check == "network.instance.exposed" && (f.Severity != awsguard.SeverityHigh || f.Evidence["exposed_ports"] != "22") {
			t.Errorf("exposure finding: %s, evidence %v", f.Severity, f.Evidence)
		}
	}
	if !slices.ContainsFunc(rep.Findings, func(f awsguard.Finding) bool {
		return f.Check == observe.CheckAlertTopic && f.Status == awsguard.StatusFail
	}) {
		t.Errorf("no FAIL observe.alerts.topic; FAILs: %v", keys(failed))
	}
	// The table names the failures in words.
	r = runAudit(t, "-checks", "waf.alb.web_acl,network.instance.exposed")
	if r.code != 3 || !strings.Contains(r.stdout, "has no web ACL") || !strings.Contains(r.stdout, s.instance) {
		t.Errorf("table (code %d):\n%s", r.code, r.stdout)
	}
}

// connectSeed is what TestInstanceConnectMoto seeds: an Amazon Linux 2023
// instance, a Windows one (moto's motoAMI), and a role allowed
// ec2-instance-connect:SendSSHPublicKey.
type connectSeed struct {
	connectInstance, windows, connectRole string
}

// The EC2 Instance Connect check on moto, then its least-privilege proof
// (last: it enforces authentication).
func TestInstanceConnectMoto(t *testing.T) {
	env, _ := motoEnv(t)
	ctx := context.Background()
	cfg := env.Config()
	e := ec2.NewFromConfig(cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var s connectSeed
	run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	must(err)
	s.windows = aws.ToString(run.Instances[0].InstanceId)

	// An Amazon Linux 2023 instance, and a role allowed to push a key to it
	// through EC2 Instance Connect.
	run, err = e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(al2023AMI), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	must(err)
	s.connectInstance = aws.ToString(run.Instances[0].InstanceId)
	ic := iam.NewFromConfig(cfg)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("connect-operator"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	must(err)
	s.connectRole = aws.ToString(role.Role.Arn)
	_, err = ic.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("connect-operator"), PolicyName: aws.String("connect"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2-instance-connect:SendSSHPublicKey","Resource":"*"}]}`)})
	must(err)
	t.Run("check", func(t *testing.T) { instanceConnectCheck(t, s) })
	t.Run("least-privilege", func(t *testing.T) { leastPrivilegeInstanceConnect(t, env) })
}

// -checks ec2. runs the EC2 Instance Connect check alone: the Amazon Linux
// 2023 instance FAILs (the role may push a key to it), the Windows
// instance is NOT_APPLICABLE, and the audit
// exits 3.
func instanceConnectCheck(t *testing.T, s connectSeed) {
	r := runAudit(t, "-format", "json", "-checks", "ec2.")
	if r.code != 3 {
		t.Errorf("code %d, want 3\n%s", r.code, r.stderr)
	}
	got := map[string]awsguard.Finding{}
	for _, f := range readReport(t, r).Findings {
		if f.Check != ec2recover.CheckInstanceConnect {
			t.Errorf("-checks ec2. let through %s", f.Check)
		}
		if f.Region != awstest.DefaultRegion || f.Account != awstest.DefaultAccount {
			t.Errorf("%s %s: region %q account %q", f.Check, f.Resource, f.Region, f.Account)
		}
		got[f.Resource] = f
	}
	f, ok := got[s.connectInstance]
	if !ok || f.Status != awsguard.StatusFail || f.Evidence["os_family"] != string(ec2recover.FamilyAmazonLinux2023) ||
		!strings.Contains(f.Evidence["granted_to"], s.connectRole) || f.Remediation != "ec2recover.DisableInstanceConnect" {
		t.Errorf("finding on %s = %+v (found %v)", s.connectInstance, f, ok)
	}
	if f := got[s.windows]; f.Status != awsguard.StatusNotApplicable || f.Evidence["os_family"] != string(ec2recover.FamilyWindows) {
		t.Errorf("finding on the Windows instance %s = %+v", s.windows, f)
	}
}

func keys(m map[string]awsguard.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// -format asff prints the report as Security Hub documents for the
// account and the configured region: every required field, the status
// mapped (PASS: RESOLVED and PASSED; FAIL: NEW and FAILED).
func formatASFF(t *testing.T) {
	args := []string{"-checks", "iam.,network.", "-fail-on", "none"}
	r := runAudit(t, append([]string{"-format", "asff"}, args...)...)
	if r.code != 0 {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	var doc struct{ Findings []map[string]any }
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	rep := readReport(t, runAudit(t, append([]string{"-format", "json"}, args...)...))
	if len(doc.Findings) != len(rep.Findings) || len(doc.Findings) == 0 {
		t.Fatalf("%d ASFF findings for %d in the report", len(doc.Findings), len(rep.Findings))
	}
	product := "arn:aws:securityhub:" + awstest.DefaultRegion + ":" + awstest.DefaultAccount + ":product/" + awstest.DefaultAccount + "/default"
	required := []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt", "Severity", "Title", "Description", "Resources"}
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, f := range doc.Findings {
		for _, k := range required {
			if v, ok := f[k]; !ok || v == "" || v == nil {
				t.Errorf("finding %v lacks %s", f["Id"], k)
			}
		}
		if f["ProductArn"] != product || f["AwsAccountId"] != awstest.DefaultAccount || f["Region"] != awstest.DefaultRegion || f["SchemaVersion"] != observe.ASFFSchemaVersion {
			t.Errorf("finding %v: product %v, account %v, region %v", f["Id"], f["ProductArn"], f["AwsAccountId"], f["Region"])
		}
		if res, _ := f["Resources"].([]any); len(res) != 1 {
			t.Errorf("finding %v: resources %v", f["Id"], f["Resources"])
		}
		id, _ := f["Id"].(string)
		if ids[id] {
			t.Errorf("ID %s twice", id)
		}
		ids[id] = true
		pf, _ := f["ProductFields"].(map[string]any)
		comp, _ := f["Compliance"].(map[string]any)
		wf, _ := f["Workflow"].(map[string]any)
		st, _ := pf["awsguard/status"].(string)
		seen[st] = true
		want := map[string][2]string{"PASS": {"PASSED", "RESOLVED"}, "FAIL": {"FAILED", "NEW"}, "ERROR": {"WARNING", "NEW"}, "NOT_APPLICABLE": {"NOT_AVAILABLE", "RESOLVED"}}[st]
		if comp["Status"] != want[0] || wf["Status"] != want[1] {
			t.Errorf("finding %v (%s): compliance %v, workflow %v, want %v", f["Id"], st, comp["Status"], wf["Status"], want)
		}
		if st == "FAIL" && strings.HasPrefix(pf["awsguard/check"].(string), "iam.user.console_mfa") && len(comp["RelatedRequirements"].([]any)) == 0 {
			t.Errorf("finding %v: no related requirements", f["Id"])
		}
	}
	if !seen["PASS"] || !seen["FAIL"] {
		t.Errorf("statuses seen: %v, want PASS and FAIL among them", seen)
	}
}

// The audit of the regional providers runs as a user holding exactly the
// printed policy, and fails without any one of its actions. (moto checks
// actions, not resources.) moto evaluates CloudWatch's actions under the
// prefix of its endpoint, monitoring:, where AWS's IAM says cloudwatch:
// (measured: a user allowed cloudwatch:DescribeAlarms, or cloudwatch:*, is
// refused; monitoring:DescribeAlarms is let through), so the policy put on
// the user names cloudwatch:DescribeAlarms as moto does.
func leastPrivilegeRegional(t *testing.T, env *awstest.Env) {
	args := []string{"-checks", "waf.,elb.,acm.,network.,inspector.,observe."}
	doc := printPolicy(t, args...)
	acts := clitest.Actions(doc)
	i := slices.Index(acts, "cloudwatch:DescribeAlarms")
	if i < 0 {
		t.Fatalf("the policy lacks cloudwatch:DescribeAlarms: %v", acts)
	}
	acts[i] = "monitoring:DescribeAlarms"
	st := doc.Statement.List[0]
	st.Action = awsguard.StringList(acts...)
	doc.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
	clitest.LeastPrivilegeAsUser(t, env, "auditor", doc, func(t *testing.T, _ *iam.Client, allowed bool) bool {
		r := runAudit(t, append([]string{"-format", "json", "-fail-on", "none"}, args...)...)
		if !allowed && r.code != 1 {
			t.Errorf("denied: code %d, want 1 (%s)", r.code, r.stderr)
		}
		if allowed && r.code != 0 {
			t.Logf("allowed: code %d: %s", r.code, r.stderr)
		}
		return r.code == 0
	})
}

// The EC2 Instance Connect check runs as a user holding exactly the
// printed policy (ec2:DescribeInstances, DescribeImages and
// iam:GetAccountAuthorizationDetails), and fails without any one of them.
// (Proven on its own: the regional proof reruns every provider per
// action.)
func leastPrivilegeInstanceConnect(t *testing.T, env *awstest.Env) {
	args := []string{"-checks", "ec2."}
	clitest.LeastPrivilegeAsUser(t, env, "connect-auditor", printPolicy(t, args...), func(t *testing.T, _ *iam.Client, allowed bool) bool {
		r := runAudit(t, append([]string{"-format", "json", "-fail-on", "none"}, args...)...)
		if !allowed && r.code != 1 {
			t.Errorf("denied: code %d, want 1 (%s)", r.code, r.stderr)
		}
		return r.code == 0
	})
}

// A regional provider that cannot read a region is reported as iamguard's
// partial failures are: the findings it could make are printed, the
// region's unread checks are ERROR findings (made by audit when the
// provider returned no report at all), and the audit exits 1.
func TestRegionalProviderFails(t *testing.T) {
	motoEnv(t)
	saved := providers
	t.Cleanup(func() { providers = saved })
	checks := func(auditOptions) []checkInfo {
		return []checkInfo{{ID: "test.part.one", Severity: awsguard.SeverityLow}, {ID: "test.part.two", Severity: awsguard.SeverityHigh}}
	}
	providers = append(slices.Clone(providers), provider{
		name: "test", regional: true, checks: checks,
		audit: func(ctx context.Context, tg awsguard.Target, _ auditOptions) (*awsguard.Report, error) {
			if tg.Region == "eu-west-1" {
				return nil, errors.New("eu-west-1 is closed")
			}
			return awsguard.NewReport(time.Now(), awsguard.Finding{Check: "test.part.one", Status: awsguard.StatusPass, Severity: awsguard.SeverityLow,
					Account: tg.Account, Region: tg.Region, Resource: "r"},
					awsguard.Finding{Check: "test.part.two", Status: awsguard.StatusError, Severity: awsguard.SeverityHigh,
						Account: tg.Account, Region: tg.Region, Resource: "r", Evidence: map[string]string{"error": "denied"}}),
				fmt.Errorf("%w: denied", inspect.ErrAuditIncomplete)
		},
	})
	r := runAudit(t, "-format", "json", "-checks", "test.", "-regions", "us-east-1,eu-west-1")
	if r.code != 1 || !strings.Contains(r.stderr, "test in eu-west-1: eu-west-1 is closed") || !strings.Contains(r.stderr, "test in us-east-1: inspect: audit incomplete") {
		t.Errorf("code %d, stderr %q", r.code, r.stderr)
	}
	var got []string
	for _, f := range readReport(t, r).Findings {
		got = append(got, fmt.Sprintf("%s %s %s %s", f.Region, f.Check, f.Status, f.Severity))
		if f.Region == "eu-west-1" && (f.Evidence["error"] != "eu-west-1 is closed" || f.Account != awstest.DefaultAccount || f.Resource != "region/eu-west-1") {
			t.Errorf("unread region's finding: %+v", f)
		}
	}
	want := []string{"eu-west-1 test.part.one ERROR LOW", "eu-west-1 test.part.two ERROR HIGH", "us-east-1 test.part.one PASS LOW", "us-east-1 test.part.two ERROR HIGH"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("findings = %v, want %v", got, want)
	}
}
