package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func runJSON(t *testing.T, args ...string) Result {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"-format", "json"}, args...), &out, &errOut); err != nil {
		t.Fatalf("run %v: %v (stderr %q)", args, err, errOut.String())
	}
	var res Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	return res
}

func TestAlertsFlow(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	args := []string{"-email", "secops@example.com", "-presets", "root-sign-in,access-key-created"}
	dry := runJSON(t, append(args, "-dry-run")...)
	if dry.Topic == nil || dry.Topic.Reason != awsguard.ReasonDryRun || len(dry.Rules) != 2 {
		t.Fatalf("dry run = %+v", dry)
	}
	res := runJSON(t, args...)
	if !res.Topic.Applied || len(res.Rules) != 2 || !res.Rules[0].Applied {
		t.Fatalf("apply = %+v", res)
	}
	res = runJSON(t, args...)
	if res.Topic.Applied || res.Rules[0].Applied || res.Rules[1].Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second apply = %+v", res)
	}
	var out bytes.Buffer
	if err := run(context.Background(), args, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "email secops@example.com: confirmed") {
		t.Errorf("table: %v\n%s", err, out.String())
	}
	td := runJSON(t, "-teardown")
	if td.Teardown == nil || !td.Teardown.Applied {
		t.Fatalf("teardown = %+v", td)
	}
	td = runJSON(t, "-teardown")
	if td.Teardown.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second teardown = %+v", td.Teardown.Plan)
	}
}

func TestAlertsUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-presets", "nope"},
		{"-remove-changed"},
		{"-email", "not-an-address", "-presets", "none", "-endpoint-url", "http://127.0.0.1:1"},
		{"-format", "csv"},
	} {
		var errOut bytes.Buffer
		err := run(context.Background(), args, &bytes.Buffer{}, &errOut)
		if !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-print-policy"}, &out, &bytes.Buffer{}); err != nil || !strings.Contains(out.String(), "sns:Subscribe") || !strings.Contains(out.String(), "events:PutRule") {
		t.Errorf("-print-policy: %v\n%s", err, out.String())
	}
}

// -print-policy holds the permissions no call names where the flags need
// them: events:TagResource for the rules PutRule creates (sns:TagResource
// is a call of TopicAPI).
func TestPrintPolicyTagOnCreate(t *testing.T) {
	calls := clitest.Offline(t)
	for _, tc := range []struct {
		args     []string
		has, not []string
	}{
		{nil, []string{"events:TagResource", "sns:TagResource", "events:PutRule"}, nil},
		{[]string{"-presets", "root-sign-in"}, []string{"events:TagResource", "sns:TagResource"}, nil},
		{[]string{"-presets", "none"}, []string{"sns:TagResource"}, []string{"events:TagResource", "events:PutRule"}},
		{[]string{"-dry-run"}, []string{"events:DescribeRule"}, []string{"events:PutRule", "events:TagResource", "sns:CreateTopic", "sns:Subscribe"}},
		{[]string{"-teardown"}, []string{"events:DeleteRule"}, []string{"events:TagResource", "sns:TagResource"}},
		{[]string{"-teardown", "-dry-run"}, []string{"events:ListRules"}, []string{"events:DeleteRule", "sns:DeleteTopic", "logs:DeleteMetricFilter"}},
	} {
		got := clitest.Actions(clitest.PrintPolicy(t, "alerts", run, tc.args...))
		if slices.Contains(tc.args, "-dry-run") {
			// A dry run must be runnable with read-only permissions.
			for _, a := range got {
				if _, op, _ := strings.Cut(a, ":"); !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "Get") && !strings.HasPrefix(op, "List") {
					t.Errorf("%v: policy holds %s, which changes something", tc.args, a)
				}
			}
		}
		for _, a := range tc.has {
			if !slices.Contains(got, a) {
				t.Errorf("%v: policy lacks %s: %v", tc.args, a, got)
			}
		}
		for _, a := range tc.not {
			if slices.Contains(got, a) {
				t.Errorf("%v: policy holds %s: %v", tc.args, a, got)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}
