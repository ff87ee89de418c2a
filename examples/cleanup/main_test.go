package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	waftypes "github.com/aws/aws-sdk-go-v2/service/wafv2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
	"github.com/awsguard/awsguard/observe"
	"github.com/awsguard/awsguard/waf"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func runJSON(t *testing.T, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"-format", "json"}, args...), &out, &errOut); err != nil {
		t.Fatalf("cleanup %v: %v (stderr %q)", args, err, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	return res
}

// account is what the seed made, as the fixes need it.
type account struct {
	alb, tg, domain, zone string
	instance, group       string
	leakedKey             string
}

const (
	trailLogs = "cloudtrail-events"
	people    = "developers"
	leaker    = "ci-leaker"
)

// seed makes a weak account like the demo's: an internet-facing ALB
// forwarding HTTP with no WAF and no HTTPS, and a hosted zone for its
// domain; an instance open to the world on SSH; a group of people; a user
// whose key leaked; CloudTrail's log group. None of it is awsguard's.
func seed(t *testing.T, cfg aws.Config) account {
	t.Helper()
	ctx := context.Background()
	e := ec2.NewFromConfig(cfg)
	sn, err := e.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	must(t, err)
	if len(sn.Subnets) < 2 {
		t.Fatalf("%d default subnets", len(sn.Subnets))
	}
	vpc := aws.ToString(sn.Subnets[0].VpcId)
	var a account
	elb := elbv2.NewFromConfig(cfg)
	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String("web"),
		Subnets: []string{aws.ToString(sn.Subnets[0].SubnetId), aws.ToString(sn.Subnets[1].SubnetId)}})
	must(t, err)
	a.alb = aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{Name: aws.String("web"), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(vpc)})
	must(t, err)
	a.tg = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	_, err = elb.CreateListener(ctx, &elbv2.CreateListenerInput{LoadBalancerArn: aws.String(a.alb), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(a.tg)}}})
	must(t, err)
	z, err := route53.NewFromConfig(cfg).CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("shop.example.com"), CallerReference: aws.String("shop")})
	must(t, err)
	a.zone, a.domain = strings.TrimPrefix(aws.ToString(z.HostedZone.Id), "/hostedzone/"), "www.shop.example.com"

	sg, err := e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ssh-open"), Description: aws.String("SSH from anywhere"), VpcId: aws.String(vpc)})
	must(t, err)
	a.group = aws.ToString(sg.GroupId)
	_, err = e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: sg.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}})
	must(t, err)
	in, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-12c6146b"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		InstanceType: ec2types.InstanceTypeT3Micro, SubnetId: sn.Subnets[0].SubnetId, SecurityGroupIds: []string{a.group},
		NetworkInterfaces: nil})
	must(t, err)
	a.instance = aws.ToString(in.Instances[0].InstanceId)

	api := iam.NewFromConfig(cfg)
	_, err = api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(people)})
	must(t, err)
	_, err = api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(leaker)})
	must(t, err)
	key, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(leaker)})
	must(t, err)
	a.leakedKey = aws.ToString(key.AccessKey.AccessKeyId)
	_, err = cloudwatchlogs.NewFromConfig(cfg).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(trailLogs)})
	must(t, err)
	return a
}

// enableHTTPS serves the ALB over HTTPS (waf.EnableHTTPS).
func enableHTTPS(t *testing.T, cfg aws.Config, a account) {
	t.Helper()
	_, err := waf.EnableHTTPS(context.Background(), waf.HTTPSAPI{ACM: acm.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg), Route53: route53.NewFromConfig(cfg)},
		a.alb, a.domain, a.zone, func(o *waf.HTTPSOptions) {
			o.WaitMinDelay, o.WaitMaxDelay, o.CertificateWait = 100*time.Millisecond, 200*time.Millisecond, 30*time.Second
		})
	must(t, err)
}

