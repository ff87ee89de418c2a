package keyrotate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The user tags in which a rotation records its progress, so that a run
// interrupted at any point is finished or undone by the next one.
const (
	// TagRotation marks a rotation in progress. Its value is "old=KEYID"
	// from just before the new key is created, "old=KEYID new=KEYID
	// pending" right after it is created (before it is delivered), and
	// "old=KEYID new=KEYID" once its delivery is confirmed, each followed
	// by " at=TIME", when the intent was recorded (RFC 3339, UTC). The last
	// step removes it, as does a CreateKey that surely created nothing.
	TagRotation = "awsguard:rotation"
	// TagDeactivatedPrefix followed by a key ID holds the time (RFC 3339)
	// at which a rotation deactivated that key; FinishRotation counts the
	// grace period from it.
	TagDeactivatedPrefix = "awsguard:deactivated:"
)

// lastUseSlack is how much later than the recorded deactivation a key's
// last use must be to count as use after deactivation: it absorbs the
// difference between the caller's clock and AWS's.
const lastUseSlack = 5 * time.Second

// The kinds of Action in a rotation plan, in the order they run.
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
	// it was used after its deactivation.
	ActionDeleteOldKey = "delete-old-key"
	// ActionClearRecord removes TagRotation and the deactivation tags of
	// keys that no longer exist.
	ActionClearRecord = "clear-record"
)

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

// Rotation is what RotateAccessKey and FinishRotation return.
type Rotation struct {
	User string `json:"user"`
	// Plan is the ordered actions; a dry run returns it without acting.
	// An Action's Resource is the key it works on (empty for the new key
	// until it exists), or the user for ActionClearRecord; Done marks the
	// actions carried out.
	Plan []Action `json:"plan"`
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
	// Applied is true when the run changed something.
	Applied bool `json:"applied"`
	// Reason says in one line what the run did or why it did nothing.
	Reason string `json:"reason"`
	// Warnings lists what went wrong without stopping the run, such as a
	// key used after its deactivation.
	Warnings []string `json:"warnings,omitempty"`
}

// Options adjust a rotation. The zero value is safe: no dry run, no
// deletion of active keys, the old key deactivated and kept, a delivery
// function required.
type Options struct {
	// DryRun reads the live state and returns the plan; it makes no
	// mutating call.
	DryRun bool
	// Logger receives one record per step; default discards.
	Logger *slog.Logger
	// Now returns the current time; default time.Now. Key ages (MaxAge),
	// deactivation records and grace periods are computed with it.
	Now func() time.Time
	// Verify bounds the wait for the new key to authenticate.
	Verify VerifyOptions
	// Deliver hands the new key over (into a secret, a file) before the old
	// key is touched. Required unless DryRun. If it fails, the new key is
	// deleted and the old stays active, except when its error is (by
	// errors.Is) context.Canceled or context.DeadlineExceeded: the delivery
	// may then have taken effect, so the new key and its pending record
	// are kept and the *StepError says to re-run with InUseKeyID naming
	// the key actually in use. It must be safe to call again with a later
	// key after a failure.
	Deliver func(ctx context.Context, key AccessKey) error
	// DeliveredKey, if set, returns the key an earlier, interrupted run
	// delivered, read back from where Deliver put it (false if it is not
	// there). It matters only when the caller signs with the key it rotates
	// (Clients.IAMFor set): a run that finishes an earlier rotation then
	// signs its steps with the delivered key. Without it such a run is
	// refused with ErrRotationInProgress naming the key to sign with.
	DeliveredKey func(ctx context.Context, keyID string) (AccessKey, bool)
	// InUseKeyID names the key the user's software uses now. It is the key
	// a rotation replaces, and it is never deleted to make room nor taken
	// for an orphan. After a run interrupted between delivering a new key
	// and recording the delivery, it tells the re-run which key is in use:
	// the new one (finish) or the old one (the new one is deleted). Not
	// allowed in RotateAccessKeys.
	InUseKeyID string
	// DeleteOldActive allows deleting an active key to make room when the
	// user already holds two active keys: the one not named by InUseKeyID,
	// which is then required (an *InputError on it otherwise). Without
	// DeleteOldActive such a user gets ErrKeyLimit.
	DeleteOldActive bool
	// DeleteOld deletes the replaced key right after deactivating it (after
	// checking its last use) instead of leaving it for FinishRotation.
	DeleteOld bool
	// MaxAge, if positive, rotates only when the key in use is at least
	// this old (by Now); a younger key gives Applied false. Zero rotates
	// always.
	MaxAge time.Duration
	// Concurrency bounds the users RotateAccessKeys rotates at once;
	// default 4.
	Concurrency int
}

var keyIDRE = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)

// ValidateUserName returns an *InputError unless name is an IAM user name:
// 1 to 64 of letters, digits and +=,.@_-.
func ValidateUserName(name string) error { return validateUser(name) }

func validateUser(user string) error {
	if !userNameRE.MatchString(user) {
		return &InputError{Field: "user", Reason: fmt.Sprintf("%q is not an IAM user name (1 to 64 of letters, digits and +=,.@_-)", user)}
	}
	return nil
}

