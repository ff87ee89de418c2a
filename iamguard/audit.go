package iamguard

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
)

// The check IDs of Audit and VerifyUser. They are stable: never renamed.
const (
	CheckRootMFA           = "iam.root.mfa"
	CheckRootAccessKeys    = "iam.root.access_keys"
	CheckConsoleMFA        = "iam.user.console_mfa"
	CheckAccessKeyRotation = "iam.user.access_key_rotation"
	CheckAccessKeyUnused   = "iam.user.access_key_unused"
	CheckTwoActiveKeys     = "iam.user.two_active_keys"
	CheckDirectPolicies    = "iam.user.direct_policies"
	CheckPasswordPolicy    = "iam.password_policy"
)

// CheckInfo describes one check of Audit.
type CheckInfo struct {
	ID       string
	Severity awsguard.Severity
	// Controls are the baseline items the check serves. For
	// CheckPasswordPolicy they depend on the baseline; listed here are
	// KISA's.
	Controls []string
	// Remediation names the library function that fixes a failure, if any.
	Remediation string
	// Summary says what the check requires, in one line.
	Summary string
}

var auditChecks = []CheckInfo{
	{CheckRootMFA, awsguard.SeverityCritical, []string{"ISMS-P:2.5.3", "ISMS-P:2.5.5", "CIS:1.5"}, "", "the root user has MFA"},
	{CheckRootAccessKeys, awsguard.SeverityCritical, []string{"ISMS-P:2.5.5", "CIS:1.4"}, "", "the root user has no access keys"},
	{CheckConsoleMFA, awsguard.SeverityHigh, []string{"ISMS-P:2.5.3", "CIS:1.10"}, "iamguard.CreateVirtualMFA", "every user with a console password has an MFA device"},
	{CheckAccessKeyRotation, awsguard.SeverityMedium, []string{"ISMS-P:2.7.2", "CIS:1.14"}, "keyrotate.RotateAccessKey", "every active access key is younger than MaxKeyAge"},
	{CheckAccessKeyUnused, awsguard.SeverityMedium, []string{"ISMS-P:2.5.1", "CIS:1.12"}, "", "no active access key is unused for longer than UnusedKeyAge"},
	{CheckTwoActiveKeys, awsguard.SeverityLow, []string{"CIS:1.13"}, "", "no user has two active access keys"},
	{CheckDirectPolicies, awsguard.SeverityLow, []string{"ISMS-P:2.5.1", "CIS:1.15"}, "", "users get permissions through groups, not policies of their own"},
	{CheckPasswordPolicy, awsguard.SeverityMedium, []string{"ISMS-P:2.5.4"}, "iamguard.EnablePasswordPolicy", "the account password policy meets the baseline"},
}

// Checks returns the checks of Audit, in a fixed order.
func Checks() []CheckInfo {
	out := slices.Clone(auditChecks)
	for i := range out {
		out[i].Controls = slices.Clone(out[i].Controls)
	}
	return out
}

func auditCheckInfo(id string) CheckInfo {
	for _, c := range auditChecks {
		if c.ID == id {
			return c
		}
	}
	panic("iamguard: unknown check " + id) // programming error, not input
}

// UserCheckOptions tunes VerifyUser's checks of a user; Audit reads them
// too, as part of AuditOptions. The zero value means the defaults.
type UserCheckOptions struct {
	// Now is the clock ages are computed against; default time.Now.
	Now func() time.Time
	// MaxKeyAge is the age past which an active access key fails
	// CheckAccessKeyRotation; default 90 days.
	MaxKeyAge time.Duration
	// UnusedKeyAge is how long an active key may go unused (a key never
	// used counts from its creation) before it fails CheckAccessKeyUnused;
	// default 90 days. (CIS 1.12 asks for 45.)
	UnusedKeyAge time.Duration
	// Account is the account ID written into findings. By default it is
	// read from the ARNs in the credential report and the authorization
	// details (by VerifyUser: from the user's ARN); set it when the
	// account may have no IAM users (it is then unknown and left empty).
	Account string
}

// CredentialReportOptions tunes FetchCredentialReport's wait for the
// credential report; Audit reads them too, as part of AuditOptions. The
// zero value means the defaults.
type CredentialReportOptions struct {
	// Logger receives debug lines; default: discard.
	Logger *slog.Logger
	// PollMinDelay and PollMaxDelay bound the backoff (with jitter)
	// between credential report polls; defaults 1 s and 10 s.
	PollMinDelay, PollMaxDelay time.Duration
	// ReportWait bounds the wait for the credential report, within ctx;
	// default 5 minutes.
	ReportWait time.Duration
}

