package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/clitest"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/internal/motoserver"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	memberRole = "OrganizationAccountAccessRole"
	bucket     = "audit-reports"
)

// seed makes an organization with one member account holding a weak
// password policy and a console user without MFA, and the report bucket
// in the management account.
func seed(t *testing.T, env *awstest.Env) string {
	t.Helper()
	ctx := context.Background()
	org := organizations.NewFromConfig(env.Config())
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("member"), Email: aws.String("m@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	member := aws.ToString(out.CreateAccountStatus.AccountId)
	api := iam.NewFromConfig(env.ConfigFor(member))
	for _, step := range []func() error{
		func() error {
			_, err := api.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(6)})
			return err
		},
		func() error {
			_, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")})
			return err
		},
		func() error {
			_, err := api.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("carol"), Password: aws.String("Passw0rd!!")})
			return err
		},
		func() error {
			_, err := api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			return err
		},
		func() error {
			_, err := securityhub.NewFromConfig(env.ConfigFor(member)).EnableSecurityHub(ctx, &securityhub.EnableSecurityHubInput{})
			return err
		},
		func() error {
			_, err := s3Client(env.Config()).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return member
}

// ownMoto starts a moto_server of the test's own without AWS managed
// policies, which the shared one loads into every new account's IAM
// (seconds per account, and again to reset); the audit reads none of
// them. It stops when the test ends.
func ownMoto(t *testing.T) *awstest.Env {
	t.Helper()
	if _, err := motoserver.Find(); err != nil {
		if os.Getenv(awstest.RequireEnv) == "1" {
			t.Fatalf("%v (%s=1 makes this a failure)", err, awstest.RequireEnv)
		}
		t.Skipf("skipping integration test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	s, err := motoserver.Start(ctx, "MOTO_IAM_LOAD_MANAGED_POLICIES=false")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return &awstest.Env{Server: s}
}

// s3Client addresses buckets by path, as the emulator needs.
func s3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

func newHandler(cfg aws.Config) *Handler {
	return &Handler{Config: cfg, STS: sts.NewFromConfig(cfg), S3: s3Client(cfg)}
}

// One invocation audits the member account through its role, writes the
// report to S3 (the findings contract, every finding the member's),
// publishes it to the member's Security Hub and returns the summary. A
// member whose role cannot be assumed fails the invocation and writes
// nothing.
func TestHandleMoto(t *testing.T) {
	env := ownMoto(t)
	// The WAF and alerts audits are left out: the same functions as
	// examples/audit's, tested there, and on a fresh emulator their first
	// calls alone take ~9 s.
	saved := regional
	t.Cleanup(func() { regional = saved })
	regional = slices.DeleteFunc(slices.Clone(regional), func(p regionalAudit) bool { return p.name == "waf" || p.name == "observe" })
	member := seed(t, env)
	ctx := context.Background()
	ev := Event{Account: member, Role: memberRole, Regions: []string{"us-east-1"}, Bucket: bucket, KeyPrefix: "awsguard/", SecurityHub: true}
	res, err := newHandler(env.Config()).Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Key, "awsguard/"+member+"/") || !strings.HasSuffix(res.Key, ".json") || res.Bucket != bucket || res.Account != member {
		t.Errorf("result %+v", res)
	}
	obj, err := s3Client(env.Config()).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(res.Key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	rep, err := awsguard.ReadReport(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Summary()
	if res.Total != s.Total || res.Total == 0 || res.ByStatus[awsguard.StatusFail] != s.ByStatus[awsguard.StatusFail] ||
		res.FailedBySeverity[awsguard.SeverityHigh] != s.FailedBySeverity[awsguard.SeverityHigh] || len(res.Errors) != 0 {
		t.Errorf("summary %+v, the report's %+v", res, s)
	}
	checks := map[string]awsguard.Status{}
	for _, x := range rep.Findings {
		if x.Account != member {
			t.Errorf("finding %s of account %s", x.Check, x.Account)
		}
		if x.Check == "iam.password_policy" || (x.Check == "iam.user.console_mfa" && strings.HasSuffix(x.Resource, "/carol")) {
			checks[x.Check] = x.Status
		}
	}
	if checks["iam.password_policy"] != awsguard.StatusFail || checks["iam.user.console_mfa"] != awsguard.StatusFail {
		t.Errorf("member's IAM findings %v, want both FAIL", checks)
	}
	if !slices.Contains(rep.Checks(), "network.sg.open_admin_ports") || !slices.Contains(rep.Checks(), "inspector.enabled") {
		t.Errorf("the regional audits did not run: %v", rep.Checks())
	}
	found, err := securityhub.NewFromConfig(env.ConfigFor(member)).GetFindings(ctx, &securityhub.GetFindingsInput{MaxResults: aws.Int32(100)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Published != len(rep.Findings) || len(found.Findings) != len(rep.Findings) {
		t.Errorf("published %d, Security Hub of the member holds %d, report %d", res.Published, len(found.Findings), len(rep.Findings))
	}

	// AssumeRole refused: the invocation fails naming the account, and
	// nothing more is written.
	inj := fault.New(fault.Rule{Service: "STS", Operation: "AssumeRole", Kind: fault.APIError, Code: "AccessDenied", Status: 403})
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	if _, err := newHandler(cfg).Handle(ctx, ev); err == nil || !strings.Contains(err.Error(), "audit account "+member) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("refused role: %v", err)
	}
	list, err := s3Client(env.Config()).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil || len(list.Contents) != 1 {
		t.Errorf("bucket holds %d objects after the refused run, want 1 (%v)", len(list.Contents), err)
	}
	if len(inj.Injected()) != 1 {
		t.Errorf("injected %d faults", len(inj.Injected()))
	}

	// The report cannot be written: the invocation fails naming the key
	// (the run is read-only otherwise; a new invocation writes a new
	// report).
	inj = fault.New(fault.Rule{Service: "S3", Operation: "PutObject", Kind: fault.ServerError})
	cfg = env.Config()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	ev.SecurityHub = false
	if _, err := newHandler(cfg).Handle(ctx, ev); err == nil || !strings.Contains(err.Error(), "write the report to s3://"+bucket+"/awsguard/"+member+"/") {
		t.Errorf("PutObject failed: %v", err)
	}

	// No role: the function's own account, with its own credentials.
	own, err := newHandler(env.Config()).Handle(ctx, Event{Account: awstest.DefaultAccount, Regions: []string{"us-east-1"}, Bucket: bucket})
	if err != nil || !strings.HasPrefix(own.Key, awstest.DefaultAccount+"/") || own.Total == 0 {
		t.Fatalf("own account: %+v, %v", own, err)
	}
}

// A bad event is refused before any call, naming its field.
func TestEventValidate(t *testing.T) {
	calls := 0
	count := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			calls++
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	}
	cfg := aws.Config{Region: "us-east-1", APIOptions: []func(*middleware.Stack) error{count}}
	good := Event{Account: "111122223333", Role: memberRole, Bucket: bucket}
	for _, tc := range []struct {
		edit  func(*Event)
		field string
	}{
		{func(e *Event) { e.Account = "1234" }, "account"},
		{func(e *Event) { e.Role = "a/b" }, "role"},
		{func(e *Event) { e.Role, e.ExternalID = "", "ext-1" }, "external_id"},
		{func(e *Event) { e.Bucket = "Bad_Bucket" }, "bucket"},
		{func(e *Event) { e.Bucket = "" }, "bucket"},
		{func(e *Event) { e.KeyPrefix = "/abs" }, "key_prefix"},
		{func(e *Event) { e.Regions = []string{"mars-1"} }, "regions"},
		{func(e *Event) { e.Regions = []string{"all", "us-east-1"} }, "regions"},
		{func(e *Event) { e.Regions = []string{"us-east-1", "us-east-1"} }, "regions"},
	} {
		ev := good
		tc.edit(&ev)
		_, err := newHandler(cfg).Handle(context.Background(), ev)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %v, want an input error on %s", ev, err, tc.field)
		}
	}
	if err := good.Validate(); err != nil {
		t.Errorf("good event: %v", err)
	}
	if calls != 0 {
		t.Errorf("bad events made %d calls", calls)
	}
}

func runCmd(t *testing.T, args ...string) clitest.Result {
	t.Helper()
	return clitest.Run(t, "audit-lambda", run, args...)
}

// As a command it explains itself and refuses to run outside Lambda;
// inside, it hands the handler to the runtime loop.
func TestCommand(t *testing.T) {
	calls := clitest.Offline(t)
	t.Setenv(RuntimeEnv, "")
	r := runCmd(t, "-h")
	if r.Code != 0 || !errors.Is(r.Err, flag.ErrHelp) || !strings.Contains(r.Stderr, `"security_hub"`) || !strings.Contains(r.Stderr, "provided.al2023") {
		t.Errorf("-h: code %d:\n%s", r.Code, r.Stderr)
	}
	r = runCmd(t)
	if r.Code != 2 || !strings.Contains(r.LastLine(), "not running in AWS Lambda ("+RuntimeEnv+" is not set)") || !strings.Contains(r.Stderr, "Usage: audit-lambda") {
		t.Errorf("outside Lambda: code %d, %q", r.Code, r.Stderr)
	}
	doc := clitest.PrintPolicy(t, "audit-lambda", run)
	if got := clitest.Actions(doc); !slices.Equal(got, []string{"s3:PutObject", "sts:AssumeRole"}) {
		t.Errorf("-print-policy actions %v", got)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("made %d calls", n)
	}

	t.Setenv(RuntimeEnv, "127.0.0.1:9001")
	var started any
	saved := start
	t.Cleanup(func() { start = saved })
	start = func(h any) { started = h }
	if r := runCmd(t); r.Code != 0 {
		t.Fatalf("in Lambda: code %d, %s", r.Code, r.Stderr)
	}
	if _, ok := started.(func(context.Context, Event) (*Result, error)); !ok {
		t.Errorf("the runtime got %T", started)
	}
}

func TestKey(t *testing.T) {
	at := time.Date(2026, 12, 1, 13, 5, 9, 0, time.FixedZone("KST", 9*3600))
	if got, want := Key("p/", "111122223333", at), "p/111122223333/2026-12-01T04-05-09Z.json"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
}