func (o *Options) validate(needDeliver bool) error {
	if o.InUseKeyID != "" && !keyIDRE.MatchString(o.InUseKeyID) {
		return &InputError{Field: "Options.InUseKeyID", Reason: fmt.Sprintf("%q is not an access key ID (16 to 128 capital letters and digits)", o.InUseKeyID)}
	}
	if o.MaxAge < 0 {
		return &InputError{Field: "Options.MaxAge", Reason: "must not be negative"}
	}
	if o.Concurrency < 0 {
		return &InputError{Field: "Options.Concurrency", Reason: "must not be negative"}
	}
	if o.Verify.MaxWait < 0 || o.Verify.MinDelay < 0 || o.Verify.MaxDelay < 0 {
		return &InputError{Field: "Options.Verify", Reason: "durations must not be negative"}
	}
	if needDeliver && !o.DryRun && o.Deliver == nil {
		return &InputError{Field: "Options.Deliver", Reason: "is required unless DryRun: the new key must go somewhere before the old one is deactivated"}
	}
	return nil
}

func buildOptions(optFns []func(*Options)) Options {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	return o
}

// RotateAccessKey replaces the access key a user's software uses with a new
// one, proving the new key works and handing it over before the old key is
// touched. See the package documentation for the steps, the records that
// make a re-run converge, and the IAM permissions (the methods of IAM).
//
// It returns the Rotation, also on error (what was planned and done so
// far). A failed step returns a *StepError that says what was rolled back
// and what remains to do; bad input returns an *InputError before any call.
func RotateAccessKey(ctx context.Context, c Clients, user string, optFns ...func(*Options)) (*Rotation, error) {
	o := buildOptions(optFns)
	if err := validateUser(user); err != nil {
		return nil, err
	}
	if err := o.validate(true); err != nil {
		return nil, err
	}
	if err := c.validate(o.DryRun); err != nil {
		return nil, err
	}
	return rotate(ctx, c, user, o)
}

func (c Clients) validate(dryRun bool) error {
	if c.IAM == nil {
		return &InputError{Field: "Clients.IAM", Reason: "is required"}
	}
	if c.STS == nil && !dryRun {
		return &InputError{Field: "Clients.STS", Reason: "is required unless DryRun (STSFromConfig makes one)"}
	}
	return nil
}

// Result is the outcome of one user's rotation in RotateAccessKeys.
type Result struct {
	User     string
	Rotation *Rotation
	Err      error
}

// RotateAccessKeys rotates the keys of many users, at most
// Options.Concurrency at once, and returns one Result per user in the order
// given. Options.Deliver receives each user's key (AccessKey.UserName says
// whose), from several goroutines at once: it must be safe for concurrent
// use. The error is non-nil only for bad input, before any call; each
// user's own failure is in its Result.
func RotateAccessKeys(ctx context.Context, c Clients, users []string, optFns ...func(*Options)) ([]Result, error) {
	o := buildOptions(optFns)
	seen := map[string]bool{}
	for i, u := range users {
		if err := validateUser(u); err != nil {
			err.(*InputError).Field = fmt.Sprintf("users[%d]", i)
			return nil, err
		}
		if seen[u] {
			return nil, &InputError{Field: fmt.Sprintf("users[%d]", i), Reason: fmt.Sprintf("%q is listed twice", u)}
		}
		seen[u] = true
	}
	if o.InUseKeyID != "" {
		return nil, &InputError{Field: "Options.InUseKeyID", Reason: "names one user's key; not allowed for a batch"}
	}
	if err := o.validate(true); err != nil {
		return nil, err
	}
	if err := c.validate(o.DryRun); err != nil {
		return nil, err
	}
	out := make([]Result, len(users))
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	for i, u := range users {
		out[i].User = u
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			out[i].Err = fmt.Errorf("keyrotate: user %s not started: %w", u, ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i].Rotation, out[i].Err = rotate(ctx, c, u, o)
		}()
	}
	wg.Wait()
	return out, nil
}

// liveKey is a key as ListAccessKeys shows it.
type liveKey struct {
	ID      string
	Status  types.StatusType
	Created time.Time
}

// live is the state a plan is made from.
type live struct {
	arn         string
	keys        []liveKey
	rec         *record
	deactivated map[string]time.Time
	tagKeys     []string
}

// record is the parsed TagRotation value. Pending marks a New key that
// was created but whose delivery is not confirmed. At is when the intent
// was recorded (zero in records written before it was kept).
type record struct {
	Old, New string
	Pending  bool
	At       time.Time
}

func (r record) String() string {
	s := "old=" + r.Old
	if r.New != "" {
		s += " new=" + r.New
		if r.Pending {
			s += " pending"
		}
	}
	if !r.At.IsZero() {
		s += " at=" + r.At.UTC().Format(time.RFC3339)
	}
	return s
}

// orphanSkew is how far from the recorded intent a key's creation may be
// and the key still be taken for the interrupted run's orphan: it absorbs
// the difference between the caller's clock and AWS's.
const orphanSkew = 5 * time.Minute

func parseRecord(v string) *record {
	r := &record{}
	for _, f := range strings.Fields(v) {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "old":
			r.Old = val
		case "new":
			r.New = val
		case "pending":
			r.Pending = true
		case "at":
			if t, err := time.Parse(time.RFC3339, val); err == nil {
				r.At = t
			}
		}
	}
	return r
}

// complete reports whether the rotation the record describes is done and
// only the record itself was left behind (its removal failed): the new key
// is active and the old one gone or inactive with its deactivation recorded.
func (l *live) complete() bool {
	if l.rec == nil || l.rec.New == "" || l.rec.Pending {
		return false
	}
	if n, ok := l.key(l.rec.New); !ok || n.Status != types.StatusTypeActive {
		return false
	}
	o, ok := l.key(l.rec.Old)
	_, tagged := l.deactivated[l.rec.Old]
	return !ok || (o.Status != types.StatusTypeActive && tagged)
}

