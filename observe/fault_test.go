package observe_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/observe"
)

// sweepKinds are the faults of a sweep: one that takes no effect and one
// whose call takes effect while its answer is lost.
var sweepKinds = []fault.Kind{fault.ServerError, fault.ResponseLost}

// sweep fails each call of run in turn (k-th call, each kind), then runs
// it again without faults and checks the result with verify; a third run
// must make no mutating call. Each case works on its own resources, named
// after id, laid by seed, in one emulator state: resetting the emulator
// costs seconds a case. It fails the test if the sweep covered no fault
// point.
func sweep(t *testing.T, name string, seed func(t *testing.T, cfg aws.Config, id string), run func(cfg aws.Config, id string) error, verify func(t *testing.T, cfg aws.Config, id string)) {
	t.Helper()
	env := sharedEnv(t)
	base := env.Config
	if acct, ok := sweepAccounts[name]; ok {
		base = func() aws.Config { return env.ConfigFor(acct) }
	} else if strings.HasPrefix(name, "Teardown") {
		t.Fatalf("%s: no account of its own in sweepAccounts", name)
	}
	seed(t, base(), "probe")
	cfg, probe := withFaults(base())
	must(t, run(cfg, "probe"))
	n := len(probe.Calls())
	covered := 0
	for k := 1; k <= n; k++ {
		kinds := sweepKinds
		if op := probe.Calls()[k-1].Operation; strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "Describe") {
			kinds = kinds[:1] // a read that fails is a read that fails, whatever became of its answer
		}
		for _, kind := range kinds {
			id := fmt.Sprintf("c%02d-%s", k, kind)
			t.Run(id, func(t *testing.T) {
				seed(t, base(), id)
				cfg, inj := withFaults(base(), fault.Rule{Nth: k, Kind: kind})
				if err := run(cfg, id); err == nil && len(inj.Injected()) > 0 {
					t.Errorf("fault at %v gave no error", inj.Injected())
				}
				if len(inj.Injected()) == 0 {
					t.Fatalf("no call %d to fail", k)
				}
				covered++
				must(t, run(base(), id))
				verify(t, base(), id)
				cfg, calls := withCounter(base())
				must(t, run(cfg, id))
				if m := mutating(calls); len(m) != 0 {
					t.Errorf("run after the re-run made mutating calls %v", m)
				}
			})
		}
	}
	t.Logf("%s: %d calls, %d fault points covered", name, n, covered)
	if covered == 0 {
		t.Fatalf("%s: no fault point covered", name)
	}
}

func noSeed(*testing.T, aws.Config, string) {}

// sweepAccounts give each Teardown sweep an emulated account of its own
// on the shared emulator: Teardown reads the whole account, and resetting
// the emulator instead would cost this and every later test the
// emulator's slow first calls of each service (seconds for IAM, which
// loads the managed policies).
var sweepAccounts = map[string]string{
	"Teardown":         "111111111111",
	"Teardown (role)":  "222222222222",
	"Teardown (trail)": "333333333333",
}

// withFaults is cfg with a fault injector.
func withFaults(cfg aws.Config, rules ...fault.Rule) (aws.Config, *fault.Injector) {
	inj := fault.New(rules...)
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), inj.APIOption)
	return cfg, inj
}

// withCounter is cfg counting its calls.
func withCounter(cfg aws.Config) (aws.Config, *apicalls.Counter) {
	c := apicalls.New()
	cfg.APIOptions = append(slices.Clone(cfg.APIOptions), c.APIOption)
	return cfg, c
}

func TestEnsureAlertTopicFaultSweep(t *testing.T) {
	ctx := context.Background()
	topic := func(id string) observe.Topic {
		tp := alertTopic
		tp.Name = "alerts-" + id
		return tp
	}
	sweep(t, "EnsureAlertTopic", noSeed, func(cfg aws.Config, id string) error {
		_, err := observe.EnsureAlertTopic(ctx, sns.NewFromConfig(cfg), topic(id))
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		api := sns.NewFromConfig(cfg)
		res, err := observe.EnsureAlertTopic(ctx, api, topic(id), func(o *observe.Options) { o.DryRun = true })
		must(t, err)
		if res.State != observe.TopicCompliant {
			t.Errorf("state after re-run = %v", res.State)
		}
		subs, err := api.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(res.TopicARN)})
		must(t, err)
		if len(subs.Subscriptions) != len(alertTopic.Subscriptions) {
			t.Errorf("subscriptions = %d, want %d (no duplicate)", len(subs.Subscriptions), len(alertTopic.Subscriptions))
		}
	})
}

