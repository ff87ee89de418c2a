package keyrotate

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/awsguard/awsguard"
)

// The kinds of Action in a rotation plan, in the order they run. Each
// action's Call names the IAM (or STS) call it makes.
const (
	// ActionDeleteKey deletes a key to make room for the new one (an
	// inactive key, or an active one if Options.DeleteOldActive allows), or
	// an orphan key that an interrupted run created and never delivered.
	ActionDeleteKey = "delete-key"
	// ActionRecordIntent tags the user with TagRotation=old=KEYID.
	ActionRecordIntent = "record-intent"
	// ActionCreateKey creates the new key.
	ActionCreateKey = "create-key"
	// ActionRecordNewKey tags the user with the new key's ID, marked
	// pending: created, its delivery not confirmed.
	ActionRecordNewKey = "record-new-key"
	// ActionVerifyKey polls sts:GetCallerIdentity signed with the new key.
	ActionVerifyKey = "verify-key"
	// ActionDeliverKey calls Options.Deliver with the new key.
	ActionDeliverKey = "deliver-key"
	// ActionRecordDelivery tags the user with the delivered key's ID.
	ActionRecordDelivery = "record-delivery"
	// ActionDeactivateKey makes the old key Inactive.
	ActionDeactivateKey = "deactivate-key"
	// ActionRecordDeactivation tags the user with the deactivation time.
	ActionRecordDeactivation = "record-deactivation"
	// ActionDeleteOldKey reads the old key's last use and deletes it unless
	// it was used after its deactivation (then it is kept: OutcomeSkipped).
	ActionDeleteOldKey = "delete-old-key"
	// ActionClearRecord removes TagRotation and the deactivation tags of
	// keys that no longer exist.
	ActionClearRecord = "clear-record"
)

// actionCalls are the calls each kind of action makes.
var actionCalls = map[string]string{
	ActionDeleteKey:          "iam:DeleteAccessKey",
	ActionRecordIntent:       "iam:TagUser",
	ActionCreateKey:          "iam:CreateAccessKey",
	ActionRecordNewKey:       "iam:TagUser",
	ActionVerifyKey:          "sts:GetCallerIdentity",
	ActionDeliverKey:         "",
	ActionRecordDelivery:     "iam:TagUser",
	ActionDeactivateKey:      "iam:UpdateAccessKey",
	ActionRecordDeactivation: "iam:TagUser",
	ActionDeleteOldKey:       "iam:GetAccessKeyLastUsed,iam:DeleteAccessKey",
	ActionClearRecord:        "iam:UntagUser",
}

// KeyOutcome is what a run did with a key other than the new one.
type KeyOutcome string

// The outcomes of the keys a run touched or examined.
const (
	// OutcomePlanned: a dry run, or a run that stopped before the key's
	// steps; see the plan.
	OutcomePlanned KeyOutcome = "planned"
	// OutcomeDeletedToMakeRoom: deleted before the new key was created.
	OutcomeDeletedToMakeRoom KeyOutcome = "deleted-to-make-room"
	// OutcomeOrphanDeleted: a key an interrupted run created and never
	// delivered, deleted.
	OutcomeOrphanDeleted KeyOutcome = "orphan-deleted"
	// OutcomeDeactivated: the replaced key, now Inactive and waiting for
	// FinishRotation.
	OutcomeDeactivated KeyOutcome = "deactivated"
	// OutcomeDeleted: the replaced key, deleted after the last-use check.
	OutcomeDeleted KeyOutcome = "deleted"
	// OutcomeUsedAfterDeactivation: kept, because IAM records a use after
	// its deactivation: someone still depends on it.
	OutcomeUsedAfterDeactivation KeyOutcome = "kept-used-after-deactivation"
	// OutcomeInGrace: Inactive, kept until its DeleteAfter.
	OutcomeInGrace KeyOutcome = "kept-in-grace"
	// OutcomeReactivated: carries a deactivation record but is Active
	// again; left alone and its record removed.
	OutcomeReactivated KeyOutcome = "kept-reactivated"
	// OutcomeKept: still active and not the rotation's concern (the run did
	// not rotate).
	OutcomeKept KeyOutcome = "kept"
)

// LastUse is what IAM reports of a key's last use.
type LastUse struct {
	Date    time.Time `json:"date"`
	Service string    `json:"service,omitempty"`
	Region  string    `json:"region,omitempty"`
	// AfterDeactivation is true when Date is later than the key's recorded
	// deactivation.
	AfterDeactivation bool `json:"after_deactivation"`
}

