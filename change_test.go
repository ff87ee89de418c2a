package awsguard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
)

func testPlan(dry bool) *awsguard.Plan {
	p := &awsguard.Plan{Operation: "pkg.Op", Resource: "user/alice", DryRun: dry}
	p.Add(awsguard.Action{Kind: "one", Call: "iam:One", Resource: "r1", Detail: "do one"})
	p.Add(awsguard.Action{Kind: "two", Call: "iam:Two", Resource: "r2"})
	p.Add(awsguard.Action{Kind: "three", Call: "iam:Three", Resource: "r3", Detail: "do three"})
	return p
}

func outcomes(p *awsguard.Plan) []awsguard.Outcome {
	var out []awsguard.Outcome
	for _, a := range p.Actions {
		out = append(out, a.Outcome)
	}
	return out
}

func TestApplyRunsInOrder(t *testing.T) {
	p := testPlan(false)
	var called []string
	var events []awsguard.Progress
	err := p.Apply(context.Background(), func(_ context.Context, a *awsguard.Action) error {
		called = append(called, a.Kind)
		return nil
	}, awsguard.ApplyOptions{Progress: func(e awsguard.Progress) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, called); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if !p.Applied || p.Reason != awsguard.ReasonApplied {
		t.Errorf("Applied %v Reason %q", p.Applied, p.Reason)
	}
	want := []awsguard.Outcome{awsguard.OutcomeDone, awsguard.OutcomeDone, awsguard.OutcomeDone}
	if diff := cmp.Diff(want, outcomes(p)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	wantEv := []awsguard.Progress{
		{Operation: "pkg.Op", Step: "one", Resource: "r1", Done: 0, Total: 3},
		{Operation: "pkg.Op", Step: "two", Resource: "r2", Done: 1, Total: 3},
		{Operation: "pkg.Op", Step: "three", Resource: "r3", Done: 2, Total: 3},
		{Operation: "pkg.Op", Step: "three", Resource: "r3", Done: 3, Total: 3},
	}
	if diff := cmp.Diff(wantEv, events); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if got := events[1].String(); got != "pkg.Op: two r2 (1/3)" {
		t.Errorf("Progress.String = %q", got)
	}
	if diff := cmp.Diff([]string{"do one", "iam:Two r2", "do three"}, p.Describe()); diff != "" {
		t.Errorf("Describe (-want +got):\n%s", diff)
	}
}

func TestApplyDryRunAndEmpty(t *testing.T) {
	p := testPlan(true)
	var log bytes.Buffer
	err := p.Apply(context.Background(), func(context.Context, *awsguard.Action) error {
		t.Fatal("dry run called do")
		return nil
	}, awsguard.ApplyOptions{Logger: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil || p.Applied || p.Reason != awsguard.ReasonDryRun {
		t.Fatalf("dry run: err %v Applied %v Reason %q", err, p.Applied, p.Reason)
	}
	if !strings.Contains(log.String(), "would do") || !strings.Contains(log.String(), "dry_run=true") {
		t.Errorf("log = %s", log.String())
	}
	for _, o := range outcomes(p) {
		if o != awsguard.OutcomePlanned {
			t.Errorf("dry-run outcome %q, want planned", o)
		}
	}
	empty := &awsguard.Plan{Operation: "pkg.Op"}
	if err := empty.Apply(context.Background(), nil, awsguard.ApplyOptions{}); err != nil || empty.Reason != awsguard.ReasonAlreadyCompliant || empty.Applied {
		t.Errorf("empty: err %v Reason %q", err, empty.Reason)
	}
	notDue := &awsguard.Plan{Operation: "pkg.Op", Reason: awsguard.ReasonNotDue}
	if err := notDue.Apply(context.Background(), nil, awsguard.ApplyOptions{}); err != nil || notDue.Reason != awsguard.ReasonNotDue {
		t.Errorf("not due: err %v Reason %q", err, notDue.Reason)
	}
}

func TestApplyFailureRollsBack(t *testing.T) {
	p := testPlan(false)
	boom := errors.New("boom")
	var rolled awsguard.Action
	err := p.Apply(context.Background(), func(_ context.Context, a *awsguard.Action) error {
		if a.Kind == "two" {
			return boom
		}
		return nil
	}, awsguard.ApplyOptions{Rollback: func(_ context.Context, failed awsguard.Action, err error) ([]string, string) {
		rolled = failed
		p.Actions[0].Outcome = awsguard.OutcomeRolledBack
		return []string{"undid one"}, "check r2"
	}})
	var se *awsguard.StepError
	if !errors.As(err, &se) || !errors.Is(err, boom) {
		t.Fatalf("err = %v, want a *StepError wrapping boom", err)
	}
	want := &awsguard.StepError{Operation: "pkg.Op", Step: "two", Resource: "r2", Err: boom, RolledBack: []string{"undid one"}, ToDo: "check r2"}
	if diff := cmp.Diff(*want, *se, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("StepError (-want +got):\n%s", diff)
	}
	if rolled.Kind != "two" {
		t.Errorf("rollback got %q", rolled.Kind)
	}
	wantOut := []awsguard.Outcome{awsguard.OutcomeRolledBack, awsguard.OutcomeFailed, awsguard.OutcomePlanned}
	if diff := cmp.Diff(wantOut, outcomes(p)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if p.Reason != awsguard.ReasonFailed {
		t.Errorf("Reason %q", p.Reason)
	}
	msg := err.Error()
	for _, part := range []string{"pkg.Op: step two (r2) failed: boom", "rolled back: undid one", "to do: check r2"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q lacks %q", msg, part)
		}
	}
	j, _ := json.Marshal(se)
	if !strings.Contains(string(j), `"error":"boom"`) || !strings.Contains(string(j), `"step":"two"`) {
		t.Errorf("StepError JSON = %s", j)
	}
}

func TestApplyKeepsDoneWithoutRollback(t *testing.T) {
	p := testPlan(false)
	err := p.Apply(context.Background(), func(_ context.Context, a *awsguard.Action) error {
		if a.Kind == "three" {
			return errors.New("late")
		}
		return nil
	}, awsguard.ApplyOptions{ToDo: "run again"})
	var se *awsguard.StepError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"do one", "iam:Two r2"}, se.Done); diff != "" {
		t.Errorf("Done (-want +got):\n%s", diff)
	}
	if se.ToDo != "run again" || !p.Applied {
		t.Errorf("ToDo %q Applied %v", se.ToDo, p.Applied)
	}
}

func TestApplyStopsOnCancelledContext(t *testing.T) {
	p := testPlan(false)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := p.Apply(ctx, func(context.Context, *awsguard.Action) error {
		n++
		cancel()
		return nil
	}, awsguard.ApplyOptions{})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("err %v after %d calls; want context.Canceled after 1", err, n)
	}
}

func TestApplySkippedIsNotApplied(t *testing.T) {
	p := &awsguard.Plan{Operation: "pkg.Op"}
	p.Add(awsguard.Action{Kind: "maybe"})
	err := p.Apply(context.Background(), func(_ context.Context, a *awsguard.Action) error {
		a.Outcome = awsguard.OutcomeSkipped
		return nil
	}, awsguard.ApplyOptions{})
	if err != nil || p.Applied || p.Actions[0].Outcome != awsguard.OutcomeSkipped {
		t.Fatalf("err %v Applied %v outcome %q", err, p.Applied, p.Actions[0].Outcome)
	}
}

func TestApplyRefusesWeakening(t *testing.T) {
	for _, dry := range []bool{false, true} {
		p := testPlan(dry)
		p.Actions[1].Weakening = true
		p.Actions[1].Detail = "MinimumPasswordLength 20 -> 14"
		err := p.Apply(context.Background(), func(context.Context, *awsguard.Action) error {
			t.Fatal("weakening plan called do")
			return nil
		}, awsguard.ApplyOptions{})
		var we *awsguard.WeakeningError
		if !errors.As(err, &we) || !errors.Is(err, awsguard.ErrWeakening) {
			t.Fatalf("dry %v: err = %v, want *WeakeningError", dry, err)
		}
		if !strings.Contains(err.Error(), "MinimumPasswordLength 20 -> 14") || p.Reason != awsguard.ReasonRefused || p.Applied {
			t.Errorf("dry %v: %v, Reason %q", dry, err, p.Reason)
		}
	}
	p := testPlan(false)
	p.Actions[1].Weakening = true
	n := 0
	if err := p.Apply(context.Background(), func(context.Context, *awsguard.Action) error { n++; return nil }, awsguard.ApplyOptions{AllowWeaken: true}); err != nil || n != 3 {
		t.Fatalf("AllowWeaken: err %v, %d calls", err, n)
	}
}

func TestInputError(t *testing.T) {
	err := error(&awsguard.InputError{Operation: "keyrotate.RotateAccessKey", Field: "user", Value: "a b", Allowed: "an IAM user name"})
	if !errors.Is(err, awsguard.ErrInvalidInput) {
		t.Error("InputError does not match ErrInvalidInput")
	}
	if got, want := err.Error(), `keyrotate.RotateAccessKey: invalid user "a b": want an IAM user name`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	j, _ := json.Marshal(err)
	if string(j) != `{"operation":"keyrotate.RotateAccessKey","field":"user","value":"a b","allowed":"an IAM user name"}` {
		t.Errorf("JSON = %s", j)
	}
}