// fixWithoutHTTPS runs the packages' fixes, as the demo and the examples
// do, but waf.EnableHTTPS.
func fixWithoutHTTPS(t *testing.T, cfg aws.Config, a account) {
	t.Helper()
	ctx := context.Background()
	_, err := waf.AttachSQLiACL(ctx, waf.AttachAPI{WAF: wafv2.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg)}, a.alb, func(o *waf.Options) {
		o.RetryMinDelay, o.RetryMaxDelay, o.AssociateWait = time.Millisecond, 5*time.Millisecond, 10*time.Second
	})
	must(t, err)
	e := ec2.NewFromConfig(cfg)
	_, err = inspect.CloseExposure(ctx, e, inspect.Target{InstanceID: a.instance, Port: 22})
	must(t, err)
	topic, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), observe.Topic{Name: "awsguard-alerts",
		Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}}})
	must(t, err)
	rule, err := observe.PresetRule(observe.PresetRootSignIn, topic.TopicARN)
	must(t, err)
	_, err = observe.EnsureEventRule(ctx, eventbridge.NewFromConfig(cfg), rule)
	must(t, err)
	logs := cloudwatchlogs.NewFromConfig(cfg)
	_, err = observe.EnsureCISAlarms(ctx, cloudwatch.NewFromConfig(cfg), logs, observe.CISAlarms{LogGroupName: trailLogs, TopicARN: topic.TopicARN, Controls: []string{"4.1", "4.3"}})
	must(t, err)
	_, err = observe.EnsureLogGroups(ctx, logs, []observe.LogGroup{{Name: "/awsguard/web", RetentionDays: 365}})
	must(t, err)
	api := iam.NewFromConfig(cfg)
	_, err = observe.EnsureAgentRole(ctx, observe.AgentRoleClients{IAM: api, EC2: e}, observe.AgentRole{InstanceID: a.instance})
	must(t, err)
	_, err = iamguard.EnforceMFA(ctx, api, []string{people})
	must(t, err)
	_, err = ec2recover.DisableInstanceConnect(ctx, ec2recover.DisableClients{EC2: e, SSM: ssm.NewFromConfig(cfg), IAM: api}, nil,
		func(o *ec2recover.DisableOptions) { o.DenyGroups = []string{people} })
	must(t, err)
	_, err = keyrotate.ContainLeakedKey(ctx, api, a.leakedKey)
	must(t, err)
	keptSnapshot(t, e, a)
}

// keptSnapshot leaves what a finished recovery asked to keep its snapshot
// leaves: the root volume's snapshot, tagged as ec2recover tags it. (The
// recovery itself ends inside the instance, which moto does not run.)
func keptSnapshot(t *testing.T, e *ec2.Client, a account) {
	t.Helper()
	ctx := context.Background()
	vol, err := e.CreateVolume(ctx, &ec2.CreateVolumeInput{AvailabilityZone: aws.String("us-east-1a"), Size: aws.Int32(8)})
	must(t, err)
	_, err = e.CreateSnapshot(ctx, &ec2.CreateSnapshotInput{VolumeId: vol.VolumeId, TagSpecifications: []ec2types.TagSpecification{{
		ResourceType: ec2types.ResourceTypeSnapshot, Tags: []ec2types.Tag{{Key: aws.String(ec2recover.TagRecovery), Value: aws.String("rec-" + a.instance)},
			{Key: aws.String(ec2recover.TagRecoveryRole), Value: aws.String("snapshot")}}}}})
	must(t, err)
}

