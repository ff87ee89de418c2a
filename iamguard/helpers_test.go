package iamguard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

// motoIAM starts (or resets) moto and returns a plain IAM client.
func motoIAM(t *testing.T) (*awstest.Env, *iam.Client) {
	t.Helper()
	env := awstest.New(t)
	return env, iam.NewFromConfig(env.Config())
}

func faultyClient(env *awstest.Env, inj *fault.Injector) *iam.Client {
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	return iam.NewFromConfig(cfg)
}

// must turns a (value, error) pair into the value, failing the test on
// error: must(api.GetUser(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func createUser(t *testing.T, api *iam.Client, name string) {
	t.Helper()
	must(api.CreateUser(context.Background(), &iam.CreateUserInput{UserName: aws.String(name)}))(t)
}

func createGroup(t *testing.T, api *iam.Client, name string, members ...string) {
	t.Helper()
	ctx := context.Background()
	must(api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(name)}))(t)
	for _, m := range members {
		must(api.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String(m)}))(t)
	}
}

// createPolicy creates a customer managed policy allowing action and returns
// its ARN.
func createPolicy(t *testing.T, api *iam.Client, name, action string) string {
	t.Helper()
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%q,"Resource":"*"}]}`, action)
	out := must(api.CreatePolicy(context.Background(), &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(t)
	return aws.ToString(out.Policy.Arn)
}

// policyARN is the ARN of a customer managed policy in moto's account.
func policyARN(name string) string { return "arn:aws:iam::123456789012:policy/" + name }

func groupsOf(t *testing.T, api *iam.Client, user string) []string {
	t.Helper()
	out := must(api.ListGroupsForUser(context.Background(), &iam.ListGroupsForUserInput{UserName: aws.String(user)}))(t)
	var gs []string
	for _, g := range out.Groups {
		gs = append(gs, aws.ToString(g.GroupName))
	}
	sort.Strings(gs)
	return gs
}

func membersOf(t *testing.T, api *iam.Client, group string) []string {
	t.Helper()
	out := must(api.GetGroup(context.Background(), &iam.GetGroupInput{GroupName: aws.String(group)}))(t)
	var us []string
	for _, u := range out.Users {
		us = append(us, aws.ToString(u.UserName))
	}
	sort.Strings(us)
	return us
}

func groupPoliciesOf(t *testing.T, api *iam.Client, group string) []string {
	t.Helper()
	out := must(api.ListAttachedGroupPolicies(context.Background(), &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(group)}))(t)
	var ps []string
	for _, p := range out.AttachedPolicies {
		ps = append(ps, aws.ToString(p.PolicyArn))
	}
	sort.Strings(ps)
	return ps
}

func groupExists(t *testing.T, api *iam.Client, group string) bool {
	t.Helper()
	_, err := api.GetGroup(context.Background(), &iam.GetGroupInput{GroupName: aws.String(group)})
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// planSteps renders each action of p as "Call Resource: Detail".
func planSteps(p *awsguard.Plan) []string {
	if p == nil {
		return nil
	}
	var s []string
	for _, a := range p.Actions {
		s = append(s, a.Call+" "+a.Resource+": "+a.Detail)
	}
	return s
}

// assertIdle runs op again and requires that it finds nothing to do.
func assertIdle(t *testing.T, p *awsguard.Plan, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if !p.NothingToDo() || p.Applied || (p.Reason != awsguard.ReasonAlreadyCompliant && p.Reason != awsguard.ReasonNothingToRemove) {
		t.Fatalf("second run: steps %v, applied %v, reason %q; want nothing to do", planSteps(p), p.Applied, p.Reason)
	}
}

// sweepKinds are the faults a workflow can be swept with. APIError
// stands for an unexpected AWS refusal (a service failure or a lost
// permission).
var sweepKinds = []fault.Rule{
	{Kind: fault.Throttle},
	{Kind: fault.ServerError},
	{Kind: fault.ConnectionReset},
	{Kind: fault.APIError, Code: "ServiceFailure", Status: 500},
	{Kind: fault.ResponseLost},
}

// writeKinds are the faults every write is swept with by default: the
// two outcomes a workflow can meet. With the SDK's retries off (as in a
// sweep), throttling, a 500, a cut connection and an API error all fail
// the call before AWS applied it, so one of them (the cut connection)
// stands for the four; a lost response fails it after AWS applied it.
// AWSGUARD_FULL_SWEEP=1 sweeps every call with every kind instead.
var writeKinds = []fault.Rule{sweepKinds[2], sweepKinds[4]}

// kindsFor returns the faults a sweep injects at a call of operation op.
// A failed read changes nothing whatever the kind of failure, so reads
// are swept with one kind.
func kindsFor(op string) []fault.Rule {
	switch {
	case os.Getenv("AWSGUARD_FULL_SWEEP") == "1":
		return sweepKinds
	case strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get"):
		return sweepKinds[:1]
	}
	return writeKinds
}

// sweep proves that a workflow interrupted at any call, by any kind of
// fault, finishes when run again and reaches the right state, and that a
// run after that finds nothing to do. setup builds the starting state;
// work runs the workflow with the given client and the running test's t
// (the subtest's, in a sweep run: helpers called from work must use it,
// not the parent's, so that a failure is reported where it happens and
// never on a finished parent); check asserts the final
// state. Each run works on its own names (ns is a suffix for every name it
// uses), so the emulator is reset once, not per run. A failed read changes
// nothing whatever the kind of failure, so reads are swept with one kind
// and writes with writeKinds (kindsFor).
func sweep(t *testing.T, setup func(t *testing.T, api *iam.Client, ns string),
	work func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error),
	check func(t *testing.T, api *iam.Client, ns string)) {
	t.Helper()
	ctx := context.Background()
	env, plain := motoIAM(t)
	setup(t, plain, "0")
	probe := fault.New()
	if _, err := work(ctx, t, faultyClient(env, probe), "0"); err != nil {
		t.Fatalf("clean run: %v", err)
	}
	check(t, plain, "0")
	calls := probe.Calls()
	if len(calls) == 0 {
		t.Fatal("the workflow made no calls")
	}
	for k := 1; k <= len(calls); k++ {
		for i, r := range kindsFor(calls[k-1].Operation) {
			r.Nth = k
			ns := fmt.Sprintf("%d-%d", k, i)
			t.Run(fmt.Sprintf("call%d_%s_%s", k, calls[k-1].Operation, r.Kind), func(t *testing.T) {
				setup(t, plain, ns)
				inj := fault.New(r)
				_, err := work(ctx, t, faultyClient(env, inj), ns)
				if got := inj.Injected(); len(got) != 1 {
					t.Fatalf("injected %v, want one fault at call %d (the workflow's calls changed?)", got, k)
				}
				if err == nil {
					t.Fatalf("fault %v hit but the workflow reported success", r)
				}
				if _, err := work(ctx, t, plain, ns); err != nil {
					t.Fatalf("re-run after the fault: %v", err)
				}
				check(t, plain, ns)
				p, err := work(ctx, t, plain, ns)
				assertIdle(t, p, err)
			})
		}
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lastPart is the name at the end of an ARN.
func lastPart(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }
