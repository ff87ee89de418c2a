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
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/awsguard/awsguard"
)

// Step is a step of a Secrets Manager rotation.
type Step string

// The four rotation steps, spelled as Secrets Manager sends them.
const (
	StepCreateSecret Step = "createSecret"
	StepSetSecret    Step = "setSecret"
	StepTestSecret   Step = "testSecret"
	StepFinishSecret Step = "finishSecret"
)

// Steps lists the rotation steps in the order Secrets Manager runs them.
var Steps = []Step{StepCreateSecret, StepSetSecret, StepTestSecret, StepFinishSecret}

// ParseStep maps the event's plain string to a Step. An unknown step gives
// ErrUnknownStep.
func ParseStep(s string) (Step, error) {
	if slices.Contains(Steps, Step(s)) {
		return Step(s), nil
	}
	return "", fmt.Errorf("%w %q (want createSecret, setSecret, testSecret or finishSecret)", ErrUnknownStep, s)
}

// The staging labels Secrets Manager uses.
const (
	StageCurrent  = "AWSCURRENT"
	StagePending  = "AWSPENDING"
	StagePrevious = "AWSPREVIOUS"
)

// HandlerOptions tune the rotation handler. The zero value is ready.
type HandlerOptions struct {
	// Logger receives one record per change and per refusal; default
	// discards. Secrets never reach it.
	Logger *slog.Logger
	// Verify bounds the wait of testSecret and finishSecret for the
	// pending key to authenticate.
	Verify VerifyOptions
	// Now returns the current time; default time.Now. The rotation window
	// is counted with it.
	Now func() time.Time
	// OrphanWindow is the rotation's own window, default 24 hours: an
	// Active key that no staged version holds is taken for an orphan of
	// this rotation (a key an earlier attempt created and never stored)
	// only if IAM reports no use of it and it was created within
	// OrphanWindow before Now and no earlier than AWSCURRENT's key.
	// createSecret deletes such orphans (and any Inactive key no version
	// holds); any other Active key makes it fail with ErrForeignKey,
	// naming the key, which it leaves alone.
	OrphanWindow time.Duration
}

// DefaultOrphanWindow is HandlerOptions.OrphanWindow's default: longer
// than Secrets Manager keeps retrying a failed rotation step.
const DefaultOrphanWindow = 24 * time.Hour

// RotationEvent is what Secrets Manager sends the rotation function,
// with Step already parsed (see ParseStep).
type RotationEvent struct {
	Step               Step
	SecretID           string
	ClientRequestToken string
	// RotationToken, if Secrets Manager sent one, is passed on to
	// PutSecretValue.
	RotationToken string
}

// StepResult is what a step did. A step run again after it completed
// reports Changed false.
type StepResult struct {
	Step      Step
	SecretARN string
	Token     string
	// Changed is false when the step found nothing to do.
	Changed bool
	// CreatedKeyID is the key createSecret made and stored as AWSPENDING.
	CreatedKeyID string `json:",omitempty"`
	// DeletedKeyIDs are the orphaned keys and the AWSPREVIOUS key that
	// createSecret deleted to stay within two keys.
	DeletedKeyIDs []string `json:",omitempty"`
	// ActivatedKeyID is the AWSPENDING key setSecret found inactive and
	// activated.
	ActivatedKeyID string `json:",omitempty"`
	// Polls is how many sts:GetCallerIdentity calls testSecret made.
	Polls int `json:",omitempty"`
	// Promoted is true when finishSecret moved AWSCURRENT to the version.
	Promoted bool `json:",omitempty"`
	// DeactivatedKeyID is the previous key finishSecret deactivated.
	DeactivatedKeyID string `json:",omitempty"`
}

// Handler runs the four steps of a Secrets Manager rotation of an IAM
// user's access key. Build it with NewHandler; it is safe for concurrent
// use.
type Handler struct {
	sm     HandlerSecretsAPI
	iam    HandlerIAMAPI
	newSTS STSFactory
	opts   HandlerOptions
}