// onlySnapshot reports whether remains hold the kept snapshot's line and
// nothing else.
func onlySnapshot(remains []string) bool {
	return len(remains) == 1 && strings.HasPrefix(remains[0], "snapshot snap-") && strings.Contains(remains[0], "has no removal")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// After the fixes, cleanup -dry-run lists what would go and changes
// nothing; cleanup removes awsguard's resources and lists the fixes it
// would have to weaken; with -allow-weaken it undoes those too, and the
// account holds exactly what the seed put there; a second run makes no
// mutating call.
func TestCleanupAfterFixes(t *testing.T) {
	env := awstest.New(t)
	cfg := env.Config()
	a := seed(t, cfg)
	seeded := inventory(t, cfg)
	fixWithoutHTTPS(t, cfg, a)
	// On the same account, to save a second seed: HTTPS comes after, as
	// moto refuses Route 53 calls while it enforces authentication.
	t.Run("least privilege of -dry-run", func(t *testing.T) { proveLeastPrivilege(t, env) })
	enableHTTPS(t, cfg, a)
	fixed := inventory(t, cfg)
	if cmp.Equal(seeded, fixed) {
		t.Fatal("the fixes changed nothing the inventory sees")
	}
	env.SetEnv("", "")

	dry := runJSON(t, "-dry-run", "-force", "-allow-weaken")
	if !dry.DryRun || len(dry.Steps) < 6 {
		t.Errorf("dry run: %d steps, dry_run %v, want every removal planned", len(dry.Steps), dry.DryRun)
	}
	if d := cmp.Diff(fixed, inventory(t, cfg)); d != "" {
		t.Fatalf("the dry run changed the account (-before +after):\n%s", d)
	}

	// Without -force the ACL stays whole on its ALB (moto cannot list
	// what uses it); without -allow-weaken the fixes stay.
	first := runJSON(t)
	for _, want := range []string{iamguard.EnforceMFAPolicyName + " ", ec2recover.DenyPolicyName + " ", a.group + ":", a.leakedKey + " "} {
		if !slices.ContainsFunc(first.Remains, func(r string) bool { return strings.Contains(r, want) && strings.Contains(r, "-allow-weaken") }) {
			t.Errorf("without -allow-weaken, remains lack %q: %q", want, first.Remains)
		}
	}
	if !slices.ContainsFunc(first.Remains, func(r string) bool {
		return strings.HasPrefix(r, "web ACL "+waf.DefaultName+" ") && strings.Contains(r, "-force")
	}) {
		t.Errorf("without -force, remains lack the web ACL: %q", first.Remains)
	}
	mid := inventory(t, cfg)
	for _, kept := range []string{"policy /" + iamguard.EnforceMFAPolicyName, "user " + leaker + " tag " + keyrotate.TagContainKey,
		"webacl " + waf.DefaultName, "sg ssh-open tag " + inspect.RecordTagPrefix + "tcp:22-22:0.0.0.0/0"} {
		if !slices.Contains(mid, kept) {
			t.Errorf("without -allow-weaken and -force, %q went", kept)
		}
	}
	for _, gone := range []string{"topic ", "rule ", "alarm ", "role awsguard", "certificate ", "listener web HTTPS", "metric-filter ", "log-group /awsguard"} {
		if slices.ContainsFunc(mid, func(s string) bool { return strings.HasPrefix(s, gone) && !slices.Contains(seeded, s) }) {
			t.Errorf("after cleanup, awsguard's %q... remain:\n%s", gone, strings.Join(mid, "\n"))
		}
	}

	// The rest, interrupted at each of its mutating calls in turn: each
	// run loses the answer of its first mutating call (the call took
	// effect), and the next run carries on from what it finds.
	points := sweep(t, cfg, options{allowWeaken: true, force: true}, newClients)
	t.Logf("the fault sweep interrupted %d runs", points)
	if points < 8 {
		t.Errorf("the fault sweep covered %d mutating calls, want every one of the web ACL's and the weakening removals' (8 or more)", points)
	}
	if second := runJSON(t, "-force", "-allow-weaken"); !onlySnapshot(second.Remains) || slices.ContainsFunc(second.Steps, func(s Step) bool { return !s.Plan.NothingToDo() }) {
		t.Errorf("after the sweep, cleanup still finds work: %+v", second)
	}
	if d := cmp.Diff(seeded, inventory(t, cfg)); d != "" {
		t.Errorf("after cleanup the account differs from the seed (-seeded +now):\n%s", d)
	}

	calls := apicalls.New()
	counted := cfg.Copy()
	counted.APIOptions = append(counted.APIOptions, calls.APIOption)
	again, err := clean(context.Background(), newClients(counted), options{allowWeaken: true, force: true})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range calls.Counts() {
		if !readOnly("x:" + k.Operation) {
			t.Errorf("a second cleanup called %s %d times", k, n)
		}
	}
	for _, s := range again.Steps {
		if !s.Plan.NothingToDo() {
			t.Errorf("a second cleanup: %s: %v", s.What, s.Plan.Describe())
		}
	}
	if !onlySnapshot(again.Remains) {
		t.Errorf("a second cleanup: remains %q, want only the kept snapshot", again.Remains)
	}
}

// sweep runs clean until a run makes no mutating call, each run with the
// answer of its first mutating call lost (fault.ResponseLost: the call
// took effect, the caller cannot know), and returns how many runs were
// interrupted. Every interrupted run must fail naming the fault; none may
// lose anything (the caller compares the account with the seed after).
func sweep(t *testing.T, cfg aws.Config, o options, newClients func(aws.Config) clients) int {
	t.Helper()
	acts, err := cli.Actions(uses...)
	must(t, err)
	var rules []fault.Rule
	for _, a := range acts {
		if !readOnly(a) {
			_, op, _ := strings.Cut(a, ":")
			rules = append(rules, fault.Rule{Operation: op, Nth: 1, Kind: fault.ResponseLost})
		}
	}
	for n := 0; n < 60; n++ {
		inj := fault.New(rules...)
		faulty := cfg.Copy()
		faulty.APIOptions = append(faulty.APIOptions, inj.APIOption)
		_, err := clean(context.Background(), newClients(faulty), o)
		cut := inj.Injected()
		if len(cut) == 0 {
			if err != nil {
				t.Fatalf("run %d, without a fault: %v", n+1, err)
			}
			return n
		}
		if !fault.IsInjected(err) {
			t.Fatalf("run %d: the answer of %s.%s was lost, and cleanup said %v", n+1, cut[0].Service, cut[0].Operation, err)
		}
	}
	t.Fatal("cleanup does not converge under faults")
	return 0
}

// inventory lists, sorted, the account's resources of the kinds awsguard
// creates or records on.
func inventory(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }

	acls, err := wafv2.NewFromConfig(cfg).ListWebACLs(ctx, &wafv2.ListWebACLsInput{Scope: waftypes.ScopeRegional})
	must(t, err)
	for _, x := range acls.WebACLs {
		add("webacl %s", aws.ToString(x.Name))
	}
	elb := elbv2.NewFromConfig(cfg)
	lbs, err := elb.DescribeLoadBalancers(ctx, &elbv2.DescribeLoadBalancersInput{})
	must(t, err)
	for _, lb := range lbs.LoadBalancers {
		ls, err := elb.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: lb.LoadBalancerArn})
		must(t, err)
		for _, l := range ls.Listeners {
			add("listener %s %s:%d %s", aws.ToString(lb.LoadBalancerName), l.Protocol, aws.ToInt32(l.Port), l.DefaultActions[0].Type)
		}
	}
	certs, err := acm.NewFromConfig(cfg).ListCertificates(ctx, &acm.ListCertificatesInput{})
	must(t, err)
	for _, c := range certs.CertificateSummaryList {
		add("certificate %s", aws.ToString(c.DomainName))
	}
	r53 := route53.NewFromConfig(cfg)
	zones, err := r53.ListHostedZones(ctx, &route53.ListHostedZonesInput{})
	must(t, err)
	for _, z := range zones.HostedZones {
		rs, err := r53.ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{HostedZoneId: z.Id})
		must(t, err)
		for _, r := range rs.ResourceRecordSets {
			add("record %s %s", aws.ToString(r.Name), r.Type)
		}
	}
	out = append(out, observed(t, cfg)...)
	out = append(out, identities(t, cfg)...)
	out = append(out, network(t, cfg)...)
	slices.Sort(out)
	return out
}

