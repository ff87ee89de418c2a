package keyrotate

import (
	"fmt"
	"slices"
	"time"

	"github.com/awsguard/awsguard"
)

// planInput is what a plan function reads: the live state, what classify
// found, and the caller's options. Plan functions are pure.
type planInput struct {
	user  string
	l     *live
	sit   situation
	inUse string // the caller's InUseKeyID, unchanged
	now   time.Time

	deleteOld, deleteOldActive bool
	maxAge                     time.Duration
}

// rotationPlan is what a plan function returns: the actions and what the
// executor needs to carry them out.
type rotationPlan struct {
	actions []awsguard.Action
	oldKeys []OldKey
	old     string    // the key the rotation replaces
	recAt   time.Time // the time in the records the run writes
	orphans []string  // keys deleted as orphans of an interrupted run
	resumed bool
	newKey  *AccessKey // the key an earlier run delivered, when finishing
	untag   []string   // deactivation records of reactivated keys
	// deactivated holds deactivation times the plan assumes for keys that
	// have no record (FinishRotation with grace zero: now).
	deactivated map[string]time.Time
	reason      awsguard.Reason
	summary     string
}

func (p *rotationPlan) add(kind, resource, detail, why string) {
	p.actions = append(p.actions, awsguard.Action{Kind: kind, Call: actionCalls[kind], Resource: resource, Detail: detail, Why: why, Outcome: awsguard.OutcomePlanned})
}

func (p *rotationPlan) assume(id string, t time.Time) {
	if p.deactivated == nil {
		p.deactivated = map[string]time.Time{}
	}
	p.deactivated[id] = t
}

func (p *rotationPlan) oldKey(l *live, k liveKey, outcome KeyOutcome) *OldKey {
	for i := range p.oldKeys {
		if p.oldKeys[i].KeyID == k.ID {
			return &p.oldKeys[i]
		}
	}
	ok := OldKey{KeyID: k.ID, Status: string(k.Status), CreateDate: k.Created, Outcome: outcome}
	if t, found := l.deactivated[k.ID]; found {
		ok.DeactivatedAt = t
	}
	p.oldKeys = append(p.oldKeys, ok)
	return &p.oldKeys[len(p.oldKeys)-1]
}

// planners holds the one plan function of each state.
var planners = [numStates]func(planInput) (*rotationPlan, error){
	StateIdle:             planIdle,
	StateIntent:           planIntent,
	StateIntentNamed:      planIntentNamed,
	StateOldTouched:       planOldTouched,
	StatePending:          planPending,
	StatePendingRejected:  planPendingRejected,
	StatePendingConfirmed: planPendingConfirmed,
	StatePendingGone:      planPendingGone,
	StateDelivered:        planDelivered,
	StateComplete:         planComplete,
	StateDeliveredLost:    planDeliveredLost,
	StateReactivated:      planReactivated,
	StateInUseConflict:    planInUseConflict,
}

// planIdle: a fresh rotation of the key in use.
func planIdle(in planInput) (*rotationPlan, error) { return planFresh(in, in.inUse, &rotationPlan{}) }

// planIntent: the orphans of the interrupted run go, then a fresh rotation
// of the record's old key.
func planIntent(in planInput) (*rotationPlan, error) {
	return planFresh(in, in.l.rec.Old, planOrphans(in))
}

// planPendingRejected: the caller names the old key in use, so the pending
// key is no one's: it goes with the orphans, then a fresh rotation.
func planPendingRejected(in planInput) (*rotationPlan, error) {
	return planFresh(in, in.l.rec.Old, planOrphans(in))
}

// planPendingGone: the pending key is gone (rolled back); as planIntent.
func planPendingGone(in planInput) (*rotationPlan, error) {
	return planFresh(in, in.l.rec.Old, planOrphans(in))
}

// planIntentNamed: the caller names the key an interrupted run delivered.
func planIntentNamed(in planInput) (*rotationPlan, error) {
	return planResume(in, "InUseKeyID confirms the delivery"), nil
}

// planPendingConfirmed: the pending key is confirmed in use (named, or the
// only key left that can work).
func planPendingConfirmed(in planInput) (*rotationPlan, error) {
	why := "InUseKeyID confirms the delivery"
	if in.inUse == "" {
		why = "the old key is no longer Active: the new key is the only one that can work"
	}
	return planResume(in, why), nil
}

// planDelivered: the delivery is recorded; the steps after it remain.
func planDelivered(in planInput) (*rotationPlan, error) { return planResume(in, ""), nil }

// planComplete: only the record is left; removing it finishes.
func planComplete(in planInput) (*rotationPlan, error) { return planResume(in, ""), nil }

func inProgress(in planInput, format string, args ...any) error {
	return fmt.Errorf("%w: %s carries %s=%q: %s", ErrRotationInProgress, in.user, TagRotation, in.l.rec.String(), fmt.Sprintf(format, args...))
}

