package ec2recover_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/fault"
)

// DisableInstanceConnect under a fault at every API call (the kinds
// chosen as faultSweep does: a lost response and one of throttling, 500
// and a cut connection at a mutating call, all four with
// AWSGUARD_FULL_SWEEP=1; one of the three at a read), then
// run again without faults: the re-run finishes, every instance reports
// the agent removed, and the deny policy exists once, attached to the
// group once. Each case starts from no deny policy.
func TestDisableInstanceConnectFaultSweep(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "running")
	modern := w.launchImage(al2023Image)
	if _, err := w.iam.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")}); err != nil {
		t.Fatal(err)
	}
	ids := []string{modern, w.target}
	opts := func(o *ec2recover.DisableOptions) { o.DenyGroups, o.Wait = []string{"ops"}, fastWait }
	clients := func(apiOpts ...func(*middleware.Stack) error) ec2recover.DisableClients {
		cfg := w.cfg.Copy()
		cfg.APIOptions = append(cfg.APIOptions, apiOpts...)
		c := ec2recover.ClientsFromConfig(cfg)
		g := &guestSSM{RecoverSSM: c.SSM, status: ssmtypes.CommandInvocationStatusSuccess, output: "ec2recover-eic: removed\n"}
		return ec2recover.DisableClients{EC2: c.EC2, SSM: g, IAM: iam.NewFromConfig(cfg)}
	}
	reset := func(label string) {
		t.Helper()
		if _, err := ec2recover.RemoveInstanceConnectDeny(ctx, w.iam, []string{"ops"}, true, false); err != nil {
			t.Fatalf("%s: reset: %v", label, err)
		}
	}
	check := func(label string, res *ec2recover.DisableResult, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: re-run: %v", label, err)
			return
		}
		for _, ir := range res.Instances {
			if ir.Outcome != "removed" {
				t.Errorf("%s: re-run: %+v", label, ir)
			}
		}
		att, err := w.iam.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")})
		if err != nil || len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != ec2recover.DenyPolicyName {
			t.Errorf("%s: attached to ops: %+v %v", label, att, err)
		}
		pols, err := w.iam.ListPolicies(ctx, &iam.ListPoliciesInput{PathPrefix: aws.String(ec2recover.DenyPolicyPath)})
		if err != nil || len(pols.Policies) != 1 {
			t.Errorf("%s: deny policies: %+v %v", label, pols, err)
		}
	}

	probe := fault.New()
	res, err := ec2recover.DisableInstanceConnect(ctx, clients(probe.APIOption), ids, opts)
	check("probe", res, err)
	calls := probe.Calls()
	t.Logf("%d calls: %v", len(calls), calls)

	full := os.Getenv("AWSGUARD_FULL_SWEEP") == "1"
	points, mutating := sweepPoints(calls, 1, full)
	covered, failed := 0, 0
	for _, p := range points {
		k, kind := p.k, p.kind
		label := fmt.Sprintf("call %d (%s.%s) %s", k, calls[k-1].Service, calls[k-1].Operation, kind)
		reset(label)
		inj := fault.New(fault.Rule{Nth: k, Kind: kind})
		_, err := ec2recover.DisableInstanceConnect(ctx, clients(inj.APIOption), ids, opts)
		if n := len(inj.Injected()); n != 1 {
			t.Errorf("%s: %d faults injected", label, n)
			continue
		}
		covered++
		if err != nil {
			failed++
		}
		res, err := ec2recover.DisableInstanceConnect(ctx, clients(), ids, opts)
		check(label, res, err)
	}
	t.Logf("DisableInstanceConnect fault sweep: %d fault points covered at %d of %d calls (%d mutating; AWSGUARD_FULL_SWEEP %v), %d runs failed and were run again",
		covered, countCalls(points), len(calls), mutating, full, failed)
	if covered == 0 {
		t.Fatal("the sweep covered no fault point")
	}
}
