package waf_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2"
	"github.com/aws/aws-sdk-go-v2/service/wafv2/types"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/waf"
)

// fast keeps every wait of AttachSQLiACL in milliseconds.
func fast(o *waf.Options) {
	o.RetryMinDelay, o.RetryMaxDelay, o.AssociateWait = time.Millisecond, 5*time.Millisecond, 10*time.Second
}

// mutating are the WAF calls that change something.
var mutating = []string{"CreateWebACL", "UpdateWebACL", "DeleteWebACL", "AssociateWebACL", "DisassociateWebACL", "TagResource", "UntagResource",
	"CreateListener", "ModifyListener", "DeleteListener", "RequestCertificate", "DeleteCertificate", "ChangeResourceRecordSets"}

func mutatingCalls(c *apicalls.Counter) int {
	n := 0
	for k, v := range c.Counts() {
		if slices.Contains(mutating, k.Operation) {
			n += v
		}
	}
	return n
}

// world is one integration test's view of the emulator: the default VPC's
// subnets, the clients the package calls, and a prefix that makes the
// test's names its own. The emulator is reset once per test binary, not
// per test: a reset and the default VPC it rebuilds cost seconds on a
// loaded machine, so tests share the state and keep to their own names.
type world struct {
	t       *testing.T
	env     *awstest.Env
	ec2     *ec2.Client
	elb     *elbv2.Client
	waf     *wafv2.Client
	subnets []string
	vpc     string
	// prefix starts every name the test creates; name is its web ACL's.
	prefix, name string
}

var (
	sharedMu sync.Mutex
	shared   *world
	worldSeq int
)

func newWorld(t *testing.T) *world {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	worldSeq++
	if shared == nil {
		env := awstest.New(t)
		cfg := env.Config()
		w := &world{env: env, ec2: ec2.NewFromConfig(cfg), elb: elbv2.NewFromConfig(cfg), waf: wafv2.NewFromConfig(cfg)}
		ctx := context.Background()
		// The default VPC's subnets: cheaper than creating a VPC on moto.
		sn, err := w.ec2.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []ec2types.Filter{{Name: aws.String("default-for-az"), Values: []string{"true"}}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sn.Subnets {
			if len(w.subnets) < 2 {
				w.subnets = append(w.subnets, aws.ToString(s.SubnetId))
				w.vpc = aws.ToString(s.VpcId)
			}
		}
		if len(w.subnets) < 2 {
			t.Fatalf("default subnets: %v", w.subnets)
		}
		shared = w
	}
	w := *shared
	w.t = t
	w.prefix = fmt.Sprintf("t%d-", worldSeq)
	w.name = w.prefix + "sqli"
	return &w
}

// named sets the test's ACL name.
func (w *world) named(o *waf.Options) { o.Name = w.name }

// alb creates an internet-facing ALB named prefix+name and returns its ARN.
func (w *world) alb(name string) string {
	w.t.Helper()
	out, err := w.elb.CreateLoadBalancer(context.Background(), &elbv2.CreateLoadBalancerInput{Name: aws.String(w.prefix + name), Subnets: w.subnets})
	if err != nil {
		w.t.Fatal(err)
	}
	return aws.ToString(out.LoadBalancers[0].LoadBalancerArn)
}

// api returns the clients with the counter and injector (either may be nil)
// in their stacks.
func (w *world) api(c *apicalls.Counter, inj *fault.Injector) waf.AttachAPI {
	cfg := w.env.Config()
	if c != nil {
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	}
	if inj != nil {
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	}
	return waf.AttachAPI{WAF: wafv2.NewFromConfig(cfg), ELB: elbv2.NewFromConfig(cfg)}
}

func (w *world) wafWith(c *apicalls.Counter, inj *fault.Injector) *wafv2.Client {
	return w.api(c, inj).WAF.(*wafv2.Client)
}

// summaries lists the test's REGIONAL web ACLs, every page.
func (w *world) summaries() []types.WebACLSummary {
	w.t.Helper()
	var out []types.WebACLSummary
	in := &wafv2.ListWebACLsInput{Scope: types.ScopeRegional, Limit: aws.Int32(100)}
	for {
		page, err := w.waf.ListWebACLs(context.Background(), in)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, s := range page.WebACLs {
			if strings.HasPrefix(aws.ToString(s.Name), w.prefix) {
				out = append(out, s)
			}
		}
		if aws.ToString(page.NextMarker) == "" || len(page.WebACLs) == 0 {
			return out
		}
		in.NextMarker = page.NextMarker
	}
}

// acls returns the test's REGIONAL web ACLs by name, failing on a name
// held twice; with names, only those.
func (w *world) acls(names ...string) map[string]types.WebACL {
	w.t.Helper()
	m := map[string]types.WebACL{}
	for _, s := range w.summaries() {
		if len(names) > 0 && !slices.Contains(names, aws.ToString(s.Name)) {
			continue
		}
		got, err := w.waf.GetWebACL(context.Background(), &wafv2.GetWebACLInput{Name: s.Name, Id: s.Id, Scope: types.ScopeRegional})
		if err != nil {
			w.t.Fatal(err)
		}
		if _, dup := m[aws.ToString(s.Name)]; dup {
			w.t.Errorf("two web ACLs named %s", aws.ToString(s.Name))
		}
		m[aws.ToString(s.Name)] = *got.WebACL
	}
	return m
}

// groups lists the managed groups of an ACL's rules, by priority, with
// duplicates.
func groups(acl types.WebACL) []string {
	rs := slices.Clone(acl.Rules)
	slices.SortFunc(rs, func(a, b types.Rule) int { return int(a.Priority - b.Priority) })
	var out []string
	for _, r := range rs {
		if r.Statement != nil && r.Statement.ManagedRuleGroupStatement != nil {
			out = append(out, aws.ToString(r.Statement.ManagedRuleGroupStatement.Name))
		}
	}
	return out
}

// associated returns the name of the ALB's web ACL, or "".
func (w *world) associated(alb string) string {
	w.t.Helper()
	out, err := w.waf.GetWebACLForResource(context.Background(), &wafv2.GetWebACLForResourceInput{ResourceArn: aws.String(alb)})
	if err != nil {
		w.t.Fatal(err)
	}
	if out.WebACL == nil {
		return ""
	}
	return aws.ToString(out.WebACL.Name)
}

// checkAttached asserts one ACL of the name, holding each group once, on
// the ALB.
func (w *world) checkAttached(label, alb, name string, want ...string) {
	w.t.Helper()
	acls := w.acls(name)
	acl, ok := acls[name]
	if !ok {
		w.t.Errorf("%s: no web ACL %s (have %v)", label, name, keys(acls))
		return
	}
	if got := groups(acl); !slices.Equal(got, want) {
		w.t.Errorf("%s: rule groups %v, want %v", label, got, want)
	}
	if got := w.associated(alb); got != name {
		w.t.Errorf("%s: the ALB's web ACL is %q, want %q", label, got, name)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func joinLines(s []string) string { return strings.Join(s, "\n") }
