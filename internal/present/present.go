// Package present is how the example programs show results to people:
// findings as a person reads them (Title, ForPeople) and a failed step in
// words, with a hint to run again only where that can help (StepFailed).
// The JSON and CSV forms of a report are the findings contract and are
// never rewritten here.
package present

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// ForPeople returns the findings of rep that a table or a page for people
// shows: every status of statuses when any is given, else all but
// NOT_APPLICABLE; each with its Title.
func ForPeople(rep *awsguard.Report, statuses []awsguard.Status) *awsguard.Report {
	shown := rep.Filter(func(f awsguard.Finding) bool {
		if len(statuses) > 0 {
			return slices.Contains(statuses, f.Status)
		}
		return f.Status != awsguard.StatusNotApplicable
	})
	for i := range shown.Findings {
		shown.Findings[i].Title = Title(shown.Findings[i])
	}
	return shown
}

// Title is the title a person reads. iamguard's title for an unused key
// says "unused for more than 90 days" (or, passing, "used within 90 days")
// even of a key never used, whose evidence says "ACCESSKEY_last_used":
// "never": say so.
func Title(x awsguard.Finding) string {
	if x.Check != iamguard.CheckAccessKeyUnused || (x.Status != awsguard.StatusFail && x.Status != awsguard.StatusPass) {
		return x.Title
	}
	keys := splitList(x.Evidence["failing_keys"])
	if x.Status == awsguard.StatusPass {
		for k, v := range x.Evidence {
			if label, ok := strings.CutSuffix(k, "_last_used"); ok && v == "never" {
				keys = append(keys, label)
			}
		}
		slices.Sort(keys)
	}
	if len(keys) == 0 {
		return x.Title
	}
	days := -1
	for _, k := range keys {
		if x.Evidence[k+"_last_used"] != "never" {
			return x.Title
		}
		if d, err := strconv.Atoi(x.Evidence[k+"_idle_days"]); err == nil {
			days = max(days, d)
		}
	}
	user := x.Resource[strings.LastIndex(x.Resource, "/")+1:]
	what := "an active access key"
	if len(keys) > 1 {
		what = fmt.Sprintf("%d active access keys", len(keys))
	}
	created := ""
	if days >= 0 {
		created = fmt.Sprintf(", created %d days ago", days)
	}
	limit := x.Evidence["unused_key_age"]
	switch {
	case x.Status == awsguard.StatusFail && limit != "":
		return fmt.Sprintf("User %s has %s never used%s (limit %s)", user, what, created, limit)
	case x.Status == awsguard.StatusFail:
		return fmt.Sprintf("User %s has %s never used%s", user, what, created)
	case limit != "":
		return fmt.Sprintf("User %s has %s never used yet%s (within %s)", user, what, created, limit)
	}
	return fmt.Sprintf("User %s has %s never used yet%s", user, what, created)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// StepFailed rewrites an *awsguard.StepError in err for a person: the
// step that failed in words, what was kept and rolled back, and the cause,
// without the library's to-do (which names Go functions); hint follows
// when RerunHelps. Any other err is returned as it is. The cause stays
// reachable through errors.Is and errors.As.
func StepFailed(err error, hint string) error {
	var se *awsguard.StepError
	if !errors.As(err, &se) {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "step %s", se.Step)
	if se.Resource != "" {
		fmt.Fprintf(&b, " (%s)", se.Resource)
	}
	fmt.Fprintf(&b, " failed: %v", se.Err)
	if len(se.Done) > 0 {
		fmt.Fprintf(&b, "; done and kept: %s", strings.Join(se.Done, ", "))
	}
	if len(se.RolledBack) > 0 {
		fmt.Fprintf(&b, "; rolled back: %s", strings.Join(se.RolledBack, ", "))
	}
	if hint != "" && RerunHelps(se.Err) {
		fmt.Fprintf(&b, "; %s", hint)
	}
	return &rewritten{msg: b.String(), err: err}
}

// RerunHelps reports whether running the same command again can get past
// err: a throttle, a server error, an answer that never came. Refused
// credentials, a missing permission, a bad input or any other request the
// service refused fail the same way again.
func RerunHelps(err error) bool {
	if awserr.IsBadCredentials(err) || errors.Is(err, awsguard.ErrInvalidInput) || errors.Is(err, awsguard.ErrWeakening) {
		return false
	}
	if awserr.HasCode(err, "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
		"ServiceUnavailable", "ServiceFailure", "ConcurrentModification", "ConcurrentModificationException") {
		return true
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == 429
	}
	return true // no answer at all: a timeout, a cut connection
}

type rewritten struct {
	msg string
	err error
}

func (e *rewritten) Error() string { return e.msg }
func (e *rewritten) Unwrap() error { return e.err }