// AuditOptions tunes Audit: the user checks' options, the credential
// report's, and the password policy baseline. The zero value means the
// defaults.
type AuditOptions struct {
	UserCheckOptions
	CredentialReportOptions
	// Baseline is the password policy baseline; the zero Baseline means
	// the default, KISA. A custom baseline must have a Name.
	Baseline Baseline
}

const oneDay = 24 * time.Hour

// namedDuration is an option's name and value, for nonNegative.
type namedDuration struct {
	name string
	v    time.Duration
}

// nonNegative returns an *awsguard.InputError for the first negative
// duration.
func nonNegative(op, prefix string, ds ...namedDuration) error {
	for _, d := range ds {
		if d.v < 0 {
			return inputError(op, prefix+"."+d.name, d.v.String(), ">= 0 (0 for the default)")
		}
	}
	return nil
}

// validate checks o (prefix names its type for the error) and sets the
// defaults.
func (o *UserCheckOptions) validate(op, prefix string) error {
	if err := nonNegative(op, prefix, namedDuration{"MaxKeyAge", o.MaxKeyAge}, namedDuration{"UnusedKeyAge", o.UnusedKeyAge}); err != nil {
		return err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxKeyAge == 0 {
		o.MaxKeyAge = 90 * oneDay
	}
	if o.UnusedKeyAge == 0 {
		o.UnusedKeyAge = 90 * oneDay
	}
	return nil
}

// validate checks o (prefix names its type for the error) and sets the
// defaults.
func (o *CredentialReportOptions) validate(op, prefix string) error {
	if err := nonNegative(op, prefix, namedDuration{"PollMinDelay", o.PollMinDelay}, namedDuration{"PollMaxDelay", o.PollMaxDelay},
		namedDuration{"ReportWait", o.ReportWait}); err != nil {
		return err
	}
	o.Logger = discardNil(o.Logger)
	if o.PollMinDelay == 0 {
		o.PollMinDelay = time.Second
	}
	if o.PollMaxDelay == 0 {
		o.PollMaxDelay = 10 * time.Second
	}
	o.PollMaxDelay = max(o.PollMaxDelay, o.PollMinDelay)
	if o.ReportWait == 0 {
		o.ReportWait = 5 * time.Minute
	}
	return nil
}

func newAuditOptions(optFns []func(*AuditOptions)) (AuditOptions, error) {
	const op, prefix = "Audit", "AuditOptions"
	var o AuditOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.UserCheckOptions.validate(op, prefix); err != nil {
		return o, err
	}
	if err := o.CredentialReportOptions.validate(op, prefix); err != nil {
		return o, err
	}
	switch {
	case reflect.ValueOf(o.Baseline).IsZero():
		o.Baseline = cloneBaseline(kisa)
	case o.Baseline.Name == "":
		return o, inputError(op, prefix+".Baseline.Name", "", "a name for a custom baseline (or a zero Baseline for the default, KISA)")
	}
	return o, nil
}

// Audit reads the account's IAM posture and returns a finding per check
// and resource (see the package documentation for the checks).
//
// It makes a number of calls that does not grow with the number of users
// beyond pagination: GenerateCredentialReport (polled until COMPLETE) and
// GetCredentialReport, GetAccountPasswordPolicy, GetAccountSummary and
// GetAccountAuthorizationDetails (users only, 1,000 a page). The four
// sources are read concurrently, so api must be safe for concurrent use
// (*iam.Client is). The credential report can be up to 4 hours old: each
// finding drawn from it has its generation time in evidence
// ("report_generated_at"); re-check a user after a fix with VerifyUser. Users created after the report get
// StatusError findings for the report's checks that say so.
//
// If a source cannot be read, Audit still returns the report, in which the
// checks depending on it carry StatusError findings, along with an error
// that wraps ErrAuditIncomplete and each cause. A cancelled context or
// invalid options give a nil report.
//
// IAM permissions: iam:GenerateCredentialReport, iam:GetCredentialReport,
// iam:GetAccountPasswordPolicy, iam:GetAccountSummary,
// iam:GetAccountAuthorizationDetails.
func Audit(ctx context.Context, api AuditAPI, optFns ...func(*AuditOptions)) (*awsguard.Report, error) {
	o, err := newAuditOptions(optFns)
	if err != nil {
		return nil, err
	}
	log := o.Logger.With("operation", "iamguard.Audit")
	a := &auditor{o: &o, now: o.Now().UTC()}

	// The four sources are independent: read them at once, so that the
	// other reads overlap the wait for the credential report.
	var wg sync.WaitGroup
	wg.Go(func() { a.report, a.reportErr = fetchCredentialReport(ctx, api, &o.CredentialReportOptions) })
	wg.Go(func() {
		a.policy, a.policyErr = readPasswordPolicy(ctx, api)
		if a.policyErr != nil {
			a.policyErr = fmt.Errorf("iamguard: get account password policy: %w", a.policyErr)
		}
	})
	wg.Go(func() { a.summary, a.summaryErr = readSummary(ctx, api) })
	wg.Go(func() { a.users, a.usersErr = readUserDetails(ctx, api) })
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("iamguard: Audit: %w", err)
	}
	var errs []error
	for _, err := range []error{a.reportErr, a.policyErr, a.summaryErr, a.usersErr} {
		if err != nil {
			errs = append(errs, err)
			log.DebugContext(ctx, "source unreadable", "error", err)
		}
	}

	rep := awsguard.NewReport(a.now, a.findings()...)
	if len(errs) > 0 {
		return rep, &incompleteError{errs: errs}
	}
	return rep, nil
}

