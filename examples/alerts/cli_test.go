package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/observe"
)

func runAlerts(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "alerts", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runAlerts(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: alerts [flags]", "-topic", "-email", "-presets", "-kms-key", "-teardown", "-remove-changed", "-dry-run", "-endpoint-url", "-print-policy"} {
			if !strings.Contains(r.Stderr, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, r.Stderr)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-h made %d calls", n)
	}
}

// A bad command line exits 2, prints usage, names the flag, and calls
// nothing.
func TestUsageErrors(t *testing.T) {
	calls := clitest.Offline(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-topic", "bad name!"}, `-topic "bad name!"`},
		{[]string{"-topic", ""}, `-topic ""`},
		{[]string{"-email", "not-an-address"}, `-email "not-an-address"`},
		{[]string{"-email", "a@example.com,not-an-address"}, `-email "not-an-address"`},
		{[]string{"-presets", "nope"}, `-presets "nope"`},
		{[]string{"-kms-key", "not a key"}, `-kms-key "not a key"`},
		{[]string{"-kms-key", "arn:aws:kms:us-east-1:12:key/x"}, `-kms-key "arn:aws:kms:us-east-1:12:key/x"`},
		{[]string{"-teardown=maybe"}, "-teardown"},
		{[]string{"-remove-changed"}, "-remove-changed goes with -teardown"},
		{[]string{"-teardown", "-remove-changed=maybe"}, "-remove-changed"},
		{[]string{"-dry-run=maybe"}, "-dry-run"},
		{[]string{"-format", "csv"}, `-format "csv"`},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "localhost:4566"}, "-endpoint-url"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-print-policy=maybe"}, "-print-policy"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runAlerts(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "alerts: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: alerts") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "Topic.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

// asMoto renames CloudWatch's actions to the prefix moto evaluates them
// under, monitoring: (MOTO.md; measured in audit's leastPrivilegeRegional:
// cloudwatch:DescribeAlarms is refused, monitoring:DescribeAlarms let
// through). The printed policy says cloudwatch:, as AWS's IAM does.
func asMoto(doc *awsguard.PolicyDocument) *awsguard.PolicyDocument {
	acts := clitest.Actions(doc)
	for i, a := range acts {
		if rest, ok := strings.CutPrefix(a, "cloudwatch:"); ok {
			acts[i] = "monitoring:" + rest
		}
	}
	out := *doc
	st := out.Statement.List[0]
	st.Action = awsguard.StringList(acts...)
	out.Statement = awsguard.Statements{List: []awsguard.Statement{st}}
	return &out
}

// alerts, setting up a topic with a subscription and a rule (and running
// again over them), and then
// tearing down what observe created (a topic, a rule, a CIS alarm with
// its metric filter and a log group), and the dry runs of both over what
// observe created, runs as a user holding exactly the printed policy, and fails without any one of its actions. (moto checks
// actions, not resources.) events:TagResource, which AWS asks of PutRule
// creating a tagged rule, is asked by no call: moto does not check it
// (README, least privilege), so it is left out of the proof.
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	cfg := env.EnforceAuth()
	admin := iam.NewFromConfig(cfg)
	ctx := context.Background()
	const operator = "alerts-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	clients := observe.TeardownClients{SNS: sns.NewFromConfig(cfg), Events: eventbridge.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg)}
	const trail = "cloudtrail-events"
	if _, err := clients.Logs.(*cloudwatchlogs.Client).CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(trail)}); err != nil {
		t.Fatal(err)
	}
	clean := func(t *testing.T) {
		t.Helper()
		if _, err := observe.Teardown(ctx, clients, func(o *observe.TeardownOptions) { o.RemoveChanged = true }); err != nil {
			t.Fatal(err)
		}
	}
	// setUp lays observe's topic alerts-N, a rule, a CIS alarm with its
	// metric filter and a log group, through the emulator's administrator.
	setUp := func(t *testing.T, n int) {
		t.Helper()
		tp, err := observe.EnsureAlertTopic(ctx, clients.SNS.(*sns.Client), observe.Topic{Name: fmt.Sprintf("alerts-%d", n),
			Subscriptions: []observe.Subscription{{Protocol: "email", Endpoint: "secops@example.com"}}})
		if err != nil {
			t.Fatal(err)
		}
		rule, err := observe.PresetRule(observe.PresetRootSignIn, tp.TopicARN)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := observe.EnsureEventRule(ctx, clients.Events.(*eventbridge.Client), rule); err != nil {
			t.Fatal(err)
		}
		if _, err := observe.EnsureCISAlarms(ctx, clients.CloudWatch.(*cloudwatch.Client), clients.Logs.(*cloudwatchlogs.Client),
			observe.CISAlarms{LogGroupName: trail, TopicARN: tp.TopicARN, Controls: []string{"4.1"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := observe.EnsureLogGroups(ctx, clients.Logs.(*cloudwatchlogs.Client), []observe.LogGroup{{Name: fmt.Sprintf("/awsguard/%d", n), RetentionDays: 365}}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	setup := []string{"-email", "secops@example.com", "-presets", "root-sign-in", "-format", "json"}
	t.Run("setup", func(t *testing.T) {
		doc := clitest.PrintPolicy(t, "alerts", run, setup...)
		doc = clitest.Without(doc, "events:TagResource")
		clitest.LeastPrivilege(t, doc, nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clean(t)
			n++
			clitest.PutUserPolicy(t, admin, operator, "alerts", doc)
			// The first run creates; the second reads what is there.
			args := append([]string{"-topic", fmt.Sprintf("alerts-%d", n)}, setup...)
			return []clitest.Result{runAlerts(t, args...), runAlerts(t, args...)}
		})
	})
	// The dry runs read what is there and change nothing: each of their
	// reads is needed, and they are all they need.
	t.Run("dry-run", func(t *testing.T) {
		clean(t)
		n++
		setUp(t, n)
		dry := append([]string{"-topic", fmt.Sprintf("alerts-%d", n), "-dry-run"}, setup...)
		clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "alerts", run, dry...), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clitest.PutUserPolicy(t, admin, operator, "alerts", doc)
			return []clitest.Result{runAlerts(t, dry...)}
		})
		clitest.LeastPrivilege(t, asMoto(clitest.PrintPolicy(t, "alerts", run, "-teardown", "-dry-run")), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clitest.PutUserPolicy(t, admin, operator, "alerts", doc)
			return []clitest.Result{runAlerts(t, "-teardown", "-dry-run", "-format", "json")}
		})
	})
	t.Run("teardown", func(t *testing.T) {
		clitest.LeastPrivilege(t, asMoto(clitest.PrintPolicy(t, "alerts", run, "-teardown")), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
			clean(t)
			n++
			setUp(t, n)
			clitest.PutUserPolicy(t, admin, operator, "alerts", doc)
			return []clitest.Result{runAlerts(t, "-teardown", "-format", "json")}
		})
	})
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runAlerts(t, "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
