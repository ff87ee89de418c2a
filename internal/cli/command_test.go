package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
)

// isolate keeps the host's AWS settings out of a test.
func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_PROFILE": "", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "", "AWS_MAX_ATTEMPTS": "1",
		"AWS_ACCESS_KEY_ID": "AKIAAWSTESTDUMMY0001", "AWS_SECRET_ACCESS_KEY": "dummy", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
	} {
		t.Setenv(k, v)
	}
}

// call runs a small program through Run and Fail, as Main would.
func call(t *testing.T, setup func(*Command), body func(context.Context, *Command) error, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	c := New("tool", "tool does one thing.")
	if setup != nil {
		setup(c)
	}
	var out, errOut bytes.Buffer
	err = c.Run(context.Background(), args, &out, &errOut, func(ctx context.Context) error {
		if body == nil {
			return nil
		}
		return body(ctx, c)
	})
	code = Fail(&errOut, "tool", err)
	return out.String(), errOut.String(), code, err
}

func TestHelpExitsZeroWithUsageOnStderr(t *testing.T) {
	isolate(t)
	ran := false
	out, errOut, code, err := call(t, nil, func(context.Context, *Command) error { ran = true; return nil }, "-h")
	if code != 0 || !errors.Is(err, flag.ErrHelp) || out != "" || ran {
		t.Errorf("code %d, err %v, stdout %q, body ran %v", code, err, out, ran)
	}
	for _, want := range []string{"Usage: tool [flags]", "tool does one thing.", "-profile", "-region", "-endpoint-url", "-timeout", "-attempt-timeout", "-print-policy"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("usage lacks %q:\n%s", want, errOut)
		}
	}
}

func TestUsageErrorsExitTwoNamingTheFlag(t *testing.T) {
	isolate(t)
	setup := func(c *Command) {
		c.Format(FormatTable, FormatJSON)
		n := c.Flags.Int("n", 1, "a number")
		c.Check = func() error {
			if *n < 1 {
				return fmt.Errorf("-n %d: want 1 or more", *n)
			}
			return nil
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"arg"}, `unexpected argument "arg"`},
		{[]string{"-format", "csv"}, `-format "csv": want one of table, json`},
		{[]string{"-region", "us-east"}, `-region "us-east"`},
		{[]string{"-endpoint-url", "127.0.0.1:4566"}, `-endpoint-url "127.0.0.1:4566"`},
		{[]string{"-timeout", "-1s"}, "-timeout -1s"},
		{[]string{"-timeout", "x"}, `invalid value "x" for flag -timeout`},
		{[]string{"-attempt-timeout", "0"}, "-attempt-timeout 0s"},
		{[]string{"-n", "0"}, "-n 0: want 1 or more"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		ran := false
		out, errOut, code, err := call(t, setup, func(ctx context.Context, c *Command) error {
			_, err := c.Config(ctx)
			ran = err == nil
			return err
		}, tc.args...)
		last := strings.TrimSpace(errOut)
		last = last[strings.LastIndex(last, "\n")+1:]
		if code != 2 || !errors.Is(err, ErrUsage) || out != "" || ran || last != "tool: "+tc.want && !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, err %v, last line %q, want %q", tc.args, code, err, last, tc.want)
		}
		if !strings.Contains(errOut, "Usage: tool") {
			t.Errorf("%v: no usage", tc.args)
		}
	}
}

func TestFormatAndDryRun(t *testing.T) {
	isolate(t)
	var format *string
	var dry *bool
	setup := func(c *Command) { format, dry = c.Format(FormatTable, FormatJSON), c.DryRun() }
	for _, tc := range []struct {
		args   []string
		format string
		dry    bool
	}{
		{nil, FormatTable, false},
		{[]string{"-format", "text"}, FormatTable, false}, // the hidden alias
		{[]string{"-format", "json", "-dry-run"}, FormatJSON, true},
	} {
		if _, _, code, err := call(t, setup, nil, tc.args...); code != 0 || *format != tc.format || *dry != tc.dry {
			t.Errorf("%v: code %d (%v), format %q, dry-run %v", tc.args, code, err, *format, *dry)
		}
	}
}

