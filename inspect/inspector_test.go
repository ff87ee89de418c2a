package inspect_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
)

// i2Fake implements the Inspector2 interfaces with a function per method.
type i2Fake struct {
	mu      sync.Mutex
	calls   []string
	status  func(n int) (*inspector2.BatchGetAccountStatusOutput, error)
	enable  func(*inspector2.EnableInput) (*inspector2.EnableOutput, error)
	disable func(*inspector2.DisableInput) (*inspector2.DisableOutput, error)
	list    func(*inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error)
	nStatus int
}

func (f *i2Fake) record(ctx context.Context, op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	return ctx.Err()
}

func (f *i2Fake) BatchGetAccountStatus(ctx context.Context, _ *inspector2.BatchGetAccountStatusInput, _ ...func(*inspector2.Options)) (*inspector2.BatchGetAccountStatusOutput, error) {
	if err := f.record(ctx, "BatchGetAccountStatus"); err != nil {
		return nil, err
	}
	if f.status == nil {
		return nil, errors.New("fake: unexpected BatchGetAccountStatus")
	}
	f.nStatus++
	return f.status(f.nStatus)
}

func (f *i2Fake) Enable(ctx context.Context, in *inspector2.EnableInput, _ ...func(*inspector2.Options)) (*inspector2.EnableOutput, error) {
	if err := f.record(ctx, "Enable"); err != nil {
		return nil, err
	}
	if f.enable == nil {
		return nil, errors.New("fake: unexpected Enable")
	}
	return f.enable(in)
}

func (f *i2Fake) Disable(ctx context.Context, in *inspector2.DisableInput, _ ...func(*inspector2.Options)) (*inspector2.DisableOutput, error) {
	if err := f.record(ctx, "Disable"); err != nil {
		return nil, err
	}
	if f.disable == nil {
		return nil, errors.New("fake: unexpected Disable")
	}
	return f.disable(in)
}

func (f *i2Fake) ListFindings(ctx context.Context, in *inspector2.ListFindingsInput, _ ...func(*inspector2.Options)) (*inspector2.ListFindingsOutput, error) {
	if err := f.record(ctx, "ListFindings"); err != nil {
		return nil, err
	}
	if f.list == nil {
		return nil, errors.New("fake: unexpected ListFindings")
	}
	return f.list(in)
}

func statusOut(ec2, ecr, lambda, code i2types.Status) *inspector2.BatchGetAccountStatusOutput {
	st := func(s i2types.Status) *i2types.State { return &i2types.State{Status: s} }
	return &inspector2.BatchGetAccountStatusOutput{Accounts: []i2types.AccountState{{AccountId: aws.String("123456789012"),
		State:         st(i2types.StatusEnabled),
		ResourceState: &i2types.ResourceState{Ec2: st(ec2), Ecr: st(ecr), Lambda: st(lambda), LambdaCode: st(code)}}}}
}

var fastPoll = func(o *inspect.InspectorOptions) {
	o.PollMinDelay, o.PollMaxDelay, o.MaxWait = time.Millisecond, 2*time.Millisecond, 200*time.Millisecond
}

