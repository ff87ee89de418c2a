package main

import (
	"context"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
)

func runIns(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "inspector", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runIns(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: inspector [flags]", "-enable", "-disable", "-allow-weaken", "-regions", "-types", "-account", "-max-wait", "-dry-run", "-endpoint-url", "-print-policy"} {
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
		{[]string{"-enable", "-disable"}, "give at most one of -enable and -disable"},
		{[]string{"-enable=maybe"}, "-enable"},
		{[]string{"-disable=maybe"}, "-disable"},
		{[]string{"-allow-weaken=maybe"}, "-allow-weaken"},
		{[]string{"-dry-run=maybe"}, "-dry-run"},
		{[]string{"-types", "EC3"}, `-types "EC3"`},
		{[]string{"-types", ""}, `-types ""`},
		{[]string{"-regions", "Seoul"}, `-regions "Seoul"`},
		{[]string{"-regions", "us-east-1,us-east-1"}, `-regions "us-east-1"`},
		{[]string{"-account", "12"}, `-account "12"`},
		{[]string{"-max-wait", "-1s"}, "-max-wait"},
		{[]string{"-max-wait", "soon"}, "-max-wait"},
		{[]string{"-format", "csv"}, `-format "csv"`},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "localhost:4566"}, "-endpoint-url"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-attempt-timeout", "-1s"}, "-attempt-timeout -1s"},
		{[]string{"-print-policy=maybe"}, "-print-policy"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runIns(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "inspector: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: inspector") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "Options.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

// inspector, turning scanning on and (with -allow-weaken) off and reading
// the status and findings, runs as a user holding exactly the printed
// policy, and fails without any one of its actions. (moto checks actions,
// not resources.)
func TestLeastPrivilege(t *testing.T) {
	for _, mode := range []string{"-enable", "-disable"} {
		t.Run(mode, func(t *testing.T) {
			env := awstest.New(t)
			cfg := env.EnforceAuth()
			admin, api := iam.NewFromConfig(cfg), inspector2.NewFromConfig(cfg)
			ctx := context.Background()
			const operator = "inspector-operator"
			if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
				t.Fatal(err)
			}
			key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
			if err != nil {
				t.Fatal(err)
			}
			env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
			t.Setenv("AWS_MAX_ATTEMPTS", "1")
			args := []string{mode, "-types", "EC2", "-account", awstest.DefaultAccount, "-max-wait", "10s", "-format", "json"}
			if mode == "-disable" {
				args = append(args, "-allow-weaken")
			}
			types := []i2types.ResourceScanType{i2types.ResourceScanTypeEc2}
			clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "inspector", run, mode), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
				// Each try starts from the state that makes it change
				// something: off for -enable, on for -disable.
				if mode == "-enable" {
					_, err = api.Disable(ctx, &inspector2.DisableInput{AccountIds: []string{awstest.DefaultAccount}, ResourceTypes: types})
				} else {
					_, err = api.Enable(ctx, &inspector2.EnableInput{AccountIds: []string{awstest.DefaultAccount}, ResourceTypes: types})
				}
				if err != nil {
					t.Fatal(err)
				}
				clitest.PutUserPolicy(t, admin, operator, "inspector", doc)
				return []clitest.Result{runIns(t, args...)}
			})
		})
	}
}

func TestPrintPolicyActions(t *testing.T) {
	calls := clitest.Offline(t)
	read := []string{"inspector2:BatchGetAccountStatus", "inspector2:ListFindings"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, read},
		{[]string{"-enable"}, []string{"inspector2:BatchGetAccountStatus", "inspector2:Enable", "inspector2:ListFindings"}},
		{[]string{"-disable"}, []string{"inspector2:BatchGetAccountStatus", "inspector2:Disable", "inspector2:ListFindings"}},
	} {
		if got := clitest.Actions(clitest.PrintPolicy(t, "inspector", run, tc.args...)); !slices.Equal(got, tc.want) {
			t.Errorf("%v: actions = %v, want %v", tc.args, got, tc.want)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("-print-policy made %d calls", n)
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runIns(t, "-account", awstest.DefaultAccount, "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