// NewHandler returns a handler that reads and stages versions through sm,
// manages keys through iamAPI, and tests new keys with STS clients from
// newSTS (STSFromConfig(cfg) in a Lambda).
//
// Permissions of the function's role (RotationPolicy writes them):
// secretsmanager:DescribeSecret, secretsmanager:GetSecretValue,
// secretsmanager:PutSecretValue, secretsmanager:UpdateSecretVersionStage
// on the secret; iam:ListAccessKeys, iam:CreateAccessKey,
// iam:UpdateAccessKey, iam:DeleteAccessKey, iam:GetAccessKeyLastUsed on
// the user; sts:GetCallerIdentity (which needs no permission); and
// kms:Decrypt, kms:GenerateDataKey on a customer managed key.
func NewHandler(sm HandlerSecretsAPI, iamAPI HandlerIAMAPI, newSTS STSFactory, optFns ...func(*HandlerOptions)) *Handler {
	var o HandlerOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OrphanWindow <= 0 {
		o.OrphanWindow = DefaultOrphanWindow
	}
	return &Handler{sm: sm, iam: iamAPI, newSTS: newSTS, opts: o}
}

// HandleEvent parses the step of a raw event and runs it.
func (h *Handler) HandleEvent(ctx context.Context, step, secretID, token, rotationToken string) (*StepResult, error) {
	s, err := ParseStep(step)
	if err != nil {
		return nil, err
	}
	return h.Rotate(ctx, RotationEvent{Step: s, SecretID: secretID, ClientRequestToken: token, RotationToken: rotationToken})
}

// Rotate runs one step. Every step is idempotent on the event's
// ClientRequestToken: Secrets Manager may run any step again, and a step
// cut short by a crash or a lost response completes when run again.
//
// Every step first checks that rotation is enabled and that the token
// names a version staged AWSPENDING (or, once finishSecret has promoted it,
// AWSCURRENT); otherwise it fails with ErrRotationDisabled or ErrNotPending
// and changes nothing.
func (h *Handler) Rotate(ctx context.Context, ev RotationEvent) (*StepResult, error) {
	if err := h.validate(ev); err != nil {
		return nil, err
	}
	log := h.opts.Logger.With("operation", "keyrotate.Rotate", "step", string(ev.Step), "resource", ev.SecretID, "version", ev.ClientRequestToken)
	r := &run{h: h, sm: h.sm, keys: h.iam, ev: ev, log: log, res: &StepResult{Step: ev.Step, Token: ev.ClientRequestToken}}
	var err error
	switch ev.Step {
	case StepCreateSecret:
		err = r.create(ctx)
	case StepSetSecret:
		err = r.set(ctx)
	case StepTestSecret:
		err = r.test(ctx)
	case StepFinishSecret:
		err = r.finish(ctx)
	}
	if err != nil {
		log.Warn("rotation step failed", "error", err)
		return r.res, err
	}
	log.Info("rotation step done", "changed", r.res.Changed)
	return r.res, nil
}

func (h *Handler) validate(ev RotationEvent) error {
	const op = "keyrotate.Handler.Rotate"
	switch {
	case h == nil || h.sm == nil:
		return inputError(op, "Handler.SecretsManager", "nil", "a client; use NewHandler")
	case h.iam == nil:
		return inputError(op, "Handler.IAM", "nil", "a client; use NewHandler")
	case h.newSTS == nil && (ev.Step == StepTestSecret || ev.Step == StepFinishSecret):
		return inputError(op, "Handler.NewSTS", "nil", "an STS factory; use STSFromConfig")
	case ev.SecretID == "":
		return inputError(op, "SecretID", "", "a secret name or ARN")
	case h.opts.Verify.validate(op, "HandlerOptions.Verify") != nil:
		return h.opts.Verify.validate(op, "HandlerOptions.Verify")
	case len(ev.ClientRequestToken) < 32 || len(ev.ClientRequestToken) > 64:
		return inputError(op, "ClientRequestToken", fmt.Sprintf("%d characters", len(ev.ClientRequestToken)), "32 to 64 characters")
	}
	if _, err := ParseStep(string(ev.Step)); err != nil {
		return err
	}
	return nil
}

