package iamguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
)

// PasswordPolicy is the account password policy, with every field AWS has.
// Unlike the SDK's types.PasswordPolicy it holds plain values, so that it
// compares with == and its zero values have AWS's meaning: MaxPasswordAge 0
// means passwords never expire, PasswordReusePrevention 0 means reuse is
// not prevented.
type PasswordPolicy struct {
	// MinimumPasswordLength is 6..128.
	MinimumPasswordLength int32 `json:"minimum_password_length"`
	// RequireSymbols requires one of ! @ # $ % ^ & * ( ) _ + - = [ ] { } | '.
	RequireSymbols             bool `json:"require_symbols"`
	RequireNumbers             bool `json:"require_numbers"`
	RequireUppercaseCharacters bool `json:"require_uppercase_characters"`
	RequireLowercaseCharacters bool `json:"require_lowercase_characters"`
	// AllowUsersToChangePassword lets IAM users change their own password.
	AllowUsersToChangePassword bool `json:"allow_users_to_change_password"`
	// ExpirePasswords is read only: AWS sets it when MaxPasswordAge > 0.
	// EnablePasswordPolicy ignores the value given and derives it.
	ExpirePasswords bool `json:"expire_passwords"`
	// MaxPasswordAge is the days a password is valid, 1..1095, or 0 for
	// never.
	MaxPasswordAge int32 `json:"max_password_age"`
	// PasswordReusePrevention is how many previous passwords a user may not
	// reuse, 1..24, or 0 for no prevention.
	PasswordReusePrevention int32 `json:"password_reuse_prevention"`
	// HardExpiry stops users with an expired password from setting a new
	// one; an administrator must reset it.
	HardExpiry bool `json:"hard_expiry"`
}

// The ranges AWS accepts.
const (
	minPasswordLength  = 6
	maxPasswordLength  = 128
	maxPasswordAgeDays = 1095
	maxPasswordReuse   = 24
)

// Validate checks every field against the range AWS accepts and returns a
// *PasswordPolicyError per field out of range (joined), or nil.
func (p PasswordPolicy) Validate() error {
	var errs []error
	if p.MinimumPasswordLength < minPasswordLength || p.MinimumPasswordLength > maxPasswordLength {
		errs = append(errs, &PasswordPolicyError{Field: "MinimumPasswordLength", Value: p.MinimumPasswordLength, Allowed: "6..128"})
	}
	if p.MaxPasswordAge < 0 || p.MaxPasswordAge > maxPasswordAgeDays {
		errs = append(errs, &PasswordPolicyError{Field: "MaxPasswordAge", Value: p.MaxPasswordAge, Allowed: "1..1095 days, or 0 for never"})
	}
	if p.PasswordReusePrevention < 0 || p.PasswordReusePrevention > maxPasswordReuse {
		errs = append(errs, &PasswordPolicyError{Field: "PasswordReusePrevention", Value: p.PasswordReusePrevention, Allowed: "1..24, or 0 for none"})
	}
	return errors.Join(errs...)
}

// normalized returns p with ExpirePasswords derived from MaxPasswordAge, as
// AWS stores it.
func (p PasswordPolicy) normalized() PasswordPolicy {
	p.ExpirePasswords = p.MaxPasswordAge > 0
	return p
}

// Stricter returns, field by field, the stricter of a and b: the longer
// minimum length, every character class either requires, the shorter
// non-zero maximum age, the longer reuse prevention, and hard expiry or the
// users' right to change their own password if either has it. (Both count
// as stricter: KISA requires that users can change their password.)
func Stricter(a, b PasswordPolicy) PasswordPolicy {
	age := a.MaxPasswordAge
	if age == 0 || (b.MaxPasswordAge > 0 && b.MaxPasswordAge < age) {
		age = b.MaxPasswordAge
	}
	return PasswordPolicy{
		MinimumPasswordLength:      max(a.MinimumPasswordLength, b.MinimumPasswordLength),
		RequireSymbols:             a.RequireSymbols || b.RequireSymbols,
		RequireNumbers:             a.RequireNumbers || b.RequireNumbers,
		RequireUppercaseCharacters: a.RequireUppercaseCharacters || b.RequireUppercaseCharacters,
		RequireLowercaseCharacters: a.RequireLowercaseCharacters || b.RequireLowercaseCharacters,
		AllowUsersToChangePassword: a.AllowUsersToChangePassword || b.AllowUsersToChangePassword,
		MaxPasswordAge:             age,
		PasswordReusePrevention:    max(a.PasswordReusePrevention, b.PasswordReusePrevention),
		HardExpiry:                 a.HardExpiry || b.HardExpiry,
	}.normalized()
}

