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
	"github.com/awsguard/awsguard/internal/awserr"
)

// ReplaceAPI is the part of *iam.Client that ReplaceLeakedKey calls.
type ReplaceAPI interface {
	ContainReadAPI
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	DetachUserPolicy(context.Context, *iam.DetachUserPolicyInput, ...func(*iam.Options)) (*iam.DetachUserPolicyOutput, error)
	DeleteUserPolicy(context.Context, *iam.DeleteUserPolicyInput, ...func(*iam.Options)) (*iam.DeleteUserPolicyOutput, error)
	TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error)
}

// DeleteLeakedAPI is the part of *iam.Client that DeleteLeakedKey calls.
type DeleteLeakedAPI interface {
	ContainReadAPI
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
}

var (
	_ ReplaceAPI      = (*iam.Client)(nil)
	_ DeleteLeakedAPI = (*iam.Client)(nil)
)

// ErrNotContained: ReplaceLeakedKey or DeleteLeakedKey found no
// containment of the key on the user, or the leaked key Active again.
// Run ContainLeakedKey first. Nothing was changed.
var ErrNotContained = errors.New("keyrotate: the key is not contained")

// ErrNoKeySlot: the user of a contained key holds two keys, so a new one
// needs the leaked key's slot: confirm its deletion
// (ReplaceOptions.DeleteLeaked) or delete the other key. Nothing was
// changed.
var ErrNoKeySlot = errors.New("keyrotate: the user holds two access keys: no room for a new one")

// ReplaceClients are the clients ReplaceLeakedKey uses.
type ReplaceClients struct {
	// IAM reads the containment, creates the new key and lifts the
	// quarantine. Required.
	IAM ReplaceAPI
	// STS builds the client that verifies the new key, signed with it.
	// Required unless DryRun; STSFromConfig makes one.
	STS STSFactory
}

// ReplaceOptions tune ReplaceLeakedKey.
type ReplaceOptions struct {
	DryRun bool
	// Deliver hands the new key over, as Settings.Deliver does for a
	// rotation, before the quarantine is lifted. Required unless DryRun.
	// It must be safe to call again with a later key after a failure.
	Deliver func(ctx context.Context, key AccessKey) error
	// Verify bounds the wait for the new key to authenticate.
	Verify VerifyOptions
	// KeepQuarantine keeps the quarantine policy and the sessions deny:
	// the new key is delivered but cannot do what they deny until
	// ReleaseContainment (with User set) or a later run without it.
	KeepQuarantine bool
	// AllowWeaken allows lifting the quarantine (a weakening action);
	// without it, and without KeepQuarantine, the run is refused with an
	// *awsguard.WeakeningError and changes nothing.
	AllowWeaken bool
	// DeleteLeaked confirms that the leaked key is no longer needed as
	// evidence: it is deleted last, or first when the user holds two keys
	// and the new one needs its slot.
	DeleteLeaked bool
	// Now is the clock; default time.Now.
	Now      func() time.Time
	Logger   *slog.Logger
	Progress func(awsguard.Progress)
}

