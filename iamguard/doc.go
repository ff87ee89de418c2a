// Package iamguard audits and hardens an account's IAM posture: the root
// user, console users' MFA, access keys, permissions through groups and
// the account password policy, measured against Korea's ISMS-P / KISA
// guide and the CIS AWS Foundations Benchmark v3.0.
//
//	api := iam.NewFromConfig(cfg)
//	rep, err := iamguard.Audit(ctx, api) // an awsguard.Report of findings
//	...
//	ch, err := iamguard.EnablePasswordPolicy(ctx, api, iamguard.KISA.Policy)
//	if errors.Is(err, awsguard.ErrWeakening) {
//		// the account's policy is stricter in some field: nothing changed
//	}
//	for _, line := range ch.Describe() {
//		logger.Info("password policy", "change", line) // "update the account password policy: MinimumPasswordLength 6 -> 8, ..."
//	}
//
// # Workflow
//
//  1. Audit reads the account and returns an awsguard.Report.
//     Its calls do not grow with the number of users beyond pagination
//     (for 5,000 users: about 10 calls, against about 18,000 for a scan
//     user by user): the credential report (GenerateCredentialReport, polled with
//     bounded backoff through STARTED, INPROGRESS and COMPLETE, then
//     GetCredentialReport), GetAccountPasswordPolicy, GetAccountSummary and
//     GetAccountAuthorizationDetails (users only, 1,000 a page).
//
//  2. Fix what fails with the remediation each finding names:
//     EnablePasswordPolicy here, iamguard.CreateVirtualMFA (then
//     ActivateVirtualMFA) to enrol a console user without MFA,
//     keyrotate.RotateAccessKey for old keys. EnforceMFA, a deny policy for
//     groups, keeps members without an MFA session out; it enrols nobody.
//
//  3. Re-check a fixed user at once with VerifyUser. AWS serves the same
//     credential report for up to 4 hours, so Audit's findings drawn from
//     it carry the report's generation time in evidence
//     ("report_generated_at") and can lag a fix; VerifyUser reads the user
//     live ("source": "live").
//
// If a source cannot be read (for want of a permission, say), Audit still
// returns its report: the checks that depend on that source carry
// StatusError findings saying why, and the error wraps ErrAuditIncomplete
// and the cause. Ages are computed against AuditOptions.Now.
//
// # Checks
//
// Check IDs are stable and never renamed. One finding per check and
// resource; user checks are about each IAM user's ARN, root checks about
// arn:aws:iam::ACCOUNT:root, the password policy check about
// arn:aws:iam::ACCOUNT:account-password-policy. When the account is
// unknown (no IAM user and no AuditOptions.Account), these are "root" and
// "account-password-policy".
//
//	| check ID                     | severity | passes when                                           | ISMS-P (KISA) | CIS v3.0 | remediation                   |
//	|------------------------------|----------|-------------------------------------------------------|---------------|----------|-------------------------------|
//	| iam.root.mfa                 | CRITICAL | the root user has MFA                                 | 2.5.3, 2.5.5  | 1.5      |                               |
//	| iam.root.access_keys         | CRITICAL | the root user has no access keys                      | 2.5.5         | 1.4      |                               |
//	| iam.user.console_mfa         | HIGH     | every user with a console password has MFA            | 2.5.3         | 1.10     | iamguard.CreateVirtualMFA     |
//	| iam.user.access_key_rotation | MEDIUM   | every active key is younger than MaxKeyAge (90 days)  | 2.7.2         | 1.14     | keyrotate.RotateAccessKey     |
//	| iam.user.access_key_unused   | MEDIUM   | no active key unused longer than UnusedKeyAge (90 d.) | 2.5.1         | 1.12     |                               |
//	| iam.user.two_active_keys     | LOW      | no user has two active keys                           |               | 1.13     |                               |
//	| iam.user.direct_policies     | LOW      | no attached or inline policies of the user's own      | 2.5.1         | 1.15     |                               |
//	| iam.password_policy          | MEDIUM   | the password policy meets the baseline (KISA)         | 2.5.4         | 1.8, 1.9 | iamguard.EnablePasswordPolicy |
//
// Notes on the checks:
//
//   - Root MFA and root access keys are read from GetAccountSummary
//     (AccountMFAEnabled, AccountAccessKeysPresent), which is live; the
//     credential report's <root_account> row is the fallback and is shown
//     in evidence.
//   - Users without a console password get NOT_APPLICABLE for
//     iam.user.console_mfa; users without an active key get NOT_APPLICABLE
//     for the two key-age checks. A key never used counts as unused since
//     its creation. CIS 1.12 asks for 45 days: set UnusedKeyAge.
//   - Users created after the credential report (or whose name was reused
//     or path changed since) get StatusError for the report's checks, with
//     a title that says which: re-check them with VerifyUser. Users deleted
//     since the report are not reported.
//   - iam.password_policy evidence lists every parameter of the policy and
//     each violation. "No policy" is a FAIL, not an error. Its controls
//     are ISMS-P:2.5.4 against KISA, plus CIS:1.8 and CIS:1.9 against CIS.
//
// # Password policy baselines
//
// KISA (the default, used by ISMS-P 2.5.4 audits) asks for at least 2 of
// {letters, digits, symbols} with a minimum length of 10, or all 3 with a
// minimum length of 8; passwords changed at least quarterly (MaxPasswordAge
// 1..90); users allowed to change their own password. A flat "length 14"
// rule would fail policies that meet KISA; this package does not apply
// one. CIS asks for a minimum length of 14 (1.8) and reuse prevention of 24
// (1.9). Evaluate measures any policy against any Baseline and returns each
// violation; it makes no call. The presets' Policy fields are policies that
// meet them. The exported presets KISA and CIS are copies: changing them
// does not change the defaults (AuditOptions' zero Baseline is KISA as
// defined by this package) nor what BaselineByName returns. A custom
// Baseline must have a Name.
//
// # MFA, groups and self-service
//
// CreateVirtualMFA creates a user's virtual MFA device (named after the
// user) and returns its serial, Base32 seed and QR PNG. The seed and the QR
// are awsguard.Secret values, which redact themselves in every fmt verb,
// JSON, text and slog output; only Reveal returns them. A VirtualMFA
// decoded from JSON has neither ("[REDACTED]", "" and null decode to the
// zero Secret). ActivateVirtualMFA enables the device with two consecutive
// TOTP codes; DeleteVirtualMFA deactivates and deletes it (deactivating
// weakens: it needs AllowWeaken). IAM never returns a seed twice, so a
// device that was created but never activated (an interrupted enrolment)
// is deleted and created again by the next run: no orphan device stays
// behind.
//
// EnforceMFA keeps the customer managed policy awsguard-enforce-mfa in
// place (AWS's "BlockMostAccessUnlessSignedInWithMFA" plus changing one's
// own password): it denies every action except MFA self-enrolment, password
// change and sts:GetSessionToken unless the caller signed in with MFA
// (BoolIfExists aws:MultiFactorAuthPresent false). It tags the policy it
// creates awsguard:managed=true; a policy of that name and path without
// the tag (or awsguard's description) is someone else's, and EnforceMFA and
// RemoveEnforceMFA stop with ErrPolicyConflict before any change. Its own
// policy edited by hand is restored as a new default version, and it is
// attached to the given groups. Members then lose access with long-term keys unless they get an
// MFA session, so never attach it to the group of the automation itself.
// RemoveEnforceMFA detaches it (which weakens: it needs AllowWeaken) and
// deletes the policy once nothing uses it.
//
// EnsureGroup creates a group and attaches policies and members (adding
// only, unless the Exclusive fields are set); RemoveGroup empties and
// deletes it. MoveUser adds the user to the new group before removing them
// from the old one, so the user is never in neither. MoveUserPoliciesToGroup
// moves a user's direct managed and inline policies onto a group (CIS 1.15,
// ISMS-P 2.5.1): it attaches and copies everything first and detaches only
// after that, and stops with ErrPolicyConflict before any change if the
// group already has a different inline policy of the same name. It has no
// reverse on purpose: that would put policies back on the user.
//
// EnsureSelfServicePolicy puts the inline policy
// awsguard-self-service-credentials on a group: each member may manage only
// their own password, access keys and MFA device (${aws:username});
// deactivating MFA needs an MFA session. The documents are
// awsguard.PolicyDocument values (EnforceMFAPolicyDocument,
// SelfServicePolicyDocument). Resource ARNs in the generated policies use
// the aws partition.
//
// # Plans, weakening and errors
//
// Every mutating operation speaks the root package's vocabulary. It reads
// the live state, plans the ordered actions (an *awsguard.Plan: each
// Action has a Kind such as ActionAttachGroupPolicy, the Call such as
// "iam:AttachGroupPolicy", the Resource, a Detail in words such as "attach
// ReadOnlyAccess to group developers" and a Why) and carries it out with
// awsguard.Plan.Apply, which records each action's Outcome. Operation
// names are "iamguard.EnforceMFA" and so on. EnablePasswordPolicy and
// RestorePasswordPolicy return a PasswordPolicyChange, which embeds the
// plan (one action, ActionUpdatePasswordPolicy or
// ActionDeletePasswordPolicy) beside the field-by-field Diff and the
// policies Before and After.
//
// DryRun returns the same plan that apply carries out and touches nothing.
// A second run finds nothing to do: no action, Applied false, Reason
// awsguard.ReasonAlreadyCompliant (awsguard.ReasonNothingToRemove for a
// removal that found nothing of its own). Every operation is idempotent,
// so a step that fails is not rolled back: the error is an
// *awsguard.StepError naming the step and resource, what was done and
// kept, and that a re-run carries out only what is left.
//
// Input is checked before the first call: a bad value gives an
// *awsguard.InputError (errors.Is awsguard.ErrInvalidInput) whose Field is
// the name the caller knows ("user", "groups[1]", "Group.Members[2]",
// "PasswordPolicy.MinimumPasswordLength", "AuditOptions.MaxKeyAge") and
// nothing changes; missing users and groups are found while planning.
//
// Nothing is weakened by default. EnablePasswordPolicy compares the wanted
// policy with the current one field by field; a field made less strict
// (FieldChange.Weakening: a shorter minimum length, a character class no
// longer required, a longer maximum age or none, less reuse prevention,
// hard expiry or the users' right to change their password turned off;
// see Stricter for the directions) marks the plan's action Weakening, and
// the plan is refused, dry run or not, with an *awsguard.WeakeningError
// (errors.Is awsguard.ErrWeakening) that names each field ("MinimumPasswordLength 20 -> 14"),
// unless the caller sets AllowWeaken. Stricter(current, want) gives the
// policy that only tightens. The undos that lower a security setting by
// design take AllowWeaken too, and refuse without it: RestorePasswordPolicy
// (putting back a weaker policy, or deleting it), RemoveEnforceMFA
// (detaching the MFA deny from a group) and DeleteVirtualMFA (deactivating
// a second factor). The other operations only add protection or remove
// permissions and have no weakening action.
//
// The change records the previous password policy (Before, nil when there
// was none): RestorePasswordPolicy puts it back, deleting the policy when
// there was none. A run interrupted at any call converges when run again.
//
// Audit and VerifyUser only read.
//
// # IAM permissions
//
// Each operation takes an interface named after it (AuditAPI,
// FetchCredentialReportAPI, VerifyUserAPI, EnablePasswordPolicyAPI,
// RestorePasswordPolicyAPI, CreateVirtualMFAAPI, ActivateVirtualMFAAPI,
// DeleteVirtualMFAAPI, EnforceMFAAPI, RemoveEnforceMFAAPI, EnsureGroupAPI,
// RemoveGroupAPI, MoveUserAPI, MoveUserPoliciesToGroupAPI,
// EnsureSelfServicePolicyAPI, RemoveSelfServicePolicyAPI) holding exactly
// the calls it makes; *iam.Client satisfies them all. The interface is the
// list of IAM permissions the operation needs, and each operation's
// documentation lists them ("IAM permissions: ..."); a test proves the two
// agree. EnforceMFA also needs iam:TagPolicy, which is no call of its own.
//
// Each operation takes only the options it reads: AuditOptions (which
// embeds UserCheckOptions and CredentialReportOptions), UserCheckOptions
// for VerifyUser, CredentialReportOptions for FetchCredentialReport,
// PasswordPolicyOptions, MFAOptions and DeleteVirtualMFAOptions,
// EnforceMFAOptions and RemoveEnforceMFAOptions, GroupOptions,
// SelfServiceOptions.
//
// The library prints nothing; it logs through the optional *slog.Logger of
// its options.
package iamguard