func TestEnableIdempotentAndWaits(t *testing.T) {
	ctx := context.Background()
	E, D, G := i2types.StatusEnabled, i2types.StatusDisabled, i2types.StatusEnabling
	t.Run("already enabled: no enable call", func(t *testing.T) {
		f := &i2Fake{status: func(int) (*inspector2.BatchGetAccountStatusOutput, error) { return statusOut(E, E, E, E), nil }}
		plan, err := inspect.Enable(ctx, f, fastPoll)
		if err != nil || !plan.NothingToDo() || plan.Reason != awsguard.ReasonAlreadyCompliant {
			t.Fatalf("%+v %v", plan, err)
		}
		if diff := cmp.Diff([]string{"BatchGetAccountStatus"}, f.calls); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("enables only what is off, then waits", func(t *testing.T) {
		var got []i2types.ResourceScanType
		f := &i2Fake{
			status: func(n int) (*inspector2.BatchGetAccountStatusOutput, error) {
				switch n {
				case 1:
					return statusOut(E, D, D, G), nil
				case 2:
					return statusOut(E, G, G, G), nil
				}
				return statusOut(E, E, E, E), nil
			},
			enable: func(in *inspector2.EnableInput) (*inspector2.EnableOutput, error) {
				got = in.ResourceTypes
				return &inspector2.EnableOutput{}, nil
			},
		}
		plan, err := inspect.Enable(ctx, f, fastPoll)
		if err != nil || !plan.Applied {
			t.Fatalf("%+v %v", plan, err)
		}
		if diff := cmp.Diff([]i2types.ResourceScanType{"ECR", "LAMBDA"}, got); diff != "" {
			t.Errorf("enabled types: %s", diff)
		}
		if diff := cmp.Diff([]string{"BatchGetAccountStatus", "Enable", "BatchGetAccountStatus", "BatchGetAccountStatus"}, f.calls); diff != "" {
			t.Error(diff)
		}
	})
	t.Run("bounded wait", func(t *testing.T) {
		f := &i2Fake{status: func(int) (*inspector2.BatchGetAccountStatusOutput, error) { return statusOut(G, E, E, E), nil }}
		_, err := inspect.Enable(ctx, f, fastPoll)
		var se *awsguard.StepError
		if !errors.Is(err, inspect.ErrWaitTimeout) || !errors.As(err, &se) || se.Step != inspect.ActionWaitEnabled {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("disable is weakening", func(t *testing.T) {
		f := &i2Fake{status: func(int) (*inspector2.BatchGetAccountStatusOutput, error) { return statusOut(E, E, D, D), nil }}
		if _, err := inspect.Disable(ctx, f, fastPoll); !errors.Is(err, awsguard.ErrWeakening) {
			t.Fatalf("err = %v", err)
		}
		if len(f.calls) != 1 {
			t.Errorf("calls %v", f.calls)
		}
	})
	t.Run("bad input before any call", func(t *testing.T) {
		f := &i2Fake{}
		for _, opt := range []func(*inspect.InspectorOptions){
			func(o *inspect.InspectorOptions) { o.ResourceTypes = []i2types.ResourceScanType{"EC3"} },
			func(o *inspect.InspectorOptions) { o.ResourceTypes = []i2types.ResourceScanType{"EC2", "EC2"} },
			func(o *inspect.InspectorOptions) { o.ResourceTypes = []i2types.ResourceScanType{} },
			func(o *inspect.InspectorOptions) { o.Account = "12" },
		} {
			if _, err := inspect.Enable(ctx, f, opt); !errors.Is(err, awsguard.ErrInvalidInput) {
				t.Errorf("err = %v", err)
			}
		}
		if len(f.calls) != 0 {
			t.Errorf("calls %v", f.calls)
		}
	})
}

func finding(arn, resource string, sev i2types.Severity, cve, pkg string, fix i2types.FixAvailable) i2types.Finding {
	return i2types.Finding{FindingArn: aws.String(arn), AwsAccountId: aws.String("123456789012"), Severity: sev, FixAvailable: fix,
		Title:     aws.String(cve + " - " + pkg),
		Resources: []i2types.Resource{{Id: aws.String(resource), Type: i2types.ResourceTypeAwsEc2Instance, Region: aws.String("us-east-1")}},
		PackageVulnerabilityDetails: &i2types.PackageVulnerabilityDetails{VulnerabilityId: aws.String(cve),
			VulnerablePackages: []i2types.VulnerablePackage{{Name: aws.String(pkg), Version: aws.String("1.0")}}}}
}

func TestFindingsPagination(t *testing.T) {
	ctx := context.Background()
	pages := map[string]*inspector2.ListFindingsOutput{
		"":  {NextToken: aws.String("a")}, // an empty first page that carries a token
		"a": {Findings: []i2types.Finding{finding("f1", "i-1", "HIGH", "CVE-1", "openssl", "YES")}, NextToken: aws.String("b")},
		"b": {NextToken: aws.String("c")},
		"c": {Findings: []i2types.Finding{finding("f2", "i-2", "CRITICAL", "CVE-2", "glibc", "NO")}},
	}
	var statuses []string
	f := &i2Fake{list: func(in *inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error) {
		for _, s := range in.FilterCriteria.FindingStatus {
			statuses = append(statuses, aws.ToString(s.Value))
		}
		return pages[aws.ToString(in.NextToken)], nil
	}}
	var arns []string
	for fi, err := range inspect.Findings(ctx, f, inspect.FindingFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		arns = append(arns, aws.ToString(fi.FindingArn))
	}
	if diff := cmp.Diff([]string{"f1", "f2"}, arns); diff != "" {
		t.Error(diff)
	}
	if len(f.calls) != 4 || statuses[0] != "ACTIVE" {
		t.Errorf("calls %v, statuses %v", f.calls, statuses)
	}

	t.Run("a service that never ends", func(t *testing.T) {
		n := 0
		f := &i2Fake{list: func(*inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error) {
			n++
			return &inspector2.ListFindingsOutput{NextToken: aws.String(fmt.Sprint("t", n))}, nil
		}}
		var last error
		for _, err := range inspect.Findings(ctx, f, inspect.FindingFilter{MaxPages: 5}) {
			last = err
		}
		if !errors.Is(last, inspect.ErrTooManyPages) || n != 5 {
			t.Errorf("err %v after %d pages", last, n)
		}
	})
	t.Run("a repeating token", func(t *testing.T) {
		f := &i2Fake{list: func(*inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error) {
			return &inspector2.ListFindingsOutput{NextToken: aws.String("same")}, nil
		}}
		var last error
		for _, err := range inspect.Findings(ctx, f, inspect.FindingFilter{}) {
			last = err
		}
		if !errors.Is(last, inspect.ErrTooManyPages) || len(f.calls) != 2 {
			t.Errorf("err %v after %d calls", last, len(f.calls))
		}
	})
	t.Run("stopping early stops listing", func(t *testing.T) {
		f := &i2Fake{list: func(in *inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error) {
			return &inspector2.ListFindingsOutput{Findings: []i2types.Finding{finding("x", "i-1", "LOW", "CVE-9", "zlib", "NO"), finding("y", "i-1", "LOW", "CVE-9", "zlib", "NO")}, NextToken: aws.String("more")}, nil
		}}
		for range inspect.Findings(ctx, f, inspect.FindingFilter{}) {
			break
		}
		if len(f.calls) != 1 {
			t.Errorf("calls %v", f.calls)
		}
	})
	t.Run("an error after some findings", func(t *testing.T) {
		boom := errors.New("boom")
		f := &i2Fake{list: func(in *inspector2.ListFindingsInput) (*inspector2.ListFindingsOutput, error) {
			if in.NextToken == nil {
				return &inspector2.ListFindingsOutput{Findings: []i2types.Finding{finding("x", "i-1", "LOW", "CVE-9", "zlib", "NO")}, NextToken: aws.String("n")}, nil
			}
			return nil, boom
		}}
		sum, err := inspect.Summarize(inspect.Findings(ctx, f, inspect.FindingFilter{}), 0)
		if !errors.Is(err, boom) || sum.Total != 1 {
			t.Errorf("sum %+v err %v", sum, err)
		}
	})
}

func seqOf(fs ...i2types.Finding) func(func(i2types.Finding, error) bool) {
	return func(yield func(i2types.Finding, error) bool) {
		for _, f := range fs {
			if !yield(f, nil) {
				return
			}
		}
	}
}

func TestSummarize(t *testing.T) {
	sum, err := inspect.Summarize(seqOf(
		finding("1", "i-1", "CRITICAL", "CVE-A", "openssl", "YES"),
		finding("2", "i-2", "HIGH", "CVE-A", "openssl", "NO"),
		finding("3", "i-2", "MEDIUM", "CVE-B", "zlib", "YES"),
		finding("4", "i-3", "LOW", "CVE-C", "bash", "NO"),
		finding("5", "i-3", "HIGH", "CVE-D", "curl", "YES"),
	), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := &inspect.Summary{
		Total:      5,
		BySeverity: map[i2types.Severity]int{"CRITICAL": 1, "HIGH": 2, "MEDIUM": 1, "LOW": 1},
		ByResource: []inspect.ResourceCount{
			{Resource: "i-1", Type: "AWS_EC2_INSTANCE", Account: "123456789012", Region: "us-east-1", Critical: 1, Total: 1},
			{Resource: "i-2", Type: "AWS_EC2_INSTANCE", Account: "123456789012", Region: "us-east-1", High: 1, Medium: 1, Total: 2},
			{Resource: "i-3", Type: "AWS_EC2_INSTANCE", Account: "123456789012", Region: "us-east-1", High: 1, Low: 1, Total: 2},
		},
		TopVulnerabilities: []inspect.Vulnerability{
			{ID: "CVE-A", Severity: "CRITICAL", Packages: []string{"openssl@1.0"}, FixAvailable: "PARTIAL", Findings: 2, Resources: 2},
			{ID: "CVE-D", Severity: "HIGH", Packages: []string{"curl@1.0"}, FixAvailable: "YES", Findings: 1, Resources: 1},
		},
	}
	if diff := cmp.Diff(want, sum); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	var got []string
	for _, f := range sum.Findings() {
		got = append(got, fmt.Sprintf("%s %s %s %s/%s", f.Resource, f.Status, f.Severity, f.Evidence["critical"], f.Evidence["high"]))
	}
	if diff := cmp.Diff([]string{"i-1 FAIL CRITICAL 1/0", "i-2 FAIL HIGH 0/1", "i-3 FAIL HIGH 0/1"}, got); diff != "" {
		t.Error(diff)
	}
}

// A nil client is refused as input, never dereferenced.
func TestNilClients(t *testing.T) {
	ctx := context.Background()
	errs := []error{}
	_, err := inspect.Enable(ctx, nil)
	errs = append(errs, err)
	_, err = inspect.Disable(ctx, nil)
	errs = append(errs, err)
	_, err = inspect.Status(ctx, nil)
	errs = append(errs, err)
	_, _, err = inspect.Audit(ctx, nil, inspect.FindingFilter{})
	errs = append(errs, err)
	_, err = inspect.AuditNetwork(ctx, nil)
	errs = append(errs, err)
	_, err = inspect.CloseExposure(ctx, nil, inspect.Target{GroupID: "sg-1", Port: 22})
	errs = append(errs, err)
	_, err = inspect.RestoreExposure(ctx, nil, inspect.Target{GroupID: "sg-1", Port: 22})
	errs = append(errs, err)
	_, err = inspect.EnsureDelegatedAdmin(ctx, nil, "111111111111")
	errs = append(errs, err)
	_, err = inspect.EnableOrganization(ctx, nil, nil, "111111111111")
	errs = append(errs, err)
	for _, e := range inspect.Findings(ctx, nil, inspect.FindingFilter{}) {
		errs = append(errs, e)
	}
	for i, err := range errs {
		if !errors.Is(err, awsguard.ErrInvalidInput) {
			t.Errorf("%d: %v, want ErrInvalidInput", i, err)
		}
	}
}