// ReplaceLeakedKey gives the user of a contained leaked key a new key and
// releases the user, in a safe order: the leaked key stays Inactive
// throughout and is never reactivated; the new key is created (recorded
// before and after on the user, TagContainReplace), verified with
// sts:GetCallerIdentity and delivered through ReplaceOptions.Deliver;
// only then are the user-wide quarantine policy and sessions deny that
// containment added lifted (weakening: ReplaceOptions.AllowWeaken, or
// KeepQuarantine to keep them); last, with DeleteLeaked, the leaked key
// is deleted. The user is named because the leaked key may already be
// gone. A re-run reads the records and does only what is left: a key an
// interrupted run created and never delivered is deleted first (while the
// user is quarantined nothing can work with it), and a second run after
// a complete one makes no mutating call.
//
// Permissions: iam:GetUser, iam:ListAccessKeys, iam:ListUserTags,
// iam:ListAttachedUserPolicies, iam:ListUserPolicies,
// iam:GetAccessKeyLastUsed, iam:CreateAccessKey, iam:DeleteAccessKey,
// iam:DetachUserPolicy, iam:DeleteUserPolicy, iam:TagUser;
// sts:GetCallerIdentity (which needs no permission).
func ReplaceLeakedKey(ctx context.Context, c ReplaceClients, user, accessKeyID string, optFns ...func(*ReplaceOptions)) (*Containment, error) {
	const op = "keyrotate.ReplaceLeakedKey"
	var o ReplaceOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateReplace(op, c, user, accessKeyID, &o); err != nil {
		return nil, err
	}
	cn := &Containment{Plan: awsguard.Plan{Operation: op, Resource: accessKeyID, DryRun: o.DryRun, Actions: []awsguard.Action{}}, KeyID: accessKeyID}
	l, err := readContainUser(ctx, c.IAM, user, accessKeyID, true, cn)
	if err != nil {
		return cn, err
	}
	cn.State = classifyContain(l, containWant{policyARN: l.rec.PolicyARN, revokeSessions: l.rec.Sessions})
	p, err := planReplace(l, replaceWant{keep: o.KeepQuarantine, deleteLeaked: o.DeleteLeaked, now: o.Now()})
	if err != nil {
		cn.Reason = awsguard.ReasonRefused
		cn.Summary = "refused: " + err.Error()
		return cn, err
	}
	cn.Actions = append(cn.Actions, p.Actions...)
	if o.KeepQuarantine && l.rec.ReplaceStage != replaceLifted {
		cn.Warnings = append(cn.Warnings, "the quarantine is kept: the new key cannot do what it denies until the containment is released")
	}
	r := &replaceRun{api: c.IAM, sts: c.STS, l: l, o: o, now: o.Now(), c: cn}
	err = cn.Apply(ctx, r.do, awsguard.ApplyOptions{AllowWeaken: o.AllowWeaken, Logger: o.Logger, Progress: o.Progress,
		ToDo: "run ReplaceLeakedKey again: it deletes a key it never delivered, then carries out only what is left; the leaked key stays Inactive"})
	cn.Summary = containSummary(cn, "replaced")
	return cn, err
}