func (l *live) key(id string) (liveKey, bool) {
	for _, k := range l.keys {
		if k.ID == id {
			return k, true
		}
	}
	return liveKey{}, false
}

func readLive(ctx context.Context, api IAM, user string) (*live, error) {
	u, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("keyrotate: get user %s: %w", user, err)
	}
	l := &live{arn: aws.ToString(u.User.Arn), deactivated: map[string]time.Time{}}
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("keyrotate: list access keys of %s: %w", user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			l.keys = append(l.keys, liveKey{ID: aws.ToString(k.AccessKeyId), Status: k.Status, Created: aws.ToTime(k.CreateDate)})
		}
	}
	slices.SortFunc(l.keys, func(a, b liveKey) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	tp := iam.NewListUserTagsPaginator(api, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("keyrotate: list tags of %s: %w", user, err)
		}
		for _, t := range page.Tags {
			k, v := aws.ToString(t.Key), aws.ToString(t.Value)
			switch {
			case k == TagRotation:
				l.rec = parseRecord(v)
				l.tagKeys = append(l.tagKeys, k)
			case strings.HasPrefix(k, TagDeactivatedPrefix):
				// An unreadable time counts as no record: FinishRotation
				// records a new one, so the grace period starts over
				// rather than being skipped.
				l.tagKeys = append(l.tagKeys, k)
				if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
					l.deactivated[strings.TrimPrefix(k, TagDeactivatedPrefix)] = ts
				}
			}
		}
	}
	return l, nil
}

// directRun carries one RotateAccessKey or FinishRotation call.
type directRun struct {
	c    Clients
	api  IAM
	o    Options
	user string
	l    *live
	rot  *Rotation
	log  *slog.Logger

	newKey      *AccessKey
	old         string    // the replaced key
	deactAt     time.Time // when this run deactivated old
	deleted     []string  // keys deleted by this run
	orphans     []string  // keys planned for deletion as orphans
	recAt       time.Time // the time in the record this run writes
	wroteRecord bool
	// createSurelyFailed is set when CreateKey surely created no key
	// (refused by the service, or never called).
	createSurelyFailed bool
	deliverCalled      bool
	// reactivatedTags are deactivation records of keys that are active
	// again (FinishRotation removes them).
	reactivatedTags []string
}

func rotate(ctx context.Context, c Clients, user string, o Options) (*Rotation, error) {
	r := &directRun{c: c, api: c.IAM, o: o, user: user, rot: &Rotation{User: user, Plan: []Action{}, OldKeys: []OldKey{}},
		log: o.Logger.With("operation", "keyrotate.RotateAccessKey", "user", user, "dry_run", o.DryRun)}
	l, err := readLive(ctx, c.IAM, user)
	if err != nil {
		return r.rot, err
	}
	r.l = l
	if err := r.planRotation(); err != nil {
		return r.rot, err
	}
	if o.DryRun {
		if r.rot.Reason == "" {
			r.rot.Reason = fmt.Sprintf("dry run: %d actions planned, none taken", len(r.rot.Plan))
		}
		return r.rot, nil
	}
	if len(r.rot.Plan) == 0 {
		return r.rot, nil
	}
	if r.rot.Resumed && c.IAMFor != nil {
		// Rotating one's own key: the old key may be, or is about to be,
		// inactive, so the remaining steps are signed with the delivered one.
		id := r.rot.NewKey.AccessKeyID
		var k AccessKey
		ok := false
		if o.DeliveredKey != nil {
			k, ok = o.DeliveredKey(ctx, id)
		}
		if !ok || k.AccessKeyID != id || k.Secret == "" {
			return r.rot, fmt.Errorf("%w: %s: an earlier run delivered %s; finishing a rotation of one's own key must be signed with that key: "+
				"set Options.DeliveredKey, or run again with clients signed with %s and Clients.IAMFor nil", ErrRotationInProgress, user, id, id)
		}
		r.api = c.IAMFor(k)
	}
	if err := r.apply(ctx); err != nil {
		return r.rot, err
	}
	r.rot.Reason = r.summary()
	return r.rot, nil
}

func (r *directRun) add(kind, keyID, detail string) {
	if kind == ActionClearRecord {
		keyID = r.user
	}
	r.rot.Plan = append(r.rot.Plan, Action{Kind: kind, Resource: keyID, Detail: detail})
}

func (r *directRun) oldKey(k liveKey, outcome KeyOutcome) *OldKey {
	for i := range r.rot.OldKeys {
		if r.rot.OldKeys[i].KeyID == k.ID {
			return &r.rot.OldKeys[i]
		}
	}
	ok := OldKey{KeyID: k.ID, Status: string(k.Status), CreateDate: k.Created, Outcome: outcome}
	if t, found := r.l.deactivated[k.ID]; found {
		ok.DeactivatedAt = t
	}
	r.rot.OldKeys = append(r.rot.OldKeys, ok)
	return &r.rot.OldKeys[len(r.rot.OldKeys)-1]
}

