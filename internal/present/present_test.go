package present_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/present"
)

func TestTitle(t *testing.T) {
	fail := awsguard.Finding{Check: "iam.user.access_key_unused", Status: awsguard.StatusFail, Resource: "arn:aws:iam::1:user/ci/deploy",
		Title: "User deploy has an active access key unused for more than 90 days",
		Evidence: map[string]string{"failing_keys": "access_key_1", "access_key_1_last_used": "never", "access_key_1_idle_days": "120",
			"access_key_2_last_used": "2026-01-01T00:00:00Z", "unused_key_age": "90 days"}}
	for _, tc := range []struct {
		name string
		edit func(*awsguard.Finding)
		want string
	}{
		{"never used", func(*awsguard.Finding) {}, "User deploy has an active access key never used, created 120 days ago (limit 90 days)"},
		{"used once", func(f *awsguard.Finding) { f.Evidence["access_key_1_last_used"] = "2025-01-01T00:00:00Z" }, fail.Title},
		{"other check", func(f *awsguard.Finding) { f.Check = "iam.user.access_key_rotation" }, fail.Title},
		{"error", func(f *awsguard.Finding) { f.Status = awsguard.StatusError }, fail.Title},
	} {
		f := fail
		f.Evidence = map[string]string{}
		for k, v := range fail.Evidence {
			f.Evidence[k] = v
		}
		tc.edit(&f)
		if got := present.Title(f); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestForPeople(t *testing.T) {
	rep := awsguard.NewReport(time.Time{},
		awsguard.Finding{Check: "a", Status: awsguard.StatusFail, Title: "a"},
		awsguard.Finding{Check: "b", Status: awsguard.StatusNotApplicable, Title: "b"},
		awsguard.Finding{Check: "c", Status: awsguard.StatusPass, Title: "c"})
	checks := func(r *awsguard.Report) string { return strings.Join(r.Checks(), ",") }
	if got := checks(present.ForPeople(rep, nil)); got != "a,c" {
		t.Errorf("default: %s, want a,c", got)
	}
	if got := checks(present.ForPeople(rep, []awsguard.Status{awsguard.StatusNotApplicable})); got != "b" {
		t.Errorf("-status NOT_APPLICABLE: %s, want b", got)
	}
	if len(rep.Findings) != 3 {
		t.Error("ForPeople changed the report")
	}
}

func TestStepFailed(t *testing.T) {
	cause := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 503}}, Err: errors.New("unavailable")}
	se := &awsguard.StepError{Operation: "iamguard.EnsureGroup", Step: "create-group", Resource: "group/dev", Err: &awshttp.ResponseError{ResponseError: cause},
		Done: []string{"x"}, ToDo: "run iamguard.EnsureGroup again"}
	err := present.StepFailed(fmt.Errorf("wrapped: %w", se), "run it again")
	if got := err.Error(); strings.Contains(got, "iamguard.") || !strings.Contains(got, "step create-group (group/dev) failed") ||
		!strings.Contains(got, "done and kept: x") || !strings.HasSuffix(got, "; run it again") {
		t.Errorf("message %q", got)
	}
	if !errors.Is(err, se) {
		t.Error("the step error is not reachable")
	}
	denied := &awsguard.StepError{Step: "s", Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}}, Err: errors.New("refused")}}}
	if got := present.StepFailed(denied, "run it again").Error(); strings.Contains(got, "again") {
		t.Errorf("a refused request got a re-run hint: %q", got)
	}
	plain := errors.New("plain")
	if present.StepFailed(plain, "h") != plain {
		t.Error("a plain error was rewritten")
	}
}
