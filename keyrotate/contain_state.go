package keyrotate

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
)

// The user tags in which a containment records each step it took, so
// that a re-run knows what was done and ReleaseContainment undoes exactly
// that. Each value ends with " at=TIME" (RFC 3339, UTC).
const (
	// TagContainKey names the contained key and what containment found:
	// "KEYID deactivated" (it was Active and containment made it
	// Inactive) or "KEYID was-inactive" (release leaves it Inactive).
	TagContainKey = "awsguard:contain:key"
	// TagContainPolicy holds the ARN of the quarantine policy containment
	// attached. It is written before the attachment.
	TagContainPolicy = "awsguard:contain:policy"
	// TagContainSessions records the inline deny of sessions issued before
	// the containment (policy SessionsPolicyName). Written before the
	// policy is put.
	TagContainSessions = "awsguard:contain:sessions"
	// TagContainLogin records that containment deleted the user's console
	// password. Written before the deletion. A release cannot restore it.
	TagContainLogin = "awsguard:contain:login"
	// TagContainReplace records ReplaceLeakedKey's progress: "intent
	// keys=ID,ID" (the user's keys before the new one is created), then
	// "NEWKEYID pending" (created, not yet delivered), "NEWKEYID
	// delivered", and "NEWKEYID lifted" (the quarantine and the sessions
	// deny were removed so the new key works).
	TagContainReplace = "awsguard:contain:replace"
)

// SessionsPolicyName is the name of the inline policy that denies every
// action to sessions issued before the containment.
const SessionsPolicyName = "awsguard-contain-revoke-sessions"

// QuarantinePolicyName is the AWS managed policy that containment
// attaches unless ContainOptions.QuarantinePolicyARN names another.
const QuarantinePolicyName = "AWSCompromisedKeyQuarantineV3"

// The kinds of Action in a containment or release plan, in the order they
// run.
const (
	// ActionContainDeactivate makes the leaked key Inactive: the first
	// mutating call of a containment.
	ActionContainDeactivate = "contain-deactivate-key"
	// ActionContainRecordKey records the key and its status before
	// containment (TagContainKey).
	ActionContainRecordKey = "contain-record-key"
	// ActionContainQuarantine records and attaches the quarantine policy.
	ActionContainQuarantine = "contain-attach-quarantine"
	// ActionContainSessions records and puts the inline deny of older
	// sessions.
	ActionContainSessions = "contain-revoke-sessions"
	// ActionContainLogin records and deletes the console password.
	ActionContainLogin = "contain-delete-login-profile"
	// ActionReplaceDeleteOrphan deletes a key an interrupted replacement
	// created and never delivered (its secret is lost).
	ActionReplaceDeleteOrphan = "replace-delete-orphan"
	// ActionReplaceDeleteLeaked deletes the leaked key (only when the
	// caller confirms it is no longer needed as evidence).
	ActionReplaceDeleteLeaked = "replace-delete-leaked-key"
	// ActionReplaceCreate records the intent, creates the new key and
	// records it pending.
	ActionReplaceCreate = "replace-create-key"
	// ActionReplaceVerify polls sts:GetCallerIdentity signed with the new
	// key until it authenticates as the user.
	ActionReplaceVerify = "replace-verify-key"
	// ActionReplaceDeliver hands the new key to ReplaceOptions.Deliver and
	// records it delivered.
	ActionReplaceDeliver = "replace-deliver-key"
	// ActionReplaceLift deletes the sessions deny and detaches the
	// quarantine policy that containment added, so the new key works, and
	// records it: weakening.
	ActionReplaceLift = "replace-lift-quarantine"
	// ActionReleaseQuarantine detaches the recorded quarantine policy.
	ActionReleaseQuarantine = "release-detach-quarantine"
	// ActionReleaseSessions deletes the recorded inline policy.
	ActionReleaseSessions = "release-delete-sessions-policy"
	// ActionReleaseReactivate makes the key Active again: weakening.
	ActionReleaseReactivate = "release-reactivate-key"
	// ActionReleaseClear removes the containment records.
	ActionReleaseClear = "release-clear-records"
)