// run is one invocation of one step (or of RepairPending, whose run has
// no Handler and only the clients repair needs).
type run struct {
	h    *Handler
	sm   RepairSecretsAPI
	keys RepairIAMAPI
	ev   RotationEvent
	log  *slog.Logger
	res  *StepResult

	arn      string
	stages   map[string][]string
	current  string // version ID staged AWSCURRENT
	previous string // version ID staged AWSPREVIOUS
}

// fail returns the *awsguard.StepError of the step: the secret (and
// version) in Resource, what failed and why in Err, the remedy in ToDo.
func (r *run) fail(action, remedy string, err error) error {
	res := r.ev.SecretID
	if r.ev.ClientRequestToken != "" {
		res += " version " + r.ev.ClientRequestToken
	}
	return &awsguard.StepError{Operation: "keyrotate.Handler", Step: string(r.ev.Step), Resource: res, Err: fmt.Errorf("%s: %w", action, err), ToDo: remedy}
}

// remedyFor says what to do after a failed AWS call: transient and
// unknown-outcome failures are retried by Secrets Manager.
func remedyFor(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return RemedyRetry
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorFault() == smithy.FaultClient &&
		!retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return "fix the cause (permissions, the secret, the user), then retry the step"
	}
	return RemedyRetry
}

// describe reads the secret's staging and checks the preconditions every
// step shares. It reports whether the token's version is already
// AWSCURRENT.
func (r *run) describe(ctx context.Context) (isCurrent bool, err error) {
	out, err := r.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(r.ev.SecretID)})
	if err != nil {
		return false, r.fail("describe secret", remedyFor(err), err)
	}
	r.arn = aws.ToString(out.ARN)
	r.res.SecretARN = r.arn
	r.stages = out.VersionIdsToStages
	for v, st := range out.VersionIdsToStages {
		if slices.Contains(st, StageCurrent) {
			r.current = v
		}
		if slices.Contains(st, StagePrevious) {
			r.previous = v
		}
	}
	if !aws.ToBool(out.RotationEnabled) {
		return false, r.fail("check rotation", RemedyNothingChanged, ErrRotationDisabled)
	}
	st, ok := out.VersionIdsToStages[r.ev.ClientRequestToken]
	if !ok {
		return false, r.fail("check version", RemedyNothingChanged, fmt.Errorf("%w: the secret has no version %s", ErrNotPending, r.ev.ClientRequestToken))
	}
	if slices.Contains(st, StageCurrent) {
		return true, nil
	}
	if !slices.Contains(st, StagePending) {
		return false, r.fail("check version", RemedyNothingChanged, fmt.Errorf("%w: version %s has stages %v", ErrNotPending, r.ev.ClientRequestToken, st))
	}
	if r.current == "" {
		return false, r.fail("check version", RemedyNothingChanged, fmt.Errorf("%w: no version is staged AWSCURRENT", ErrSecretValue))
	}
	return false, nil
}

// value reads one version, by stage or by version ID and stage. found is
// false when the version has no value (ResourceNotFoundException).
func (r *run) value(ctx context.Context, versionID, stage string) (key AccessKey, raw string, found bool, err error) {
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(r.arn)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := r.sm.GetSecretValue(ctx, in)
	var rnf *smtypes.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return AccessKey{}, "", false, nil
	}
	what := "read " + stage
	if versionID != "" {
		what = "read version " + versionID
	}
	if err != nil {
		return AccessKey{}, "", false, r.fail(what, remedyFor(err), err)
	}
	raw = aws.ToString(out.SecretString)
	key, err = DecodeSecretValue(raw)
	if err != nil {
		return AccessKey{}, "", true, r.fail(what, "store a document with UserName, AccessKeyId and SecretAccessKey (SetupRotation does)", err)
	}
	return key, raw, true, nil
}