func (r *directRun) planRotation() error {
	l := r.l
	keys := slices.Clone(l.keys)
	if l.rec != nil {
		resumed, err := r.planFromRecord()
		if err != nil || resumed {
			return err
		}
		if len(r.orphans) > 0 {
			var kept []liveKey
			for _, k := range keys {
				if !slices.Contains(r.orphans, k.ID) {
					kept = append(kept, k)
				}
			}
			keys = kept
		}
	}
	o := r.o
	if len(keys) == 0 {
		return fmt.Errorf("%w: %s has no access key", ErrNoActiveKey, r.user)
	}
	var old liveKey
	var active []liveKey
	for _, k := range keys {
		if k.Status == types.StatusTypeActive {
			active = append(active, k)
		}
	}
	switch {
	case o.InUseKeyID != "":
		k, ok := l.key(o.InUseKeyID)
		if !ok {
			return fmt.Errorf("%w: %s has no key %s", ErrInUseKeyNotFound, r.user, o.InUseKeyID)
		}
		if k.Status != types.StatusTypeActive {
			return fmt.Errorf("%w: the key in use, %s, is %s", ErrNoActiveKey, k.ID, k.Status)
		}
		old = k
	case len(active) == 0:
		return fmt.Errorf("%w: %s has only inactive keys", ErrNoActiveKey, r.user)
	case len(active) == 1:
		old = active[0]
	default:
		if !o.DeleteOldActive {
			return fmt.Errorf("%w: %s has %s and %s; name the key in use (InUseKeyID) and allow deleting the other (DeleteOldActive)", ErrKeyLimit, r.user, active[0].ID, active[1].ID)
		}
		// Deleting an active key on a guess could cut off the software
		// that uses it: the caller must say which one is in use.
		return &InputError{Field: "Options.InUseKeyID", Reason: fmt.Sprintf("is required with DeleteOldActive when the user has two active keys (%s and %s): name the one in use; the other is deleted", active[0].ID, active[1].ID)}
	}
	if o.MaxAge > 0 {
		if age := o.Now().Sub(old.Created); age < o.MaxAge {
			if l.rec != nil || len(r.rot.Plan) > 0 {
				r.add(ActionClearRecord, "", "remove the record of the interrupted rotation")
			}
			r.oldKey(old, OutcomeKept)
			r.rot.Reason = fmt.Sprintf("key %s is %s old, under the maximum age %s: nothing to rotate", old.ID, age.Round(time.Second), o.MaxAge)
			if len(r.rot.Plan) > 0 {
				r.rot.Reason += " (cleaning up after an interrupted run)"
			}
			return nil
		}
	}
	r.old = old.ID
	r.recAt = o.Now().UTC().Truncate(time.Second)
	for _, k := range keys {
		if k.ID == old.ID {
			continue
		}
		if k.Status == types.StatusTypeActive {
			if !o.DeleteOldActive {
				return fmt.Errorf("%w: %s has %s besides %s; allow deleting it with DeleteOldActive", ErrKeyLimit, r.user, k.ID, old.ID)
			}
			r.add(ActionDeleteKey, k.ID, "active, not in use: deleted to make room (DeleteOldActive)")
		} else {
			r.add(ActionDeleteKey, k.ID, "inactive: deleted to make room for the new key")
		}
		r.oldKey(k, OutcomePlanned)
	}
	r.add(ActionRecordIntent, old.ID, fmt.Sprintf("tag %s=%s", TagRotation, record{Old: old.ID, At: r.recAt}))
	r.add(ActionCreateKey, "", "")
	r.add(ActionRecordNewKey, "", fmt.Sprintf("tag %s=old=%s new=<new key> pending", TagRotation, old.ID))
	r.add(ActionVerifyKey, "", "poll sts:GetCallerIdentity with the new key until it authenticates as "+l.arn)
	r.add(ActionDeliverKey, "", "")
	r.add(ActionRecordDelivery, "", fmt.Sprintf("tag %s=old=%s new=<new key>", TagRotation, old.ID))
	r.planFinish(old, true, "")
	return nil
}

// inProgress is the error of a re-run that cannot tell from the record and
// the caller's InUseKeyID which key is in use.
func (r *directRun) inProgress(format string, args ...any) error {
	return fmt.Errorf("%w: %s carries %s=%q: %s", ErrRotationInProgress, r.user, TagRotation, r.l.rec.String(), fmt.Sprintf(format, args...))
}