// incompleteError is Audit's error when a source could not be read: one
// line, matching ErrAuditIncomplete and each cause.
type incompleteError struct{ errs []error }

func (e *incompleteError) Error() string {
	msgs := make([]string, len(e.errs))
	for i, err := range e.errs {
		msgs[i] = strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return ErrAuditIncomplete.Error() + ": " + strings.Join(msgs, "; ")
}

func (e *incompleteError) Unwrap() []error { return append([]error{ErrAuditIncomplete}, e.errs...) }

func readSummary(ctx context.Context, api AuditAPI) (map[string]int32, error) {
	out, err := api.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	if err != nil {
		return nil, fmt.Errorf("iamguard: get account summary: %w", err)
	}
	return out.SummaryMap, nil
}

func readUserDetails(ctx context.Context, api AuditAPI) ([]types.UserDetail, error) {
	var users []types.UserDetail
	p := iam.NewGetAccountAuthorizationDetailsPaginator(api, &iam.GetAccountAuthorizationDetailsInput{
		Filter:   []types.EntityType{types.EntityTypeUser},
		MaxItems: aws.Int32(1000),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: get account authorization details: %w", err)
		}
		users = append(users, page.UserDetailList...)
	}
	return users, nil
}

// auditor turns what Audit read into findings.
type auditor struct {
	o   *AuditOptions
	now time.Time

	report     *CredentialReport
	reportErr  error
	policy     *PasswordPolicy
	policyErr  error
	summary    map[string]int32
	summaryErr error
	users      []types.UserDetail
	usersErr   error

	account string
}

// accountFromARN returns the account field of an ARN, or "".
func accountFromARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}

func (a *auditor) findAccount() string {
	if a.o.Account != "" {
		return a.o.Account
	}
	if a.report != nil && a.report.Root != nil {
		if acct := accountFromARN(a.report.Root.ARN); acct != "" {
			return acct
		}
	}
	for _, u := range a.users {
		if acct := accountFromARN(aws.ToString(u.Arn)); acct != "" {
			return acct
		}
	}
	if a.report != nil {
		for _, r := range a.report.Users {
			if acct := accountFromARN(r.ARN); acct != "" {
				return acct
			}
		}
	}
	return ""
}

// finding starts a finding of check on resource.
func (a *auditor) finding(check, resource string, st awsguard.Status, title string, ev map[string]string) awsguard.Finding {
	info := auditCheckInfo(check)
	f := awsguard.Finding{
		Check: check, Status: st, Severity: info.Severity, Account: a.account, Region: awsguard.RegionGlobal,
		Resource: resource, Title: title, Evidence: ev, Controls: slices.Clone(info.Controls),
	}
	if st == awsguard.StatusFail {
		f.Remediation = info.Remediation
	}
	return f
}

