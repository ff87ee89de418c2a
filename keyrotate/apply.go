package keyrotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
)

// directRun carries out the plan of one RotateAccessKey or FinishRotation
// call: do is the one switch over the action kinds, rollback the one
// rollback path; awsguard.Plan.Apply is the loop.
type directRun struct {
	sts  STSFactory
	api  FinishAPI
	keys RotateAPI // nil in FinishRotation, which never creates or updates keys
	o    Settings
	user string
	l    *live
	p    *rotationPlan
	rot  *Rotation
	log  *slog.Logger

	newKey  *AccessKey
	deactAt time.Time // when this run deactivated the old key
	deleted []string  // keys deleted by this run
	// wroteRecord is set once the run wrote TagRotation.
	wroteRecord bool
	// createCalled and createSurelyFailed tell whether CreateKey may have
	// created a key.
	createCalled, createSurelyFailed bool
	deliverCalled                    bool
	// iamFor, if set, signs the steps after the delivery with the new key.
	iamFor func(AccessKey) RotateAPI
}

// rotate reads, classifies, plans and applies one user's rotation.
func rotate(ctx context.Context, c Clients, user string, o Options) (*Rotation, error) {
	rot := newRotation("keyrotate.RotateAccessKey", user, o.DryRun)
	l, err := readLive(ctx, c.IAM, user)
	if err != nil {
		return rot, err
	}
	rot.UserARN = l.arn
	sit := classify(l, o.InUseKeyID)
	rot.State = sit.State
	p, err := planners[sit.State](planInput{user: user, l: l, sit: sit, inUse: o.InUseKeyID, now: o.Now(),
		deleteOld: o.DeleteOld, deleteOldActive: o.DeleteOldActive, maxAge: o.MaxAge})
	if err != nil {
		rot.Reason = awsguard.ReasonRefused
		return rot, err
	}
	rot.Actions, rot.OldKeys, rot.Resumed, rot.NewKey = p.actions, p.oldKeys, p.resumed, p.newKey
	rot.Reason, rot.Summary = p.reason, p.summary
	if rot.Actions == nil {
		rot.Actions = []awsguard.Action{}
	}
	if rot.OldKeys == nil {
		rot.OldKeys = []OldKey{}
	}
	r := &directRun{sts: c.STS, api: c.IAM, keys: c.IAM, o: o.Settings, user: user, l: l, p: p, rot: rot, log: o.Logger}
	if rot.Resumed && c.IAMFor != nil && !o.DryRun && len(rot.Actions) > 0 {
		// Rotating one's own key: the old key may be, or is about to be,
		// inactive, so the remaining steps are signed with the delivered one.
		id := rot.NewKey.AccessKeyID
		var k AccessKey
		ok := false
		if o.DeliveredKey != nil {
			k, ok = o.DeliveredKey(ctx, id)
		}
		if !ok || k.AccessKeyID != id || k.Secret.IsZero() {
			rot.Reason = awsguard.ReasonRefused
			return rot, fmt.Errorf("%w: %s: an earlier run delivered %s; finishing a rotation of one's own key must be signed with that key: "+
				"set Options.DeliveredKey, or run again with clients signed with %s and Clients.IAMFor nil", ErrRotationInProgress, user, id, id)
		}
		r.keys = c.IAMFor(k)
		r.api = r.keys
	}
	r.iamFor = c.IAMFor
	return r.apply(ctx)
}

// apply runs the plan through awsguard.Plan.Apply and fills in Summary.
func (r *directRun) apply(ctx context.Context) (*Rotation, error) {
	err := r.rot.Apply(ctx, r.do, awsguard.ApplyOptions{Logger: r.log, Progress: r.o.Progress, Rollback: r.rollback})
	if err != nil {
		return r.rot, err
	}
	switch {
	case r.rot.DryRun && len(r.rot.Actions) > 0:
		if r.rot.Summary == "" {
			r.rot.Summary = fmt.Sprintf("dry run: %d actions planned, none taken", len(r.rot.Actions))
		}
	case len(r.rot.Actions) > 0:
		r.rot.Summary = r.rot.summary()
	}
	return r.rot, nil
}