func (r *run) listKeys(ctx context.Context, user string) ([]iamtypes.AccessKeyMetadata, error) {
	var keys []iamtypes.AccessKeyMetadata
	p := iam.NewListAccessKeysPaginator(r.keys, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, r.fail("list access keys of "+user, remedyFor(err), err)
		}
		keys = append(keys, out.AccessKeyMetadata...)
	}
	return keys, nil
}

func (r *run) deleteKey(ctx context.Context, user, id, why string) error {
	_, err := r.keys.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(id)})
	var nse *iamtypes.NoSuchEntityException
	if err != nil && !errors.As(err, &nse) {
		return r.fail("delete access key "+id+" ("+why+")", remedyFor(err), err)
	}
	r.res.DeletedKeyIDs = append(r.res.DeletedKeyIDs, id)
	r.res.Changed = true
	r.log.Info("deleted access key", "key_id", id, "reason", why)
	return nil
}

// createState is what createSecret reads before it changes anything.
type createState struct {
	user          string
	cur, pend     AccessKey
	curRaw        string
	havePending   bool
	prevKeyID     string
	keys          []iamtypes.AccessKeyMetadata
	curCreated    time.Time
	pendingExists bool
}

// create makes a new key and stores it as the AWSPENDING version. Before
// it creates anything it removes the user's keys that no staged version
// holds, if each is Inactive or an orphan of this rotation (an earlier
// attempt created it and stopped before storing it: never used, created
// within HandlerOptions.OrphanWindow and after AWSCURRENT's key); any
// other such key makes it fail with ErrForeignKey and change nothing.
// Then, if the user still holds two keys, it deletes the key of
// AWSPREVIOUS (or another inactive key), never AWSCURRENT's. If
// AWSCURRENT's key is not on the user it deletes nothing and fails with
// ErrCurrentKeyMissing.
func (r *run) create(ctx context.Context) error {
	isCurrent, err := r.describe(ctx)
	if err != nil || isCurrent {
		return err
	}
	st, err := r.readCreateState(ctx)
	if err != nil {
		return err
	}
	if err := r.removeStrays(ctx, st); err != nil {
		return err
	}
	if st.havePending {
		if !st.pendingExists {
			return r.fail("check AWSPENDING key", RemedyRepair, fmt.Errorf("%w: %s", ErrPendingKeyMissing, st.pend.AccessKeyID))
		}
		r.log.Info("AWSPENDING already holds a key", "key_id", st.pend.AccessKeyID)
		return nil
	}
	if err := r.makeRoom(ctx, st); err != nil {
		return err
	}
	return r.createAndStore(ctx, st)
}

// readCreateState reads the staged values and the user's keys.
func (r *run) readCreateState(ctx context.Context) (*createState, error) {
	st := &createState{}
	var found bool
	var err error
	st.cur, st.curRaw, found, err = r.value(ctx, "", StageCurrent)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, r.fail("read AWSCURRENT", RemedyNothingChanged, fmt.Errorf("%w: AWSCURRENT has no value", ErrSecretValue))
	}
	st.pend, _, st.havePending, err = r.value(ctx, r.ev.ClientRequestToken, StagePending)
	if err != nil {
		return nil, err
	}
	if r.previous != "" && r.previous != r.ev.ClientRequestToken {
		prev, _, ok, err := r.value(ctx, "", StagePrevious)
		if err != nil && !errors.Is(err, ErrSecretValue) {
			return nil, err
		}
		if ok && err == nil && prev.UserName == st.cur.UserName {
			st.prevKeyID = prev.AccessKeyID
		}
	}
	if st.havePending && st.pend.UserName != st.cur.UserName {
		return nil, r.fail("check AWSPENDING", RemedyRepair, fmt.Errorf("%w: AWSPENDING is for user %s, AWSCURRENT for %s", ErrSecretValue, st.pend.UserName, st.cur.UserName))
	}
	st.user = st.cur.UserName
	if st.keys, err = r.listKeys(ctx, st.user); err != nil {
		return nil, err
	}
	// A key no staged version holds is an orphan only if the secret is
	// sound: when AWSCURRENT's key is not on the user, the secret is stale
	// and one of the other keys may be the one really in use.
	i := slices.IndexFunc(st.keys, func(k iamtypes.AccessKeyMetadata) bool { return aws.ToString(k.AccessKeyId) == st.cur.AccessKeyID })
	if i < 0 {
		return nil, r.fail("check AWSCURRENT key", "nothing was changed; store the user's working key as AWSCURRENT by hand (or with SetupRotation and Key), or delete the stale secret, then rotate again", fmt.Errorf("%w: %s is not a key of %s", ErrCurrentKeyMissing, st.cur.AccessKeyID, st.user))
	}
	st.curCreated = aws.ToTime(st.keys[i].CreateDate)
	return st, nil
}