// observed lists what observe's kinds of resources the account holds.
func observed(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	topics, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
	must(t, err)
	for _, x := range topics.Topics {
		add("topic %s", aws.ToString(x.TopicArn))
	}
	subs, err := sns.NewFromConfig(cfg).ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
	must(t, err)
	for _, s := range subs.Subscriptions {
		add("subscription %s %s", aws.ToString(s.TopicArn), aws.ToString(s.Endpoint))
	}
	rules, err := eventbridge.NewFromConfig(cfg).ListRules(ctx, &eventbridge.ListRulesInput{})
	must(t, err)
	for _, r := range rules.Rules {
		add("rule %s", aws.ToString(r.Name))
	}
	alarms, err := cloudwatch.NewFromConfig(cfg).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{})
	must(t, err)
	for _, x := range alarms.MetricAlarms {
		add("alarm %s", aws.ToString(x.AlarmName))
	}
	logs := cloudwatchlogs.NewFromConfig(cfg)
	groups, err := logs.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	must(t, err)
	for _, g := range groups.LogGroups {
		add("log-group %s retention %d", aws.ToString(g.LogGroupName), aws.ToInt32(g.RetentionInDays))
	}
	filters, err := logs.DescribeMetricFilters(ctx, &cloudwatchlogs.DescribeMetricFiltersInput{})
	must(t, err)
	for _, f := range filters.MetricFilters {
		add("metric-filter %s", aws.ToString(f.FilterName))
	}
	params, err := ssm.NewFromConfig(cfg).DescribeParameters(ctx, &ssm.DescribeParametersInput{})
	must(t, err)
	for _, p := range params.Parameters {
		add("parameter %s", aws.ToString(p.Name))
	}
	return out
}