// OldKey reports a key other than the new one: the replaced key, a key
// deleted to make room, an orphan, or a key FinishRotation examined.
type OldKey struct {
	KeyID string `json:"key_id"`
	// Status is the key's status when the run began.
	Status     string     `json:"status"`
	CreateDate time.Time  `json:"create_date"`
	Outcome    KeyOutcome `json:"outcome"`
	// DeactivatedAt is the recorded deactivation time, if any.
	DeactivatedAt time.Time `json:"deactivated_at,omitzero"`
	// DeleteAfter is when FinishRotation may delete the key (set by
	// FinishRotation for keys in their grace period).
	DeleteAfter time.Time `json:"delete_after,omitzero"`
	// LastUsed is set when the run read the key's last use; nil when it
	// did not, or when the key was never used.
	LastUsed *LastUse `json:"last_used,omitempty"`
}

// Rotation is what RotateAccessKey and FinishRotation return: an
// awsguard.Plan (Operation, Resource = the user, DryRun, Actions with their
// Outcome, Applied, Reason, Warnings) and what the rotation found and did.
//
// An Action's Resource is the key it works on (empty for the new key
// until it exists), or the user for ActionClearRecord. Reason is one of
// awsguard's Reason constants: ReasonNotDue for a key younger than
// MaxAge (or keys in their grace period), ReasonNothingToRemove when
// FinishRotation has nothing to delete, ReasonRefused when the state
// forbids acting; Summary says the same in a line of words.
type Rotation struct {
	awsguard.Plan
	User string `json:"user"`
	// UserARN is the user's ARN, once read.
	UserARN string `json:"user_arn,omitempty"`
	// State is what the run found on the user (see State).
	State State `json:"state"`
	// Summary says in one line what the run did or why it did nothing.
	Summary string `json:"summary"`
	// NewKey is the new key. Its Secret redacts itself; it is empty when
	// the run finished a rotation whose key an earlier run delivered.
	NewKey *AccessKey `json:"new_key,omitempty"`
	// OldKeys reports every other key the run touched or examined.
	OldKeys []OldKey `json:"old_keys"`
	// VerifyPolls counts the sts:GetCallerIdentity calls made with the new
	// key; Identity is the ARN it authenticated as.
	VerifyPolls int    `json:"verify_polls"`
	Identity    string `json:"identity,omitempty"`
	// Resumed is true when the run finished a rotation an earlier run began.
	Resumed bool `json:"resumed"`
}

func newRotation(op, user string, dryRun bool) *Rotation {
	return &Rotation{Plan: awsguard.Plan{Operation: op, Resource: user, DryRun: dryRun, Actions: []awsguard.Action{}}, User: user, OldKeys: []OldKey{}}
}

// Settings are the options RotateAccessKey and RotateAccessKeys share. The
// zero value is safe: no dry run, no deletion of active keys, the old key
// deactivated and kept, a delivery function required.
type Settings struct {
	// DryRun reads the live state and returns the plan; it makes no
	// mutating call.
	DryRun bool
	// Logger receives one record per step; default discards.
	Logger *slog.Logger
	// Progress, if set, receives an event as each step starts and one
	// when the last is done.
	Progress func(awsguard.Progress)
	// Now returns the current time; default time.Now. Key ages (MaxAge)
	// and deactivation records are computed with it.
	Now func() time.Time
	// Verify bounds the wait for the new key to authenticate.
	Verify VerifyOptions
	// Deliver hands the new key over (into a secret, a file) before the old
	// key is touched. Required unless DryRun. If it fails, the new key is
	// deleted and the old stays active, except when its error is (by
	// errors.Is) context.Canceled or context.DeadlineExceeded: the delivery
	// may then have taken effect, so the new key and its pending record
	// are kept and the *awsguard.StepError says to re-run with InUseKeyID
	// naming the key actually in use. It must be safe to call again with a
	// later key after a failure.
	Deliver func(ctx context.Context, key AccessKey) error
	// DeleteOldActive allows deleting an active key to make room when the
	// user already holds two active keys: the one not named by InUseKeyID,
	// which is then required (an *awsguard.InputError on it otherwise).
	// Without DeleteOldActive such a user gets ErrKeyLimit.
	DeleteOldActive bool
	// DeleteOld deletes the replaced key right after deactivating it (after
	// checking its last use) instead of leaving it for FinishRotation.
	DeleteOld bool
	// MaxAge, if positive, rotates only when the key in use is at least
	// this old (by Now); a younger key gives Applied false and Reason
	// awsguard.ReasonNotDue. Zero rotates always.
	MaxAge time.Duration
}