// planFromRecord reads the record of an interrupted rotation. It plans the
// remaining steps and returns true when the rotation is to be finished; it
// returns false with the orphans planned for deletion (r.orphans) and
// r.o.InUseKeyID set when the re-run is to rotate afresh from the old key.
// A key that may have been delivered is never taken for an orphan unless
// the caller names another key in use.
func (r *directRun) planFromRecord() (bool, error) {
	l, rec, inUse := r.l, r.l.rec, r.o.InUseKeyID
	a, hasA := l.key(rec.Old)
	aActive := hasA && a.Status == types.StatusTypeActive
	delivered := rec.New
	confirmed := rec.New != "" && !rec.Pending
	if rec.New == "" && inUse != "" && inUse != rec.Old {
		if _, ok := l.key(inUse); ok {
			delivered, confirmed = inUse, true // the caller says the new key is in use
		}
	}
	// A record without new= says that no key was delivered: the old key
	// is touched only after the delivery is recorded. Another key is not
	// taken for the delivered one on a guess, even if the old key is no
	// longer Active; only the caller's InUseKeyID says so.
	n, hasN := l.key(delivered)
	hasN = hasN && delivered != ""
	switch {
	case hasN && inUse == delivered:
		confirmed = true // the caller says it is in use
	case hasN && rec.Pending && !aActive && inUse == "":
		// The old key is touched only after delivery; the new key is the
		// only one left that can work.
		confirmed = true
	}
	if hasN && confirmed {
		if inUse != "" && inUse != delivered {
			return false, r.inProgress("the new key %s was delivered, but InUseKeyID names %s; name the key the user's software uses now (%s to finish the rotation)", delivered, inUse, delivered)
		}
		if n.Status != types.StatusTypeActive {
			return false, r.inProgress("the delivered key %s is %s: reactivate it, or check which key is in use and remove the tag by hand", delivered, n.Status)
		}
		r.rot.Resumed = true
		r.rot.NewKey = &AccessKey{UserName: r.user, AccessKeyID: delivered, CreateDate: n.Created}
		r.old = rec.Old
		r.recAt = rec.At
		if _, tagged := l.deactivated[rec.Old]; aActive && tagged {
			return false, r.inProgress("the old key %s is Active but carries its deactivation record (%s%s): it was reactivated after its deactivation, so someone still uses it; "+
				"find who uses %s, then deactivate it by hand or remove that tag", rec.Old, TagDeactivatedPrefix, rec.Old, rec.Old)
		}
		if rec.New == "" || rec.Pending {
			// Recorded before the old key is touched, so that a run that
			// dies after deactivating it leaves a record naming the
			// delivered key.
			r.add(ActionRecordDelivery, delivered, fmt.Sprintf("tag %s=%s (InUseKeyID confirms the delivery)", TagRotation, record{Old: rec.Old, New: delivered, At: rec.At}))
		}
		r.planFinish(a, hasA, "finishes the rotation an earlier run began")
		return true, nil
	}
	if rec.New != "" && !hasN && confirmed {
		return false, r.inProgress("the delivered key %s no longer exists; check which key the user's software uses and remove the tag by hand", rec.New)
	}
	// Not confirmed delivered: rotate afresh from the old key, if it is
	// still Active and the caller does not name another key.
	if !aActive {
		var ks []string
		for _, k := range l.keys {
			ks = append(ks, fmt.Sprintf("%s (%s)", k.ID, k.Status))
		}
		if len(ks) == 0 {
			ks = append(ks, "none")
		}
		return false, r.inProgress("the old key %s is not active and the record names no delivered key; the user's keys: %s; "+
			"re-run with InUseKeyID naming the key the user's software uses (another Active key to finish the rotation to it), or remove the tag by hand", rec.Old, strings.Join(ks, ", "))
	}
	if inUse != "" && inUse != rec.Old {
		return false, r.inProgress("InUseKeyID %s is neither the old key %s nor the new key %s", inUse, rec.Old, rec.New)
	}
	if hasN && inUse == "" {
		return false, r.inProgress("the new key %s was created and may have been delivered, but the delivery is not confirmed; "+
			"set InUseKeyID to the key the user's software uses: %s to finish the rotation, or %s to delete %s and rotate afresh", rec.New, rec.New, rec.Old, rec.New)
	}
	// Any key other than the old one is an orphan: created by an
	// interrupted run and never delivered (or, if the record names it, the
	// caller says the old key is still in use).
	// A key is taken for that orphan only if the record names it (pending,
	// and the caller names the old key in use), or if it was created within
	// the clock skew of the recorded intent (CreateKey follows the record at
	// once): a record left behind by a run that never created its key must
	// not make a key added later an orphan. A record without a time names
	// no orphan but its pending key. Other keys fall to the two-key rules
	// below (ErrKeyLimit, or an Inactive key deleted to make room).
	for _, k := range l.keys {
		if k.ID == rec.Old {
			continue
		}
		detail := "orphan of an interrupted rotation: created, never delivered"
		if k.ID == rec.New {
			detail = "created by an interrupted rotation; InUseKeyID names the old key, so it is not in use"
		} else if rec.At.IsZero() || k.Created.Before(rec.At.Add(-orphanSkew)) || k.Created.After(rec.At.Add(orphanSkew)) {
			continue
		}
		r.add(ActionDeleteKey, k.ID, detail)
		r.orphans = append(r.orphans, k.ID)
		r.oldKey(k, OutcomePlanned)
	}
	r.o.InUseKeyID = rec.Old // the record names the key in use
	return false, nil
}

// planFinish plans the steps after delivery for the old key a.
func (r *directRun) planFinish(a liveKey, hasA bool, note string) {
	if hasA {
		r.oldKey(a, OutcomePlanned)
		if a.Status == types.StatusTypeActive {
			r.add(ActionDeactivateKey, a.ID, note)
		}
		if _, tagged := r.l.deactivated[a.ID]; a.Status == types.StatusTypeActive || !tagged {
			r.add(ActionRecordDeactivation, a.ID, "tag "+TagDeactivatedPrefix+a.ID+"=<time>")
		}
		if r.o.DeleteOld {
			r.add(ActionDeleteOldKey, a.ID, "delete unless used after deactivation (DeleteOld)")
		}
	}
	r.add(ActionClearRecord, "", "remove "+TagRotation+" and records of deleted keys")
}

func (r *directRun) summary() string {
	if r.rot.NewKey == nil {
		if r.rot.Reason != "" {
			return r.rot.Reason
		}
		return "cleaned up"
	}
	var parts []string
	if r.rot.Resumed {
		parts = append(parts, "finished the interrupted rotation to "+r.rot.NewKey.AccessKeyID)
	} else {
		parts = append(parts, "rotated to "+r.rot.NewKey.AccessKeyID)
	}
	for _, k := range r.rot.OldKeys {
		parts = append(parts, fmt.Sprintf("%s %s", k.KeyID, k.Outcome))
	}
	return strings.Join(parts, "; ")
}