func validateReplace(op string, c ReplaceClients, user, keyID string, o *ReplaceOptions) error {
	if err := validateUser(op, "user", user); err != nil {
		return err
	}
	if err := validateKeyID(op, keyID); err != nil {
		return err
	}
	if err := o.Verify.validate(op, "ReplaceOptions.Verify"); err != nil {
		return err
	}
	if c.IAM == nil {
		return inputError(op, "ReplaceClients.IAM", "nil", "an IAM client")
	}
	if !o.DryRun && c.STS == nil {
		return inputError(op, "ReplaceClients.STS", "nil", "an STS factory unless DryRun (STSFromConfig makes one)")
	}
	if !o.DryRun && o.Deliver == nil {
		return inputError(op, "ReplaceOptions.Deliver", "nil", "a function, unless DryRun: the new key must go somewhere before the quarantine is lifted")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// replaceWant is what the caller asked the replacement to do.
type replaceWant struct {
	keep, deleteLeaked bool
	now                time.Time
}

// planReplace returns the actions that bring a contained user to a
// delivered new key, the quarantine lifted (unless kept) and the leaked
// key deleted (if confirmed). Pure.
func planReplace(l *containLive, w replaceWant) (*awsguard.Plan, error) {
	if l.rec.KeyID != l.keyID {
		return nil, fmt.Errorf("%w: %s holds no containment record of %s: run ContainLeakedKey first", ErrNotContained, l.user, l.keyID)
	}
	if l.status == types.StatusTypeActive {
		return nil, fmt.Errorf("%w: %s is Active again: run ContainLeakedKey first", ErrNotContained, l.keyID)
	}
	p := &awsguard.Plan{Operation: "keyrotate.ReplaceLeakedKey", Resource: l.keyID}
	add := func(kind, res, detail, why string, weak bool) {
		p.Add(awsguard.Action{Kind: kind, Call: containCalls[kind], Resource: res, Detail: detail, Why: why, Weakening: weak})
	}
	held := len(l.keys)
	for _, id := range l.undelivered() {
		add(ActionReplaceDeleteOrphan, id, "delete key "+id+" of "+l.user+" that an interrupted replacement created and never delivered", "its delivery is not recorded; the user is still quarantined", false)
		held--
	}
	leaked := l.status != ""
	creating := !l.rec.replaced() || l.keys[l.rec.ReplaceKeyID] == ""
	if creating {
		if held >= 2 {
			if !w.deleteLeaked || !leaked {
				return nil, fmt.Errorf("%w: %s: confirm deleting the leaked key %s (DeleteLeaked) or delete the other one", ErrNoKeySlot, l.user, l.keyID)
			}
			add(ActionReplaceDeleteLeaked, l.keyID, "delete leaked key "+l.keyID+" of "+l.user+" to make room", "the caller confirmed it is no longer needed as evidence", false)
			leaked = false
		}
		add(ActionReplaceCreate, l.user, "create a new key for "+l.user, "the leaked key stays Inactive", false)
		add(ActionReplaceVerify, l.user, "wait until the new key authenticates as "+l.user, "the new key is delivered only once it works", false)
		add(ActionReplaceDeliver, l.user, "deliver the new key", "before the quarantine is lifted", false)
	}
	if !w.keep && (l.rec.ReplaceStage != replaceLifted || creating) { // a new key's record must say lifted too
		add(ActionReplaceLift, l.user, "lift the containment's quarantine and sessions deny from "+l.user, "the quarantine covers the whole user: the new key cannot work under it", true)
	}
	if w.deleteLeaked && leaked {
		add(ActionReplaceDeleteLeaked, l.keyID, "delete leaked key "+l.keyID+" of "+l.user, "the caller confirmed it is no longer needed as evidence", false)
	}
	if len(p.Actions) == 0 {
		p.Reason = awsguard.ReasonAlreadyCompliant
	}
	return p, nil
}

// undelivered lists the keys an interrupted replacement created and never
// delivered: a key recorded pending, or, after an intent record, a key
// the user did not hold before (its CreateAccessKey answer was lost).
func (l *containLive) undelivered() []string {
	var out []string
	switch l.rec.ReplaceStage {
	case replacePending:
		if l.keys[l.rec.ReplaceKeyID] != "" {
			out = append(out, l.rec.ReplaceKeyID)
		}
	case replaceIntent:
		for id := range l.keys {
			if id != l.keyID && !slices.Contains(l.rec.IntentKeys, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
	}
	return out
}

// replaceRun carries out a replacement plan.
type replaceRun struct {
	api ReplaceAPI
	sts STSFactory
	l   *containLive
	o   ReplaceOptions
	now time.Time
	c   *Containment
	key *AccessKey // the new key, once created
}

func (r *replaceRun) tag(ctx context.Context, v string) error {
	_, err := r.api.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(r.l.user),
		Tags: []types.Tag{{Key: aws.String(TagContainReplace), Value: aws.String(v + " at=" + r.now.UTC().Format(time.RFC3339))}}})
	if err != nil {
		return fmt.Errorf("keyrotate: tag %s with %s: %w", r.l.user, TagContainReplace, err)
	}
	return nil
}

func (r *replaceRun) do(ctx context.Context, a *awsguard.Action) error {
	var err error
	switch a.Kind {
	case ActionReplaceDeleteOrphan, ActionReplaceDeleteLeaked:
		_, err = r.api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(r.l.user), AccessKeyId: aws.String(a.Resource)})
		if awserr.HasCode(err, "NoSuchEntity") {
			err = nil // already gone
		}
		if err == nil {
			delete(r.l.keys, a.Resource)
		}
	case ActionReplaceCreate:
		err = r.create(ctx, a)
	case ActionReplaceVerify:
		var polls int
		polls, err = waitForKey(ctx, r.sts, *r.key, func(arn string) bool { return isUserARN(arn, r.l.user) }, "user "+r.l.user, r.o.Verify)
		a.Detail += fmt.Sprintf(" (%d polls)", polls)
	case ActionReplaceDeliver:
		if err = r.o.Deliver(ctx, *r.key); err != nil {
			err = fmt.Errorf("deliver: %w", err)
		} else {
			err = r.tag(ctx, r.key.AccessKeyID+" "+replaceDelivered)
		}
	case ActionReplaceLift:
		err = r.lift(ctx)
	default:
		return fmt.Errorf("keyrotate: unknown replacement action %q", a.Kind)
	}
	if err != nil {
		return fmt.Errorf("keyrotate: %s: %w", a.String(), err)
	}
	return nil
}

// create records the intent (the keys held now), creates the new key and
// records it pending.
func (r *replaceRun) create(ctx context.Context, a *awsguard.Action) error {
	held := make([]string, 0, len(r.l.keys))
	for id := range r.l.keys {
		held = append(held, id)
	}
	slices.Sort(held)
	if err := r.tag(ctx, replaceIntent+" keys="+strings.Join(held, ",")); err != nil {
		return err
	}
	out, err := r.api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(r.l.user)})
	if err != nil {
		return err
	}
	k := out.AccessKey
	r.key = &AccessKey{UserName: r.l.user, AccessKeyID: aws.ToString(k.AccessKeyId), Secret: awsguard.NewSecret(aws.ToString(k.SecretAccessKey)), CreateDate: aws.ToTime(k.CreateDate)}
	r.c.NewKey = r.key
	a.Resource = r.key.AccessKeyID
	return r.tag(ctx, r.key.AccessKeyID+" "+replacePending)
}