// policyFromSDK converts the SDK's policy. A missing minimum length is AWS's
// default, 6.
func policyFromSDK(p *types.PasswordPolicy) PasswordPolicy {
	out := PasswordPolicy{
		MinimumPasswordLength:      6,
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		ExpirePasswords:            p.ExpirePasswords,
		MaxPasswordAge:             aws.ToInt32(p.MaxPasswordAge),
		PasswordReusePrevention:    aws.ToInt32(p.PasswordReusePrevention),
		HardExpiry:                 aws.ToBool(p.HardExpiry),
	}
	if p.MinimumPasswordLength != nil {
		out.MinimumPasswordLength = *p.MinimumPasswordLength
	}
	return out
}

// updateInput is the request that sets exactly p. Fields left out of an
// UpdateAccountPasswordPolicy request take AWS's defaults, so every field
// is sent except the zero MaxPasswordAge and PasswordReusePrevention, which
// AWS does not accept and which are the defaults.
func (p PasswordPolicy) updateInput() *iam.UpdateAccountPasswordPolicyInput {
	in := &iam.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength:      aws.Int32(p.MinimumPasswordLength),
		RequireSymbols:             p.RequireSymbols,
		RequireNumbers:             p.RequireNumbers,
		RequireUppercaseCharacters: p.RequireUppercaseCharacters,
		RequireLowercaseCharacters: p.RequireLowercaseCharacters,
		AllowUsersToChangePassword: p.AllowUsersToChangePassword,
		HardExpiry:                 aws.Bool(p.HardExpiry),
	}
	if p.MaxPasswordAge > 0 {
		in.MaxPasswordAge = aws.Int32(p.MaxPasswordAge)
	}
	if p.PasswordReusePrevention > 0 {
		in.PasswordReusePrevention = aws.Int32(p.PasswordReusePrevention)
	}
	return in
}

// policyField is one field of PasswordPolicy, in a fixed order.
type policyField struct {
	name, evidence string
	get            func(PasswordPolicy) string
}

func policyBool(b bool) string { return strconv.FormatBool(b) }
func policyInt(i int32) string { return strconv.Itoa(int(i)) }

var policyFields = []policyField{
	{"MinimumPasswordLength", "minimum_password_length", func(p PasswordPolicy) string { return policyInt(p.MinimumPasswordLength) }},
	{"RequireSymbols", "require_symbols", func(p PasswordPolicy) string { return policyBool(p.RequireSymbols) }},
	{"RequireNumbers", "require_numbers", func(p PasswordPolicy) string { return policyBool(p.RequireNumbers) }},
	{"RequireUppercaseCharacters", "require_uppercase_characters", func(p PasswordPolicy) string { return policyBool(p.RequireUppercaseCharacters) }},
	{"RequireLowercaseCharacters", "require_lowercase_characters", func(p PasswordPolicy) string { return policyBool(p.RequireLowercaseCharacters) }},
	{"AllowUsersToChangePassword", "allow_users_to_change_password", func(p PasswordPolicy) string { return policyBool(p.AllowUsersToChangePassword) }},
	{"ExpirePasswords", "expire_passwords", func(p PasswordPolicy) string { return policyBool(p.ExpirePasswords) }},
	{"MaxPasswordAge", "max_password_age", func(p PasswordPolicy) string { return policyInt(p.MaxPasswordAge) }},
	{"PasswordReusePrevention", "password_reuse_prevention", func(p PasswordPolicy) string { return policyInt(p.PasswordReusePrevention) }},
	{"HardExpiry", "hard_expiry", func(p PasswordPolicy) string { return policyBool(p.HardExpiry) }},
}

// evidence lists every parameter of p under snake_case keys.
func (p PasswordPolicy) evidence(into map[string]string) {
	for _, f := range policyFields {
		into[f.evidence] = f.get(p)
	}
}

