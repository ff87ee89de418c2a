package keyrotate_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// faulty returns an IAM client signed with the admin key with inj on it.
func (w *leakWorld) faulty(inj *fault.Injector) *iam.Client {
	cfg := w.admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	return iam.NewFromConfig(cfg)
}

// callNames lists the calls an injector saw as "IAM.Operation".
func callNames(inj *fault.Injector) []string {
	var out []string
	for _, c := range inj.Calls() {
		out = append(out, c.Service+"."+c.Operation)
	}
	return out
}

// fullSweep, set by AWSGUARD_FULL_SWEEP=1, injects every kind of fault
// at every call of every sweep (about three times as long).
var fullSweep = os.Getenv("AWSGUARD_FULL_SWEEP") == "1"

// faultKinds returns the faults a sweep injects into a call of service.
// A read takes no effect whatever the fault, and every kind ends the run
// (or a poll retries it): one kind. A mutating call gets the three
// distinct effects: an API error that took no effect (server-error; a
// throttle is the same effect), a cut connection that took no effect
// (connection-reset), and one that did (response-lost; both come back as
// the same error). AWSGUARD_FULL_SWEEP=1 injects all four everywhere.
func faultKinds(service, op string) []fault.Kind {
	all := []fault.Kind{fault.Throttle, fault.ServerError, fault.ConnectionReset, fault.ResponseLost}
	switch {
	case fullSweep:
		return all
	case strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Describe") || strings.HasPrefix(op, "Lookup"):
		return []fault.Kind{fault.ServerError}
	}
	return all[1:]
}

// kindsFor is faultKinds of a call named "Service.Operation".
func kindsFor(call string) []fault.Kind {
	svc, op, _ := strings.Cut(call, ".")
	return faultKinds(svc, op)
}

// Every call of ContainLeakedKey fails in turn, with the kinds of fault
// faultKinds gives it:
// once deactivated the key is never Active again, a re-run completes the
// containment, a third run makes no mutating call, and a release restores
// the user (the key stays Inactive only when the fault lost the record of
// its deactivation, the documented safe side).
func containFaultSweepCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	probeW := base.seed("probe")
	probe := fault.New()
	if _, err := keyrotate.ContainLeakedKey(ctx, probeW.faulty(probe), probeW.leaked.AccessKeyID, leakAll); err != nil {
		t.Fatalf("probe: %v", err)
	}
	names := callNames(probe)
	t.Logf("%d calls: %v", len(names), names)
	if len(names) == 0 {
		t.Fatal("the probe saw no calls: the sweep would test nothing")
	}
	deact := -1
	for i, n := range names {
		if n == "IAM.UpdateAccessKey" && deact < 0 {
			deact = i + 1
		}
	}
	runs := 0
	for k := 1; k <= len(names); k++ {
		for _, kind := range kindsFor(names[k-1]) {
			runs++
			label := fmt.Sprintf("call %d (%s) %s", k, names[k-1], kind)
			w := base.seed(fmt.Sprintf("leak-%d", runs))
			before := w.state()
			inj := fault.New(fault.Rule{Nth: k, Kind: kind})
			_, err := keyrotate.ContainLeakedKey(ctx, w.faulty(inj), w.leaked.AccessKeyID, leakAll)
			if len(inj.Injected()) != 1 || err == nil {
				t.Errorf("%s: injected %d, err %v", label, len(inj.Injected()), err)
			}
			deactivated := k > deact || (k == deact && kind == fault.ResponseLost)
			if st := w.state().Keys[w.leaked.AccessKeyID]; deactivated != (st == types.StatusTypeInactive) {
				t.Errorf("%s: key %s after the fault", label, st)
			}
			// The record of the deactivation is lost when the deactivation took
			// effect and the run stopped before its TagUser did.
			lost := (k == deact && kind == fault.ResponseLost) || (k == deact+1 && kind != fault.ResponseLost)
			checkContainConverges(t, w, label, before, lost)
		}
	}
	t.Logf("%d fault points, %d runs", len(names), runs)
}