func (r *directRun) setOutcome(id string, out KeyOutcome) {
	for i := range r.rot.OldKeys {
		if r.rot.OldKeys[i].KeyID == id {
			r.rot.OldKeys[i].Outcome = out
		}
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

// apply runs the plan in order.
func (r *directRun) apply(ctx context.Context) error {
	for i := range r.rot.Plan {
		a := &r.rot.Plan[i]
		if a.Resource == "" && r.newKey != nil {
			a.Resource = r.newKey.AccessKeyID
		}
		if err := ctx.Err(); err != nil {
			if a.Kind == ActionCreateKey {
				r.createSurelyFailed = true // not called
			}
			return r.fail(ctx, *a, err)
		}
		r.log.InfoContext(ctx, "keyrotate step", "step", a.Kind, "resource", a.Resource)
		if err := r.step(ctx, a); err != nil {
			return r.fail(ctx, *a, err)
		}
		a.Done = true
	}
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

func (r *directRun) step(ctx context.Context, a *Action) error {
	switch a.Kind {
	case ActionDeleteKey:
		if err := r.deleteKey(ctx, a.Resource); err != nil {
			return err
		}
		r.rot.Applied = true
		out := OutcomeDeletedToMakeRoom
		if slices.Contains(r.orphans, a.Resource) {
			out = OutcomeOrphanDeleted
		}
		r.setOutcome(a.Resource, out)
	case ActionRecordIntent:
		if err := r.tag(ctx, TagRotation, record{Old: r.old, At: r.recAt}.String()); err != nil {
			return err
		}
		r.wroteRecord = true
		r.rot.Applied = true
	case ActionCreateKey:
		out, err := r.api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(r.user)})
		if err != nil {
			r.createSurelyFailed = surelyRejected(err)
			return fmt.Errorf("keyrotate: create key for %s: %w", r.user, err)
		}
		r.rot.Applied = true
		k := out.AccessKey
		r.newKey = &AccessKey{UserName: r.user, AccessKeyID: aws.ToString(k.AccessKeyId), Secret: Secret(aws.ToString(k.SecretAccessKey)), CreateDate: aws.ToTime(k.CreateDate)}
		r.rot.NewKey = r.newKey
		a.Resource = r.newKey.AccessKeyID
	case ActionRecordNewKey:
		if err := r.tag(ctx, TagRotation, record{Old: r.old, New: r.newKey.AccessKeyID, Pending: true, At: r.recAt}.String()); err != nil {
			return err
		}
	case ActionVerifyKey:
		polls, err := WaitForKey(ctx, r.c.STS, *r.newKey, r.l.arn, r.o.Verify)
		r.rot.VerifyPolls += polls
		if err != nil {
			return err
		}
		r.rot.Identity = r.l.arn
	case ActionDeliverKey:
		r.deliverCalled = true
		if err := r.o.Deliver(ctx, *r.newKey); err != nil {
			return fmt.Errorf("keyrotate: deliver key %s: %w", r.newKey.AccessKeyID, err)
		}
		if r.c.IAMFor != nil {
			r.api = r.c.IAMFor(*r.newKey)
		}
	case ActionRecordDelivery:
		// A hard step: until the delivery is recorded, a re-run cannot tell
		// the delivered key from an orphan, so the old key stays untouched.
		if err := r.tag(ctx, TagRotation, record{Old: r.old, New: r.newKeyID(), At: r.recAt}.String()); err != nil {
			return err
		}
		r.wroteRecord = true
		r.rot.Applied = true
	case ActionDeactivateKey:
		if _, err := r.api.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(r.user), AccessKeyId: aws.String(a.Resource), Status: types.StatusTypeInactive}); err != nil {
			return fmt.Errorf("keyrotate: deactivate key %s: %w", a.Resource, err)
		}
		r.rot.Applied = true
		r.deactAt = r.o.Now().UTC()
		r.setOutcome(a.Resource, OutcomeDeactivated)
		if e := r.entry(a.Resource); e != nil {
			e.DeactivatedAt = r.deactAt
		}
	case ActionRecordDeactivation:
		t := r.deactAt
		if t.IsZero() {
			t = r.o.Now().UTC() // deactivated by an interrupted run: count from now
		}
		if err := r.tag(ctx, TagDeactivatedPrefix+a.Resource, t.Format(time.RFC3339Nano)); err != nil {
			return err
		}
		r.rot.Applied = true
		r.l.deactivated[a.Resource] = t
		if e := r.entry(a.Resource); e != nil {
			e.DeactivatedAt = t
			if e.Outcome == OutcomePlanned {
				e.Outcome = OutcomeDeactivated
			}
		}
	case ActionDeleteOldKey:
		return r.deleteOld(ctx, a.Resource)
	case ActionClearRecord:
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
				if _, ok := r.l.deactivated[id]; ok {
					drop = append(drop, k)
				}
			}
		}
		if r.reactivatedTags != nil {
			drop = append(drop, r.reactivatedTags...)
		}
		if len(drop) == 0 {
			return nil
		}
		if _, err := r.api.UntagUser(ctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: drop}); err != nil {
			// The keys are done; a left-over record is recognised as
			// complete and removed by the next RotateAccessKey or
			// FinishRotation.
			w := fmt.Sprintf("could not remove the records %v (the next run removes them): %v", drop, err)
			r.rot.Warnings = append(r.rot.Warnings, w)
			r.log.WarnContext(ctx, "keyrotate: could not remove the records", "error", err)
			return nil
		}
		r.rot.Applied = true
	}
	return nil
}

