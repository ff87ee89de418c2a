package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/cli"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func motoEnv(t *testing.T) *iam.Client {
	t.Helper()
	env := awstest.New(t)
	env.SetEnv("", "")
	return iam.NewFromConfig(env.Config())
}

func runJSON(t *testing.T, args ...string) iamguard.PasswordPolicyChange {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"-format", "json"}, args...), &out, &errOut); err != nil {
		t.Fatalf("run %v: %v (stderr %q)", args, err, errOut.String())
	}
	var ch iamguard.PasswordPolicyChange
	if err := json.Unmarshal(out.Bytes(), &ch); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out.String())
	}
	return ch
}

func TestPasswordPolicyFlow(t *testing.T) {
	api := motoEnv(t)
	ch := runJSON(t, "-dry-run")
	if ch.Applied || !ch.DryRun || ch.Before != nil || len(ch.Diff) != 9 {
		t.Errorf("dry run = %+v", ch)
	}
	ch = runJSON(t)
	if !ch.Applied || ch.Reason != iamguard.ReasonCreated {
		t.Errorf("apply = %+v", ch)
	}
	ch = runJSON(t)
	if ch.Applied || ch.Reason != iamguard.ReasonAlreadyCompliant {
		t.Errorf("second apply = %+v", ch)
	}
	ch = runJSON(t, "-preset", "cis", "-tighten-only")
	want := iamguard.KISA.Policy
	want.MinimumPasswordLength, want.PasswordReusePrevention = 14, 24
	if !ch.Applied || !cmp.Equal(ch.After, &want) {
		t.Errorf("tighten-only cis = %+v", ch)
	}
	got, err := iamguard.EnablePasswordPolicy(context.Background(), api, want, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil || got.Reason != iamguard.ReasonAlreadyCompliant {
		t.Errorf("account policy is not the merged one: %+v, %v", got, err)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"-preset", "cis", "-dry-run"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "dry run: would change") {
		t.Errorf("text output = %q", out.String())
	}
}

func TestPasswordPolicyBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-preset", "nist"}, {"-format", "xml"}, {"x"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) || out.Len() != 0 {
			t.Errorf("%v: err = %v, stdout = %q", args, err, out.String())
		}
	}
}