// do carries out one action.
func (r *directRun) do(ctx context.Context, a *awsguard.Action) error {
	if a.Resource == "" && r.newKey != nil {
		a.Resource = r.newKey.AccessKeyID
	}
	switch a.Kind {
	case ActionDeleteKey:
		return r.deleteToMakeRoom(ctx, a.Resource)
	case ActionRecordIntent:
		return r.record(ctx, record{Old: r.p.old, At: r.p.recAt})
	case ActionCreateKey:
		return r.createKey(ctx, a)
	case ActionRecordNewKey:
		return r.tag(ctx, TagRotation, record{Old: r.p.old, New: r.newKey.AccessKeyID, Pending: true, At: r.p.recAt}.String())
	case ActionVerifyKey:
		polls, err := WaitForKey(ctx, r.sts, *r.newKey, r.l.arn, func(v *VerifyOptions) { *v = r.o.Verify })
		r.rot.VerifyPolls += polls
		if err == nil {
			r.rot.Identity = r.l.arn
		}
		return err
	case ActionDeliverKey:
		return r.deliver(ctx)
	case ActionRecordDelivery:
		// A hard step: until the delivery is recorded, a re-run cannot tell
		// the delivered key from an orphan, so the old key stays untouched.
		return r.record(ctx, record{Old: r.p.old, New: r.newKeyID(), At: r.p.recAt})
	case ActionDeactivateKey:
		return r.deactivate(ctx, a.Resource)
	case ActionRecordDeactivation:
		return r.recordDeactivation(ctx, a.Resource)
	case ActionDeleteOldKey:
		return r.deleteOld(ctx, a)
	case ActionClearRecord:
		return r.clearRecord(ctx, a)
	}
	return fmt.Errorf("keyrotate: unknown action %q", a.Kind)
}

func (r *directRun) record(ctx context.Context, rec record) error {
	if err := r.tag(ctx, TagRotation, rec.String()); err != nil {
		return err
	}
	r.wroteRecord = true
	return nil
}

func (r *directRun) tag(ctx context.Context, key, value string) error {
	_, err := r.api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(r.user), Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}})
	if err != nil {
		return fmt.Errorf("keyrotate: tag user %s with %s: %w", r.user, key, err)
	}
	return nil
}

func (r *directRun) deleteKey(ctx context.Context, id string) error {
	_, err := r.api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(r.user), AccessKeyId: aws.String(id)})
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		err = nil // already gone: what we wanted
	}
	if err != nil {
		return fmt.Errorf("keyrotate: delete key %s: %w", id, err)
	}
	r.deleted = append(r.deleted, id)
	return nil
}

func (r *directRun) deleteToMakeRoom(ctx context.Context, id string) error {
	if err := r.deleteKey(ctx, id); err != nil {
		return err
	}
	out := OutcomeDeletedToMakeRoom
	if slices.Contains(r.p.orphans, id) {
		out = OutcomeOrphanDeleted
	}
	r.setOutcome(id, out)
	return nil
}

func (r *directRun) createKey(ctx context.Context, a *awsguard.Action) error {
	r.createCalled = true
	out, err := r.keys.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(r.user)})
	if err != nil {
		r.createSurelyFailed = surelyRejected(err)
		return fmt.Errorf("keyrotate: create key for %s: %w", r.user, err)
	}
	k := out.AccessKey
	r.newKey = &AccessKey{UserName: r.user, AccessKeyID: aws.ToString(k.AccessKeyId), Secret: awsguard.NewSecret(aws.ToString(k.SecretAccessKey)), CreateDate: aws.ToTime(k.CreateDate)}
	r.rot.NewKey = r.newKey
	a.Resource = r.newKey.AccessKeyID
	return nil
}

func (r *directRun) deliver(ctx context.Context) error {
	r.deliverCalled = true
	if err := r.o.Deliver(ctx, *r.newKey); err != nil {
		return fmt.Errorf("keyrotate: deliver key %s: %w", r.newKey.AccessKeyID, err)
	}
	if r.iamFor != nil {
		r.keys = r.iamFor(*r.newKey)
		r.api = r.keys
	}
	return nil
}

func (r *directRun) deactivate(ctx context.Context, id string) error {
	if _, err := r.keys.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(r.user), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		return fmt.Errorf("keyrotate: deactivate key %s: %w", id, err)
	}
	r.deactAt = r.o.Now().UTC()
	r.setOutcome(id, OutcomeDeactivated)
	if e := r.entry(id); e != nil {
		e.DeactivatedAt = r.deactAt
	}
	return nil
}

func (r *directRun) recordDeactivation(ctx context.Context, id string) error {
	t := r.deactAt
	if t.IsZero() {
		t = r.o.Now().UTC() // deactivated by an interrupted run: count from now
	}
	if err := r.tag(ctx, TagDeactivatedPrefix+id, t.Format(time.RFC3339Nano)); err != nil {
		return err
	}
	r.l.deactivated[id] = t
	if e := r.entry(id); e != nil {
		e.DeactivatedAt = t
		if e.Outcome == OutcomePlanned {
			e.Outcome = OutcomeDeactivated
		}
	}
	return nil
}