// FieldChange is one field that EnablePasswordPolicy changes (or, in a dry
// run, would change).
type FieldChange struct {
	// Field is the PasswordPolicy field name.
	Field string `json:"field"`
	// From is the current value, or NoPolicy when the account has no
	// password policy.
	From string `json:"from"`
	// To is the value after the change.
	To string `json:"to"`
}

// NoPolicy is FieldChange.From when the account had no password policy.
const NoPolicy = "(no policy)"

func (c FieldChange) String() string { return fmt.Sprintf("%s: %s -> %s", c.Field, c.From, c.To) }

// DiffPasswordPolicy lists the fields that differ between before and after,
// in PasswordPolicy's field order. A nil before (no policy) lists every
// field. ExpirePasswords, derived from MaxPasswordAge, is not listed on its
// own.
func DiffPasswordPolicy(before *PasswordPolicy, after PasswordPolicy) []FieldChange {
	var out []FieldChange
	after = after.normalized()
	for _, f := range policyFields {
		if f.name == "ExpirePasswords" {
			continue
		}
		to := f.get(after)
		if before == nil {
			out = append(out, FieldChange{Field: f.name, From: NoPolicy, To: to})
			continue
		}
		if from := f.get(before.normalized()); from != to {
			out = append(out, FieldChange{Field: f.name, From: from, To: to})
		}
	}
	return out
}

// Composition is one way to meet a baseline's character rule: at least
// Classes of the three classes {letters, digits, symbols} required, with a
// minimum length of at least MinimumLength. A policy's letters class counts
// when it requires upper or lower case characters.
type Composition struct {
	Classes       int
	MinimumLength int32
}

func (c Composition) String() string {
	return fmt.Sprintf("%d of {letters, digits, symbols} with length >= %d", c.Classes, c.MinimumLength)
}

// Baseline is a password policy standard that Evaluate measures a policy
// against. Zero-valued requirements are not checked.
type Baseline struct {
	// Name is the baseline's name, such as "KISA" or "CIS".
	Name string
	// Controls are the baseline items a finding against it serves.
	Controls []string
	// MinimumPasswordLength is the least minimum length.
	MinimumPasswordLength int32
	// Compositions: the policy must meet at least one, if any are given.
	Compositions []Composition
	// RequireSymbols etc. require the character class outright.
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	// MaxPasswordAge > 0 requires that passwords expire within that many
	// days.
	MaxPasswordAge int32
	// PasswordReusePrevention is the least reuse prevention.
	PasswordReusePrevention int32
	// AllowUsersToChangePassword requires that users may change their own
	// password.
	AllowUsersToChangePassword bool
	// Policy is a policy that meets the baseline: the preset that
	// EnablePasswordPolicy applies for it.
	Policy PasswordPolicy
}

// The preset baselines, as the package uses them. They are never handed
// out: callers get copies (cloneBaseline), so that no caller can change
// another's defaults.
var (
	// kisa is the original of KISA.
	kisa = Baseline{
		Name:                       "KISA",
		Controls:                   []string{"ISMS-P:2.5.4"},
		Compositions:               []Composition{{Classes: 2, MinimumLength: 10}, {Classes: 3, MinimumLength: 8}},
		MaxPasswordAge:             90,
		AllowUsersToChangePassword: true,
		Policy: PasswordPolicy{
			MinimumPasswordLength:      8,
			RequireSymbols:             true,
			RequireNumbers:             true,
			RequireUppercaseCharacters: true,
			RequireLowercaseCharacters: true,
			AllowUsersToChangePassword: true,
			ExpirePasswords:            true,
			MaxPasswordAge:             90,
		},
	}
	// cis is the original of CIS.
	cis = Baseline{
		Name:                    "CIS",
		Controls:                []string{"ISMS-P:2.5.4", "CIS:1.8", "CIS:1.9"},
		MinimumPasswordLength:   14,
		PasswordReusePrevention: 24,
		Policy: PasswordPolicy{
			MinimumPasswordLength:      14,
			AllowUsersToChangePassword: true,
			PasswordReusePrevention:    24,
		},
	}
)