// Options adjust RotateAccessKey: the shared Settings, and what only a
// rotation of one user can say.
type Options struct {
	Settings
	// InUseKeyID names the key the user's software uses now. It is the key
	// a rotation replaces, and it is never deleted to make room nor taken
	// for an orphan. After a run interrupted between delivering a new key
	// and recording the delivery, it tells the re-run which key is in use:
	// the new one (finish) or the old one (the new one is deleted).
	InUseKeyID string
	// DeliveredKey, if set, returns the key an earlier, interrupted run
	// delivered, read back from where Deliver put it (false if it is not
	// there). It matters only when the caller signs with the key it rotates
	// (Clients.IAMFor set): a run that finishes an earlier rotation then
	// signs its steps with the delivered key. Without it such a run is
	// refused with ErrRotationInProgress naming the key to sign with.
	DeliveredKey func(ctx context.Context, keyID string) (AccessKey, bool)
}

var (
	keyIDRE    = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

const (
	allowedUser  = "an IAM user name: 1 to 64 of letters, digits and +=,.@_-"
	allowedKeyID = "an access key ID: 16 to 128 capital letters and digits"
)

// ValidateUserName returns an *awsguard.InputError unless name is an IAM
// user name: 1 to 64 of letters, digits and +=,.@_-.
func ValidateUserName(name string) error { return validateUser("", "user", name) }

func validateUser(op, field, user string) error {
	if !userNameRE.MatchString(user) {
		return inputError(op, field, user, allowedUser)
	}
	return nil
}

func (s *Settings) validate(op string) error {
	if s.MaxAge < 0 {
		return inputError(op, "Options.MaxAge", s.MaxAge.String(), "zero or a positive duration")
	}
	if err := s.Verify.validate(op, "Options.Verify"); err != nil {
		return err
	}
	if !s.DryRun && s.Deliver == nil {
		return inputError(op, "Options.Deliver", "nil", "a function, unless DryRun: the new key must go somewhere before the old one is deactivated")
	}
	return nil
}

func (s *Settings) defaults() {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

func (c Clients) validate(op string, dryRun bool) error {
	if c.IAM == nil {
		return inputError(op, "Clients.IAM", "nil", "an IAM client")
	}
	if c.STS == nil && !dryRun {
		return inputError(op, "Clients.STS", "nil", "an STS factory unless DryRun (STSFromConfig makes one)")
	}
	return nil
}

// RotateAccessKey replaces the access key a user's software uses with a new
// one, proving the new key works and handing it over before the old key is
// touched. See the package documentation for the steps, the states a
// re-run finds and what it does in each.
//
// It returns the Rotation, also on error (what was planned and done so
// far). A failed step returns an *awsguard.StepError that says what was
// rolled back and what remains to do; bad input returns an
// *awsguard.InputError before any call.
//
// Permissions: iam:GetUser, iam:ListAccessKeys, iam:ListUserTags,
// iam:CreateAccessKey, iam:UpdateAccessKey, iam:DeleteAccessKey,
// iam:GetAccessKeyLastUsed, iam:TagUser, iam:UntagUser on the user;
// sts:GetCallerIdentity (which needs no permission).
func RotateAccessKey(ctx context.Context, c Clients, user string, optFns ...func(*Options)) (*Rotation, error) {
	const op = "keyrotate.RotateAccessKey"
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	o.defaults()
	if err := validateUser(op, "user", user); err != nil {
		return nil, err
	}
	if o.InUseKeyID != "" && !keyIDRE.MatchString(o.InUseKeyID) {
		return nil, inputError(op, "Options.InUseKeyID", o.InUseKeyID, allowedKeyID)
	}
	if err := o.validate(op); err != nil {
		return nil, err
	}
	if err := c.validate(op, o.DryRun); err != nil {
		return nil, err
	}
	return rotate(ctx, c, user, o)
}

// summary says in a line what a run that carried out its plan did.
func (r *Rotation) summary() string {
	if r.NewKey == nil {
		if r.Summary != "" {
			return r.Summary
		}
		return "cleaned up"
	}
	s := "rotated to " + r.NewKey.AccessKeyID
	if r.Resumed {
		s = "finished the interrupted rotation to " + r.NewKey.AccessKeyID
	}
	for _, k := range r.OldKeys {
		s += fmt.Sprintf("; %s %s", k.KeyID, k.Outcome)
	}
	return s
}
