package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/observe"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestPrintsConfiguration(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-web", "nginx", "-file", "/srv/app.log=/app"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := observe.ValidateAgentConfig(out.Bytes()); err != nil || !strings.Contains(out.String(), "/var/log/nginx/access.log") || !strings.Contains(out.String(), "/srv/app.log") {
		t.Errorf("configuration: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"-web", "iis"}, {"-file", "nopath"}, {"-dry-run"}, {"-instance", "i-bad", "-endpoint-url", "http://127.0.0.1:1"}} {
		if err := run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: err = %v, want a usage error", args, err)
		}
	}
}

// -print-policy holds the permissions no call names that setting an
// instance up needs: tagging on creation and iam:PassRole.
func TestPrintPolicyUnnamedPermissions(t *testing.T) {
	calls := clitest.Offline(t)
	const id = "i-0123456789abcdef0"
	got := clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id))
	for _, a := range append([]string{"logs:CreateLogGroup", "iam:CreateRole", "ec2:AssociateIamInstanceProfile", "ssm:PutParameter"}, agentActions...) {
		if !slices.Contains(got, a) {
			t.Errorf("policy lacks %s: %v", a, got)
		}
	}
	for _, want := range []string{"logs:TagResource", "iam:TagRole", "iam:TagInstanceProfile", "iam:PassRole", "ssm:AddTagsToResource"} {
		if !slices.Contains(agentActions, want) {
			t.Errorf("agentActions lacks %s", want)
		}
	}
	got = clitest.Actions(clitest.PrintPolicy(t, "cloudwatch-agent", run, "-instance", id, "-dry-run"))
	for _, a := range agentActions {
		if slices.Contains(got, a) {
			t.Errorf("-dry-run: policy holds %s: %v", a, got)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}
