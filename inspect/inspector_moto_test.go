package inspect_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	i2types "github.com/aws/aws-sdk-go-v2/service/inspector2/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

var motoRegions = []string{"us-east-1", "eu-west-1"}

func motoAccount(o *inspect.InspectorOptions) {
	o.Account = awstest.DefaultAccount
	o.PollMinDelay, o.PollMaxDelay, o.MaxWait = 10*time.Millisecond, 50*time.Millisecond, 10*time.Second
}

func statusesOf(t *testing.T, env *awstest.Env, types ...i2types.ResourceScanType) map[string]string {
	t.Helper()
	res, err := inspect.StatusRegions(context.Background(), env.Config(), motoRegions, 2, motoAccount)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Region, r.Err)
		}
		for _, ty := range types {
			out[r.Region+"/"+string(ty)] = string(r.Value.Resources[ty])
		}
	}
	return out
}

func TestInspectorEnableDisableStatusMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	all := inspect.DefaultResourceTypes
	want := func(ec2, ecr, lambda, code string) map[string]string {
		m := map[string]string{}
		for _, r := range motoRegions {
			m[r+"/EC2"], m[r+"/ECR"], m[r+"/LAMBDA"], m[r+"/LAMBDA_CODE"] = ec2, ecr, lambda, code
		}
		return m
	}
	if diff := cmp.Diff(want("DISABLED", "DISABLED", "DISABLED", "DISABLED"), statusesOf(t, env, all...)); diff != "" {
		t.Fatalf("before: %s", diff)
	}
	ec2ecr := func(o *inspect.InspectorOptions) {
		o.ResourceTypes = []i2types.ResourceScanType{i2types.ResourceScanTypeEc2, i2types.ResourceScanTypeEcr}
	}
	res, err := inspect.EnableRegions(ctx, env.Config(), motoRegions, 2, motoAccount, ec2ecr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || !r.Value.Applied {
			t.Fatalf("%s: %+v %v", r.Region, r.Value, r.Err)
		}
	}
	if diff := cmp.Diff(want("ENABLED", "ENABLED", "DISABLED", "DISABLED"), statusesOf(t, env, all...)); diff != "" {
		t.Fatalf("after enable: %s", diff)
	}
	// Idempotent: no Enable call the second time.
	c := apicalls.New()
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	res, err = inspect.EnableRegions(ctx, cfg, motoRegions, 2, motoAccount, ec2ecr)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || r.Value.Applied || r.Value.Reason != awsguard.ReasonAlreadyCompliant {
			t.Fatalf("%s: second enable %+v %v", r.Region, r.Value, r.Err)
		}
	}
	if n := c.Count("Inspector2", "Enable"); n != 0 {
		t.Errorf("second enable made %d Enable calls (%s)", n, c)
	}
	// The report: EC2 and ECR pass, the Lambda types fail.
	rep, err := inspect.AuditInspectorRegions(ctx, env.Config(), motoRegions, 2, inspect.FindingFilter{}, motoAccount)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %s", f.Check, f.Resource, f.Status))
	}
	wantRep := []string{
		"inspector.enabled inspector2/eu-west-1/EC2 PASS", "inspector.enabled inspector2/eu-west-1/ECR PASS",
		"inspector.enabled inspector2/eu-west-1/LAMBDA FAIL", "inspector.enabled inspector2/eu-west-1/LAMBDA_CODE FAIL",
		"inspector.enabled inspector2/us-east-1/EC2 PASS", "inspector.enabled inspector2/us-east-1/ECR PASS",
		"inspector.enabled inspector2/us-east-1/LAMBDA FAIL", "inspector.enabled inspector2/us-east-1/LAMBDA_CODE FAIL",
	}
	if diff := cmp.Diff(wantRep, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// Disable is refused without AllowWeaken, then done with it.
	res, _ = inspect.DisableRegions(ctx, env.Config(), motoRegions, 2, motoAccount)
	for _, r := range res {
		if r.Err == nil {
			t.Errorf("%s: disable without AllowWeaken succeeded", r.Region)
		}
	}
	res, err = inspect.DisableRegions(ctx, env.Config(), motoRegions, 2, motoAccount, func(o *inspect.InspectorOptions) { o.AllowWeaken = true })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil || !r.Value.Applied {
			t.Fatalf("%s: disable %+v %v", r.Region, r.Value, r.Err)
		}
	}
	if diff := cmp.Diff(want("DISABLED", "DISABLED", "DISABLED", "DISABLED"), statusesOf(t, env, all...)); diff != "" {
		t.Fatalf("after disable: %s", diff)
	}
}