// staged reports whether a staged version holds key id.
func (st *createState) staged(id string) bool {
	return id == st.cur.AccessKeyID || id == st.prevKeyID || (st.havePending && id == st.pend.AccessKeyID)
}

// removeStrays deletes the keys no staged version holds, after checking
// that each may go (Inactive, or an orphan of this rotation); if any may
// not, it deletes none and fails naming them.
func (r *run) removeStrays(ctx context.Context, st *createState) error {
	var strays, foreign []string
	for _, k := range st.keys {
		id := aws.ToString(k.AccessKeyId)
		if st.havePending && id == st.pend.AccessKeyID {
			st.pendingExists = true
		}
		if st.staged(id) {
			continue
		}
		ok, why, err := r.mayRemove(ctx, k, st.curCreated)
		if err != nil {
			return err
		}
		if !ok {
			foreign = append(foreign, why)
			continue
		}
		strays = append(strays, id)
	}
	if len(foreign) > 0 {
		return r.fail("check the user's keys", "nothing was changed; the user must serve the secret alone: if nothing uses the key, deactivate or delete it by hand, else move its users to another IAM user; then retry the step",
			fmt.Errorf("%w: %s", ErrForeignKey, strings.Join(foreign, "; ")))
	}
	for _, id := range strays {
		if err := r.deleteKey(ctx, st.user, id, "no staged version holds it: inactive, or an orphan of this rotation"); err != nil {
			return err
		}
	}
	return nil
}

// mayRemove says whether key k, which no staged version holds, may be
// deleted: if it is Inactive, or it was never used and was created within
// the rotation window (OrphanWindow before now, and not before
// AWSCURRENT's key, created at since). Otherwise why names the key.
func (r *run) mayRemove(ctx context.Context, k iamtypes.AccessKeyMetadata, since time.Time) (ok bool, why string, err error) {
	id := aws.ToString(k.AccessKeyId)
	if k.Status != iamtypes.StatusTypeActive {
		return true, "", nil
	}
	out, err := r.h.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	var nse *iamtypes.NoSuchEntityException
	if errors.As(err, &nse) {
		return true, "", nil // gone already
	}
	if err != nil {
		return false, "", r.fail("read the last use of access key "+id, remedyFor(err), err)
	}
	created := aws.ToTime(k.CreateDate)
	if lu := out.AccessKeyLastUsed; lu != nil && lu.LastUsedDate != nil {
		return false, fmt.Sprintf("key %s is Active and was used at %s (%s)", id, aws.ToTime(lu.LastUsedDate).UTC().Format(time.RFC3339), aws.ToString(lu.ServiceName)), nil
	}
	from := r.h.opts.Now().Add(-r.h.opts.OrphanWindow)
	if created.Before(from) || created.Before(since) {
		return false, fmt.Sprintf("key %s is Active, never used, and was created at %s, outside the rotation window (after %s and after AWSCURRENT's key)", id, created.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339)), nil
	}
	return true, "", nil
}

