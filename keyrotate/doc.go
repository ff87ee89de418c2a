// Package keyrotate rotates IAM access keys: directly, from a program or a
// scheduled job ([RotateAccessKey], [RotateAccessKeys], [FinishRotation]),
// and as the Secrets Manager four-step rotation Lambda; and it contains a
// leaked key ([ContainLeakedKey], [ReleaseContainment], [ReplaceLeakedKey],
// [DeleteLeakedKey]).
//
// The main call rotates a user's key, delivering the new key before the
// old one is deactivated:
//
//	rot, err := keyrotate.RotateAccessKey(ctx, keyrotate.ClientsFromConfig(cfg), "app",
//		func(o *keyrotate.Options) {
//			o.MaxAge = 90 * 24 * time.Hour
//			o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
//				return store(ctx, k.AccessKeyID, k.Secret.Reveal()) // where the software reads it
//			}
//		})
//	if err != nil {
//		return err // an *awsguard.StepError says what was rolled back and what is left to do
//	}
//	logger.Info("rotated", "summary", rot.Summary) // "rotated to AKIA...; AKIA... deactivated"
//
// # Direct rotation
//
// [RotateAccessKey] replaces the key a user's software uses with a new one.
// It reads the live state, names it ([State]), plans for that state and
// then carries the plan out with awsguard.Plan.Apply; with DryRun
// ([Settings]) it returns the same plan ([Rotation] embeds the
// awsguard.Plan: Actions, Applied false, Reason awsguard.ReasonDryRun) and
// makes no mutating call. The steps, each an awsguard.Action whose Kind is
// one of the Action constants and whose Call is the IAM call it makes:
//
//  1. Read the user (GetUser, for its ARN), its keys (ListAccessKeys) and
//     its tags (ListUserTags). The key in use is [Options].InUseKeyID, or
//     else the user's only active key. A user holds at most two keys: if it
//     has two, room is made by deleting the other one if it is Inactive
//     (ActionDeleteKey). If both are Active, the call fails with
//     [ErrKeyLimit] unless [Settings].DeleteOldActive allows deleting the
//     one not named by InUseKeyID; InUseKeyID is then required (an
//     [*awsguard.InputError] on it otherwise: the library does not guess which
//     active key is in use). The key named in use is never deleted to
//     make room. With [Settings].MaxAge, a key in use younger than that
//     is left alone (Applied false, Reason awsguard.ReasonNotDue, Summary
//     says why).
//  2. Record the intent: tag the user [TagRotation] = "old=KEYID at=TIME"
//     (every record carries the intent's time, RFC 3339 UTC, from
//     [Settings].Now). If CreateKey then surely fails (refused by IAM, or
//     the context ended before the call), the record is removed.
//  3. Create the new key, and record its ID at once: [TagRotation] =
//     "old=KEYID new=KEYID pending" (ActionRecordNewKey). If this record
//     cannot be written, the new key is deleted.
//  4. Prove it works: poll sts:GetCallerIdentity signed with the new key
//     ([WaitForKey]) until it authenticates as this user, bounded by
//     [Settings].Verify (new IAM keys take seconds to become valid).
//     Bad-credential answers are classified in one place,
//     [IsBadCredentials].
//  5. Hand the new key over with the caller's [Settings].Deliver (into a
//     secret, a file) before anything old is touched. If step 4 or 5
//     fails (Deliver returns an error), the new key is deleted, the record
//     removed, and the old key stays active (a [*awsguard.StepError] lists what was
//     rolled back). A Deliver error that is context.Canceled or
//     context.DeadlineExceeded (errors.Is) is the exception: the delivery
//     may have taken effect, so the new key and its pending record stay
//     and the [*awsguard.StepError] says to re-run with InUseKeyID.
//  6. Record the delivery: [TagRotation] = "old=KEYID new=KEYID". This
//     step must succeed before the old key is touched: if it fails (or the
//     context ends, or the process dies, between the delivery and this
//     record), the new key is delivered and the old one still active, and
//     the [*awsguard.StepError] says to re-run with InUseKeyID.
//  7. Deactivate the old key and record when: tag the user
//     [TagDeactivatedPrefix] and the key ID = the time (RFC 3339, from
//     [Settings].Now). IAM itself does not record when a key was
//     deactivated.
//  8. With [Settings].DeleteOld, delete the old key at once, after reading
//     its last use (GetAccessKeyLastUsed): a key used after its
//     deactivation is kept and reported ([OutcomeUsedAfterDeactivation],
//     [Rotation].Warnings).
//  9. Remove the [TagRotation] record.
//
// The new secret key lives in [AccessKey].Secret, an awsguard.Secret that
// shows itself as [REDACTED] in %v, JSON, slog and error text; only
// Secret.Reveal returns it. The result is a [Rotation]: the user, the
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
// # Leaked keys
//
// [ContainLeakedKey] responds to a leaked access key from its ID alone
// (the secret is never needed): it finds the user (iam:GetAccessKeyLastUsed
// names it, iam:ListAccessKeys confirms it), then contains the key, first
// mutating call first:
//
//	Action                          Call                                What it does                                          Recorded in (user tag)
//	contain-deactivate-key          iam:UpdateAccessKey                 makes the leaked key Inactive                         awsguard:contain:key, just after
//	contain-record-key              iam:TagUser                         records "KEYID deactivated" or "KEYID was-inactive"   awsguard:contain:key
//	contain-attach-quarantine       iam:TagUser,iam:AttachUserPolicy    attaches AWSCompromisedKeyQuarantineV3 (or yours)     awsguard:contain:policy, just before
//	contain-revoke-sessions         iam:TagUser,iam:PutUserPolicy       RevokeSessions: denies sessions issued before now     awsguard:contain:sessions, just before
//	contain-delete-login-profile    iam:TagUser,iam:DeleteLoginProfile  DisableConsole: deletes the console password          awsguard:contain:login, just before
//
// Deactivation comes first because an Inactive key is refused by AWS at
// once (the quarantine policy is the second wall: it denies the key's user
// the actions an attacker uses to persist, such as iam:CreateUser and
// iam:CreateAccessKey). The sessions policy is an inline Deny of every
// action with the condition DateLessThan aws:TokenIssueTime = the
// containment time (policy [SessionsPolicyName]): temporary credentials
// minted with the key before then stop working; so do the user's other
// older sessions. A console password, once deleted, cannot be restored
// with the same password: a release says so in its Warnings, and the user
// needs a new one (iam:CreateLoginProfile). The user's other keys and
// every other user are left alone.
//
// A re-run reads the live key, policies, console password and the records,
// names the state ([ContainState], in [Containment].State) and carries out
// only what is missing; on a contained key it makes no mutating call and
// says so (ReasonAlreadyCompliant).
//
//	Containment state  Records (awsguard:contain:*)   What ContainLeakedKey does                       What ReleaseContainment does
//	none               none                           contains the key                                 nothing to remove
//	partial            some                           carries out the missing steps                    undoes what the records name
//	complete           all steps in effect            nothing (already compliant)                      undoes what the records name
//	other-key          name another key of the user   refuses (ErrContainedOtherKey)                   refuses (ErrContainedOtherKey)
//	replaced           a new key delivered            keeps the leaked key Inactive, nothing else      undoes what is left, never reactivates the key
//
// [ReleaseContainment] (a false alarm) undoes exactly what the records
// name: it detaches the policy and deletes the sessions policy containment
// added (a policy attached before containment stays), reactivates the key
// only if containment deactivated it, and removes the records.
// Reactivating a leaked key is weakening: it is refused with an
// [*awsguard.WeakeningError] unless ReleaseOptions.AllowWeaken. A key that
// was Inactive before containment is never reactivated; neither is a key
// whose deactivation's record was lost (the run was interrupted between
// UpdateAccessKey and TagUser: the re-run records it as was-inactive, the
// safe side): reactivate it by hand if it was a false alarm.
//
// The quarantine policy and the sessions deny cover the whole user, so a
// new key for the same user cannot work while the user is contained.
// [ReplaceLeakedKey] (user and key named: the key may already be gone)
// replaces the key and releases the user, in this order:
//
//	Action                     Call                                                  What it does
//	replace-delete-orphan      iam:DeleteAccessKey                                   deletes a key an interrupted run created and never delivered
//	replace-delete-leaked-key  iam:DeleteAccessKey                                   DeleteLeaked, when the user holds two keys: makes room
//	replace-create-key         iam:TagUser,iam:CreateAccessKey                       records "intent keys=...", creates the key, records "NEWKEYID pending"
//	replace-verify-key         sts:GetCallerIdentity                                 waits until the new key authenticates as the user
//	replace-deliver-key        iam:TagUser                                           ReplaceOptions.Deliver, then records "NEWKEYID delivered"
//	replace-lift-quarantine    iam:DeleteUserPolicy,iam:DetachUserPolicy,iam:TagUser  weakening: removes what containment added, records "NEWKEYID lifted"
//	replace-delete-leaked-key  iam:DeleteAccessKey                                   DeleteLeaked: the leaked key, last
//
// The leaked key stays Inactive throughout. A key recorded pending (or,
// after an intent record, a key the user did not hold before) was never
// delivered: while the user is still quarantined nothing can work with
// it, so a re-run deletes it and delivers a fresh one. Lifting is
// weakening (ReplaceOptions.AllowWeaken) unless KeepQuarantine keeps it.
// [DeleteLeakedKey] deletes the leaked key alone once the caller confirms
// it is no longer needed as evidence; ReleaseOptions.User releases from
// the user's records when the key is gone.
//
// A key of the root user is refused ([ErrRootKey]: delete it as the root
// user), as is a key unknown in this account ([ErrKeyNotFound]: a key of
// another account is contained with that account's credentials), a user
// that does not list the key ([ErrKeyNotConfirmed]) and a temporary (ASIA)
// key ([ErrInvalidInput]). Permissions: [ContainAPI], [ReleaseAPI],
// [ReplaceAPI] (and sts:GetCallerIdentity) and [DeleteLeakedAPI].
//
// [MeasureKeyActivity] measures what the key did: CloudTrail event
// history (cloudtrail:LookupEvents filtered by AccessKeyId) over a window
// (default and at most 90 days, the history's reach) in each region asked
// for (IAM and other global services log in us-east-1), every page read
// (empty pages with a token too, at most MaxPages), paced by a token
// bucket to 2 calls a second per region (LookupEvents' limit per account
// and region), a throttled call retried after a pause. [Activity] holds
// the events (name, source, region, source IP, user agent, error code,
// resources), their counts by name, address, user agent and region, the
// first and last use, the failed calls, and the events flagged:
//
//   - persistence: CreateUser, CreateAccessKey, CreateLoginProfile,
//     UpdateLoginProfile, CreateRole, RunInstances, CreateKeyPair,
//     ImportKeyPair, AuthorizeSecurityGroupIngress, CreateVirtualMFADevice,
//     CreateFunction*;
//   - privilege-escalation: Attach*Policy, Put*Policy (PutUserPolicy,
//     PutBucketPolicy, ...), UpdateAssumeRolePolicy, AddUserToGroup,
//     CreatePolicyVersion, SetDefaultPolicyVersion.
//
// [Activity.Report] gives them as findings of check
// iam.key.leaked_activity ([CheckLeakedActivity]): the key FAIL (CRITICAL
// when a call is flagged, HIGH otherwise) or PASS when it made no call;
// one FAIL CRITICAL per flagged event, on the resource it names; one
// ERROR per region that could not be read. A region that fails never
// stops the others.
//
// # Interrupted runs
//
// Every step is safe to repeat, and a re-run after an interruption at any
// point converges, guided by the records on the user and, where they
// cannot tell which key is in use, by the caller's InUseKeyID. A re-run
// reads the live state, names it (a [State], in [Rotation].State), and
// plans for that state alone. A is the key the record names old, B the
// key it names new (or the other key InUseKeyID names); T is the record's
// at= time.
//
//	State              Record (TagRotation)    Keys                           InUseKeyID        What a re-run does
//	idle               none                    any                            empty or a key    rotates afresh (the usual two-key rules)
//	intent             old=A at=T              A Active                       empty or A        deletes a key created within 5 min of T (the orphan), rotates A afresh
//	intent-named       old=A                   B exists, Active               B                 records B's delivery (old=A new=B), finishes
//	old-touched        old=A, or pending       A not Active                   empty or A        refuses (ErrRotationInProgress), lists the keys
//	pending            old=A new=B pending     A Active, B exists             empty             refuses, changes nothing: B may be delivered
//	pending-rejected   old=A new=B pending     A Active, B exists             A                 deletes B, rotates A afresh
//	pending-confirmed  old=A new=B pending     B Active                       B, or empty       records B's delivery, finishes (empty: only when A is not Active)
//	pending-gone       old=A new=B pending     A Active, B gone               empty or A        rotates A afresh (B's creation was rolled back)
//	delivered          old=A new=B             B Active, A not reactivated    empty or B        finishes the steps after delivery (Resumed true)
//	complete           old=A new=B             B Active, A gone or recorded   empty or B        removes the record left behind
//	delivered-lost     new=B or B named        B gone or Inactive             any               refuses: finishing would leave no working key
//	reactivated        B's delivery confirmed  A Active, with its deact. tag  empty or B        refuses: someone reactivated A and uses it
//	in-use-conflict    any                     any                            neither A nor B   refuses (also InUseKeyID A once B's delivery is recorded)
//
// More on the cases:
//
//   - intent: a key created within 5 minutes (clock skew) of T was created
//     by the interrupted run and never delivered: an orphan whose secret
//     nobody holds. A key created outside that window (say, added by an
//     operator after a run whose CreateKey failed left the record behind)
//     is no orphan: the usual two-key rules apply ([ErrKeyLimit] if it is
//     Active, deleted to make room if it is Inactive). A record without
//     at= (written by an older version) takes no key for an orphan.
//   - old-touched: the record says nothing was delivered, yet A was
//     touched (by hand, or by an older version of this package). The
//     re-run does not guess; naming another Active key in use records its
//     delivery and finishes (intent-named).
//   - pending: B was created and may have been delivered; its delivery is
//     not confirmed, so the re-run never deletes B on its own. A Deliver
//     that returns a context error (Canceled, DeadlineExceeded) may have
//     delivered B: the run keeps B and this record, and its
//     [*awsguard.StepError] says to re-run with InUseKeyID.
//   - delivered: B is delivered (A is touched only after delivery); the
//     re-run does not create another key.
//   - reactivated: someone reactivated A after the rotation deactivated it,
//     so someone still uses it. The re-run neither deactivates nor deletes
//     A (as [FinishRotation] never deletes an Active key).
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
// ([BatchOptions].Concurrency, default 4, on internal/fanout) and returns
// one awsguard.Result per user; one user's failure does not stop the
// others. On moto about 12 API calls
// a rotation (11 when no key must make room).
//
// # IAM permissions
//
// Each operation takes the narrowest interface it needs (api.go): its
// methods are the permissions, which each function's documentation
// lists, and a test checks every list against its interface. Direct
// rotation ([RotateAPI]) on the rotated user: iam:GetUser,
// iam:ListAccessKeys, iam:CreateAccessKey, iam:UpdateAccessKey,
// iam:DeleteAccessKey, iam:GetAccessKeyLastUsed, iam:ListUserTags,
// iam:TagUser, iam:UntagUser; [FinishRotation] ([FinishAPI]) the same
// without CreateAccessKey and UpdateAccessKey. sts:GetCallerIdentity
// needs no permission.
//
// # Errors
//
// Bad input is refused before any call with an [*awsguard.InputError]
// that names the field as the caller knows it ("user",
// "Options.InUseKeyID", "RotationConfig.SecretID"; it matches
// [ErrInvalidInput]). Live state that forbids a rotation gives
// [ErrKeyLimit], [ErrNoActiveKey] or [ErrInUseKeyNotFound]; FinishRotation
// refuses with [ErrRotationInProgress] while a rotation is unfinished. A
// failed step returns a [*awsguard.StepError]: the step, the key, the cause
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
//     ErrCurrentKeyMissing (fix the secret by hand). It then deals with
//     the user's keys that no staged version holds. It deletes such a key
//     only if it is Inactive, or if it is an orphan of this rotation: a
//     key an attempt created and stopped before storing, which IAM
//     reports never used and which was created within the rotation's
//     window. The window is HandlerOptions.OrphanWindow (default 24
//     hours, longer than Secrets Manager retries a step) before now, and
//     never before AWSCURRENT's key was created. Any other such key (used,
//     or older: someone added it by hand and may depend on it) makes the
//     step fail with ErrForeignKey naming the key; nothing is deleted.
//     If the user still holds two keys, it deletes AWSPREVIOUS's key (or
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
//     nothing changed: run RepairPending), then proves it authenticates as
//     the user, as testSecret does, so that a finishSecret called after a
//     failed testSecret never promotes a dead key (ErrKeyNotValid or
//     ErrWrongIdentity, nothing changed), then moves AWSCURRENT to it
//     (AWSPREVIOUS follows), removes AWSPENDING and deactivates the previous
//     key. Clients that cache the old value longer than a rotation are then
//     refused.
//
// Failures are *awsguard.StepError values naming the step, the secret and
// version (Resource), what failed (Err) and the remedy (ToDo); most say
// "retry with the same token", which Secrets Manager does by itself. RepairPending clears an AWSPENDING label left on a non-current
// version by a rotation that failed for good, and deletes the key that
// version held; it honours DryRun.
//
// The IAM user must serve the secret alone: rotation removes keys that no
// version holds (or refuses), so SetupRotation refuses a user holding
// other keys (ErrUserNotDedicated).
//
// Permissions of the function's role (RotationPolicy writes them):
// secretsmanager:DescribeSecret, GetSecretValue, PutSecretValue and
// UpdateSecretVersionStage on the secret's ARN; iam:ListAccessKeys,
// CreateAccessKey, UpdateAccessKey, DeleteAccessKey and
// GetAccessKeyLastUsed on the user's ARN;
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
// [PlanSetup] (or DryRun) returns the plan; a second run reports
// awsguard.ReasonAlreadyCompliant. It does not deploy the function:
// examples/rotation-lambda documents the build. [TeardownRotation] reverses
// it, taking only what it reads ([TeardownConfig], [TeardownOptions]):
// cancel rotation, remove the permission, delete the policy, and only with
// DeleteSecret schedule the secret's deletion. Keys stay. A second
// teardown reports awsguard.ReasonNothingToRemove.
package keyrotate