// Findings queued into the emulator are listed, summarized and reported.
func TestInspectorFindingsMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	mk := func(arn, inst, sev, cve, pkg, fix string) map[string]any {
		return map[string]any{
			"findingArn": arn, "awsAccountId": awstest.DefaultAccount, "severity": sev, "status": "ACTIVE", "type": "PACKAGE_VULNERABILITY",
			"title": cve + " - " + pkg, "fixAvailable": fix,
			"resources": []map[string]any{{"id": inst, "type": "AWS_EC2_INSTANCE", "region": "us-east-1"}},
			"packageVulnerabilityDetails": map[string]any{"vulnerabilityId": cve, "source": "NVD",
				"vulnerablePackages": []map[string]any{{"name": pkg, "version": "1.0"}}},
		}
	}
	body, _ := json.Marshal(map[string]any{"results": [][]map[string]any{{
		mk("arn:f1", "i-web", "CRITICAL", "CVE-2024-1", "openssl", "YES"),
		mk("arn:f2", "i-web", "HIGH", "CVE-2024-2", "glibc", "NO"),
		mk("arn:f3", "i-db", "HIGH", "CVE-2024-1", "openssl", "YES"),
		mk("arn:f4", "i-batch", "LOW", "CVE-2024-3", "bash", "NO"),
	}}})
	env.Post("/moto-api/static/inspector2/findings-results", "application/json", string(body))
	api := inspector2.NewFromConfig(env.Config())
	rep, sum, err := inspect.Audit(ctx, api, inspect.FindingFilter{}, motoAccount)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Total != 4 || sum.BySeverity["HIGH"] != 2 || len(sum.TopVulnerabilities) == 0 || sum.TopVulnerabilities[0].ID != "CVE-2024-1" ||
		sum.TopVulnerabilities[0].Resources != 2 || sum.TopVulnerabilities[0].FixAvailable != "YES" {
		t.Errorf("summary %+v", sum)
	}
	var got []string
	for _, f := range rep.Findings {
		if f.Check == inspect.CheckFindings {
			got = append(got, fmt.Sprintf("%s %s %s c=%s h=%s", f.Resource, f.Status, f.Severity, f.Evidence["critical"], f.Evidence["high"]))
		}
	}
	want := []string{"i-batch PASS HIGH c=0 h=0", "i-db FAIL HIGH c=0 h=1", "i-web FAIL CRITICAL c=1 h=1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

// Every call of Enable fails in turn; a clean re-run then finishes the
// job with no more than what is left.
func TestEnableFaultSweepMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	faulty := func(inj *fault.Injector) *inspector2.Client {
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
		return inspector2.NewFromConfig(cfg)
	}
	api := inspector2.NewFromConfig(env.Config())
	off := func() {
		if _, err := inspect.Disable(ctx, api, motoAccount, func(o *inspect.InspectorOptions) { o.AllowWeaken = true }); err != nil {
			t.Fatal(err)
		}
	}
	probe := fault.New()
	if _, err := inspect.Enable(ctx, faulty(probe), motoAccount); err != nil {
		t.Fatal(err)
	}
	calls := probe.Calls()
	points := 0
	for k := 1; k <= len(calls); k++ {
		for _, kind := range []fault.Kind{fault.ConnectionReset, fault.ResponseLost} {
			off()
			inj := fault.New(fault.Rule{Nth: k, Kind: kind})
			_, err := inspect.Enable(ctx, faulty(inj), motoAccount)
			if err == nil || len(inj.Injected()) != 1 {
				t.Errorf("call %d (%s) %s: err %v, %d injected", k, calls[k-1].Operation, kind, err, len(inj.Injected()))
				continue
			}
			points++
			if _, err := inspect.Enable(ctx, api, motoAccount); err != nil {
				t.Errorf("call %d %s: re-run: %v", k, kind, err)
			}
			st, err := inspect.Status(ctx, api, motoAccount)
			if err != nil || !st.Enabled(inspect.DefaultResourceTypes) {
				t.Errorf("call %d %s: after re-run %+v %v", k, kind, st, err)
			}
		}
	}
	t.Logf("fault points covered: %d (%d calls)", points, len(calls))
	if points == 0 {
		t.Fatal("no fault point covered")
	}
}