// checkContainConverges re-runs the containment, checks it complete and
// still, then releases it and checks the user restored. lostRecord says
// the fault may have lost the deactivation's record.
func checkContainConverges(t *testing.T, w *leakWorld, label string, before userState, lostRecord bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, leakAll); err != nil {
		t.Errorf("%s: re-run: %v", label, err)
		return
	}
	s := w.state()
	if s.Keys[w.leaked.AccessKeyID] != types.StatusTypeInactive || s.Keys[w.other.AccessKeyID] != types.StatusTypeActive || s.Login ||
		len(s.Attached) != 2 || len(s.Inline) != 1 || len(s.Tags) != 4 {
		t.Errorf("%s: after the re-run: %+v", label, s)
	}
	counter := apicalls.New()
	cfg := w.admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, counter.APIOption)
	third, err := keyrotate.ContainLeakedKey(ctx, iam.NewFromConfig(cfg), w.leaked.AccessKeyID, leakAll)
	if err != nil || third.State != keyrotate.ContainComplete || mutating(counter) != 0 {
		t.Errorf("%s: third run: %v, %v, %d mutating calls", label, third.State, err, mutating(counter))
	}
	if _, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID, func(o *keyrotate.ReleaseOptions) { o.AllowWeaken = true }); err != nil {
		t.Errorf("%s: release: %v", label, err)
		return
	}
	want := before
	want.Login = false
	if wasInactive := strings.Contains(s.Tags[keyrotate.TagContainKey], "was-inactive"); wasInactive {
		if !lostRecord {
			t.Errorf("%s: record %q, yet the fault could not lose the deactivation's record", label, s.Tags[keyrotate.TagContainKey])
		}
		want.Keys = map[string]types.StatusType{w.leaked.AccessKeyID: types.StatusTypeInactive, w.other.AccessKeyID: types.StatusTypeActive}
	}
	if diff := cmp.Diff(want, w.state()); diff != "" {
		t.Errorf("%s: released user (-want +got):\n%s", label, diff)
	}
}

// Every call of ReleaseContainment fails in turn: a re-run finishes the
// release, and the user is restored.
func releaseFaultSweepCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	allow := func(o *keyrotate.ReleaseOptions) { o.AllowWeaken = true }
	contained := func(user string) (*leakWorld, userState) {
		w := base.seed(user)
		before := w.state()
		before.Login = false
		if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, leakAll); err != nil {
			t.Fatal(err)
		}
		return w, before
	}
	pw, _ := contained("rel-probe")
	probe := fault.New()
	if _, err := keyrotate.ReleaseContainment(ctx, pw.faulty(probe), pw.leaked.AccessKeyID, allow); err != nil {
		t.Fatalf("probe: %v", err)
	}
	names := callNames(probe)
	if len(names) == 0 {
		t.Fatal("the probe saw no calls")
	}
	runs := 0
	for k := 1; k <= len(names); k++ {
		for _, kind := range kindsFor(names[k-1]) {
			runs++
			label := fmt.Sprintf("call %d (%s) %s", k, names[k-1], kind)
			w, want := contained(fmt.Sprintf("rel-%d", runs))
			inj := fault.New(fault.Rule{Nth: k, Kind: kind})
			if _, err := keyrotate.ReleaseContainment(ctx, w.faulty(inj), w.leaked.AccessKeyID, allow); err == nil {
				t.Errorf("%s: no error", label)
			}
			rel, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID, allow)
			if err != nil {
				t.Errorf("%s: re-run: %v", label, err)
				continue
			}
			if diff := cmp.Diff(want, w.state()); diff != "" {
				t.Errorf("%s: released user (-want +got), re-run %v:\n%s", label, rel.Describe(), diff)
			}
		}
	}
	t.Logf("%d fault points, %d runs", len(names), runs)
}
