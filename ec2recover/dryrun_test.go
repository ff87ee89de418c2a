package ec2recover_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/fault"
)

// mutations counts the mutating calls a client makes: every call but
// Describe*, Get* and List*, unless its input has DryRun set (EC2's
// permission check, which changes nothing).
type mutations struct {
	mu      sync.Mutex
	calls   []string // mutating calls made
	dryRuns []string // mutating calls made with DryRun set
}

func (m *mutations) APIOption(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("ec2recoverTestMutations",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
			if !readOnly(awsmiddleware.GetOperationName(ctx)) {
				m.mu.Lock()
				if dryRunSet(in.Parameters) {
					m.dryRuns = append(m.dryRuns, op)
				} else {
					m.calls = append(m.calls, op)
				}
				m.mu.Unlock()
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

// dryRunSet reports whether params is an input struct whose DryRun is
// true.
func dryRunSet(params any) bool {
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	f := v.Elem().FieldByName("DryRun")
	return f.IsValid() && f.Type() == reflect.TypeFor[*bool]() && !f.IsNil() && f.Elem().Bool()
}

// checkMutationsCounter: the counter counts a mutating call unless DryRun
// is set on it: the same CreateTags counts once without DryRun, not at
// all with it.
func checkMutationsCounter(t *testing.T, w *world) {
	ctx := context.Background()
	m := &mutations{}
	api := w.clients(m.APIOption).EC2
	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}
	_, err := api.CreateTags(ctx, &ec2.CreateTagsInput{DryRun: aws.Bool(true), Resources: []string{w.target}, Tags: tags})
	if !strings.Contains(errString(err), "DryRunOperation") {
		t.Fatalf("moto's answer to a DryRun CreateTags: %v", err)
	}
	if _, err := api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{w.target}}); err != nil {
		t.Fatal(err)
	}
	if len(m.calls) != 0 || !slices.Equal(m.dryRuns, []string{"EC2.CreateTags"}) {
		t.Fatalf("after a DryRun call: mutating %v, dry runs %v", m.calls, m.dryRuns)
	}
	if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{DryRun: aws.Bool(false), Resources: []string{w.target}, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{w.target}, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.calls, []string{"EC2.CreateTags", "EC2.DeleteTags"}) {
		t.Errorf("mutating calls counted %v, want CreateTags and DeleteTags", m.calls)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Dry runs, in one emulated account: the counter of mutating calls
// (DryRun calls apart); a dry run of each strategy that stops the
// instance makes no mutating call but EC2's DryRun checks of the plan's
// EC2 calls, all allowed on moto, and changes nothing; the calls whose
// resources exist only during the run, and those of services without a
// dry run, are listed as not checked; a denied check fails the dry run.
func TestDryRun(t *testing.T) {
	w := newWorld(t, "running")
	t.Run("counter", func(t *testing.T) { checkMutationsCounter(t, w) })
	t.Run("repair", func(t *testing.T) { checkRepairDryRun(t, w) })
	t.Run("denied", func(t *testing.T) { checkDryRunDenied(t, w) })
	t.Run("strategies", func(t *testing.T) { checkDryRunStrategies(t, w) })
}

func checkDryRunStrategies(t *testing.T, w *world) {
	ctx := context.Background()
	_, _, alloc, _ := w.dress()
	for _, tc := range []struct {
		strategy ec2recover.Strategy
		checked  []string
	}{
		{ec2recover.StrategyUserData, []string{"ec2:CreateTags", "ec2:StopInstances", "ec2:ModifyInstanceAttribute", "ec2:StartInstances", "ec2:DeleteTags"}},
		{ec2recover.StrategyRepair, []string{"ec2:CreateTags", "ec2:CreateSnapshot", "ec2:CreateSecurityGroup", "ec2:RunInstances", "ec2:StopInstances",
			"ec2:DetachVolume", "ec2:AttachVolume", "ec2:StartInstances", "ec2:DeleteTags"}},
		{ec2recover.StrategyRelaunch, []string{"ec2:CreateTags", "ec2:ImportKeyPair", "ec2:CreateImage", "ec2:RunInstances", "ec2:AssociateAddress",
			"ec2:StopInstances", "ec2:DeleteTags"}},
	} {
		m := &mutations{}
		rec, err := ec2recover.RecoverLostKeyPair(ctx, w.bootClients(m.APIOption), w.target, w.opts(func(o *ec2recover.Options) {
			o.Strategy, o.DryRun = tc.strategy, true
			o.KeyFile = filepath.Join(w.dir, "key")
		})...)
		if err != nil {
			t.Fatalf("%s: %v", tc.strategy, err)
		}
		if len(m.calls) != 0 {
			t.Errorf("%s: dry run made mutating calls %v", tc.strategy, m.calls)
		}
		var allowed, notChecked []string
		for _, pc := range rec.Permissions {
			switch pc.Result {
			case ec2recover.PermissionAllowed:
				allowed = append(allowed, pc.Action)
			case ec2recover.PermissionNotChecked:
				notChecked = append(notChecked, pc.Action)
				if pc.Detail == "" {
					t.Errorf("%s: %s not checked, without a reason", tc.strategy, pc.Action)
				}
			default:
				t.Errorf("%s: %+v", tc.strategy, pc)
			}
		}
		if !slices.Equal(allowed, tc.checked) || len(m.dryRuns) != len(tc.checked) {
			t.Errorf("%s: allowed %v (DryRun calls %v), want %v", tc.strategy, allowed, m.dryRuns, tc.checked)
		}
		t.Logf("%s: checked %v; not checked %v", tc.strategy, allowed, notChecked)
		// DryRunActions (the example's -dry-run policy) lists the same
		// mutating actions.
		var listed []string
		for _, a := range ec2recover.DryRunActions(tc.strategy) {
			if strings.HasPrefix(a, "ec2:") && !readOnly(strings.TrimPrefix(a, "ec2:")) {
				listed = append(listed, a)
			}
		}
		if got, want := listed, slices.Sorted(slices.Values(allowed)); !slices.Equal(got, want) {
			t.Errorf("%s: DryRunActions lists %v, the dry run checked %v", tc.strategy, got, want)
		}
		if tc.strategy == ec2recover.StrategyRelaunch && !slices.ContainsFunc(rec.Permissions, func(pc ec2recover.PermissionCheck) bool {
			return pc.Action == "ec2:AssociateAddress" && pc.Resource == alloc
		}) {
			t.Errorf("relaunch: the Elastic IP's move was not checked on %s: %+v", alloc, rec.Permissions)
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, "key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a dry run wrote the key file: %v", err)
	}
	w.checkUserData("after the dry runs", originalUserData)
	if i := w.instance(w.target); i.State.Name != types.InstanceStateNameRunning {
		t.Errorf("target is %s after the dry runs", i.State.Name)
	}
}

// EC2 denying a DryRun call (UnauthorizedOperation, as AWS answers; moto
// cannot be made to) fails the dry run with ErrPermissionMissing naming
// the action and its step, and still returns the plan.
func checkDryRunDenied(t *testing.T, w *world) {
	ctx := context.Background()
	deny := fault.New(
		fault.Rule{Service: "EC2", Operation: "StopInstances", Kind: fault.APIError, Code: "UnauthorizedOperation", Status: 403,
			Message: "You are not authorized to perform this operation."},
		fault.Rule{Service: "EC2", Operation: "DetachVolume", Kind: fault.APIError, Code: "UnauthorizedOperation", Status: 403})
	rec, err := ec2recover.RecoverLostKeyPair(ctx, w.clients(deny.APIOption), w.target, w.opts(func(o *ec2recover.Options) {
		o.Strategy, o.DryRun = ec2recover.StrategyRepair, true
	})...)
	if !errors.Is(err, ec2recover.ErrPermissionMissing) {
		t.Fatalf("err %v, want ErrPermissionMissing", err)
	}
	for _, want := range []string{"ec2:StopInstances (stop-instance)", "ec2:DetachVolume (detach-root)", w.target} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if rec == nil || rec.Reason != awsguard.ReasonDryRun || len(rec.Actions) < 10 {
		t.Fatalf("plan %+v", rec)
	}
	denied := map[string]string{}
	for _, pc := range rec.Permissions {
		if pc.Result == ec2recover.PermissionDenied {
			denied[pc.Action] = pc.Step
		}
	}
	if len(denied) != 2 || denied["ec2:StopInstances"] != ec2recover.ActionStopInstance || denied["ec2:DetachVolume"] != ec2recover.ActionDetachRoot {
		t.Errorf("denied %v", denied)
	}
	w.checkRestored("after the denied dry run", "running", false)
}
