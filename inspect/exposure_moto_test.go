package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

const officeCIDR = "203.0.113.0/24"

// exposedHost is one instance with an Elastic IP in a public subnet
// behind a group that opens SSH to 0.0.0.0/0 and ::/0, and HTTPS.
type exposedHost struct {
	*lab
	inst, group string
}

func newExposedHost(t testing.TB, api *ec2.Client) *exposedHost {
	l := newLab(t, api)
	sub := l.subnet("10.0.1.0/24", "")
	l.routeTable(l.igw, "", sub)
	g := l.group("web", perm{"tcp", 22, 22, "0.0.0.0/0"}, perm{"tcp", 22, 22, "::/0"}, perm{"tcp", 443, 443, "0.0.0.0/0"})
	return &exposedHost{lab: l, group: g, inst: l.instance("web", sub, true, false, g)}
}

// rules returns the group's rules as "tcp 22-22 from SOURCE" and its
// record tags.
func (h *exposedHost) rules(t testing.TB) (rules, records []string) {
	t.Helper()
	out, err := h.api.DescribeSecurityGroups(h.ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{h.group}})
	if err != nil {
		t.Fatal(err)
	}
	g := out.SecurityGroups[0]
	for _, p := range g.IpPermissions {
		for _, r := range p.IpRanges {
			rules = append(rules, fmt.Sprintf("%s %d from %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToString(r.CidrIp)))
		}
		for _, r := range p.Ipv6Ranges {
			rules = append(rules, fmt.Sprintf("%s %d from %s", aws.ToString(p.IpProtocol), aws.ToInt32(p.FromPort), aws.ToString(r.CidrIpv6)))
		}
	}
	for _, tag := range g.Tags {
		if strings.HasPrefix(aws.ToString(tag.Key), inspect.RecordTagPrefix) {
			records = append(records, aws.ToString(tag.Key))
		}
	}
	slices.Sort(rules)
	slices.Sort(records)
	return rules, records
}

var (
	openRules   = []string{"tcp 22 from 0.0.0.0/0", "tcp 22 from ::/0", "tcp 443 from 0.0.0.0/0"}
	closedRules = []string{"tcp 22 from " + officeCIDR, "tcp 443 from 0.0.0.0/0"}
	records     = []string{inspect.RecordTagPrefix + "tcp:22-22:0.0.0.0/0", inspect.RecordTagPrefix + "tcp:22-22:::/0"}
)

func (h *exposedHost) expect(t testing.TB, label string, wantRules, wantRecords []string) {
	t.Helper()
	rules, recs := h.rules(t)
	if !slices.Equal(rules, wantRules) || !slices.Equal(recs, wantRecords) {
		t.Errorf("%s: rules %q records %q, want %q and %q", label, rules, recs, wantRules, wantRecords)
	}
}

func exposed22(t *testing.T, api *ec2.Client, inst string) string {
	t.Helper()
	rep, err := inspect.AuditNetwork(context.Background(), api, func(o *inspect.NetworkOptions) { o.Ports = []inspect.Port{22} })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Check == inspect.CheckInstanceExposed && f.Evidence["instance_id"] == inst {
			return f.Evidence["layer.22"]
		}
	}
	return "missing"
}

func TestCloseAndRestoreExposureMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	api := ec2.NewFromConfig(env.Config())
	h := newExposedHost(t, api)
	if got := exposed22(t, api, h.inst); got != "open" {
		t.Fatalf("before: layer %s", got)
	}
	target := inspect.Target{InstanceID: h.inst, Port: 22}
	replace := func(o *inspect.CloseOptions) { o.ReplaceCIDR = officeCIDR }

	dry, err := inspect.CloseExposure(ctx, api, target, replace, func(o *inspect.CloseOptions) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, a := range dry.Actions {
		kinds = append(kinds, a.Kind)
	}
	wantKinds := []string{"record-rule", "authorize-replacement", "revoke-rule", "record-rule", "revoke-rule"}
	if !slices.Equal(kinds, wantKinds) || dry.Reason != awsguard.ReasonDryRun || dry.Applied {
		t.Fatalf("dry run: %v %s applied=%v, want %v", kinds, dry.Reason, dry.Applied, wantKinds)
	}
	h.expect(t, "after dry run", openRules, nil)

	plan, err := inspect.CloseExposure(ctx, api, target, replace)
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Applied || plan.Reason != awsguard.ReasonApplied {
		t.Fatalf("close: %+v", plan)
	}
	h.expect(t, "after close", closedRules, records)
	if got := exposed22(t, api, h.inst); got != "security-group" {
		t.Errorf("after close: layer %s, want security-group", got)
	}
	again, err := inspect.CloseExposure(ctx, api, target, replace)
	if err != nil || !again.NothingToDo() || again.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second close: %+v, %v", again, err)
	}

	// Restoring reopens SSH to the world: refused unless allowed.
	if _, err := inspect.RestoreExposure(ctx, api, target); !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("restore without AllowWeaken: %v", err)
	}
	h.expect(t, "after refused restore", closedRules, records)
	allow := func(o *inspect.RestoreOptions) { o.AllowWeaken = true }
	back, err := inspect.RestoreExposure(ctx, api, target, allow)
	if err != nil || !back.Applied {
		t.Fatalf("restore: %+v, %v", back, err)
	}
	h.expect(t, "after restore", openRules, nil)
	if got := exposed22(t, api, h.inst); got != "open" {
		t.Errorf("after restore: layer %s", got)
	}
	rerun, err := inspect.RestoreExposure(ctx, api, target, allow)
	if err != nil || !rerun.NothingToDo() || rerun.Reason != awsguard.ReasonNothingToRemove {
		t.Fatalf("second restore: %+v, %v", rerun, err)
	}
	// The recorded description came back with the rule.
	out, _ := api.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{h.group}})
	desc := ""
	for _, p := range out.SecurityGroups[0].IpPermissions {
		for _, r := range p.IpRanges {
			if aws.ToString(r.CidrIp) == "0.0.0.0/0" && aws.ToInt32(p.FromPort) == 22 {
				desc = aws.ToString(r.Description)
			}
		}
	}
	if desc != "rule of web" {
		t.Errorf("restored description %q", desc)
	}
}

func TestCloseExposureInput(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		target  inspect.Target
		replace string
	}{
		{inspect.Target{Port: 22}, ""},
		{inspect.Target{InstanceID: "i-1", GroupID: "sg-1", Port: 22}, ""},
		{inspect.Target{InstanceID: "x-1", Port: 22}, ""},
		{inspect.Target{GroupID: "sg-1", Port: 70000}, ""},
		{inspect.Target{GroupID: "sg-1", Port: 22}, "0.0.0.0/0"},
		{inspect.Target{GroupID: "sg-1", Port: 22}, "::/0"},
		{inspect.Target{GroupID: "sg-1", Port: 22}, "10.0.0.1/8"},
		{inspect.Target{GroupID: "sg-1", Port: 22}, "office"},
	} {
		// A nil client: input is refused before any call.
		_, err := inspect.CloseExposure(ctx, nil, tc.target, func(o *inspect.CloseOptions) { o.ReplaceCIDR = tc.replace })
		var ie *awsguard.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%+v %q: %v, want an InputError", tc.target, tc.replace, err)
		}
	}
}

