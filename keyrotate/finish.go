package keyrotate

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/awsguard/awsguard"
)

// FinishOptions adjust FinishRotation. The zero value is ready.
type FinishOptions struct {
	// DryRun reads the live state and returns the plan; it makes no
	// mutating call.
	DryRun bool
	// Logger receives one record per step; default discards.
	Logger *slog.Logger
	// Now returns the current time; default time.Now. Grace periods are
	// counted with it.
	Now func() time.Time
}

// FinishRotation deletes the user's Inactive keys whose recorded
// deactivation (TagDeactivatedPrefix) is at least grace old, unless IAM
// reports a use after the deactivation: such a key is kept and reported
// (Rotation.Warnings, OutcomeUsedAfterDeactivation). An Inactive key with
// no record gets one now, so its grace period starts at the first
// FinishRotation that sees it; with grace zero it is deleted at once.
// Active keys are never deleted; a record on an Active key (reactivated by
// someone) is removed. It is idempotent: run it on a schedule. Nothing to
// delete gives Reason awsguard.ReasonNothingToRemove, keys still in their
// grace period awsguard.ReasonNotDue.
//
// It refuses with ErrRotationInProgress while an interrupted rotation is
// not finished.
//
// Permissions: iam:GetUser, iam:ListAccessKeys, iam:ListUserTags,
// iam:DeleteAccessKey, iam:GetAccessKeyLastUsed, iam:TagUser,
// iam:UntagUser on the user.
func FinishRotation(ctx context.Context, api FinishAPI, user string, grace time.Duration, optFns ...func(*FinishOptions)) (*Rotation, error) {
	const op = "keyrotate.FinishRotation"
	var o FinishOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := validateUser(op, "user", user); err != nil {
		return nil, err
	}
	if grace < 0 {
		return nil, inputError(op, "grace", grace.String(), "zero or a positive duration")
	}
	if api == nil {
		return nil, inputError(op, "api", "nil", "an IAM client")
	}
	rot := newRotation(op, user, o.DryRun)
	l, err := readLive(ctx, api, user)
	if err != nil {
		return rot, err
	}
	rot.UserARN = l.arn
	rot.State = classify(l, "").State
	if l.rec != nil && !l.complete() {
		rot.Reason = awsguard.ReasonRefused
		return rot, fmt.Errorf("%w: %s carries %s=%q; run RotateAccessKey again first", ErrRotationInProgress, user, TagRotation, l.rec.String())
	}
	p := planGrace(l, user, grace, o.Now())
	rot.Actions, rot.OldKeys, rot.Reason, rot.Summary = p.actions, p.oldKeys, p.reason, p.summary
	if rot.Actions == nil {
		rot.Actions = []awsguard.Action{}
	}
	if rot.OldKeys == nil {
		rot.OldKeys = []OldKey{}
	}
	r := &directRun{api: api, o: Settings{Logger: o.Logger, Now: o.Now}, user: user, l: l, p: p, rot: rot, log: o.Logger}
	if _, err := r.apply(ctx); err != nil {
		return rot, err
	}
	if len(rot.Actions) > 0 && !rot.DryRun {
		var parts []string
		for _, k := range rot.OldKeys {
			parts = append(parts, fmt.Sprintf("%s %s", k.KeyID, k.Outcome))
		}
		rot.Summary = strings.Join(parts, "; ")
		if rot.Summary == "" {
			rot.Summary = "removed stale records"
		}
	}
	return rot, nil
}

// planGrace is FinishRotation's plan function: pure, from the live state,
// the grace period and the time.
func planGrace(l *live, user string, grace time.Duration, now time.Time) *rotationPlan {
	p := &rotationPlan{}
	waiting := 0
	for _, k := range l.keys {
		t, tagged := l.deactivated[k.ID]
		if k.active() {
			if tagged {
				p.oldKey(l, k, OutcomeReactivated)
				p.untag = append(p.untag, TagDeactivatedPrefix+k.ID)
			}
			continue
		}
		e := p.oldKey(l, k, OutcomePlanned)
		switch {
		case !tagged && grace > 0:
			p.add(ActionRecordDeactivation, k.ID, "tag "+TagDeactivatedPrefix+k.ID+"=<time>", "inactive without a record: its grace period starts now")
			e.Outcome, e.DeleteAfter = OutcomeInGrace, now.Add(grace)
			waiting++
		case !tagged:
			p.assume(k.ID, now)
			p.add(ActionDeleteOldKey, k.ID, "delete key "+k.ID+" unless used in the last moments", "inactive without a record; grace zero")
		case now.Before(t.Add(grace)):
			e.Outcome, e.DeleteAfter = OutcomeInGrace, t.Add(grace)
			waiting++
		default:
			p.add(ActionDeleteOldKey, k.ID, "delete key "+k.ID+" unless used since its deactivation", fmt.Sprintf("deactivated %s, grace %s over", t.UTC().Format(time.RFC3339), grace))
		}
	}
	stale := len(p.untag) > 0 || l.rec != nil
	for id := range l.deactivated {
		if _, ok := l.key(id); !ok {
			stale = true
		}
	}
	if len(p.actions) > 0 || stale {
		p.add(ActionClearRecord, user, "remove the records of deleted or reactivated keys", "they describe keys that are gone or active again")
	}
	if len(p.actions) == 0 {
		p.reason, p.summary = awsguard.ReasonNothingToRemove, "nothing to delete"
		if waiting > 0 {
			p.reason, p.summary = awsguard.ReasonNotDue, fmt.Sprintf("%d key(s) still in their grace period", waiting)
		}
	}
	return p
}