// rootARN is the resource of the root checks: the root user's ARN, or
// "root" when the account is unknown (an ARN without an account is not an
// ARN).
func (a *auditor) rootARN() string {
	if a.account == "" {
		return "root"
	}
	return "arn:aws:iam::" + a.account + ":root"
}

func (a *auditor) accountResource() string {
	if a.account == "" {
		return "account"
	}
	return a.account
}

func (a *auditor) reportEvidence(ev map[string]string) map[string]string {
	if ev == nil {
		ev = map[string]string{}
	}
	ev["source"] = "credential_report"
	if a.report != nil {
		ev["report_generated_at"] = fmtReportTime(a.report.GeneratedAt)
	}
	return ev
}

func fmtReportTime(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return t.UTC().Format(time.RFC3339)
}

func auditErrorEvidence(err error) map[string]string { return map[string]string{"error": err.Error()} }

// credentialChecks are the checks drawn from the credential report.
var credentialChecks = []string{CheckConsoleMFA, CheckAccessKeyRotation, CheckAccessKeyUnused, CheckTwoActiveKeys}

func (a *auditor) findings() []awsguard.Finding {
	a.account = a.findAccount()
	var out []awsguard.Finding
	out = append(out, a.rootFindings()...)
	out = append(out, a.passwordPolicyFinding())

	// Current users come from the authorization details; the report may be
	// hours old. Without the details, fall back on the report's users.
	type user struct {
		name, arn string
		created   time.Time
		detail    *types.UserDetail
	}
	var users []user
	if a.usersErr == nil {
		for i := range a.users {
			u := &a.users[i]
			users = append(users, user{aws.ToString(u.UserName), aws.ToString(u.Arn), aws.ToTime(u.CreateDate), u})
		}
	} else {
		out = append(out, a.finding(CheckDirectPolicies, a.accountResource(), awsguard.StatusError,
			"Could not read users' policies", auditErrorEvidence(a.usersErr)))
		if a.report != nil {
			for _, r := range a.report.Users {
				users = append(users, user{r.User, r.ARN, r.UserCreationTime, nil})
			}
		}
	}
	var rows map[string]*CredentialReportRow
	if a.report != nil {
		rows = make(map[string]*CredentialReportRow, len(a.report.Users))
		for i := range a.report.Users {
			rows[a.report.Users[i].User] = &a.report.Users[i]
		}
	} else {
		for _, c := range credentialChecks {
			out = append(out, a.finding(c, a.accountResource(), awsguard.StatusError,
				"Could not read the credential report", auditErrorEvidence(a.reportErr)))
		}
	}
	for _, u := range users {
		if u.detail != nil {
			out = append(out, a.directPolicies(u.name, u.arn, u.detail))
		}
		if rows == nil {
			continue
		}
		row := rows[u.name]
		if row != nil && !sameUser(row, u.arn, u.created) {
			row = nil // a deleted user's row whose name was reused since
		}
		if row == nil {
			ev := a.reportEvidence(map[string]string{"user_creation_time": fmtReportTime(u.created), "reason": "user not in the credential report"})
			title := fmt.Sprintf("User %s is not in the credential report: re-check with iamguard.VerifyUser", u.name)
			if !u.created.IsZero() && u.created.After(a.report.GeneratedAt) {
				title = fmt.Sprintf("User %s is newer than the credential report: re-check with iamguard.VerifyUser", u.name)
			} else if rows[u.name] != nil {
				ev["reason"] = "the report's row of that name is about another user (name reused or path changed)"
				title = fmt.Sprintf("User %s's credential report row is about another user of that name: re-check with iamguard.VerifyUser", u.name)
			}
			for _, c := range credentialChecks {
				out = append(out, a.finding(c, u.arn, awsguard.StatusError, title, cloneEvidence(ev)))
			}
			continue
		}
		out = append(out, a.credentialFindings(credsFromRow(row, a.report.GeneratedAt))...)
	}
	return out
}