// The preset baselines, exported for callers to pass as a Baseline or to
// start a custom one from. They are copies of the package's own presets:
// mutating them (KISA.Compositions[0].MinimumLength = 6, say) changes only
// what is passed where they are used, never the defaults (Audit's zero
// Baseline means KISA as defined here) nor what BaselineByName returns.
// Prefer BaselineByName, which returns a fresh copy every time.
var (
	// KISA is the rule of the KISA cloud vulnerability guide that ISMS-P
	// 2.5.4 audits use: at least 2 of {letters, digits, symbols} with length
	// >= 10, or all 3 with length >= 8; passwords changed at least quarterly
	// (MaxPasswordAge 1..90); users may change their own password. Its
	// Policy requires all classes with length 8 and a 90-day maximum age.
	KISA = cloneBaseline(kisa)
	// CIS is the CIS AWS Foundations Benchmark v3.0: minimum length 14
	// (1.8) and reuse prevention 24 (1.9). Its Policy also lets users
	// change their own password.
	CIS = cloneBaseline(cis)
)

// BaselineByName returns the preset baseline named name ("kisa" or "cis",
// any case).
func BaselineByName(name string) (Baseline, error) {
	switch strings.ToLower(name) {
	case "kisa":
		return cloneBaseline(kisa), nil
	case "cis":
		return cloneBaseline(cis), nil
	}
	return Baseline{}, fmt.Errorf("iamguard: unknown baseline %q (want kisa or cis)", name)
}

func cloneBaseline(b Baseline) Baseline {
	b.Controls = append([]string(nil), b.Controls...)
	b.Compositions = append([]Composition(nil), b.Compositions...)
	return b
}

// Violation is one way a password policy falls short of a baseline.
type Violation struct {
	// Field is the PasswordPolicy field, "Composition" for the character
	// rule, or "PasswordPolicy" when there is no policy at all.
	Field string
	// Got is the current value, Want what the baseline asks.
	Got, Want string
}

func (v Violation) String() string { return fmt.Sprintf("%s = %s, want %s", v.Field, v.Got, v.Want) }

func classes(p PasswordPolicy) (n int, names []string) {
	if p.RequireUppercaseCharacters || p.RequireLowercaseCharacters {
		n, names = n+1, append(names, "letters")
	}
	if p.RequireNumbers {
		n, names = n+1, append(names, "digits")
	}
	if p.RequireSymbols {
		n, names = n+1, append(names, "symbols")
	}
	return n, names
}

// Evaluate returns every violation of baseline by current, in a fixed
// order; none means current meets the baseline. A nil current (no account
// password policy) is one violation. Evaluate is pure.
func Evaluate(current *PasswordPolicy, baseline Baseline) []Violation {
	if current == nil {
		return []Violation{{Field: "PasswordPolicy", Got: "none", Want: "an account password policy (" + baseline.Name + ")"}}
	}
	p := *current
	var out []Violation
	if baseline.MinimumPasswordLength > 0 && p.MinimumPasswordLength < baseline.MinimumPasswordLength {
		out = append(out, Violation{Field: "MinimumPasswordLength", Got: policyInt(p.MinimumPasswordLength), Want: ">= " + policyInt(baseline.MinimumPasswordLength)})
	}
	if len(baseline.Compositions) > 0 {
		n, names := classes(p)
		ok := false
		var want []string
		for _, c := range baseline.Compositions {
			ok = ok || (n >= c.Classes && p.MinimumPasswordLength >= c.MinimumLength)
			want = append(want, c.String())
		}
		if !ok {
			got := fmt.Sprintf("%d of {letters, digits, symbols} (%s) with length %d", n, strings.Join(names, ", "), p.MinimumPasswordLength)
			if n == 0 {
				got = fmt.Sprintf("no character class required, length %d", p.MinimumPasswordLength)
			}
			out = append(out, Violation{Field: "Composition", Got: got, Want: strings.Join(want, ", or ")})
		}
	}
	for _, r := range []struct {
		field     string
		want, got bool
	}{
		{"RequireSymbols", baseline.RequireSymbols, p.RequireSymbols},
		{"RequireNumbers", baseline.RequireNumbers, p.RequireNumbers},
		{"RequireUppercaseCharacters", baseline.RequireUppercaseCharacters, p.RequireUppercaseCharacters},
		{"RequireLowercaseCharacters", baseline.RequireLowercaseCharacters, p.RequireLowercaseCharacters},
		{"AllowUsersToChangePassword", baseline.AllowUsersToChangePassword, p.AllowUsersToChangePassword},
	} {
		if r.want && !r.got {
			out = append(out, Violation{Field: r.field, Got: "false", Want: "true"})
		}
	}
	if baseline.MaxPasswordAge > 0 && (p.MaxPasswordAge <= 0 || p.MaxPasswordAge > baseline.MaxPasswordAge) {
		got := policyInt(p.MaxPasswordAge)
		if p.MaxPasswordAge <= 0 {
			got = "0 (passwords never expire)"
		}
		out = append(out, Violation{Field: "MaxPasswordAge", Got: got, Want: "1.." + policyInt(baseline.MaxPasswordAge) + " days"})
	}
	if baseline.PasswordReusePrevention > 0 && p.PasswordReusePrevention < baseline.PasswordReusePrevention {
		out = append(out, Violation{Field: "PasswordReusePrevention", Got: policyInt(p.PasswordReusePrevention), Want: ">= " + policyInt(baseline.PasswordReusePrevention)})
	}
	return out
}