// deleteOld deletes the replaced key unless IAM reports a use after its
// recorded deactivation; such a key is kept (OutcomeSkipped) and reported.
func (r *directRun) deleteOld(ctx context.Context, a *awsguard.Action) error {
	id := a.Resource
	out, err := r.api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		r.deleted = append(r.deleted, id)
		r.setOutcome(id, OutcomeDeleted)
		return nil
	}
	if err != nil {
		return fmt.Errorf("keyrotate: last use of key %s: %w", id, err)
	}
	deact, ok := r.l.deactivated[id]
	if !ok {
		deact = r.p.deactivated[id]
	}
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		use := &LastUse{Date: aws.ToTime(lu.LastUsedDate), Service: aws.ToString(lu.ServiceName), Region: aws.ToString(lu.Region)}
		use.AfterDeactivation = !deact.IsZero() && use.Date.After(deact.Add(lastUseSlack))
		if e := r.entry(id); e != nil {
			e.LastUsed = use
		}
		if use.AfterDeactivation {
			r.setOutcome(id, OutcomeUsedAfterDeactivation)
			a.Outcome = awsguard.OutcomeSkipped
			w := fmt.Sprintf("key %s was used at %s (%s), after its deactivation at %s: not deleted; find who still uses it", id, use.Date.UTC().Format(time.RFC3339), use.Service, deact.UTC().Format(time.RFC3339))
			r.rot.Warnings = append(r.rot.Warnings, w)
			r.log.WarnContext(ctx, "keyrotate: key used after deactivation", "resource", id, "last_used", use.Date)
			return nil
		}
	}
	if err := r.deleteKey(ctx, id); err != nil {
		return err
	}
	r.setOutcome(id, OutcomeDeleted)
	return nil
}

// clearRecord removes TagRotation, the deactivation records of keys that
// are gone, and those of reactivated keys. A failure is only a warning:
// the keys are done, and the next run recognises the record as complete.
func (r *directRun) clearRecord(ctx context.Context, a *awsguard.Action) error {
	var drop []string
	for _, k := range r.l.tagKeys {
		id, isDeact := strings.CutPrefix(k, TagDeactivatedPrefix)
		if k == TagRotation || (isDeact && r.gone(id)) {
			drop = append(drop, k)
		}
	}
	if r.wroteRecord && !slices.Contains(drop, TagRotation) {
		drop = append(drop, TagRotation)
	}
	for _, id := range r.deleted {
		if k := TagDeactivatedPrefix + id; !slices.Contains(drop, k) {
			if _, ok := r.l.deactivated[id]; ok || !r.p.deactivated[id].IsZero() {
				drop = append(drop, k)
			}
		}
	}
	drop = append(drop, r.p.untag...)
	if len(drop) == 0 {
		a.Outcome = awsguard.OutcomeSkipped
		return nil
	}
	if _, err := r.api.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: drop}); err != nil {
		w := fmt.Sprintf("could not remove the records %v (the next run removes them): %v", drop, err)
		r.rot.Warnings = append(r.rot.Warnings, w)
		r.log.WarnContext(ctx, "keyrotate: could not remove the records", "error", err)
		a.Outcome = awsguard.OutcomeSkipped
	}
	return nil
}

// gone reports whether key id no longer exists (never listed, or deleted by
// this run).
func (r *directRun) gone(id string) bool {
	_, ok := r.l.key(id)
	return !ok || slices.Contains(r.deleted, id)
}

func (r *directRun) newKeyID() string {
	if r.rot.NewKey != nil {
		return r.rot.NewKey.AccessKeyID
	}
	return "(unknown)"
}

func (r *directRun) setOutcome(id string, out KeyOutcome) {
	if e := r.entry(id); e != nil {
		e.Outcome = out
	}
}

func (r *directRun) entry(id string) *OldKey {
	for i := range r.rot.OldKeys {
		if r.rot.OldKeys[i].KeyID == id {
			return &r.rot.OldKeys[i]
		}
	}
	return nil
}