func cloneEvidence(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// sameUser reports whether a report row is about the user with this ARN
// and creation time (to the second, as the report writes it).
func sameUser(row *CredentialReportRow, arn string, created time.Time) bool {
	if row.ARN != "" && arn != "" && row.ARN != arn {
		return false
	}
	if !row.UserCreationTime.IsZero() && !created.IsZero() &&
		!row.UserCreationTime.Truncate(time.Second).Equal(created.Truncate(time.Second)) {
		return false
	}
	return true
}

func (a *auditor) rootFindings() []awsguard.Finding {
	root := a.rootARN()
	var out []awsguard.Finding

	// MFA: the summary is live, the report's root row can be 4 hours old.
	ev := map[string]string{}
	mfa, fromSummary := a.summary["AccountMFAEnabled"]
	if fromSummary {
		ev["account_mfa_enabled"] = strconv.Itoa(int(mfa))
		ev["source"] = "account_summary"
	}
	if r := a.rootRow(); r != nil {
		ev["root_mfa_active"] = strconv.FormatBool(r.MFAActive)
		ev["report_generated_at"] = fmtReportTime(a.report.GeneratedAt)
		if !fromSummary {
			ev["source"] = "credential_report"
			mfa, fromSummary = 0, true
			if r.MFAActive {
				mfa = 1
			}
		}
	}
	switch {
	case !fromSummary:
		out = append(out, a.finding(CheckRootMFA, root, awsguard.StatusError, "Could not tell whether the root user has MFA", a.sourceErrors(ev)))
	case mfa > 0:
		out = append(out, a.finding(CheckRootMFA, root, awsguard.StatusPass, "The root user has MFA", ev))
	default:
		out = append(out, a.finding(CheckRootMFA, root, awsguard.StatusFail, "The root user has no MFA", ev))
	}

	ev = map[string]string{}
	keys, known := a.summary["AccountAccessKeysPresent"]
	if known {
		ev["account_access_keys_present"] = strconv.Itoa(int(keys))
		ev["source"] = "account_summary"
	}
	if r := a.rootRow(); r != nil {
		n := 0
		for i, k := range r.AccessKeys {
			ev[fmt.Sprintf("access_key_%d_active", i+1)] = strconv.FormatBool(k.Active)
			if k.Active {
				n++
			}
		}
		ev["report_generated_at"] = fmtReportTime(a.report.GeneratedAt)
		if !known {
			ev["source"] = "credential_report"
			keys, known = int32(n), true
		}
	}
	switch {
	case !known:
		out = append(out, a.finding(CheckRootAccessKeys, root, awsguard.StatusError, "Could not tell whether the root user has access keys", a.sourceErrors(ev)))
	case keys > 0:
		out = append(out, a.finding(CheckRootAccessKeys, root, awsguard.StatusFail, "The root user has access keys", ev))
	default:
		out = append(out, a.finding(CheckRootAccessKeys, root, awsguard.StatusPass, "The root user has no access keys", ev))
	}
	return out
}

func (a *auditor) rootRow() *CredentialReportRow {
	if a.report == nil {
		return nil
	}
	return a.report.Root
}

// sourceErrors adds to ev why the root's sources could not decide.
func (a *auditor) sourceErrors(ev map[string]string) map[string]string {
	if a.summaryErr != nil {
		ev["account_summary_error"] = a.summaryErr.Error()
	} else {
		ev["account_summary"] = "key missing"
	}
	if a.reportErr != nil {
		ev["credential_report_error"] = a.reportErr.Error()
	} else if a.rootRow() == nil {
		ev["credential_report"] = "no " + RootUser + " row"
	}
	return ev
}

// PasswordPolicyResource is the resource of CheckPasswordPolicy findings
// for an account: arn:aws:iam::ACCOUNT:account-password-policy, or
// "account-password-policy" when the account is unknown ("").
func PasswordPolicyResource(account string) string {
	if account == "" {
		return "account-password-policy"
	}
	return "arn:aws:iam::" + account + ":account-password-policy"
}

func (a *auditor) passwordPolicyFinding() awsguard.Finding {
	res := PasswordPolicyResource(a.account)
	b := a.o.Baseline
	if a.policyErr != nil {
		f := a.finding(CheckPasswordPolicy, res, awsguard.StatusError, "Could not read the account password policy", auditErrorEvidence(a.policyErr))
		f.Controls = slices.Clone(b.Controls)
		f.Evidence["baseline"] = b.Name
		return f
	}
	ev := map[string]string{"baseline": b.Name, "policy_present": strconv.FormatBool(a.policy != nil)}
	if a.policy != nil {
		a.policy.evidence(ev)
	}
	vs := Evaluate(a.policy, b)
	var f awsguard.Finding
	switch {
	case len(vs) == 0:
		f = a.finding(CheckPasswordPolicy, res, awsguard.StatusPass, "The account password policy meets "+b.Name, ev)
	case a.policy == nil:
		ev["violations"] = joinViolations(vs)
		f = a.finding(CheckPasswordPolicy, res, awsguard.StatusFail, "The account has no password policy", ev)
	default:
		ev["violations"] = joinViolations(vs)
		f = a.finding(CheckPasswordPolicy, res, awsguard.StatusFail,
			fmt.Sprintf("The account password policy does not meet %s (%d violations)", b.Name, len(vs)), ev)
	}
	f.Controls = slices.Clone(b.Controls)
	return f
}

func joinViolations(vs []Violation) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = v.String()
	}
	return strings.Join(s, "; ")
}

