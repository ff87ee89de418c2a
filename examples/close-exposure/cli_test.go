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
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
)

func runCE(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "close-exposure", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runCE(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: close-exposure [flags]", "-instance", "-group", "-port", "-replace-cidr", "-restore", "-allow-weaken", "-dry-run", "-endpoint-url", "-print-policy"} {
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
	ok := []string{"-group", "sg-0123456789abcdef0", "-dry-run"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "-nope"},
		{append(ok, "extra"), `unexpected argument "extra"`},
		{[]string{}, "give exactly one of -instance and -group"},
		{[]string{"-instance", "i-0123456789abcdef0", "-group", "sg-0123456789abcdef0"}, "give exactly one of -instance and -group"},
		{[]string{"-instance", "web-1"}, `-instance "web-1"`},
		{[]string{"-group", "web"}, `-group "web"`},
		{append(ok, "-port", "ssh"), "-port"},
		{append(ok, "-port", "70000"), "-port"},
		{append(ok, "-replace-cidr", "everywhere"), `-replace-cidr "everywhere"`},
		{append(ok, "-restore", "-replace-cidr", "10.0.0.0/8"), "-replace-cidr does not go with -restore"},
		{append(ok, "-restore=maybe"), "-restore"},
		{append(ok, "-allow-weaken=maybe"), "-allow-weaken"},
		{[]string{"-group", "sg-0123456789abcdef0", "-dry-run=maybe"}, "-dry-run"},
		{append(ok, "-format", "csv"), `-format "csv"`},
		{append(ok, "-region", "Seoul"), `-region "Seoul"`},
		{append(ok, "-endpoint-url", "localhost:4566"), "-endpoint-url"},
		{append(ok, "-timeout", "0s"), "-timeout 0s"},
		{append(ok, "-attempt-timeout", "-1s"), "-attempt-timeout -1s"},
		{append(ok, "-print-policy=maybe"), "-print-policy"},
		{append(ok, "-profile", "nosuch"), `-profile "nosuch"`},
	} {
		r := runCE(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "close-exposure: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: close-exposure") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
		if strings.Contains(last, "Target.") || strings.Contains(last, "Options.") {
			t.Errorf("%v: names a Go field: %s", tc.args, last)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

// openInstance launches an instance in a group of its own that lets port
// 22 in from anywhere, directly and through a managed prefix list holding
// 0.0.0.0/0.
func openInstance(t *testing.T, api *ec2.Client, name string) string {
	t.Helper()
	ctx := context.Background()
	g, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	pl, err := api.CreateManagedPrefixList(ctx, &ec2.CreateManagedPrefixListInput{PrefixListName: aws.String(name), AddressFamily: aws.String("IPv4"),
		MaxEntries: aws.Int32(5), Entries: []ec2types.AddPrefixListEntry{{Cidr: aws.String("0.0.0.0/0")}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}},
		PrefixListIds: []ec2types.PrefixListId{{PrefixListId: pl.PrefixList.PrefixListId}}}}}); err != nil {
		t.Fatal(err)
	}
	out, err := api.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-760aaa0f"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SecurityGroupIds: []string{aws.ToString(g.GroupId)}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// close-exposure, closing and then restoring a group's port, runs as a
// user holding exactly the printed policy, and fails without any one of
// its actions. (moto checks actions, not resources.)
func TestLeastPrivilege(t *testing.T) {
	env := awstest.New(t)
	cfg := env.EnforceAuth()
	admin, api := iam.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	ctx := context.Background()
	const operator = "exposure-closer"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	n := 0
	// Each try closes the port of an instance of its own, then restores it.
	clitest.LeastPrivilege(t, clitest.PrintPolicy(t, "close-exposure", run, "-instance", "i-0123456789abcdef0"), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		n++
		id := openInstance(t, api, fmt.Sprintf("open%d", n))
		clitest.PutUserPolicy(t, admin, operator, "close-exposure", doc)
		r := runCE(t, "-instance", id, "-format", "json")
		if r.Code != 0 {
			return []clitest.Result{r}
		}
		return []clitest.Result{r, runCE(t, "-instance", id, "-restore", "-allow-weaken", "-format", "json")}
	})
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runCE(t, "-group", "sg-0123456789abcdef0", "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}
