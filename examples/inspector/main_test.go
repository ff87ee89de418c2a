package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func runJSON(t *testing.T, args ...string) ([]regionResult, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"-format", "json", "-account", awstest.DefaultAccount, "-regions", "us-east-1,eu-west-1", "-max-wait", "10s"}, args...), &out, &errOut)
	var rs []regionResult
	if jerr := json.Unmarshal(out.Bytes(), &rs); jerr != nil {
		t.Fatalf("stdout is not JSON: %v\n%s (err %v)", jerr, out.String(), err)
	}
	return rs, err
}

func TestInspectorFlow(t *testing.T) {
	env := awstest.New(t)
	env.SetEnv("", "")
	rs, err := runJSON(t, "-enable", "-types", "EC2,ECR")
	if err != nil || len(rs) != 2 {
		t.Fatalf("enable: %+v %v", rs, err)
	}
	for _, r := range rs {
		if !r.Plan.Applied || r.Status.Resources["EC2"] != "ENABLED" || r.Status.Resources["ECR"] != "ENABLED" {
			t.Errorf("%s: %+v %+v", r.Region, r.Plan, r.Status)
		}
	}
	rs, err = runJSON(t, "-enable", "-types", "EC2,ECR")
	if err != nil || rs[0].Plan.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second enable: %+v %v", rs, err)
	}
	if _, err := runJSON(t, "-disable", "-types", "EC2,ECR"); !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("disable without -allow-weaken: %v", err)
	}
	rs, err = runJSON(t, "-disable", "-allow-weaken", "-types", "EC2,ECR")
	if err != nil || rs[1].Status.Resources["EC2"] != "DISABLED" {
		t.Fatalf("disable: %+v %v", rs, err)
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-account", awstest.DefaultAccount}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "REGION") || !strings.Contains(out.String(), "us-east-1") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-enable", "-disable"}, {"-types", "EC3"}, {"-format", "csv"}, {"extra"}, {"-account", "12"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

func TestPrintPolicy(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-enable", "-print-policy"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"inspector2:BatchGetAccountStatus", "inspector2:Enable", "inspector2:ListFindings"} {
		if !strings.Contains(out.String(), a) {
			t.Errorf("policy lacks %s:\n%s", a, out.String())
		}
	}
}
