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

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
)

func runCleanup(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "cleanup", run, args...)
}

func TestHelp(t *testing.T) {
	calls := clitest.Offline(t)
	for _, arg := range []string{"-h", "-help", "--help"} {
		r := runCleanup(t, arg)
		if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || r.Stdout != "" {
			t.Errorf("%s: code %d, err %v, stdout %q", arg, r.Code, r.Err, r.Stdout)
		}
		for _, want := range []string{"Usage: cleanup [flags]", "-dry-run", "-allow-weaken", "-force", "-keep-log-groups", "-format", "-endpoint-url", "-print-policy", "Secrets Manager rotation"} {
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
		{[]string{"-dry-run=maybe"}, "-dry-run"},
		{[]string{"-allow-weaken=maybe"}, "-allow-weaken"},
		{[]string{"-force=maybe"}, "-force"},
		{[]string{"-keep-log-groups=maybe"}, "-keep-log-groups"},
		{[]string{"-format", "csv"}, `-format "csv"`},
		{[]string{"-region", "Seoul"}, `-region "Seoul"`},
		{[]string{"-endpoint-url", "localhost:4566"}, "-endpoint-url"},
		{[]string{"-timeout", "0s"}, "-timeout 0s"},
		{[]string{"-profile", "nosuch"}, `-profile "nosuch"`},
	} {
		r := runCleanup(t, tc.args...)
		last := r.LastLine()
		if r.Code != 2 || r.Stdout != "" || !strings.HasPrefix(last, "cleanup: ") || !strings.Contains(last, tc.want) {
			t.Errorf("%v: code %d, stdout %q, last line %q, want exit 2 naming %q", tc.args, r.Code, r.Stdout, last, tc.want)
		}
		if !strings.Contains(r.Stderr, "Usage: cleanup") {
			t.Errorf("%v: no usage on stderr:\n%s", tc.args, r.Stderr)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("bad command lines made %d calls", n)
	}
}

func TestBlackHoleEndpoint(t *testing.T) {
	url := clitest.BlackHole(t)
	clitest.SetEnv(t, url)
	start := time.Now()
	r := runCleanup(t, "-dry-run", "-timeout", "10s", "-attempt-timeout", "300ms")
	if took := time.Since(start); r.Code != 1 || took > 5*time.Second || strings.Count(r.Stderr, "\n") != 1 ||
		!strings.Contains(r.Stderr, "no answer from "+url+" within -attempt-timeout 300ms") {
		t.Errorf("code %d after %v, stderr %q", r.Code, took, r.Stderr)
	}
}

// The policy -print-policy prints for -dry-run holds only reads; the one
// without it holds the removals too.
func TestPrintPolicy(t *testing.T) {
	clitest.Offline(t)
	dry := clitest.Actions(clitest.PrintPolicy(t, "cleanup", run, "-dry-run"))
	for _, a := range dry {
		if !readOnly(a) {
			t.Errorf("-dry-run policy holds %s", a)
		}
	}
	full := clitest.Actions(clitest.PrintPolicy(t, "cleanup", run))
	for _, want := range []string{"wafv2:DeleteWebACL", "wafv2:DisassociateWebACL", "elasticloadbalancing:DeleteListener", "acm:DeleteCertificate",
		"events:DeleteRule", "cloudwatch:DeleteAlarms", "logs:DeleteMetricFilter", "sns:DeleteTopic", "iam:DeleteRole", "iam:DeleteInstanceProfile",
		"iam:DeletePolicy", "ec2:AuthorizeSecurityGroupIngress", "iam:UntagUser", "elasticloadbalancing:SetWebACL",
		"secretsmanager:CancelRotateSecret", "iam:DeleteRolePolicy", "lambda:RemovePermission"} {
		if !slices.Contains(full, want) {
			t.Errorf("policy lacks %s", want)
		}
	}
	for _, want := range []string{"secretsmanager:ListSecrets", "secretsmanager:DescribeSecret", "iam:GetRolePolicy", "lambda:GetFunctionConfiguration", "lambda:GetPolicy"} {
		if !slices.Contains(dry, want) {
			t.Errorf("-dry-run policy lacks %s", want)
		}
	}
	if slices.Contains(full, "secretsmanager:DeleteSecret") {
		t.Error("policy holds secretsmanager:DeleteSecret: cleanup keeps the secrets")
	}
	if len(dry) == 0 || len(dry) >= len(full) {
		t.Errorf("%d dry-run actions, %d in all", len(dry), len(full))
	}
}

// asMoto renames CloudWatch's actions to the prefix moto evaluates them
// under, monitoring: (see examples/alerts). The printed policy says
// cloudwatch:, as AWS's IAM does.
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

// unproven are the dry run's reads that the proof's account cannot reach
// on moto: Route 53 refuses even valid keys while authentication is
// enforced (MOTO.md), so the seed has no HTTPS listener and its
// certificate and zone are not read; no trail, trail bucket, agent
// parameter or prefix-list rule is seeded. The integration test reads
// them all without authentication.
var unproven = []string{
	"acm:DescribeCertificate", "acm:ListCertificates", "acm:ListTagsForCertificate", "elasticloadbalancing:DescribeTags",
	"route53:GetHostedZone", "route53:ListHostedZones", "route53:ListResourceRecordSets",
	"cloudtrail:ListTags", "s3:GetBucketTagging", "s3:ListBucket", "ssm:ListTagsForResource",
	"ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries",
	// moto does not implement it (HTTP 500 whatever the policy): the
	// dry run plans the ACL as kept either way.
	"wafv2:ListResourcesForWebACL",
	// The dry run of a rotation's teardown: moto's Lambda refuses even
	// valid keys while authentication is enforced, and its RotateSecret
	// breaks the secret, so the seed holds no secret with a rotation
	// function (ListSecrets is proven). TestCleanupRotation reads them all
	// without authentication.
	"secretsmanager:DescribeSecret", "iam:GetRolePolicy", "lambda:GetFunctionConfiguration", "lambda:GetPolicy",
}

// proveLeastPrivilege proves the -dry-run policy on the account the
// integration test seeded and fixed (but for HTTPS): cleanup -dry-run
// runs as a user holding exactly the printed policy, and fails without
// any one of its actions (moto checks actions, not resources). The
// removals' own actions are those of the packages' interfaces, proven in
// the packages' and the other examples' tests.
func proveLeastPrivilege(t *testing.T, env *awstest.Env) {
	admin := iam.NewFromConfig(env.EnforceAuth())
	defer func() {
		if err := env.Server.EnforceAuth(context.Background(), false); err != nil {
			t.Fatal(err)
		}
	}()
	ctx := context.Background()
	const operator = "cleanup-operator"
	if _, err := admin.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(operator)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(operator)})
	if err != nil {
		t.Fatal(err)
	}
	env.SetEnv(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	doc := clitest.PrintPolicy(t, "cleanup", run, "-dry-run", "-allow-weaken")
	for _, a := range unproven {
		doc = clitest.Without(doc, a)
	}
	clitest.LeastPrivilege(t, asMoto(doc), nil, func(t *testing.T, doc *awsguard.PolicyDocument) []clitest.Result {
		clitest.PutUserPolicy(t, admin, operator, "cleanup", doc)
		return []clitest.Result{runCleanup(t, "-dry-run", "-allow-weaken", "-format", "json")}
	})
}
