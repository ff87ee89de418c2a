// Package iamguard audits and hardens an account's IAM posture: the root
// user, console users' MFA, access keys, permissions through groups and
// the account password policy, measured against Korea's ISMS-P / KISA
// guide and the CIS AWS Foundations Benchmark v3.0.
//
// # Workflow
//
//  1. Audit reads the account and returns an awsguard.Report:
//
//     rep, err := iamguard.Audit(ctx, iam.NewFromConfig(cfg))
//
//     Its calls do not grow with the number of users beyond pagination
//     (for 5,000 users: about 10 calls, against about 18,000 for a scan
//     user by user): the credential report (GenerateCredentialReport, polled with
//     bounded backoff through STARTED, INPROGRESS and COMPLETE, then
//     GetCredentialReport), GetAccountPasswordPolicy, GetAccountSummary and
//     GetAccountAuthorizationDetails (users only, 1,000 a page).
//
//  2. Fix what fails with the remediation each finding names:
//     EnablePasswordPolicy here, iamguard.EnforceMFA for console MFA,
//     keyrotate.RotateAccessKey for old keys.
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
// arn:aws:iam::ACCOUNT:account-password-policy.
//
//	| check ID                     | severity | passes when                                           | ISMS-P (KISA) | CIS v3.0 | remediation                   |
//	|------------------------------|----------|-------------------------------------------------------|---------------|----------|-------------------------------|
//	| iam.root.mfa                 | CRITICAL | the root user has MFA                                 | 2.5.3, 2.5.5  | 1.5      |                               |
//	| iam.root.access_keys         | CRITICAL | the root user has no access keys                      | 2.5.5         | 1.4      |                               |
//	| iam.user.console_mfa         | HIGH     | every user with a console password has MFA            | 2.5.3         | 1.10     | iamguard.EnforceMFA           |
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
//     since) get StatusError for the report's checks: re-check them with
//     VerifyUser. Users deleted since the report are not reported.
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
// meet them.
//
// # Dry run and idempotency
//
// EnablePasswordPolicy validates the wanted policy before any call
// (MinimumPasswordLength 6..128, MaxPasswordAge 1..1095 or 0 for never,
// PasswordReusePrevention 1..24 or 0 for none; a *PasswordPolicyError names
// the field), reads the current policy, and plans a field-by-field diff.
// With DryRun it returns that plan and changes nothing; otherwise it writes
// the whole policy with one call. Run again, it finds nothing to do and
// says so (Applied false, Reason "already compliant"). TightenOnly merges
// the wanted policy with the current one so that no stricter existing
// value is weakened. The change records the previous policy (Before, nil
// when there was none): RestorePasswordPolicy puts it back, deleting the
// policy when there was none. A run interrupted at any call converges when
// run again.
//
// Audit and VerifyUser only read.
//
// # IAM permissions
//
//	Audit                  iam:GenerateCredentialReport, iam:GetCredentialReport, iam:GetAccountPasswordPolicy,
//	                       iam:GetAccountSummary, iam:GetAccountAuthorizationDetails
//	FetchCredentialReport  iam:GenerateCredentialReport, iam:GetCredentialReport
//	VerifyUser             iam:GetUser, iam:GetLoginProfile, iam:ListMFADevices, iam:ListAccessKeys,
//	                       iam:GetAccessKeyLastUsed, iam:ListAttachedUserPolicies, iam:ListUserPolicies,
//	                       iam:ListGroupsForUser
//	EnablePasswordPolicy   iam:GetAccountPasswordPolicy, iam:UpdateAccountPasswordPolicy
//	RestorePasswordPolicy  the above and iam:DeleteAccountPasswordPolicy
//
// Each operation takes the narrowest interface of the calls it makes
// (AuditAPI, CredentialReportAPI, VerifyUserAPI, PasswordPolicyAPI,
// PasswordPolicyRestoreAPI); *iam.Client satisfies them all.
//
// The library prints nothing; it logs through the optional *slog.Logger of
// its options.
package iamguard