// gone reports whether key id no longer exists (never listed, or deleted by
// this run).
func (r *directRun) gone(id string) bool {
	_, ok := r.l.key(id)
	return !ok || slices.Contains(r.deleted, id)
}

// deleteOld deletes the replaced key unless IAM reports a use after its
// recorded deactivation.
func (r *directRun) deleteOld(ctx context.Context, id string) error {
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
	e := r.entry(id)
	deact := r.l.deactivated[id]
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		use := &LastUse{Date: aws.ToTime(lu.LastUsedDate), Service: aws.ToString(lu.ServiceName), Region: aws.ToString(lu.Region)}
		use.AfterDeactivation = !deact.IsZero() && use.Date.After(deact.Add(lastUseSlack))
		if e != nil {
			e.LastUsed = use
		}
		if use.AfterDeactivation {
			r.setOutcome(id, OutcomeUsedAfterDeactivation)
			w := fmt.Sprintf("key %s was used at %s (%s), after its deactivation at %s: not deleted; find who still uses it", id, use.Date.UTC().Format(time.RFC3339), use.Service, deact.UTC().Format(time.RFC3339))
			r.rot.Warnings = append(r.rot.Warnings, w)
			r.log.WarnContext(ctx, "keyrotate: key used after deactivation", "resource", id, "last_used", use.Date)
			return nil
		}
	}
	if err := r.deleteKey(ctx, id); err != nil {
		return err
	}
	r.rot.Applied = true
	r.setOutcome(id, OutcomeDeleted)
	return nil
}

// fail turns a step's error into a *StepError, rolling back the new key if
// it was not yet handed over.
func (r *directRun) fail(ctx context.Context, a Action, err error) error {
	se := &StepError{Step: a.Kind, Resource: a.Resource, Err: err}
	if se.Resource == "" {
		se.Resource = "new key of " + r.user
	}
	switch a.Kind {
	case ActionDeleteKey, ActionRecordIntent:
		se.ToDo = "nothing else was changed; re-run to continue"
	case ActionCreateKey:
		if r.createSurelyFailed {
			r.clearIntent(ctx, se)
			break
		}
		se.ToDo = fmt.Sprintf("the call may have created a key; the old key %s stays active and a re-run deletes a key created within %s of the user's %s record (the record names the key in use)", r.old, orphanSkew, TagRotation)
	case ActionDeliverKey:
		if r.deliverCalled && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
			// Interrupted inside Deliver: the key may have reached its
			// target, so it is not deleted on a guess.
			se.ToDo = fmt.Sprintf("the delivery of the new key %s was interrupted and may have taken effect; the new key and the %s record (pending) are kept and the old key %s stays active. "+
				"Re-run with InUseKeyID %s if the new key reached its users (the re-run finishes), or InUseKeyID %s if not (the re-run deletes %s and rotates afresh); "+
				"without InUseKeyID a re-run refuses with ErrRotationInProgress", r.newKeyID(), TagRotation, r.old, r.newKeyID(), r.old, r.newKeyID())
			break
		}
		r.rollback(ctx, se)
	case ActionRecordNewKey, ActionVerifyKey:
		r.rollback(ctx, se)
	case ActionRecordDelivery:
		se.ToDo = fmt.Sprintf("the new key %s is delivered and works, but its delivery is not recorded; the old key %s is still active. "+
			"Re-run with InUseKeyID %s to finish (or InUseKeyID %s if the new key did not reach its users: the re-run then deletes it and rotates afresh); "+
			"without InUseKeyID a re-run refuses with ErrRotationInProgress", r.newKeyID(), r.old, r.newKeyID(), r.old)
	case ActionDeactivateKey:
		se.ToDo = fmt.Sprintf("the new key %s is delivered and works; the old key %s is still active: re-run to finish", r.newKeyID(), r.old)
	case ActionRecordDeactivation:
		se.ToDo = fmt.Sprintf("the new key %s is delivered; the old key %s is inactive but its deactivation time is not recorded: re-run to finish", r.newKeyID(), a.Resource)
	case ActionDeleteOldKey:
		se.ToDo = fmt.Sprintf("the old key %s is inactive and was not deleted: re-run, or delete it later with FinishRotation", a.Resource)
	}
	r.log.ErrorContext(ctx, "keyrotate step failed", "step", a.Kind, "resource", se.Resource, "error", err)
	return se
}

// clearIntent removes the intent record after CreateKey surely failed, so
// that it does not outlive the run; if that fails, the record's time keeps
// a re-run from taking older keys for orphans.
func (r *directRun) clearIntent(ctx context.Context, se *StepError) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := r.api.UntagUser(rctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: []string{TagRotation}}); err != nil {
		se.ToDo = fmt.Sprintf("no key was created; the old key %s stays active; re-run, or remove the user's %s tag: %v", r.old, TagRotation, err)
		return
	}
	se.RolledBack = append(se.RolledBack, "removed the "+TagRotation+" tag")
	se.ToDo = fmt.Sprintf("nothing: no key was created and the old key %s stays active", r.old)
}

func (r *directRun) newKeyID() string {
	if r.rot.NewKey != nil {
		return r.rot.NewKey.AccessKeyID
	}
	return "(unknown)"
}