// PasswordPolicyOptions tunes EnablePasswordPolicy and
// RestorePasswordPolicy. The zero value applies the wanted policy as given.
type PasswordPolicyOptions struct {
	// DryRun plans the change and returns it without calling
	// UpdateAccountPasswordPolicy.
	DryRun bool
	// TightenOnly merges the wanted policy with the current one (Stricter),
	// so that no stricter existing value is weakened.
	TightenOnly bool
	// Logger receives one line per change; default: discard.
	Logger *slog.Logger
}

// The reasons a PasswordPolicyChange gives.
const (
	ReasonAlreadyCompliant = "already compliant"
	ReasonDryRun           = "dry run"
	ReasonCreated          = "created"
	ReasonUpdated          = "updated"
	ReasonDeleted          = "deleted"
)

// PasswordPolicyChange is what EnablePasswordPolicy did, or in a dry run
// would do.
type PasswordPolicyChange struct {
	// Applied is true when the policy was written.
	Applied bool `json:"applied"`
	// DryRun is true when the change was only planned.
	DryRun bool `json:"dry_run"`
	// Reason is one of the Reason constants.
	Reason string `json:"reason"`
	// Diff lists the fields changed, in field order; empty when already
	// compliant.
	Diff []FieldChange `json:"diff"`
	// Before is the policy found, nil if the account had none. Pass it to
	// RestorePasswordPolicy to undo the change.
	Before *PasswordPolicy `json:"before"`
	// After is the policy in effect after the change (or that would be, in
	// a dry run); nil only when RestorePasswordPolicy deletes the policy.
	After *PasswordPolicy `json:"after"`
}