// makeRoom deletes AWSPREVIOUS's key (or an Inactive one) when the user
// holds two keys, never AWSCURRENT's.
func (r *run) makeRoom(ctx context.Context, st *createState) error {
	var kept []iamtypes.AccessKeyMetadata
	for _, k := range st.keys {
		if id := aws.ToString(k.AccessKeyId); st.staged(id) && !slices.Contains(r.res.DeletedKeyIDs, id) {
			kept = append(kept, k)
		}
	}
	if len(kept) < 2 {
		return nil
	}
	victim := ""
	for _, k := range kept {
		id := aws.ToString(k.AccessKeyId)
		if id != st.cur.AccessKeyID && (id == st.prevKeyID || k.Status == iamtypes.StatusTypeInactive) {
			victim = id
			break
		}
	}
	if victim == "" {
		return r.fail("make room for a new key", "delete one of the user's keys by hand, then retry", errors.New("the user holds two access keys and none may be deleted"))
	}
	return r.deleteKey(ctx, st.user, victim, "make room: AWSPREVIOUS or inactive key")
}

// createAndStore creates the new key and stores it as AWSPENDING.
func (r *run) createAndStore(ctx context.Context, st *createState) error {
	out, err := r.h.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(st.user)})
	if err != nil {
		return r.fail("create access key", remedyFor(err), err)
	}
	key := AccessKey{UserName: st.user, AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), Secret: awsguard.NewSecret(aws.ToString(out.AccessKey.SecretAccessKey)), CreateDate: aws.ToTime(out.AccessKey.CreateDate)}
	r.res.Changed = true
	r.log.Info("created access key", "key_id", key.AccessKeyID)
	doc, err := EncodeSecretValue(key, st.curRaw)
	if err != nil {
		return r.fail("encode AWSPENDING value", RemedyRetry, err)
	}
	in := &secretsmanager.PutSecretValueInput{
		SecretId:           aws.String(r.arn),
		ClientRequestToken: aws.String(r.ev.ClientRequestToken),
		SecretString:       aws.String(doc),
		VersionStages:      []string{StagePending},
	}
	if r.ev.RotationToken != "" {
		in.RotationToken = aws.String(r.ev.RotationToken)
	}
	if _, err := r.h.sm.PutSecretValue(ctx, in); err != nil {
		// Roll back only when the put surely did not happen; otherwise the
		// key may be stored, and a retry tells (an unstored key is then an
		// orphan and is deleted).
		if surelyRejected(err) {
			if _, derr := r.h.iam.DeleteAccessKey(context.WithoutCancel(ctx), &iam.DeleteAccessKeyInput{UserName: aws.String(st.user), AccessKeyId: aws.String(key.AccessKeyID)}); derr == nil {
				r.log.Info("rolled back access key", "key_id", key.AccessKeyID)
				return r.fail("store AWSPENDING (the new key was deleted again)", remedyFor(err), err)
			}
		}
		return r.fail("store AWSPENDING (a retry deletes the unstored key "+key.AccessKeyID+")", remedyFor(err), err)
	}
	r.res.CreatedKeyID = key.AccessKeyID
	r.log.Info("stored AWSPENDING", "key_id", key.AccessKeyID)
	return nil
}

// surelyRejected reports whether err is an answer from the service that
// refused the request (throttling or another client fault), so that the
// request took no effect.
func surelyRejected(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
		return true
	}
	return ae.ErrorFault() == smithy.FaultClient
}

// pendingKey reads the AWSPENDING version's key and the user's keys.
func (r *run) pendingKey(ctx context.Context) (AccessKey, *iamtypes.AccessKeyMetadata, error) {
	pend, _, found, err := r.value(ctx, r.ev.ClientRequestToken, "")
	if err != nil {
		return AccessKey{}, nil, err
	}
	if !found {
		return AccessKey{}, nil, r.fail("read AWSPENDING", "let Secrets Manager run createSecret first", ErrNoPendingValue)
	}
	keys, err := r.listKeys(ctx, pend.UserName)
	if err != nil {
		return AccessKey{}, nil, err
	}
	for i := range keys {
		if aws.ToString(keys[i].AccessKeyId) == pend.AccessKeyID {
			return pend, &keys[i], nil
		}
	}
	return pend, nil, nil
}

