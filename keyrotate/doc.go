// Package keyrotate rotates IAM access keys: directly, from a program or a
// scheduled job ([RotateAccessKey], [RotateAccessKeys], [FinishRotation]),
// and as the Secrets Manager four-step rotation Lambda.
//
// # Direct rotation
//
// [RotateAccessKey] replaces the key a user's software uses with a new one.
// It plans from live state and then carries the plan out; with
// [Options].DryRun it returns the same plan ([Rotation].Plan, Applied false)
// and makes no mutating call. The steps, each an [Action]:
//
//  1. Read the user (GetUser, for its ARN), its keys (ListAccessKeys) and
//     its tags (ListUserTags). The key in use is [Options].InUseKeyID, or
//     else the user's only active key. A user holds at most two keys: if it
//     has two, room is made by deleting the other one if it is Inactive
//     (ActionDeleteKey). If both are Active, the call fails with
//     [ErrKeyLimit] unless [Options].DeleteOldActive allows deleting the
//     one not named by InUseKeyID; InUseKeyID is then required (an
//     [*InputError] on it otherwise: the library does not guess which
//     active key is in use). The key named in use is never deleted to
//     make room. With [Options].MaxAge, a key in use
//     younger than that is left alone (Applied false, Reason says why).
//  2. Record the intent: tag the user [TagRotation] = "old=KEYID at=TIME"
//     (every record carries the intent's time, RFC 3339 UTC, from
//     [Options].Now). If CreateKey then surely fails (refused by IAM, or
//     the context ended before the call), the record is removed.
//  3. Create the new key, and record its ID at once: [TagRotation] =
//     "old=KEYID new=KEYID pending" (ActionRecordNewKey). If this record
//     cannot be written, the new key is deleted.
//  4. Prove it works: poll sts:GetCallerIdentity signed with the new key
//     ([WaitForKey]) until it authenticates as this user, bounded by
//     [Options].Verify (new IAM keys take seconds to become valid).
//     Bad-credential answers are classified in one place,
//     [IsBadCredentials].
//  5. Hand the new key over with the caller's [Options].Deliver (into a
//     secret, a file) before anything old is touched. If step 4 or 5
//     fails (Deliver returns an error), the new key is deleted, the record
//     removed, and the old key stays active (a [*StepError] lists what was
//     rolled back). A Deliver error that is context.Canceled or
//     context.DeadlineExceeded (errors.Is) is the exception: the delivery
//     may have taken effect, so the new key and its pending record stay
//     and the [*StepError] says to re-run with InUseKeyID.
//  6. Record the delivery: [TagRotation] = "old=KEYID new=KEYID". This
//     step must succeed before the old key is touched: if it fails (or the
//     context ends, or the process dies, between the delivery and this
//     record), the new key is delivered and the old one still active, and
//     the [*StepError] says to re-run with InUseKeyID.
//  7. Deactivate the old key and record when: tag the user
//     [TagDeactivatedPrefix] and the key ID = the time (RFC 3339, from
//     [Options].Now). IAM itself does not record when a key was
//     deactivated.
//  8. With [Options].DeleteOld, delete the old key at once, after reading
//     its last use (GetAccessKeyLastUsed): a key used after its
//     deactivation is kept and reported ([OutcomeUsedAfterDeactivation],
//     [Rotation].Warnings).
//  9. Remove the [TagRotation] record.
//
// The new secret key lives in [AccessKey].Secret, a [Secret] that shows
// itself as [REDACTED] in %v, JSON, slog and error text; only
// [Secret.Reveal] returns it. The result is a [Rotation]: the user, the
// plan, the new key, what happened to every other key ([OldKey]), the
// verification polls and identity, the last-use report, Applied and Reason.
//
// # Grace period
//
// A library call does not sleep for days. RotateAccessKey deactivates the
// old key and returns; [FinishRotation], run later or on a schedule, deletes
// the user's Inactive keys whose recorded deactivation is older than the
// grace period it is given, after checking GetAccessKeyLastUsed: a key used
// after its deactivation is not deleted but reported, because someone still
// depends on it. An Inactive key without a record gets one when
// FinishRotation first sees it, so its grace period starts then. A grace of
// zero deletes at once. FinishRotation is idempotent: a second run finds
// nothing to do. Note that IAM reports last use with a delay (up to hours)
// and only for calls that authenticated, so the check finds a key that was
// re-activated or used while its deactivation propagated; the grace period
// is what gives that evidence time to show. A new rotation needs the second
// key slot and deletes an Inactive key to make room even inside its grace
// period.
//
// # Interrupted runs
//
// Every step is safe to repeat, and a re-run after an interruption at any
// point converges, guided by the records on the user and, where they
// cannot tell which key is in use, by the caller's InUseKeyID:
//
//   - TagRotation="old=A at=T" and A still Active: the run stopped before
//     it recorded a new key. Another key created within 5 minutes (clock
//     skew) of T was created by it and never delivered: an orphan whose
//     secret nobody holds; the re-run deletes it and rotates afresh. A key
//     created outside that window (say, added by an operator after a run
//     whose CreateKey failed left the record behind) is no orphan: the
//     usual two-key rules apply ([ErrKeyLimit] if it is Active, deleted to
//     make room if it is Inactive). A record without at= (written by an
//     older version) takes no key for an orphan. If the caller names the
//     other key in use (InUseKeyID), it records that key's delivery
//     ("old=A new=B") and then finishes.
//   - TagRotation="old=A" and A no longer Active: the record says nothing
//     was delivered, yet A was touched (by hand, or by an older version
//     of this package). The re-run does not guess: it refuses with
//     [ErrRotationInProgress], lists the user's keys, and asks for a
//     re-run with InUseKeyID naming the key in use; naming another Active
//     key records its delivery and finishes.
//   - TagRotation="old=A new=B pending": B was created and may have been
//     delivered; its delivery is not confirmed. The re-run never deletes
//     B on its own: without InUseKeyID it refuses with
//     [ErrRotationInProgress] and changes nothing. InUseKeyID=A says B is
//     not in use: B is deleted and the rotation starts afresh (a new key
//     goes to the same delivery target). InUseKeyID=B says B is in use:
//     the re-run records the delivery and finishes (Resumed true). If A is
//     no longer Active, B is the only key that can work and the re-run
//     finishes. A Deliver that returns a context error (Canceled,
//     DeadlineExceeded) may have delivered B: the run keeps B and this
//     record, and its [*StepError] says to re-run with InUseKeyID.
//   - TagRotation="old=A new=B", or A already Inactive or gone (A is
//     touched only after delivery): B is delivered; the re-run finishes
//     the remaining steps (Resumed true) without creating another key,
//     but only if B exists and is Active and InUseKeyID is empty or names
//     B. Otherwise (B gone or Inactive, or the caller names another key)
//     it refuses with [ErrRotationInProgress] rather than leave the user
//     without an active key: check which key is in use and fix the keys
//     or the tag by hand.
//   - Finishing, A Active but carrying its deactivation record
//     ([TagDeactivatedPrefix]): someone reactivated A after the rotation
//     deactivated it, so someone still uses it. The re-run refuses with
//     [ErrRotationInProgress] and neither deactivates nor deletes A (as
//     [FinishRotation] never deletes an Active key).
//   - No record: nothing is in progress.
//
// The user always keeps a working key: the old key is deactivated only
// after the new one authenticated and its delivery was recorded, a key
// that may have been delivered is deleted only when the caller names
// another key in use, a re-run never deactivates or deletes the last
// Active key, and the user never holds more than two keys. If the
// rotation's only failure is removing its record at the end, the rotation
// succeeds with a warning and the next run removes the record.
//
// The records are trusted: whoever may call iam:TagUser on a user can make
// a re-run take a key for an orphan. Grant TagUser and UntagUser on the
// awsguard: tag keys (aws:TagKeys) only to the rotation's principal.
//
// Run at most one rotation of a user at a time (one job, or
// RotateAccessKeys, which refuses a user listed twice): a second run started
// between the first one's creating its new key and recording it takes that
// key for an orphan and deletes it (later, it refuses with
// [ErrRotationInProgress]). RotateAccessKeys takes no InUseKeyID, so a user
// whose record names an unconfirmed delivery fails alone with
// [ErrRotationInProgress]: finish it with RotateAccessKey.
//
// A delivery target must accept being written again with a later key: when
// a run dies after delivering but before recording the delivery and the
// caller names the old key in use, the re-run replaces the delivered key
// with another and delivers it to the same place.
//
// # Rotating one's own key
//
// When the caller signs with the key it rotates (a user rotating their own
// key), AWS rejects that key as soon as it is deactivated. Set
// [Clients].IAMFor ([SelfClientsFromConfig] does) so that the steps after
// delivery are signed with the new key; examples/rotate-key does this when
// the caller's identity is the rotated user. A re-run that finishes an
// interrupted self-rotation signs its steps with the delivered key, which
// it gets from [Options].DeliveredKey (read back from where Deliver put
// it); without that it refuses with [ErrRotationInProgress] and names the
// key to sign with. Once the old key is Inactive, AWS rejects even the
// re-run's first reads signed with it: run it with the delivered key.
//
// # Many users
//
// [RotateAccessKeys] rotates a list of users with bounded concurrency
// ([Options].Concurrency, default 4) and returns one [Result] per user;
// one user's failure does not stop the others. On moto about 12 API calls
// a rotation (11 when no key must make room).
//
// # IAM permissions
//
// The methods of [IAM] on the rotated user: iam:GetUser,
// iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey,
// iam:DeleteAccessKey, iam:GetAccessKeyLastUsed, iam:ListUserTags,
// iam:TagUser, iam:UntagUser. sts:GetCallerIdentity needs no permission.
//
// # Errors
//
// Bad input is refused before any call with an [*InputError] that names the
// field ([ErrInvalidInput]). Live state that forbids a rotation gives
// [ErrKeyLimit], [ErrNoActiveKey] or [ErrInUseKeyNotFound]; FinishRotation
// refuses with [ErrRotationInProgress] while a rotation is unfinished. A
// failed step returns a [*StepError]: the step, the key, the cause
// (AWS errors wrapped with %w, [ErrKeyNotValid], [ErrWrongIdentity], the
// delivery function's error), what was rolled back and what the caller
// must still do.
//
// # Secrets Manager rotation
//
// Handler runs the four steps that Secrets Manager sends a rotation
// function, for a secret whose value is the JSON document
//
//	{"UserName": "app", "AccessKeyId": "AKIA...", "SecretAccessKey": "..."}
//
// Other members are kept when a new version is written. The secret access
// key is stored in clear, since that is the secret's purpose, but the Go
// types holding it redact themselves. Every step first checks that rotation
// is enabled and that the ClientRequestToken names a version staged
// AWSPENDING (or already AWSCURRENT); otherwise it fails with
// ErrRotationDisabled or ErrNotPending and changes nothing. An unknown step
// gives ErrUnknownStep. Every step may run again with the same token and
// then completes or reports Changed false.
//
//   - createSecret first checks that AWSCURRENT's key is on the user;
//     if not, the secret is stale and it deletes nothing and fails with
//     ErrCurrentKeyMissing (fix the secret by hand). It then deletes the
//     user's keys that no staged version holds:
//     orphans of an attempt that created a key and stopped before storing
//     it. If the user still holds two keys, it deletes AWSPREVIOUS's key (or
//     an Inactive one), never AWSCURRENT's. It then creates a key and stores
//     it as AWSPENDING. If the store is refused outright the key is deleted
//     at once; otherwise the next try removes it.
//   - setSecret checks that the pending key exists and activates it if it
//     is Inactive.
//   - testSecret polls sts:GetCallerIdentity with the pending key
//     (WaitForKey, bounded by HandlerOptions.Verify) and requires the
//     identity to be the IAM user the value names (any path); another
//     identity fails with ErrWrongIdentity. Set the function's
//     timeout above Verify.MaxWait, which defaults to 2 minutes.
//   - finishSecret checks the pending value and that its key is on the
//     user and Active (else ErrPendingKeyMissing or ErrPendingKeyInactive,
//     nothing changed: run RepairPending), then moves AWSCURRENT to it
//     (AWSPREVIOUS follows), removes AWSPENDING and deactivates the previous
//     key. Clients that cache the old value longer than a rotation are then
//     refused.
//
// Failures are *RotationError values naming the step, the action and the
// remedy; most say "retry with the same token", which Secrets Manager does
// by itself. RepairPending clears an AWSPENDING label left on a non-current
// version by a rotation that failed for good, and deletes the key that
// version held; it honours DryRun.
//
// The IAM user must serve the secret alone: rotation deletes keys that no
// version holds, so SetupRotation refuses a user holding other keys
// (ErrUserNotDedicated).
//
// Permissions of the function's role (RotationPolicy writes them):
// secretsmanager:DescribeSecret, GetSecretValue, PutSecretValue and
// UpdateSecretVersionStage on the secret's ARN; iam:ListAccessKeys,
// CreateAccessKey, UpdateAccessKey and DeleteAccessKey on the user's ARN;
// for a customer managed KMS key, kms:Decrypt and kms:GenerateDataKey on
// that key with kms:ViaService secretsmanager.<region>.amazonaws.com.
//
// # Setup and teardown
//
// SetupRotation plans from live state, then applies in order:
//
//  1. The secret. A user without keys gets one; the secret is created empty
//     first, so that a run cut short after the key is made resumes. A given
//     key is stored as AWSCURRENT.
//  2. An inline policy on the deployed function's execution role, scoped to
//     the secret, the user and the secret's KMS key.
//  3. The invoke permission for secretsmanager.amazonaws.com, with
//     SourceAccount and SourceArn against the confused-deputy problem. A
//     ResourceConflictException counts as done only if the re-read policy
//     holds that statement (a function update in progress gives the same
//     error): otherwise the step fails and a re-run adds it.
//  4. Rotation on the schedule (RotateSecret; not immediate unless
//     RotateImmediately).
//
// DryRun returns the plan; a second run reports "already configured". It
// does not deploy the function: examples/rotation-lambda documents the
// build. TeardownRotation reverses it: cancel rotation, remove the
// permission, delete the policy, and only with DeleteSecret schedule the
// secret's deletion. Keys stay.
package keyrotate