func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// isNoSuchEntity matches IAM's NoSuchEntity by type or error code.
func isIAMNoSuchEntity(err error) bool {
	var nse *types.NoSuchEntityException
	var ae smithy.APIError
	return errors.As(err, &nse) || (errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity")
}

// readPasswordPolicy returns the account's policy, or nil if it has none.
func readPasswordPolicy(ctx context.Context, api interface {
	GetAccountPasswordPolicy(context.Context, *iam.GetAccountPasswordPolicyInput, ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}) (*PasswordPolicy, error) {
	out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if isIAMNoSuchEntity(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.PasswordPolicy == nil {
		return nil, nil
	}
	p := policyFromSDK(out.PasswordPolicy)
	return &p, nil
}

// EnablePasswordPolicy makes want the account password policy.
//
// It validates want first (MinimumPasswordLength 6..128, MaxPasswordAge
// 1..1095 or 0, PasswordReusePrevention 1..24 or 0): a field out of range
// gives a *PasswordPolicyError and no call is made. It then reads the
// current policy, plans the field-by-field diff and, unless DryRun,
// writes the policy with one UpdateAccountPasswordPolicy call. With
// TightenOnly the wanted policy is first merged with the current one
// (Stricter), so that no stricter existing value is weakened.
//
// It is idempotent: when the account already has exactly the target policy
// it returns Applied false and Reason ReasonAlreadyCompliant and writes
// nothing. The returned change records the previous policy in Before; undo
// with RestorePasswordPolicy(ctx, api, change.Before).
//
// If the update fails, the error wraps the SDK's error and the change (with
// Applied false) says what was planned. When the response was lost the
// update may have taken effect: run EnablePasswordPolicy again, which
// converges.
//
// IAM permissions: iam:GetAccountPasswordPolicy,
// iam:UpdateAccountPasswordPolicy.
func EnablePasswordPolicy(ctx context.Context, api PasswordPolicyAPI, want PasswordPolicy, optFns ...func(*PasswordPolicyOptions)) (*PasswordPolicyChange, error) {
	var o PasswordPolicyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := want.Validate(); err != nil {
		return nil, err
	}
	want = want.normalized()
	log := orDiscard(o.Logger).With("operation", "EnablePasswordPolicy", "dry_run", o.DryRun)

	current, err := readPasswordPolicy(ctx, api)
	if err != nil {
		return nil, fmt.Errorf("iamguard: EnablePasswordPolicy: read current policy: %w", err)
	}
	target := want
	if o.TightenOnly && current != nil {
		target = Stricter(*current, want)
	}
	ch := &PasswordPolicyChange{Before: current, After: &target, Diff: DiffPasswordPolicy(current, target), DryRun: o.DryRun}
	switch {
	case current != nil && len(ch.Diff) == 0:
		ch.Reason = ReasonAlreadyCompliant
		log.DebugContext(ctx, "password policy already compliant")
		return ch, nil
	case o.DryRun:
		ch.Reason = ReasonDryRun
		log.InfoContext(ctx, "password policy change planned", "fields", len(ch.Diff))
		return ch, nil
	}
	if _, err := api.UpdateAccountPasswordPolicy(ctx, target.updateInput()); err != nil {
		return ch, fmt.Errorf("iamguard: EnablePasswordPolicy: update account password policy (%d fields planned; re-run to converge): %w", len(ch.Diff), err)
	}
	ch.Applied = true
	ch.Reason = ReasonUpdated
	if current == nil {
		ch.Reason = ReasonCreated
	}
	log.InfoContext(ctx, "password policy "+ch.Reason, "fields", len(ch.Diff))
	return ch, nil
}

// RestorePasswordPolicy puts back a policy recorded in
// PasswordPolicyChange.Before: a nil before deletes the account password
// policy (AWS then applies no rules beyond its defaults), any other value
// is applied exactly as EnablePasswordPolicy would (TightenOnly is
// ignored). It is idempotent and honours DryRun.
//
// IAM permissions: iam:GetAccountPasswordPolicy,
// iam:UpdateAccountPasswordPolicy, iam:DeleteAccountPasswordPolicy.
func RestorePasswordPolicy(ctx context.Context, api PasswordPolicyRestoreAPI, before *PasswordPolicy, optFns ...func(*PasswordPolicyOptions)) (*PasswordPolicyChange, error) {
	if before != nil {
		return EnablePasswordPolicy(ctx, api, *before, append(optFns, func(o *PasswordPolicyOptions) { o.TightenOnly = false })...)
	}
	var o PasswordPolicyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	log := orDiscard(o.Logger).With("operation", "RestorePasswordPolicy", "dry_run", o.DryRun)
	current, err := readPasswordPolicy(ctx, api)
	if err != nil {
		return nil, fmt.Errorf("iamguard: RestorePasswordPolicy: read current policy: %w", err)
	}
	ch := &PasswordPolicyChange{Before: current, DryRun: o.DryRun}
	if current == nil {
		ch.Reason = ReasonAlreadyCompliant
		return ch, nil
	}
	for _, f := range policyFields {
		if f.name != "ExpirePasswords" {
			ch.Diff = append(ch.Diff, FieldChange{Field: f.name, From: f.get(*current), To: NoPolicy})
		}
	}
	if o.DryRun {
		ch.Reason = ReasonDryRun
		return ch, nil
	}
	_, err = api.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})
	if isIAMNoSuchEntity(err) { // gone meanwhile: nothing left to do
		ch.Reason, ch.Diff = ReasonAlreadyCompliant, nil
		return ch, nil
	}
	if err != nil {
		return ch, fmt.Errorf("iamguard: RestorePasswordPolicy: delete account password policy: %w", err)
	}
	ch.Applied, ch.Reason = true, ReasonDeleted
	log.InfoContext(ctx, "password policy deleted")
	return ch, nil
}