func (a *auditor) directPolicies(name, arn string, u *types.UserDetail) awsguard.Finding {
	var attached, inline []string
	for _, p := range u.AttachedManagedPolicies {
		attached = append(attached, aws.ToString(p.PolicyName))
	}
	for _, p := range u.UserPolicyList {
		inline = append(inline, aws.ToString(p.PolicyName))
	}
	groups := slices.Clone(u.GroupList)
	slices.Sort(attached)
	slices.Sort(inline)
	slices.Sort(groups)
	return a.directPoliciesFinding(name, arn, attached, inline, groups, "authorization_details")
}

func (a *auditor) directPoliciesFinding(name, arn string, attached, inline, groups []string, source string) awsguard.Finding {
	ev := map[string]string{
		"source":            source,
		"attached_policies": strings.Join(attached, ","),
		"inline_policies":   strings.Join(inline, ","),
		"groups":            strings.Join(groups, ","),
	}
	if len(attached)+len(inline) == 0 {
		return a.finding(CheckDirectPolicies, arn, awsguard.StatusPass,
			fmt.Sprintf("User %s has no policies of their own", name), ev)
	}
	return a.finding(CheckDirectPolicies, arn, awsguard.StatusFail,
		fmt.Sprintf("User %s has policies of their own (%d attached, %d inline)", name, len(attached), len(inline)), ev)
}

// userCreds is what the credential checks read about one user, from the
// credential report or live.
type userCreds struct {
	name, arn       string
	passwordEnabled bool
	mfaActive       bool
	keys            []auditKey
	// base is the evidence every finding carries (source, report time).
	base map[string]string
}

type auditKey struct {
	label    string // access_key_1 or the key ID
	active   bool
	created  time.Time
	lastUsed time.Time // zero: never used (or no information)
}

func credsFromRow(r *CredentialReportRow, generated time.Time) userCreds {
	c := userCreds{
		name: r.User, arn: r.ARN, passwordEnabled: r.PasswordEnabled, mfaActive: r.MFAActive,
		base: map[string]string{"source": "credential_report", "report_generated_at": fmtReportTime(generated)},
	}
	for i, k := range r.AccessKeys {
		if !k.Active && k.LastRotated.IsZero() {
			continue // empty slot
		}
		c.keys = append(c.keys, auditKey{label: fmt.Sprintf("access_key_%d", i+1), active: k.Active, created: k.LastRotated, lastUsed: k.LastUsed})
	}
	return c
}

// days formats a duration in whole days when it is one, else as Go does.
func fmtDays(d time.Duration) string {
	if d%oneDay == 0 {
		return fmt.Sprintf("%d days", d/oneDay)
	}
	return d.String()
}

func fmtAgeDays(d time.Duration) string { return strconv.Itoa(int(d / oneDay)) }