func planOldTouched(in planInput) (*rotationPlan, error) {
	return nil, inProgress(in, "the old key %s is not active and the record names no delivered key; the user's keys: %s; "+
		"re-run with InUseKeyID naming the key the user's software uses (another Active key to finish the rotation to it), or remove the tag by hand", in.sit.Old, in.l.describeKeys())
}

func planPending(in planInput) (*rotationPlan, error) {
	rec := in.l.rec
	return nil, inProgress(in, "the new key %s was created and may have been delivered, but the delivery is not confirmed; "+
		"set InUseKeyID to the key the user's software uses: %s to finish the rotation, or %s to delete %s and rotate afresh", rec.New, rec.New, rec.Old, rec.New)
}

func planDeliveredLost(in planInput) (*rotationPlan, error) {
	n, ok := in.l.key(in.sit.New)
	if !ok {
		return nil, inProgress(in, "the delivered key %s no longer exists; check which key the user's software uses and remove the tag by hand", in.sit.New)
	}
	return nil, inProgress(in, "the delivered key %s is %s: reactivate it, or check which key is in use and remove the tag by hand", n.ID, n.Status)
}

func planReactivated(in planInput) (*rotationPlan, error) {
	a := in.sit.Old
	return nil, inProgress(in, "the old key %s is Active but carries its deactivation record (%s%s): it was reactivated after its deactivation, so someone still uses it; "+
		"find who uses %s, then deactivate it by hand or remove that tag", a, TagDeactivatedPrefix, a, a)
}

func planInUseConflict(in planInput) (*rotationPlan, error) {
	rec := in.l.rec
	if rec.New != "" && !rec.Pending {
		return nil, inProgress(in, "the new key %s was delivered, but InUseKeyID names %s; name the key the user's software uses now (%s to finish the rotation)", rec.New, in.inUse, rec.New)
	}
	return nil, inProgress(in, "InUseKeyID %s is neither the old key %s nor the new key %s", in.inUse, rec.Old, rec.New)
}

// planOrphans plans the deletion of the keys an interrupted run created
// and never delivered. A key is taken for that orphan only if the record
// names it (pending, and the caller names the old key in use), or if it
// was created within the clock skew of the recorded intent (CreateKey
// follows the record at once): a record left behind by a run that never
// created its key must not make a key added later an orphan. A record
// without a time names no orphan but its pending key. Other keys fall to
// the two-key rules of planFresh.
func planOrphans(in planInput) *rotationPlan {
	p := &rotationPlan{}
	rec := in.l.rec
	for _, k := range in.l.keys {
		if k.ID == rec.Old {
			continue
		}
		why := "orphan of an interrupted rotation: created, never delivered"
		if k.ID == rec.New {
			why = "created by an interrupted rotation; InUseKeyID names the old key, so it is not in use"
		} else if rec.At.IsZero() || k.Created.Before(rec.At.Add(-orphanSkew)) || k.Created.After(rec.At.Add(orphanSkew)) {
			continue
		}
		p.add(ActionDeleteKey, k.ID, "delete key "+k.ID, why)
		p.orphans = append(p.orphans, k.ID)
		p.oldKey(in.l, k, OutcomePlanned)
	}
	return p
}

// pickOld chooses the key a fresh rotation replaces among keys.
func pickOld(in planInput, keys []liveKey, inUse string) (liveKey, error) {
	var active []liveKey
	for _, k := range keys {
		if k.active() {
			active = append(active, k)
		}
	}
	switch {
	case inUse != "":
		k, ok := in.l.key(inUse)
		if !ok {
			return k, fmt.Errorf("%w: %s has no key %s", ErrInUseKeyNotFound, in.user, inUse)
		}
		if !k.active() {
			return k, fmt.Errorf("%w: the key in use, %s, is %s", ErrNoActiveKey, k.ID, k.Status)
		}
		return k, nil
	case len(active) == 0:
		return liveKey{}, fmt.Errorf("%w: %s has only inactive keys", ErrNoActiveKey, in.user)
	case len(active) == 1:
		return active[0], nil
	case !in.deleteOldActive:
		return liveKey{}, fmt.Errorf("%w: %s has %s and %s; name the key in use (InUseKeyID) and allow deleting the other (DeleteOldActive)", ErrKeyLimit, in.user, active[0].ID, active[1].ID)
	}
	// Deleting an active key on a guess could cut off the software that
	// uses it: the caller must say which one is in use.
	return liveKey{}, inputError("keyrotate.RotateAccessKey", "Options.InUseKeyID", "",
		fmt.Sprintf("the key in use, required with DeleteOldActive when the user has two active keys (%s and %s); the other is deleted", active[0].ID, active[1].ID))
}