// set makes sure the AWSPENDING key exists and is active. IAM needs no
// other setting: the key is live from its creation.
func (r *run) set(ctx context.Context) error {
	isCurrent, err := r.describe(ctx)
	if err != nil || isCurrent {
		return err
	}
	pend, meta, err := r.pendingKey(ctx)
	if err != nil {
		return err
	}
	if meta == nil {
		return r.fail("check AWSPENDING key", RemedyRepair, fmt.Errorf("%w: %s", ErrPendingKeyMissing, pend.AccessKeyID))
	}
	if meta.Status == iamtypes.StatusTypeActive {
		return nil
	}
	if _, err := r.h.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(pend.UserName), AccessKeyId: aws.String(pend.AccessKeyID), Status: iamtypes.StatusTypeActive}); err != nil {
		return r.fail("activate access key "+pend.AccessKeyID, remedyFor(err), err)
	}
	r.res.Changed = true
	r.res.ActivatedKeyID = pend.AccessKeyID
	r.log.Info("activated access key", "key_id", pend.AccessKeyID)
	return nil
}

// test polls sts:GetCallerIdentity signed with the AWSPENDING key until it
// authenticates (WaitForKey), and requires the identity to be the IAM user
// the value names (ErrWrongIdentity otherwise).
func (r *run) test(ctx context.Context) error {
	isCurrent, err := r.describe(ctx)
	if err != nil || isCurrent {
		return err
	}
	pend, _, found, err := r.value(ctx, r.ev.ClientRequestToken, "")
	if err != nil {
		return err
	}
	if !found {
		return r.fail("read AWSPENDING", "let Secrets Manager run createSecret first", ErrNoPendingValue)
	}
	return r.verifyPending(ctx, pend, RemedyRepair)
}

// verifyPending polls sts:GetCallerIdentity signed with the pending key
// until it authenticates (WaitForKey, bounded by HandlerOptions.Verify)
// and requires the identity to be the IAM user the value names: a valid
// key of another identity must never become AWSCURRENT. repair is the
// remedy when the key cannot become valid.
func (r *run) verifyPending(ctx context.Context, pend AccessKey, repair string) error {
	polls, err := waitForKey(ctx, r.h.newSTS, pend, func(id string) bool { return isUserARN(id, pend.UserName) }, "IAM user "+pend.UserName, r.h.opts.Verify)
	r.res.Polls += polls
	if errors.Is(err, ErrWrongIdentity) {
		return r.fail("verify AWSPENDING key "+pend.AccessKeyID, repair, err)
	}
	if err != nil {
		return r.fail("verify AWSPENDING key "+pend.AccessKeyID, RemedyRetry+"; if the key never authenticates: "+repair, err)
	}
	r.log.Info("AWSPENDING key authenticates", "key_id", pend.AccessKeyID, "polls", polls)
	return nil
}