func (a *auditor) credentialFindings(c userCreds) []awsguard.Finding {
	ev := func(kv ...string) map[string]string {
		m := cloneEvidence(c.base)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	var out []awsguard.Finding

	// Console MFA.
	mfaEv := ev("password_enabled", strconv.FormatBool(c.passwordEnabled), "mfa_active", strconv.FormatBool(c.mfaActive))
	switch {
	case !c.passwordEnabled:
		out = append(out, a.finding(CheckConsoleMFA, c.arn, awsguard.StatusNotApplicable, fmt.Sprintf("User %s has no console password", c.name), mfaEv))
	case c.mfaActive:
		out = append(out, a.finding(CheckConsoleMFA, c.arn, awsguard.StatusPass, fmt.Sprintf("Console user %s has MFA", c.name), mfaEv))
	default:
		out = append(out, a.finding(CheckConsoleMFA, c.arn, awsguard.StatusFail, fmt.Sprintf("Console user %s has no MFA device", c.name), mfaEv))
	}

	var active []auditKey
	for _, k := range c.keys {
		if k.active {
			active = append(active, k)
		}
	}

	// Two active keys.
	twoEv := ev("active_keys", strconv.Itoa(len(active)))
	if len(active) >= 2 {
		out = append(out, a.finding(CheckTwoActiveKeys, c.arn, awsguard.StatusFail, fmt.Sprintf("User %s has %d active access keys", c.name, len(active)), twoEv))
	} else {
		out = append(out, a.finding(CheckTwoActiveKeys, c.arn, awsguard.StatusPass, fmt.Sprintf("User %s has at most one active access key", c.name), twoEv))
	}

	// Rotation and use.
	if len(active) == 0 {
		out = append(out,
			a.finding(CheckAccessKeyRotation, c.arn, awsguard.StatusNotApplicable, fmt.Sprintf("User %s has no active access key", c.name), ev("active_keys", "0")),
			a.finding(CheckAccessKeyUnused, c.arn, awsguard.StatusNotApplicable, fmt.Sprintf("User %s has no active access key", c.name), ev("active_keys", "0")))
		return out
	}
	rotEv := ev("max_key_age", fmtDays(a.o.MaxKeyAge))
	useEv := ev("unused_key_age", fmtDays(a.o.UnusedKeyAge))
	var old, idle, unknown []string
	for _, k := range active {
		rotEv[k.label+"_last_rotated"] = fmtReportTime(k.created)
		if k.lastUsed.IsZero() {
			useEv[k.label+"_last_used"] = "never"
		} else {
			useEv[k.label+"_last_used"] = fmtReportTime(k.lastUsed)
		}
		if k.created.IsZero() {
			unknown = append(unknown, k.label)
			continue
		}
		age := a.now.Sub(k.created)
		rotEv[k.label+"_age_days"] = fmtAgeDays(age)
		if age > a.o.MaxKeyAge {
			old = append(old, k.label)
		}
		ref := k.lastUsed
		if ref.IsZero() {
			ref = k.created
		}
		idleFor := a.now.Sub(ref)
		useEv[k.label+"_idle_days"] = fmtAgeDays(idleFor)
		if idleFor > a.o.UnusedKeyAge {
			idle = append(idle, k.label)
		}
	}
	switch {
	case len(old) > 0:
		rotEv["failing_keys"] = strings.Join(old, ",")
		out = append(out, a.finding(CheckAccessKeyRotation, c.arn, awsguard.StatusFail,
			fmt.Sprintf("User %s has an active access key older than %s", c.name, fmtDays(a.o.MaxKeyAge)), rotEv))
	case len(unknown) > 0:
		rotEv["unknown_keys"] = strings.Join(unknown, ",")
		out = append(out, a.finding(CheckAccessKeyRotation, c.arn, awsguard.StatusError,
			fmt.Sprintf("User %s has an active access key of unknown age", c.name), rotEv))
	default:
		out = append(out, a.finding(CheckAccessKeyRotation, c.arn, awsguard.StatusPass,
			fmt.Sprintf("User %s's active access keys are younger than %s", c.name, fmtDays(a.o.MaxKeyAge)), rotEv))
	}
	switch {
	case len(idle) > 0:
		useEv["failing_keys"] = strings.Join(idle, ",")
		out = append(out, a.finding(CheckAccessKeyUnused, c.arn, awsguard.StatusFail,
			fmt.Sprintf("User %s has an active access key unused for more than %s", c.name, fmtDays(a.o.UnusedKeyAge)), useEv))
	case len(unknown) > 0:
		useEv["unknown_keys"] = strings.Join(unknown, ",")
		out = append(out, a.finding(CheckAccessKeyUnused, c.arn, awsguard.StatusError,
			fmt.Sprintf("User %s has an active access key of unknown age", c.name), useEv))
	default:
		out = append(out, a.finding(CheckAccessKeyUnused, c.arn, awsguard.StatusPass,
			fmt.Sprintf("User %s's active access keys were used within %s", c.name, fmtDays(a.o.UnusedKeyAge)), useEv))
	}
	return out
}

// VerifyUser re-checks one user live, without the credential report, for
// the checks Audit draws from the report (console MFA, key rotation, unused
// keys, two active keys) and for direct policies. Use it after a fix: the
// credential report Audit reads can be up to 4 hours old. Findings carry
// "source": "live" in evidence and use the same check IDs as Audit.
//
// It makes about 8 calls plus one GetAccessKeyLastUsed per key. An error
// (the user does not exist: *types.NoSuchEntityException) returns no
// report.
//
// IAM permissions: iam:GetUser, iam:GetLoginProfile, iam:ListMFADevices,
// iam:ListAccessKeys, iam:GetAccessKeyLastUsed,
// iam:ListAttachedUserPolicies, iam:ListUserPolicies,
// iam:ListGroupsForUser.
func VerifyUser(ctx context.Context, api VerifyUserAPI, userName string, optFns ...func(*UserCheckOptions)) (*awsguard.Report, error) {
	const op = "VerifyUser"
	var o UserCheckOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.validate(op, "UserCheckOptions"); err != nil {
		return nil, err
	}
	if err := checkUser(op, "userName", userName); err != nil {
		return nil, err
	}
	wrap := func(step string, err error) error {
		return fmt.Errorf("iamguard: VerifyUser %s: %s: %w", userName, step, err)
	}
	u, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(userName)})
	if err != nil {
		return nil, wrap("get user", err)
	}
	arn := aws.ToString(u.User.Arn)
	c := userCreds{name: userName, arn: arn, base: map[string]string{"source": "live"}}

	_, err = api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(userName)})
	switch {
	case err == nil:
		c.passwordEnabled = true
	case !isNoSuchEntity(err):
		return nil, wrap("get login profile", err)
	}
	mfa, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(userName)})
	if err != nil {
		return nil, wrap("list MFA devices", err)
	}
	c.mfaActive = len(mfa.MFADevices) > 0

	var keys []types.AccessKeyMetadata
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(userName)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, wrap("list access keys", err)
		}
		keys = append(keys, page.AccessKeyMetadata...)
	}
	slices.SortFunc(keys, func(x, y types.AccessKeyMetadata) int {
		if n := aws.ToTime(x.CreateDate).Compare(aws.ToTime(y.CreateDate)); n != 0 {
			return n
		}
		return strings.Compare(aws.ToString(x.AccessKeyId), aws.ToString(y.AccessKeyId))
	})
	for i, k := range keys {
		ks := auditKey{label: fmt.Sprintf("access_key_%d", i+1), active: k.Status == types.StatusTypeActive, created: aws.ToTime(k.CreateDate)}
		c.base[ks.label+"_id"] = aws.ToString(k.AccessKeyId)
		if ks.active {
			lu, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId})
			if err != nil {
				return nil, wrap("get access key last used", err)
			}
			if lu.AccessKeyLastUsed != nil {
				ks.lastUsed = aws.ToTime(lu.AccessKeyLastUsed.LastUsedDate)
			}
		}
		c.keys = append(c.keys, ks)
	}

	var attached, inline, groups []string
	ap := iam.NewListAttachedUserPoliciesPaginator(api, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(userName)})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			return nil, wrap("list attached user policies", err)
		}
		for _, p := range page.AttachedPolicies {
			attached = append(attached, aws.ToString(p.PolicyName))
		}
	}
	ip := iam.NewListUserPoliciesPaginator(api, &iam.ListUserPoliciesInput{UserName: aws.String(userName)})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			return nil, wrap("list user policies", err)
		}
		inline = append(inline, page.PolicyNames...)
	}
	gp := iam.NewListGroupsForUserPaginator(api, &iam.ListGroupsForUserInput{UserName: aws.String(userName)})
	for gp.HasMorePages() {
		page, err := gp.NextPage(ctx)
		if err != nil {
			return nil, wrap("list groups for user", err)
		}
		for _, g := range page.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	slices.Sort(attached)
	slices.Sort(inline)
	slices.Sort(groups)

	a := &auditor{o: &AuditOptions{UserCheckOptions: o}, now: o.Now().UTC(), account: o.Account}
	if a.account == "" {
		a.account = accountFromARN(arn)
	}
	findings := a.credentialFindings(c)
	findings = append(findings, a.directPoliciesFinding(userName, arn, attached, inline, groups, "live"))
	return awsguard.NewReport(a.now, findings...), nil
}