func TestConfigLayersFlagsOverTheChain(t *testing.T) {
	isolate(t)
	cfgFile := os.Getenv("AWS_CONFIG_FILE")
	if err := os.WriteFile(cfgFile, []byte("[profile ops]\nregion = ap-northeast-2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args             []string
		region, endpoint string
	}{
		{nil, "us-east-1", ""},
		{[]string{"-profile", "ops"}, "ap-northeast-2", ""},
		{[]string{"-profile", "ops", "-region", "eu-west-1", "-endpoint-url", "http://127.0.0.1:4566"}, "eu-west-1", "http://127.0.0.1:4566"},
	} {
		t.Setenv("AWS_REGION", "")
		if tc.args == nil {
			t.Setenv("AWS_REGION", "us-east-1")
		}
		_, errOut, code, _ := call(t, nil, func(ctx context.Context, c *Command) error {
			cfg, err := c.Config(ctx)
			if err != nil {
				return err
			}
			ep := ""
			if cfg.BaseEndpoint != nil {
				ep = *cfg.BaseEndpoint
			}
			if cfg.Region != tc.region || ep != tc.endpoint {
				t.Errorf("%v: region %q, endpoint %q", tc.args, cfg.Region, ep)
			}
			return nil
		}, tc.args...)
		if code != 0 {
			t.Errorf("%v: %s", tc.args, errOut)
		}
	}
	t.Setenv("AWS_REGION", "")
	if _, errOut, code, _ := call(t, nil, func(ctx context.Context, c *Command) error { _, err := c.Config(ctx); return err }); code != 2 || !strings.Contains(errOut, "no AWS region: set -region") {
		t.Errorf("no region: code %d, %q", code, errOut)
	}
}

func TestExplain(t *testing.T) {
	c := New("tool", "")
	c.FlagOf["Options.MaxAge"] = "-max-age"
	opErr := func(err error) error {
		return &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity", Err: err}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		err   error
		want  string
		usage bool
	}{
		{"input error of a flag", fmt.Errorf("rotate: %w", &awsguard.InputError{Field: "Options.MaxAge", Value: "-1h", Allowed: "a positive duration"}),
			`-max-age "-1h": want a positive duration`, true},
		{"input error of no flag", &awsguard.InputError{Field: "user", Value: "", Allowed: "a user name"}, `invalid user "": want a user name`, false},
		{"refused", opErr(&smithy.GenericAPIError{Code: "InvalidClientTokenId", Message: "junk <html>"}), "STS GetCallerIdentity: " + CredentialsRefused, false},
		{"expired", opErr(&smithy.GenericAPIError{Code: "ExpiredToken"}), "STS GetCallerIdentity: " + CredentialsRefused, false},
		{"access denied is not refused", opErr(&smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}), "AccessDenied", false},
		{"hint", Hint(errors.New("step create-key failed"), RerunHint), "step create-key failed; " + RerunHint, false},
	} {
		got := c.Explain(ctx, tc.err)
		if got.Error() != tc.want && !strings.Contains(got.Error(), tc.want) || errors.Is(got, ErrUsage) != tc.usage {
			t.Errorf("%s: %q (usage %v), want %q (usage %v)", tc.name, got, errors.Is(got, ErrUsage), tc.want, tc.usage)
		}
		if !errors.Is(got, tc.err) {
			t.Errorf("%s: the cause is no longer reachable", tc.name)
		}
	}
}

func TestFailExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		stderr string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{errors.New("step one failed:\n  detail"), 1, "tool: step one failed: detail\n"},
		{Usagef("-x %q: want y", "z"), 2, "tool: -x \"z\": want y\n"},
		{&ExitError{Code: 3}, 3, ""},
		{&ExitError{Code: 4, Msg: "four"}, 4, "tool: four\n"},
	} {
		var buf bytes.Buffer
		if code := Fail(&buf, "tool", tc.err); code != tc.code || buf.String() != tc.stderr {
			t.Errorf("%v: code %d, stderr %q; want %d, %q", tc.err, code, buf.String(), tc.code, tc.stderr)
		}
	}
}