// rollback deletes the new key and the rotation record after a failed
// verification or delivery. It runs even if ctx is cancelled.
func (r *directRun) rollback(ctx context.Context, se *StepError) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := r.deleteKey(rctx, r.newKey.AccessKeyID); err != nil {
		// The new key was never delivered: say so in the record, so that a
		// re-run takes it for an orphan and deletes it.
		if terr := r.tag(rctx, TagRotation, record{Old: r.old, At: r.recAt}.String()); terr != nil {
			se.ToDo = fmt.Sprintf("the new key %s was not delivered: delete it by hand (%v), or re-run with InUseKeyID %s (it deletes it); the old key %s stays active", r.newKey.AccessKeyID, err, r.old, r.old)
			return
		}
		se.ToDo = fmt.Sprintf("delete the new key %s by hand, or re-run (it deletes it): %v; the old key %s stays active", r.newKey.AccessKeyID, err, r.old)
		return
	}
	se.RolledBack = append(se.RolledBack, "deleted the new key "+r.newKey.AccessKeyID)
	r.rot.NewKey = nil
	if _, err := r.api.UntagUser(rctx, &iam.UntagUserInput{UserName: aws.String(r.user), TagKeys: []string{TagRotation}}); err != nil {
		se.ToDo = fmt.Sprintf("the old key %s stays active; remove the user's %s tag, or re-run: %v", r.old, TagRotation, err)
		return
	}
	se.RolledBack = append(se.RolledBack, "removed the "+TagRotation+" tag")
	se.ToDo = fmt.Sprintf("nothing: the old key %s stays active", r.old)
}

// FinishRotation deletes the user's Inactive keys whose recorded
// deactivation (TagDeactivatedPrefix) is at least grace old, unless IAM
// reports a use after the deactivation: such a key is kept and reported
// (Rotation.Warnings, OutcomeUsedAfterDeactivation). An Inactive key with
// no record gets one now, so its grace period starts at the first
// FinishRotation that sees it; with grace zero it is deleted at once.
// Active keys are never deleted; a record on an Active key (reactivated by
// someone) is removed. It is idempotent: run it on a schedule.
//
// It refuses with ErrRotationInProgress while an interrupted rotation is
// not finished. Options used: DryRun, Logger, Now.
func FinishRotation(ctx context.Context, api IAM, user string, grace time.Duration, optFns ...func(*Options)) (*Rotation, error) {
	o := buildOptions(optFns)
	if err := validateUser(user); err != nil {
		return nil, err
	}
	if grace < 0 {
		return nil, &InputError{Field: "grace", Reason: "must not be negative"}
	}
	if api == nil {
		return nil, &InputError{Field: "api", Reason: "is required"}
	}
	r := &directRun{c: Clients{IAM: api}, api: api, o: o, user: user, rot: &Rotation{User: user, Plan: []Action{}, OldKeys: []OldKey{}},
		log: o.Logger.With("operation", "keyrotate.FinishRotation", "user", user, "dry_run", o.DryRun)}
	l, err := readLive(ctx, api, user)
	if err != nil {
		return r.rot, err
	}
	r.l = l
	if l.rec != nil && !l.complete() {
		return r.rot, fmt.Errorf("%w: %s carries %s=%q; run RotateAccessKey again first", ErrRotationInProgress, user, TagRotation, l.rec.String())
	}
	now := o.Now()
	waiting := 0
	for _, k := range l.keys {
		t, tagged := l.deactivated[k.ID]
		if k.Status == types.StatusTypeActive {
			if tagged {
				r.oldKey(k, OutcomeReactivated)
				r.reactivatedTags = append(r.reactivatedTags, TagDeactivatedPrefix+k.ID)
			}
			continue
		}
		e := r.oldKey(k, OutcomePlanned)
		switch {
		case !tagged && grace > 0:
			r.add(ActionRecordDeactivation, k.ID, "inactive without a record: its grace period starts now")
			e.Outcome, e.DeleteAfter = OutcomeInGrace, now.Add(grace)
			waiting++
		case !tagged:
			r.l.deactivated[k.ID] = now
			r.add(ActionDeleteOldKey, k.ID, "inactive without a record; grace zero: delete unless used in the last moments")
		case now.Before(t.Add(grace)):
			e.Outcome, e.DeleteAfter = OutcomeInGrace, t.Add(grace)
			waiting++
		default:
			r.add(ActionDeleteOldKey, k.ID, fmt.Sprintf("deactivated %s, grace %s over: delete unless used since", t.UTC().Format(time.RFC3339), grace))
		}
	}
	stale := len(r.reactivatedTags) > 0 || l.rec != nil
	for id := range l.deactivated {
		if _, ok := l.key(id); !ok {
			stale = true
		}
	}
	if len(r.rot.Plan) > 0 || stale {
		r.add(ActionClearRecord, "", "remove the records of deleted or reactivated keys")
	}
	if len(r.rot.Plan) == 0 {
		r.rot.Reason = "nothing to delete"
		if waiting > 0 {
			r.rot.Reason = fmt.Sprintf("%d key(s) still in their grace period", waiting)
		}
		return r.rot, nil
	}
	if o.DryRun {
		r.rot.Reason = fmt.Sprintf("dry run: %d actions planned, none taken", len(r.rot.Plan))
		return r.rot, nil
	}
	if err := r.apply(ctx); err != nil {
		return r.rot, err
	}
	var parts []string
	for _, k := range r.rot.OldKeys {
		parts = append(parts, fmt.Sprintf("%s %s", k.KeyID, k.Outcome))
	}
	r.rot.Reason = strings.Join(parts, "; ")
	if r.rot.Reason == "" {
		r.rot.Reason = "removed stale records"
	}
	return r.rot, nil
}
