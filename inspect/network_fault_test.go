package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

// A fault at any call of AuditNetwork never gives a verdict: the report
// holds only ERROR findings, one per network check, saying which call
// failed, and the error says the audit is incomplete. Without faults the
// same network gives its verdicts (a prefix list holding 0.0.0.0/0
// included).
func TestAuditNetworkFaultSweep(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	api := ec2.NewFromConfig(env.Config())
	l := newLab(t, api)
	sub := l.subnet("10.0.1.0/24", "")
	l.routeTable(l.igw, "", sub)
	pl := must(api.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String("world"), AddressFamily: aws.String("IPv4"),
		MaxEntries: aws.Int32(5), Entries: []ec2types.AddPrefixListEntry{{Cidr: aws.String("0.0.0.0/0")}}}))
	g := l.group("via-prefix-list", perm{"tcp", 5432, 5432, aws.ToString(pl.PrefixList.PrefixListId)})
	inst := l.instance("db", sub, true, false, g)

	probe := fault.New()
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, probe.APIOption)
	clean, err := inspect.AuditNetwork(ctx, ec2.NewFromConfig(cfg), func(o *inspect.NetworkOptions) { o.Ports = []inspect.Port{5432} })
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range clean.Findings {
		if f.Check == inspect.CheckInstanceExposed && f.Evidence["instance_id"] == inst {
			found = f.Status == awsguard.StatusFail
		}
	}
	if !found {
		t.Fatalf("the instance behind a prefix list holding 0.0.0.0/0 is not reported exposed: %+v", clean.Findings)
	}
	var ops []string
	for _, c := range probe.Calls() {
		if !slices.Contains(ops, c.Operation) {
			ops = append(ops, c.Operation)
		}
	}
	if !slices.Contains(ops, "GetManagedPrefixListEntries") {
		t.Fatalf("operations %v lack GetManagedPrefixListEntries", ops)
	}
	points := 0
	for _, op := range ops {
		// A read has no effect to lose: a server error and a refusal cover it.
		for _, kind := range []fault.Kind{fault.ServerError, fault.APIError} {
			t.Run(fmt.Sprintf("%s-%s", op, kind), func(t *testing.T) {
				rule := fault.Rule{Service: "EC2", Operation: op, Nth: 1, Kind: kind}
				if kind == fault.APIError {
					rule.Code, rule.Status = "UnauthorizedOperation", 403
				}
				inj := fault.New(rule)
				cfg := env.Config()
				cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
				rep, err := inspect.AuditNetwork(ctx, ec2.NewFromConfig(cfg), func(o *inspect.NetworkOptions) { o.Ports = []inspect.Port{5432} })
				if len(inj.Injected()) != 1 {
					t.Fatalf("%d faults injected", len(inj.Injected()))
				}
				points++
				if !errors.Is(err, inspect.ErrAuditIncomplete) {
					t.Fatalf("err = %v, want ErrAuditIncomplete", err)
				}
				if rep == nil || len(rep.Findings) != 3 {
					t.Fatalf("report %+v, want 3 ERROR findings", rep)
				}
				for _, f := range rep.Findings {
					if f.Status != awsguard.StatusError || f.Evidence["error"] == "" || f.Region != awstest.DefaultRegion {
						t.Errorf("finding %+v", f)
					}
				}
			})
		}
	}
	t.Logf("fault points covered: %d (%d operations)", points, len(ops))
	if points == 0 {
		t.Fatal("no fault point covered")
	}
}