// lift deletes the sessions deny and detaches the quarantine policy that
// the records say containment added, then records the lift.
func (r *replaceRun) lift(ctx context.Context) error {
	user, rec := aws.String(r.l.user), r.l.rec
	if rec.Sessions && r.l.inline {
		_, err := r.api.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: user, PolicyName: aws.String(SessionsPolicyName)})
		if err != nil && !awserr.HasCode(err, "NoSuchEntity") {
			return err
		}
	}
	if rec.PolicyARN != "" && r.l.attached[rec.PolicyARN] {
		_, err := r.api.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: user, PolicyArn: aws.String(rec.PolicyARN)})
		if err != nil && !awserr.HasCode(err, "NoSuchEntity") {
			return err
		}
	}
	id := rec.ReplaceKeyID
	if r.key != nil {
		id = r.key.AccessKeyID
	}
	return r.tag(ctx, id+" "+replaceLifted)
}

// DeleteLeakedOptions tune DeleteLeakedKey.
type DeleteLeakedOptions struct {
	DryRun   bool
	Logger   *slog.Logger
	Progress func(awsguard.Progress)
}

// DeleteLeakedKey deletes a contained leaked key once the caller confirms
// it is no longer needed as evidence (CloudTrail keeps its events; IAM's
// last-use record goes with the key). The user is named because the key
// may already be gone: a second call finds nothing to remove. A key with
// no containment record on the user, or Active again, is refused
// (ErrNotContained) and nothing is changed.
//
// Permissions: iam:GetUser, iam:ListAccessKeys, iam:ListUserTags,
// iam:ListAttachedUserPolicies, iam:ListUserPolicies,
// iam:GetAccessKeyLastUsed, iam:DeleteAccessKey.
func DeleteLeakedKey(ctx context.Context, api DeleteLeakedAPI, user, accessKeyID string, optFns ...func(*DeleteLeakedOptions)) (*Containment, error) {
	const op = "keyrotate.DeleteLeakedKey"
	var o DeleteLeakedOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := validateUser(op, "user", user); err != nil {
		return nil, err
	}
	if err := validateKeyID(op, accessKeyID); err != nil {
		return nil, err
	}
	c := &Containment{Plan: awsguard.Plan{Operation: op, Resource: accessKeyID, DryRun: o.DryRun, Actions: []awsguard.Action{}}, KeyID: accessKeyID}
	l, err := readContainUser(ctx, api, user, accessKeyID, true, c)
	if err != nil {
		return c, err
	}
	c.State = classifyContain(l, containWant{policyARN: l.rec.PolicyARN, revokeSessions: l.rec.Sessions})
	switch {
	case l.rec.KeyID != accessKeyID:
		err = fmt.Errorf("%w: %s holds no containment record of %s: run ContainLeakedKey first", ErrNotContained, user, accessKeyID)
	case l.status == types.StatusTypeActive:
		err = fmt.Errorf("%w: %s is Active again: run ContainLeakedKey first", ErrNotContained, accessKeyID)
	case l.status == "":
		c.Reason = awsguard.ReasonNothingToRemove
	default:
		c.Add(awsguard.Action{Kind: ActionReplaceDeleteLeaked, Call: containCalls[ActionReplaceDeleteLeaked], Resource: accessKeyID,
			Detail: "delete leaked key " + accessKeyID + " of " + user, Why: "the caller confirmed it is no longer needed as evidence"})
	}
	if err != nil {
		c.Reason = awsguard.ReasonRefused
		return c, err
	}
	del := func(ctx context.Context, a *awsguard.Action) error {
		_, err := api.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(accessKeyID)})
		if err != nil && !awserr.HasCode(err, "NoSuchEntity") {
			return fmt.Errorf("keyrotate: %s: %w", a.String(), err)
		}
		return nil
	}
	err = c.Apply(ctx, del, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress, ToDo: "run DeleteLeakedKey again"})
	c.Summary = containSummary(c, "deleted")
	return c, err
}