// rollback is the one rollback path: after the action failed failed with
// err, it undoes what must be undone and says what the caller must still
// do. The new key is deleted only while it surely was not delivered.
func (r *directRun) rollback(ctx context.Context, failed awsguard.Action, err error) (rolledBack []string, toDo string) {
	switch failed.Kind {
	case ActionDeleteKey, ActionRecordIntent:
		return nil, "nothing else was changed; re-run to continue"
	case ActionCreateKey:
		if !r.createCalled || r.createSurelyFailed {
			return r.clearIntent(ctx)
		}
		return nil, fmt.Sprintf("the call may have created a key; the old key %s stays active and a re-run deletes a key created within %s of the user's %s record (the record names the key in use)", r.p.old, orphanSkew, TagRotation)
	case ActionDeliverKey:
		if r.deliverCalled && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			// Interrupted inside Deliver: the key may have reached its
			// target, so it is not deleted on a guess.
			return nil, fmt.Sprintf("the delivery of the new key %s was interrupted and may have taken effect; the new key and the %s record (pending) are kept and the old key %s stays active. "+
				"Re-run with InUseKeyID %s if the new key reached its users (the re-run finishes), or InUseKeyID %s if not (the re-run deletes %s and rotates afresh); "+
				"without InUseKeyID a re-run refuses with ErrRotationInProgress", r.newKeyID(), TagRotation, r.p.old, r.newKeyID(), r.p.old, r.newKeyID())
		}
		return r.deleteNewKey(ctx)
	case ActionRecordNewKey, ActionVerifyKey:
		return r.deleteNewKey(ctx)
	case ActionRecordDelivery:
		return nil, fmt.Sprintf("the new key %s is delivered and works, but its delivery is not recorded; the old key %s is still active. "+
			"Re-run with InUseKeyID %s to finish (or InUseKeyID %s if the new key did not reach its users: the re-run then deletes it and rotates afresh); "+
			"without InUseKeyID a re-run refuses with ErrRotationInProgress", r.newKeyID(), r.p.old, r.newKeyID(), r.p.old)
	case ActionDeactivateKey:
		return nil, fmt.Sprintf("the new key %s is delivered and works; the old key %s is still active: re-run to finish", r.newKeyID(), r.p.old)
	case ActionRecordDeactivation:
		return nil, fmt.Sprintf("the new key %s is delivered; the old key %s is inactive but its deactivation time is not recorded: re-run to finish", r.newKeyID(), failed.Resource)
	case ActionDeleteOldKey:
		return nil, fmt.Sprintf("the old key %s is inactive and was not deleted: re-run, or delete it later with FinishRotation", failed.Resource)
	}
	return nil, "re-run: it plans from the live state"
}

// clearIntent removes the intent record after CreateKey surely failed, so
// that it does not outlive the run; if that fails, the record's time keeps
// a re-run from taking older keys for orphans.
func (r *directRun) clearIntent(ctx context.Context) ([]string, string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := r.api.UntagUser(rctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: []string{TagRotation}}); err != nil {
		return nil, fmt.Sprintf("no key was created; the old key %s stays active; re-run, or remove the user's %s tag: %v", r.p.old, TagRotation, err)
	}
	return []string{"removed the " + TagRotation + " tag"}, fmt.Sprintf("nothing: no key was created and the old key %s stays active", r.p.old)
}

// deleteNewKey deletes the new key and the rotation record after a failed
// verification or delivery. It runs even if ctx is cancelled.
func (r *directRun) deleteNewKey(ctx context.Context) ([]string, string) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	id := r.newKey.AccessKeyID
	if err := r.deleteKey(rctx, id); err != nil {
		// The new key was never delivered: say so in the record, so that a
		// re-run takes it for an orphan and deletes it.
		if terr := r.tag(rctx, TagRotation, record{Old: r.p.old, At: r.p.recAt}.String()); terr != nil {
			return nil, fmt.Sprintf("the new key %s was not delivered: delete it by hand (%v), or re-run with InUseKeyID %s (it deletes it); the old key %s stays active", id, err, r.p.old, r.p.old)
		}
		return nil, fmt.Sprintf("delete the new key %s by hand, or re-run (it deletes it): %v; the old key %s stays active", id, err, r.p.old)
	}
	rolled := []string{"deleted the new key " + id}
	r.rot.NewKey = nil
	r.markRolledBack()
	if _, err := r.api.UntagUser(rctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: []string{TagRotation}}); err != nil {
		return rolled, fmt.Sprintf("the old key %s stays active; remove the user's %s tag, or re-run: %v", r.p.old, TagRotation, err)
	}
	return append(rolled, "removed the "+TagRotation+" tag"), fmt.Sprintf("nothing: the old key %s stays active", r.p.old)
}

// markRolledBack marks the new key's done actions rolled back.
func (r *directRun) markRolledBack() {
	for i := range r.rot.Actions {
		a := &r.rot.Actions[i]
		switch a.Kind {
		case ActionRecordIntent, ActionCreateKey, ActionRecordNewKey, ActionVerifyKey:
			if a.Outcome == awsguard.OutcomeDone {
				a.Outcome = awsguard.OutcomeRolledBack
			}
		}
	}
}