var containCalls = map[string]string{
	ActionContainDeactivate:   "iam:UpdateAccessKey",
	ActionContainRecordKey:    "iam:TagUser",
	ActionContainQuarantine:   "iam:TagUser,iam:AttachUserPolicy",
	ActionContainSessions:     "iam:TagUser,iam:PutUserPolicy",
	ActionContainLogin:        "iam:TagUser,iam:DeleteLoginProfile",
	ActionReplaceDeleteOrphan: "iam:DeleteAccessKey",
	ActionReplaceDeleteLeaked: "iam:DeleteAccessKey",
	ActionReplaceCreate:       "iam:TagUser,iam:CreateAccessKey",
	ActionReplaceVerify:       "sts:GetCallerIdentity",
	ActionReplaceDeliver:      "iam:TagUser",
	ActionReplaceLift:         "iam:DeleteUserPolicy,iam:DetachUserPolicy,iam:TagUser",
	ActionReleaseQuarantine:   "iam:DetachUserPolicy",
	ActionReleaseSessions:     "iam:DeleteUserPolicy",
	ActionReleaseReactivate:   "iam:UpdateAccessKey",
	ActionReleaseClear:        "iam:UntagUser",
}

// ContainState names what ContainLeakedKey and ReleaseContainment find on
// the user: the records of TagContain* and the live key, policies and
// console password. The package documentation's table of containment
// states lists every state, and a test checks it against this enum.
type ContainState int

// The states of a containment.
const (
	// ContainNone: no containment record on the user.
	ContainNone ContainState = iota
	// ContainPartial: some records, and some wanted step not (or no
	// longer) in effect: an interrupted run, or a key reactivated by hand.
	ContainPartial
	// ContainComplete: every wanted step is in effect and recorded.
	ContainComplete
	// ContainOtherKey: the user's records name another key: refused.
	ContainOtherKey
	// ContainReplaced: ReplaceLeakedKey delivered a new key; the leaked
	// key stays Inactive (or is deleted) and is never reactivated.
	ContainReplaced

	numContainStates // the number of states; not a state
)

var containStateNames = [numContainStates]string{
	ContainNone:     "none",
	ContainPartial:  "partial",
	ContainComplete: "complete",
	ContainOtherKey: "other-key",
	ContainReplaced: "replaced",
}

// ContainStates lists every containment state, in order.
func ContainStates() []ContainState {
	s := make([]ContainState, numContainStates)
	for i := range s {
		s[i] = ContainState(i)
	}
	return s
}

func (s ContainState) String() string {
	if s < 0 || s >= numContainStates {
		return "unknown"
	}
	return containStateNames[s]
}