func TestEnsureEventRuleFaultSweep(t *testing.T) {
	ctx := context.Background()
	rule := func(id string) observe.EventRule {
		r, err := observe.PresetRule(observe.PresetIAMPolicyChanges, testTopicARN)
		must(t, err)
		r.Name = "rule-" + id
		return r
	}
	sweep(t, "EnsureEventRule", noSeed, func(cfg aws.Config, id string) error {
		_, err := observe.EnsureEventRule(ctx, eventbridge.NewFromConfig(cfg), rule(id))
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		api := eventbridge.NewFromConfig(cfg)
		rules, err := api.ListRules(ctx, &eventbridge.ListRulesInput{NamePrefix: aws.String("rule-" + id)})
		must(t, err)
		if len(rules.Rules) != 1 {
			t.Errorf("rules = %d, want 1", len(rules.Rules))
		}
		targets, err := api.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String("rule-" + id)})
		must(t, err)
		if len(targets.Targets) != 1 {
			t.Errorf("targets = %d, want 1", len(targets.Targets))
		}
	})
}

// Teardown after a fault at any call, run again, removes everything
// observe made and nothing else.
func TestTeardownFaultSweep(t *testing.T) {
	ctx := context.Background()
	sweep(t, "Teardown", func(t *testing.T, cfg aws.Config, id string) {
		if id == "probe" {
			seedUnrelated(t, cfg, "probe")
		}
		setUp(t, cfg, id, trailGroup+"-probe", false)
	}, func(cfg aws.Config, id string) error {
		_, err := observe.Teardown(ctx, teardownClients(cfg), func(o *observe.TeardownOptions) { o.DeleteLogGroups = true })
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		want := inventory{
			Topics:  map[string]int{"arn:aws:sns:us-east-1:111111111111:other-probe": 1, "arn:aws:sns:us-east-1:111111111111:waf-probe": 1},
			Rules:   map[string]int{"other-probe": 1},
			Alarms:  []string{"awsguard-other-probe"},
			Filters: map[string]int{"other-probe": 0, trailGroup + "-probe": 1},
		}
		if d := cmpDiff(want, take(t, cfg)); d != "" {
			t.Errorf("after teardown (-want +got):\n%s", d)
		}
	})
}

// EnsureAgentRole after a fault at any call, run again, leaves one role,
// one profile holding it, and the instance associated with it.
func TestEnsureAgentRoleFaultSweep(t *testing.T) {
	ctx := context.Background()
	instances := map[string]string{}
	sweep(t, "EnsureAgentRole", func(t *testing.T, cfg aws.Config, id string) {
		instances[id] = launch(t, cfg)
	}, func(cfg aws.Config, id string) error {
		_, err := observe.EnsureAgentRole(ctx, agentClients(cfg), observe.AgentRole{Name: "agent-" + id, InstanceID: instances[id]},
			func(o *observe.Options) { o.MinDelay = time.Millisecond })
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		api := iam.NewFromConfig(cfg)
		p, err := api.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("agent-" + id)})
		must(t, err)
		if len(p.InstanceProfile.Roles) != 1 {
			t.Errorf("profile roles = %d", len(p.InstanceProfile.Roles))
		}
		if got := profileOf(t, cfg, instances[id]); len(got) != 1 || got[0] != aws.ToString(p.InstanceProfile.Arn) {
			t.Errorf("instance profile = %v", got)
		}
	})
}

// Teardown of the agent's role after a fault at any call, run again,
// takes the profile off the instance and removes profile and role, and
// leaves the unrelated role and profile.
func TestTeardownRoleFaultSweep(t *testing.T) {
	ctx := context.Background()
	var instance string // one instance serves every case: each teardown frees it
	clients := func(cfg aws.Config) observe.TeardownClients {
		return observe.TeardownClients{IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg)}
	}
	sweep(t, "Teardown (role)", func(t *testing.T, cfg aws.Config, id string) {
		if id == "probe" {
			api := iam.NewFromConfig(cfg)
			_, err := api.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("unrelated"), Path: aws.String(observe.RolePath),
				AssumeRolePolicyDocument: aws.String(observe.AgentTrustPolicyJSON())})
			must(t, err)
			_, err = api.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("unrelated"), Path: aws.String(observe.RolePath)})
			must(t, err)
			instance = launch(t, cfg)
		}
		_, err := observe.EnsureAgentRole(ctx, agentClients(cfg), observe.AgentRole{Name: "agent-" + id, InstanceID: instance})
		must(t, err)
	}, func(cfg aws.Config, id string) error {
		res, err := observe.Teardown(ctx, clients(cfg))
		if err == nil && len(res.Warnings) != 6 { // the six services without a client
			return fmt.Errorf("warnings %v", res.Warnings)
		}
		return err
	}, func(t *testing.T, cfg aws.Config, id string) {
		api := iam.NewFromConfig(cfg)
		roles, err := api.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String(observe.RolePath)})
		must(t, err)
		profs, err := api.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String(observe.RolePath)})
		must(t, err)
		if len(roles.Roles) != 1 || len(profs.InstanceProfiles) != 1 {
			t.Errorf("roles %d, profiles %d left, want the unrelated one of each", len(roles.Roles), len(profs.InstanceProfiles))
		}
		if got := profileOf(t, cfg, instance); len(got) != 0 {
			t.Errorf("instance keeps profile %v", got)
		}
	})
}
