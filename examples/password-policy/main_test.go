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

	"github.com/awsguard/awsguard"
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
	if !ch.Applied || ch.Reason != awsguard.ReasonApplied || ch.Before != nil {
		t.Errorf("apply = %+v", ch)
	}
	ch = runJSON(t)
	if ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("second apply = %+v", ch)
	}
	// CIS over KISA would drop the classes and the age: refused, naming
	// the flag and each field, and nothing changes.
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-preset", "cis"}, &out, &errOut)
	if !errors.Is(err, awsguard.ErrWeakening) || out.Len() != 0 {
		t.Fatalf("cis over kisa: err = %v, stdout %q", err, out.String())
	}
	for _, w := range []string{"-allow-weaken", "RequireSymbols true -> false", "MaxPasswordAge 90 -> 0"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not name %q: %v", w, err)
		}
	}
	kisa := iamguard.KISA.Policy
	got, err := iamguard.EnablePasswordPolicy(context.Background(), api, kisa, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil || got.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("a refused run changed the policy: %+v, %v", got, err)
	}
	// -dry-run is refused the same way; -allow-weaken applies it.
	if err := run(context.Background(), []string{"-preset", "cis", "-dry-run"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, awsguard.ErrWeakening) {
		t.Errorf("cis dry run over kisa: err = %v", err)
	}
	ch = runJSON(t, "-preset", "cis", "-allow-weaken")
	if !ch.Applied || !cmp.Equal(ch.After, &iamguard.CIS.Policy) || len(ch.Actions) != 1 || !ch.Actions[0].Weakening {
		t.Errorf("-allow-weaken cis = %+v", ch)
	}
	got, err = iamguard.EnablePasswordPolicy(context.Background(), api, iamguard.CIS.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
	if err != nil || got.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("account policy is not CIS: %+v, %v", got, err)
	}
	// KISA over CIS would drop the reuse prevention and the length.
	ch = runJSON(t, "-preset", "kisa", "-allow-weaken")
	if !ch.Applied || !cmp.Equal(ch.After, &kisa) {
		t.Errorf("-allow-weaken kisa = %+v", ch)
	}

	out.Reset()
	if err := run(context.Background(), []string{"-preset", "cis", "-dry-run", "-allow-weaken"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "dry run: would change") {
		t.Errorf("text output = %q", out.String())
	}
}

func TestPasswordPolicyBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-preset", "nist"}, {"-format", "xml"}, {"x"}, {"-tighten-only"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out, &bytes.Buffer{}); !errors.Is(err, cli.ErrUsage) || out.Len() != 0 {
			t.Errorf("%v: err = %v, stdout = %q", args, err, out.String())
		}
	}
}