type policyAPI interface {
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	DescribeRegions(context.Context, *ec2.DescribeRegionsInput, ...func(*ec2.Options)) (*ec2.DescribeRegionsOutput, error)
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

type morePolicyAPI interface {
	policyAPI // embedded: its methods count too, once
	ListUsers(context.Context, *iam.ListUsersInput, ...func(*iam.Options)) (*iam.ListUsersOutput, error)
}

type notSDK interface {
	Do(context.Context, string) error
}

func TestPolicy(t *testing.T) {
	doc, err := Policy(reflect.TypeFor[morePolicyAPI](), reflect.TypeFor[policyAPI]())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ec2:DescribeRegions", "iam:GetCredentialReport", "iam:ListUsers", "lambda:InvokeFunction"}
	if got := doc.Statement.List[0].Action.Values; !slices.Equal(got, want) {
		t.Errorf("actions = %v, want %v", got, want)
	}
	if err := doc.Validate(); err != nil {
		t.Error(err)
	}
	if _, err := Policy(reflect.TypeFor[notSDK]()); err == nil {
		t.Error("an interface of no SDK calls gave a policy")
	}
	if _, err := Policy(reflect.TypeFor[string]()); err == nil {
		t.Error("a non-interface gave a policy")
	}
	for pkg, want := range map[string]string{
		"github.com/aws/aws-sdk-go-v2/service/iam":                    "iam",
		"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2": "elasticloadbalancing",
		"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs":         "logs",
		"github.com/aws/aws-sdk-go-v2/service/eventbridge":            "events",
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager":         "secretsmanager",
		"github.com/aws/aws-sdk-go-v2/service/ec2instanceconnect":     "ec2-instance-connect",
		"github.com/awsguard/awsguard/iamguard":                       "",
	} {
		if got := servicePrefixOf(pkg); got != want {
			t.Errorf("%s: %q, want %q", pkg, got, want)
		}
	}
}

func TestPrintPolicyMakesNoCall(t *testing.T) {
	isolate(t)
	ran := false
	out, errOut, code, _ := call(t, func(c *Command) { c.Uses(reflect.TypeFor[policyAPI]()) },
		func(context.Context, *Command) error { ran = true; return nil }, "-print-policy")
	if code != 0 || ran {
		t.Fatalf("code %d, body ran %v: %s", code, ran, errOut)
	}
	doc, err := awsguard.ParsePolicyDocument(out)
	if err != nil || len(doc.Statement.List[0].Action.Values) != 3 {
		t.Errorf("policy %v: %s", err, out)
	}
	// UsesActions adds actions no interface shows, sorted, once each.
	out, _, _, _ = call(t, func(c *Command) {
		c.Uses(reflect.TypeFor[policyAPI]())
		c.UsesActions("kms:GenerateDataKey", "kms:Decrypt", "kms:Decrypt")
	}, func(context.Context, *Command) error { return nil }, "-print-policy")
	doc, err = awsguard.ParsePolicyDocument(out)
	if err != nil {
		t.Fatal(err)
	}
	acts := doc.Statement.List[0].Action.Values
	if len(acts) != 5 || !slices.IsSorted(acts) || !slices.Contains(acts, "kms:Decrypt") || !slices.Contains(acts, "kms:GenerateDataKey") {
		t.Errorf("with UsesActions: %v", acts)
	}
}

// A hung endpoint fails within -attempt-timeout, or -timeout, naming the
// endpoint and the flag.
func TestHungEndpoint(t *testing.T) {
	isolate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	url := "http://" + ln.Addr().String()
	body := func(ctx context.Context, c *Command) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-endpoint-url", url, "-attempt-timeout", "200ms"}, "STS GetCallerIdentity: no answer from " + url + " within -attempt-timeout 200ms"},
		{[]string{"-endpoint-url", url, "-timeout", "300ms"}, "STS GetCallerIdentity: gave up after -timeout 300ms: no answer from " + url},
	} {
		start := time.Now()
		_, errOut, code, _ := call(t, nil, body, tc.args...)
		if code != 1 || time.Since(start) > 5*time.Second || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: code %d after %v, stderr %q, want %q", tc.args, code, time.Since(start), errOut, tc.want)
		}
	}
}

func TestUnreachableEndpoint(t *testing.T) {
	isolate(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	_, errOut, code, _ := call(t, nil, func(ctx context.Context, c *Command) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}, "-endpoint-url", url)
	if want := "tool: STS GetCallerIdentity: cannot connect to " + url + ": "; code != 1 || !strings.HasPrefix(errOut, want) || !strings.Contains(errOut, "-endpoint-url") {
		t.Errorf("code %d, stderr %q, want %q...", code, errOut, want)
	}
}

func TestSetTimeout(t *testing.T) {
	c := New("tool", "")
	c.SetTimeout(2 * time.Minute)
	if c.Timeout() != 2*time.Minute || c.Flags.Lookup("timeout").DefValue != "2m0s" {
		t.Errorf("timeout %v, default shown %q", c.Timeout(), c.Flags.Lookup("timeout").DefValue)
	}
}

// A local command (no AWS call) has -timeout and -h, and none of the AWS
// flags.
func TestNewLocal(t *testing.T) {
	c := NewLocal("probe", "probe probes.")
	c.Flags.Int("n", 1, "how many")
	var errOut bytes.Buffer
	err := c.Run(context.Background(), []string{"-h"}, &bytes.Buffer{}, &errOut, func(context.Context) error { return nil })
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut.String(), "-timeout") || !strings.Contains(errOut.String(), "-n") {
		t.Errorf("-h: %v\n%s", err, errOut.String())
	}
	for _, f := range []string{"profile", "region", "endpoint-url", "attempt-timeout", "print-policy"} {
		if c.Flags.Lookup(f) != nil {
			t.Errorf("a local command has -%s", f)
		}
	}
	for _, args := range [][]string{{"-print-policy"}, {"-region", "us-east-1"}, {"-timeout", "0s"}} {
		c := NewLocal("probe", "")
		if err := c.Run(context.Background(), args, &bytes.Buffer{}, &bytes.Buffer{}, func(context.Context) error { return nil }); !errors.Is(err, ErrUsage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
	c = NewLocal("probe", "")
	c.Flags.Int("n", 1, "")
	ran := false
	if err := c.Run(context.Background(), []string{"-n", "2", "-timeout", "1m"}, &bytes.Buffer{}, &bytes.Buffer{}, func(ctx context.Context) error {
		ran = true
		if d, ok := ctx.Deadline(); !ok || time.Until(d) > time.Minute {
			t.Errorf("deadline %v %v", d, ok)
		}
		return nil
	}); err != nil || !ran {
		t.Errorf("run: %v, ran %v", err, ran)
	}
}