// MarshalText writes the state's name.
func (s ContainState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// containRecord is what the TagContain* tags say.
type containRecord struct {
	KeyID       string // "" when no key record
	Deactivated bool   // the key record says containment deactivated it
	PolicyARN   string
	Sessions    bool
	Login       bool
	// ReplaceKeyID and ReplaceStage are what TagContainReplace says
	// ("intent", "pending", "delivered", "lifted"); IntentKeys are the
	// keys the user held before the new one was created.
	ReplaceKeyID, ReplaceStage string
	IntentKeys                 []string
	tagKeys                    []string
}

// replaced reports whether the records say a new key was delivered.
func (r *containRecord) replaced() bool {
	return r.ReplaceStage == replaceDelivered || r.ReplaceStage == replaceLifted
}

// The stages of TagContainReplace.
const (
	replaceIntent    = "intent"
	replacePending   = "pending"
	replaceDelivered = "delivered"
	replaceLifted    = "lifted"
)

func (r *containRecord) any() bool { return len(r.tagKeys) > 0 }

// addTag reads one user tag into the record.
func (r *containRecord) addTag(k, v string) {
	switch k {
	case TagContainKey:
		f := strings.Fields(v)
		if len(f) > 0 {
			r.KeyID = f[0]
		}
		r.Deactivated = len(f) > 1 && f[1] == "deactivated"
	case TagContainPolicy:
		r.PolicyARN, _, _ = strings.Cut(v, " ")
	case TagContainSessions:
		r.Sessions = true
	case TagContainLogin:
		r.Login = true
	case TagContainReplace:
		r.addReplace(strings.Fields(v))
	default:
		return
	}
	r.tagKeys = append(r.tagKeys, k)
}

func (r *containRecord) addReplace(f []string) {
	if len(f) > 1 && f[0] == replaceIntent {
		r.ReplaceStage = replaceIntent
		if ks, ok := strings.CutPrefix(f[1], "keys="); ok && ks != "" {
			r.IntentKeys = strings.Split(ks, ",")
		}
		return
	}
	if len(f) > 1 {
		r.ReplaceKeyID, r.ReplaceStage = f[0], f[1]
	}
}

// containLive is the state a containment plan is made from.
type containLive struct {
	keyID, user, arn string
	status           types.StatusType            // the leaked key's status; "" when deleted
	keys             map[string]types.StatusType // every key of the user
	attached         map[string]bool             // managed policies attached to the user
	inline           bool                        // SessionsPolicyName exists
	login            bool                        // a console password exists (read only when asked)
	rec              containRecord
}

// containWant is what the caller asked containment to do.
type containWant struct {
	policyARN      string
	revokeSessions bool
	disableConsole bool
	now            time.Time
}

// classifyContain names the state of l for the wanted containment. Pure.
func classifyContain(l *containLive, w containWant) ContainState {
	switch {
	case l.rec.KeyID != "" && l.rec.KeyID != l.keyID:
		return ContainOtherKey
	case !l.rec.any():
		return ContainNone
	case l.rec.replaced():
		return ContainReplaced
	case len(planContain(l, w).Actions) == 0:
		return ContainComplete
	}
	return ContainPartial
}

// planContain returns the actions that bring l to the wanted containment:
// each step not in effect, in order. Pure.
func planContain(l *containLive, w containWant) *awsguard.Plan {
	p := &awsguard.Plan{Operation: "keyrotate.ContainLeakedKey", Resource: l.keyID}
	add := func(kind, res, detail, why string) {
		p.Add(awsguard.Action{Kind: kind, Call: containCalls[kind], Resource: res, Detail: detail, Why: why})
	}
	if l.status == types.StatusTypeActive {
		add(ActionContainDeactivate, l.keyID, "deactivate leaked key "+l.keyID+" of "+l.user, "the key is Active")
	}
	if l.rec.KeyID == "" {
		add(ActionContainRecordKey, l.user, "record on "+l.user+": "+l.keyRecord(w.now), "a re-run and a release read what was done from the user's tags")
	}
	lifted := l.rec.ReplaceStage == replaceLifted // the replacement released the user
	if !lifted && !l.attached[w.policyARN] {
		add(ActionContainQuarantine, w.policyARN, "attach "+w.policyARN+" to "+l.user, "the quarantine policy is not attached")
	}
	if !lifted && w.revokeSessions && !l.inline {
		add(ActionContainSessions, l.user, "deny sessions of "+l.user+" issued before "+w.now.UTC().Format(time.RFC3339), "sessions minted with the key outlive its deactivation")
	}
	if w.disableConsole && l.login {
		add(ActionContainLogin, l.user, "delete the console password of "+l.user+" (it cannot be restored)", "the user has a console password")
	}
	return p
}

// planRelease returns the actions that undo what l's records say
// containment did, in order. Pure.
func planRelease(l *containLive) *awsguard.Plan {
	p := &awsguard.Plan{Operation: "keyrotate.ReleaseContainment", Resource: l.keyID}
	add := func(kind, res, detail, why string, weak bool) {
		p.Add(awsguard.Action{Kind: kind, Call: containCalls[kind], Resource: res, Detail: detail, Why: why, Weakening: weak})
	}
	if a := l.rec.PolicyARN; a != "" && l.attached[a] {
		add(ActionReleaseQuarantine, a, "detach "+a+" from "+l.user, "containment attached it", false)
	}
	if l.rec.Sessions && l.inline {
		add(ActionReleaseSessions, l.user, "delete inline policy "+SessionsPolicyName+" of "+l.user, "containment put it", false)
	}
	if l.rec.Deactivated && l.status == types.StatusTypeInactive && !l.rec.replaced() {
		add(ActionReleaseReactivate, l.keyID, "reactivate leaked key "+l.keyID+" of "+l.user, "containment deactivated it", true)
	}
	if l.rec.any() {
		add(ActionReleaseClear, l.user, "remove the containment records of "+l.user, "the containment is released", false)
	}
	if len(p.Actions) == 0 {
		p.Reason = awsguard.ReasonNothingToRemove
	}
	return p
}

// keyRecord is the TagContainKey value for the key as l shows it.
func (l *containLive) keyRecord(now time.Time) string {
	what := "was-inactive"
	if l.status == types.StatusTypeActive {
		what = "deactivated"
	}
	return fmt.Sprintf("%s %s at=%s", l.keyID, what, now.UTC().Format(time.RFC3339))
}