// Every call of CloseExposure, then of RestoreExposure, fails in turn with
// each kind of fault. After the fault no rule is revoked without its
// record, and a clean re-run converges. Each run gets a fresh group in one
// VPC (cheaper than a reset); the instance path is covered by the test
// above.
func TestExposureFaultSweep(t *testing.T) {
	ctx := context.Background()
	env := awstest.New(t)
	api := ec2.NewFromConfig(env.Config())
	l := newLab(t, api)
	// ServerError takes no effect, like ConnectionReset: two kinds cover
	// both "nothing happened" and "it happened but the answer was lost".
	kinds := []fault.Kind{fault.ConnectionReset, fault.ResponseLost}
	replace := func(o *inspect.CloseOptions) { o.ReplaceCIDR = officeCIDR }
	allow := func(o *inspect.RestoreOptions) { o.AllowWeaken = true }
	runs := 0
	setup := func(closed bool) (*exposedHost, inspect.Target) {
		runs++
		h := &exposedHost{lab: l, group: l.group(fmt.Sprint("sweep-", runs), perm{"tcp", 22, 22, "0.0.0.0/0"}, perm{"tcp", 22, 22, "::/0"}, perm{"tcp", 443, 443, "0.0.0.0/0"})}
		target := inspect.Target{GroupID: h.group, Port: 22}
		if closed {
			if _, err := inspect.CloseExposure(ctx, api, target, replace); err != nil {
				t.Fatal(err)
			}
		}
		return h, target
	}
	faulty := func(inj *fault.Injector) *ec2.Client {
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
		return ec2.NewFromConfig(cfg)
	}
	run := func(phase string, c *ec2.Client, target inspect.Target) error {
		var err error
		if phase == "close" {
			_, err = inspect.CloseExposure(ctx, c, target, replace)
		} else {
			_, err = inspect.RestoreExposure(ctx, c, target, allow)
		}
		return err
	}
	// noLoss: a revoked world rule always has its record.
	noLoss := func(h *exposedHost, label string) {
		rules, recs := h.rules(t)
		for i, src := range []string{"0.0.0.0/0", "::/0"} {
			if !slices.Contains(rules, "tcp 22 from "+src) && !slices.Contains(recs, records[i]) {
				t.Errorf("%s: rule from %s revoked without a record (rules %q, records %q)", label, src, rules, recs)
			}
		}
	}
	points := 0
	for _, phase := range []string{"close", "restore"} {
		_, target := setup(phase == "restore")
		probe := fault.New()
		if err := run(phase, faulty(probe), target); err != nil {
			t.Fatalf("%s probe: %v", phase, err)
		}
		calls := probe.Calls()
		t.Logf("%s: %d calls", phase, len(calls))
		for k := 1; k <= len(calls); k++ {
			for _, kind := range kinds {
				label := fmt.Sprintf("%s call %d (%s) %s", phase, k, calls[k-1].Operation, kind)
				h, target := setup(phase == "restore")
				inj := fault.New(fault.Rule{Nth: k, Kind: kind})
				err := run(phase, faulty(inj), target)
				if len(inj.Injected()) != 1 {
					t.Errorf("%s: %d faults injected", label, len(inj.Injected()))
					continue
				}
				points++
				if err == nil {
					t.Errorf("%s: no error", label)
				}
				noLoss(h, label)
				if err := run(phase, api, target); err != nil {
					t.Errorf("%s: re-run: %v", label, err)
				}
				if phase == "close" {
					h.expect(t, label+": after re-run", closedRules, records)
				} else {
					h.expect(t, label+": after re-run", openRules, nil)
				}
			}
		}
	}
	t.Logf("fault points covered: %d", points)
	if points == 0 {
		t.Fatal("no fault point covered")
	}
}

// An all-traffic rule is closed with AllPorts and restored as it was.
func TestCloseAllTrafficMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	api := ec2.NewFromConfig(env.Config())
	l := newLab(t, api)
	g := l.group("all", perm{"-1", 0, 0, "0.0.0.0/0"}, perm{"tcp", 443, 443, "0.0.0.0/0"})
	h := &exposedHost{lab: l, group: g}
	target := inspect.Target{GroupID: g, Port: inspect.AllPorts}
	plan, err := inspect.CloseExposure(ctx, api, target)
	if err != nil || !plan.Applied || len(plan.Actions) != 2 {
		t.Fatalf("close: %+v %v", plan, err)
	}
	h.expect(t, "closed", []string{"tcp 443 from 0.0.0.0/0"}, []string{inspect.RecordTagPrefix + "-1:all:0.0.0.0/0"})
	plan, err = inspect.RestoreExposure(ctx, api, target, func(o *inspect.RestoreOptions) { o.AllowWeaken = true })
	if err != nil || !plan.Applied {
		t.Fatalf("restore: %+v %v", plan, err)
	}
	rules, recs := h.rules(t)
	if len(rules) != 2 || len(recs) != 0 || !slices.ContainsFunc(rules, func(r string) bool { return strings.HasPrefix(r, "-1 ") }) {
		t.Errorf("after restore: rules %q records %q", rules, recs)
	}
}