// planFresh plans a rotation of the key inUse names (or of the user's only
// active key) after the actions already in p.
func planFresh(in planInput, inUse string, p *rotationPlan) (*rotationPlan, error) {
	keys := slices.DeleteFunc(slices.Clone(in.l.keys), func(k liveKey) bool { return slices.Contains(p.orphans, k.ID) })
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s has no access key", ErrNoActiveKey, in.user)
	}
	old, err := pickOld(in, keys, inUse)
	if err != nil {
		return nil, err
	}
	if age := in.now.Sub(old.Created); in.maxAge > 0 && age < in.maxAge {
		if in.l.rec != nil || len(p.actions) > 0 {
			p.add(ActionClearRecord, in.user, "remove "+TagRotation, "the record of the interrupted rotation")
		}
		p.oldKey(in.l, old, OutcomeKept)
		p.reason = awsguard.ReasonNotDue
		p.summary = fmt.Sprintf("key %s is %s old, under the maximum age %s: nothing to rotate", old.ID, age.Round(time.Second), in.maxAge)
		if len(p.actions) > 0 {
			p.summary += " (cleaning up after an interrupted run)"
		}
		return p, nil
	}
	p.old, p.recAt = old.ID, in.now.UTC().Truncate(time.Second)
	for _, k := range keys {
		if k.ID == old.ID {
			continue
		}
		if k.active() {
			if !in.deleteOldActive {
				return nil, fmt.Errorf("%w: %s has %s besides %s; allow deleting it with DeleteOldActive", ErrKeyLimit, in.user, k.ID, old.ID)
			}
			p.add(ActionDeleteKey, k.ID, "delete key "+k.ID, "active, not in use: deleted to make room (DeleteOldActive)")
		} else {
			p.add(ActionDeleteKey, k.ID, "delete key "+k.ID, "inactive: deleted to make room for the new key")
		}
		p.oldKey(in.l, k, OutcomePlanned)
	}
	intent := record{Old: old.ID, At: p.recAt}
	p.add(ActionRecordIntent, old.ID, fmt.Sprintf("tag %s=%s", TagRotation, intent), "a re-run tells an orphan of this run by it")
	p.add(ActionCreateKey, "", "create a new key for "+in.user, "")
	p.add(ActionRecordNewKey, "", fmt.Sprintf("tag %s=old=%s new=<new key> pending", TagRotation, old.ID), "a re-run knows the new key, which may be delivered")
	p.add(ActionVerifyKey, "", "poll sts:GetCallerIdentity with the new key until it authenticates as "+in.l.arn, "new IAM keys take seconds to become valid")
	p.add(ActionDeliverKey, "", "hand the new key to Options.Deliver", "before anything old is touched")
	p.add(ActionRecordDelivery, "", fmt.Sprintf("tag %s=old=%s new=<new key>", TagRotation, old.ID), "the old key is touched only once the delivery is recorded")
	planFinish(in, p, old, true, "replaced by the new key")
	return p, nil
}

// planResume plans finishing the rotation to the delivered key in.sit.New.
func planResume(in planInput, why string) *rotationPlan {
	rec := in.l.rec
	n, _ := in.l.key(in.sit.New)
	p := &rotationPlan{resumed: true, old: rec.Old, recAt: rec.At,
		newKey: &AccessKey{UserName: in.user, AccessKeyID: n.ID, CreateDate: n.Created}}
	if rec.New == "" || rec.Pending {
		// Recorded before the old key is touched, so that a run that dies
		// after deactivating it leaves a record naming the delivered key.
		p.add(ActionRecordDelivery, n.ID, fmt.Sprintf("tag %s=%s", TagRotation, record{Old: rec.Old, New: n.ID, At: rec.At}), why)
	}
	a, hasA := in.l.key(rec.Old)
	planFinish(in, p, a, hasA, "finishes the rotation an earlier run began")
	return p
}

// planFinish plans the steps after delivery for the old key a.
func planFinish(in planInput, p *rotationPlan, a liveKey, hasA bool, why string) {
	if hasA {
		p.oldKey(in.l, a, OutcomePlanned)
		if a.active() {
			p.add(ActionDeactivateKey, a.ID, "deactivate key "+a.ID, why)
		}
		if _, tagged := in.l.deactivated[a.ID]; a.active() || !tagged {
			p.add(ActionRecordDeactivation, a.ID, "tag "+TagDeactivatedPrefix+a.ID+"=<time>", "FinishRotation counts the grace period from it")
		}
		if in.deleteOld {
			p.add(ActionDeleteOldKey, a.ID, "delete key "+a.ID+" unless used after its deactivation", "DeleteOld")
		}
	}
	p.add(ActionClearRecord, in.user, "remove "+TagRotation+" and the records of deleted keys", "the rotation is done")
}