// identities lists the IAM roles, profiles, local policies, and what
// groups and users hold.
func identities(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	ctx := context.Background()
	api := iam.NewFromConfig(cfg)
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	roles, err := api.ListRoles(ctx, &iam.ListRolesInput{})
	must(t, err)
	for _, r := range roles.Roles {
		add("role %s", aws.ToString(r.RoleName))
	}
	profiles, err := api.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{})
	must(t, err)
	for _, p := range profiles.InstanceProfiles {
		add("instance-profile %s", aws.ToString(p.InstanceProfileName))
	}
	pols, err := api.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
	must(t, err)
	for _, p := range pols.Policies {
		add("policy %s%s", aws.ToString(p.Path), aws.ToString(p.PolicyName))
	}
	gp, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(people)})
	must(t, err)
	for _, p := range gp.AttachedPolicies {
		add("group %s policy %s", people, aws.ToString(p.PolicyName))
	}
	up, err := api.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(leaker)})
	must(t, err)
	for _, p := range up.AttachedPolicies {
		add("user %s policy %s", leaker, aws.ToString(p.PolicyName))
	}
	inl, err := api.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String(leaker)})
	must(t, err)
	for _, p := range inl.PolicyNames {
		add("user %s inline %s", leaker, p)
	}
	tags, err := api.ListUserTags(ctx, &iam.ListUserTagsInput{UserName: aws.String(leaker)})
	must(t, err)
	for _, x := range tags.Tags {
		add("user %s tag %s", leaker, aws.ToString(x.Key))
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(leaker)})
	must(t, err)
	for _, k := range keys.AccessKeyMetadata {
		add("user %s key %s", leaker, k.Status)
	}
	return out
}

// network lists the security groups' ingress rules and tags, and the
// instances' profile associations.
func network(t *testing.T, cfg aws.Config) []string {
	t.Helper()
	ctx := context.Background()
	e := ec2.NewFromConfig(cfg)
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	sgs, err := e.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{})
	must(t, err)
	for _, g := range sgs.SecurityGroups {
		for _, p := range g.IpPermissions {
			for _, r := range p.IpRanges {
				add("sg %s ingress %s %d-%d %s", aws.ToString(g.GroupName), aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToInt32(p.ToPort), aws.ToString(r.CidrIp))
			}
		}
		for _, x := range g.Tags {
			add("sg %s tag %s", aws.ToString(g.GroupName), aws.ToString(x.Key))
		}
	}
	assoc, err := e.DescribeIamInstanceProfileAssociations(ctx, &ec2.DescribeIamInstanceProfileAssociationsInput{})
	must(t, err)
	for _, x := range assoc.IamInstanceProfileAssociations {
		add("profile-association %s %s", aws.ToString(x.InstanceId), x.State)
	}
	return out
}