// finish moves AWSCURRENT to the token's version (Secrets Manager moves
// AWSPREVIOUS to the version it leaves), removes AWSPENDING and
// deactivates the previous key. It first checks that the token's key is on
// the user and active; otherwise it changes nothing and fails with
// ErrPendingKeyMissing or ErrPendingKeyInactive.
func (r *run) finish(ctx context.Context) error {
	isCurrent, err := r.describe(ctx)
	if err != nil {
		return err
	}
	// Read the new value before promoting it: a version without a valid
	// document must never become AWSCURRENT.
	pend, _, found, err := r.value(ctx, r.ev.ClientRequestToken, "")
	if err != nil {
		return err
	}
	if !found {
		return r.fail("read AWSPENDING", "let Secrets Manager run createSecret first", ErrNoPendingValue)
	}
	// Check IAM before moving any label: a late or retried finishSecret
	// whose key was deleted or deactivated since testSecret (by
	// RepairPending, or by hand) must not make a dead key AWSCURRENT and
	// then deactivate the working previous key.
	keys, err := r.listKeys(ctx, pend.UserName)
	if err != nil {
		return err
	}
	if err := r.checkPendingUsable(pend, keys, isCurrent); err != nil {
		return err
	}
	// Prove the key authenticates before any label moves or the previous
	// key is deactivated: a finishSecret called after a failed testSecret
	// must never promote a dead key.
	if err := r.verifyPending(ctx, pend, r.pendingRemedy(isCurrent)); err != nil {
		return err
	}
	if !isCurrent {
		if _, err := r.h.sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId:            aws.String(r.arn),
			VersionStage:        aws.String(StageCurrent),
			MoveToVersionId:     aws.String(r.ev.ClientRequestToken),
			RemoveFromVersionId: aws.String(r.current),
		}); err != nil {
			return r.fail("move AWSCURRENT", remedyFor(err), err)
		}
		r.res.Changed, r.res.Promoted = true, true
		r.log.Info("moved AWSCURRENT", "from", r.current)
	}
	if slices.Contains(r.stages[r.ev.ClientRequestToken], StagePending) {
		if _, err := r.h.sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
			SecretId:            aws.String(r.arn),
			VersionStage:        aws.String(StagePending),
			RemoveFromVersionId: aws.String(r.ev.ClientRequestToken),
		}); err != nil {
			return r.fail("remove AWSPENDING", remedyFor(err), err)
		}
		r.res.Changed = true
	}
	prev, _, ok, err := r.value(ctx, "", StagePrevious)
	if errors.Is(err, ErrSecretValue) {
		r.log.Warn("AWSPREVIOUS is not an access-key document; no key to deactivate")
		return nil
	}
	if err != nil || !ok || prev.AccessKeyID == pend.AccessKeyID || prev.UserName != pend.UserName {
		return err
	}
	// keys, read above, are the keys of prev.UserName too.
	for _, k := range keys {
		if aws.ToString(k.AccessKeyId) != prev.AccessKeyID || k.Status != iamtypes.StatusTypeActive {
			continue
		}
		if _, err := r.h.iam.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(prev.UserName), AccessKeyId: aws.String(prev.AccessKeyID), Status: iamtypes.StatusTypeInactive}); err != nil {
			return r.fail("deactivate previous access key "+prev.AccessKeyID, remedyFor(err), err)
		}
		r.res.Changed = true
		r.res.DeactivatedKeyID = prev.AccessKeyID
		r.log.Info("deactivated previous access key", "key_id", prev.AccessKeyID)
	}
	return nil
}

// pendingRemedy is what to do when the pending key cannot be promoted.
func (r *run) pendingRemedy(isCurrent bool) string {
	if isCurrent {
		// The label has already moved: RepairPending cannot help.
		return "AWSCURRENT holds a key that cannot authenticate: move AWSCURRENT back to the AWSPREVIOUS version by hand (UpdateSecretVersionStage), then rotate again"
	}
	return RemedyRepair
}

// checkPendingUsable fails unless the AWSPENDING key is on the user and
// active. Nothing has been changed when it fails.
func (r *run) checkPendingUsable(pend AccessKey, keys []iamtypes.AccessKeyMetadata, isCurrent bool) error {
	remedy := r.pendingRemedy(isCurrent)
	for _, k := range keys {
		if aws.ToString(k.AccessKeyId) != pend.AccessKeyID {
			continue
		}
		if k.Status != iamtypes.StatusTypeActive {
			return r.fail("check AWSPENDING key", remedy, fmt.Errorf("%w: %s is %s", ErrPendingKeyInactive, pend.AccessKeyID, k.Status))
		}
		return nil
	}
	return r.fail("check AWSPENDING key", remedy, fmt.Errorf("%w: %s", ErrPendingKeyMissing, pend.AccessKeyID))
}
