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

	"github.com/awsguard/awsguard"
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

// Validate checks every field against the range AWS accepts and returns
// an *awsguard.InputError per field out of range (joined; Field is
// "PasswordPolicy.MinimumPasswordLength" and so on), or nil.
func (p PasswordPolicy) Validate() error {
	var errs []error
	bad := func(field string, v int32, allowed string) {
		errs = append(errs, &awsguard.InputError{Field: "PasswordPolicy." + field, Value: policyInt(v), Allowed: allowed})
	}
	if p.MinimumPasswordLength < minPasswordLength || p.MinimumPasswordLength > maxPasswordLength {
		bad("MinimumPasswordLength", p.MinimumPasswordLength, "6..128")
	}
	if p.MaxPasswordAge < 0 || p.MaxPasswordAge > maxPasswordAgeDays {
		bad("MaxPasswordAge", p.MaxPasswordAge, "1..1095 days, or 0 for never")
	}
	if p.PasswordReusePrevention < 0 || p.PasswordReusePrevention > maxPasswordReuse {
		bad("PasswordReusePrevention", p.PasswordReusePrevention, "1..24, or 0 for none")
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
// as stricter: KISA requires that users can change their password, and a
// policy that stops users from changing theirs keeps old passwords in
// use.) These are the directions in which EnablePasswordPolicy calls a
// change weakening.
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
	// weaker reports whether after is less strict than before in this
	// field (see Stricter for the directions); nil for ExpirePasswords,
	// which follows MaxPasswordAge.
	weaker func(before, after PasswordPolicy) bool
}

// looser reports whether a requirement held before is dropped after.
func looser(before, after bool) bool { return before && !after }

// ageRank orders maximum ages by strictness: 0 (never expire) is the
// least strict.
func ageRank(days int32) int64 {
	if days <= 0 {
		return 1 << 40
	}
	return int64(days)
}

func policyBool(b bool) string { return strconv.FormatBool(b) }
func policyInt(i int32) string { return strconv.Itoa(int(i)) }

var policyFields = []policyField{
	{"MinimumPasswordLength", "minimum_password_length", func(p PasswordPolicy) string { return policyInt(p.MinimumPasswordLength) },
		func(b, a PasswordPolicy) bool { return a.MinimumPasswordLength < b.MinimumPasswordLength }},
	{"RequireSymbols", "require_symbols", func(p PasswordPolicy) string { return policyBool(p.RequireSymbols) },
		func(b, a PasswordPolicy) bool { return looser(b.RequireSymbols, a.RequireSymbols) }},
	{"RequireNumbers", "require_numbers", func(p PasswordPolicy) string { return policyBool(p.RequireNumbers) },
		func(b, a PasswordPolicy) bool { return looser(b.RequireNumbers, a.RequireNumbers) }},
	{"RequireUppercaseCharacters", "require_uppercase_characters", func(p PasswordPolicy) string { return policyBool(p.RequireUppercaseCharacters) },
		func(b, a PasswordPolicy) bool {
			return looser(b.RequireUppercaseCharacters, a.RequireUppercaseCharacters)
		}},
	{"RequireLowercaseCharacters", "require_lowercase_characters", func(p PasswordPolicy) string { return policyBool(p.RequireLowercaseCharacters) },
		func(b, a PasswordPolicy) bool {
			return looser(b.RequireLowercaseCharacters, a.RequireLowercaseCharacters)
		}},
	{"AllowUsersToChangePassword", "allow_users_to_change_password", func(p PasswordPolicy) string { return policyBool(p.AllowUsersToChangePassword) },
		func(b, a PasswordPolicy) bool {
			return looser(b.AllowUsersToChangePassword, a.AllowUsersToChangePassword)
		}},
	{"ExpirePasswords", "expire_passwords", func(p PasswordPolicy) string { return policyBool(p.ExpirePasswords) }, nil},
	{"MaxPasswordAge", "max_password_age", func(p PasswordPolicy) string { return policyInt(p.MaxPasswordAge) },
		func(b, a PasswordPolicy) bool { return ageRank(a.MaxPasswordAge) > ageRank(b.MaxPasswordAge) }},
	{"PasswordReusePrevention", "password_reuse_prevention", func(p PasswordPolicy) string { return policyInt(p.PasswordReusePrevention) },
		func(b, a PasswordPolicy) bool { return a.PasswordReusePrevention < b.PasswordReusePrevention }},
	{"HardExpiry", "hard_expiry", func(p PasswordPolicy) string { return policyBool(p.HardExpiry) },
		func(b, a PasswordPolicy) bool { return looser(b.HardExpiry, a.HardExpiry) }},
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
	// To is the value after the change, or NoPolicy when the policy is
	// deleted.
	To string `json:"to"`
	// Weakening is true when the change makes the field less strict: a
	// shorter minimum length, a character class no longer required, a
	// longer maximum age or none, less reuse prevention, hard expiry or
	// the users' right to change their password turned off. Creating a
	// policy where there was none weakens nothing.
	Weakening bool `json:"weakening"`
}

// NoPolicy is FieldChange.From when the account had no password policy,
// and FieldChange.To when the policy is deleted.
const NoPolicy = "(no policy)"

func (c FieldChange) String() string { return fmt.Sprintf("%s: %s -> %s", c.Field, c.From, c.To) }

// short renders the change as "Field from -> to".
func (c FieldChange) short() string { return fmt.Sprintf("%s %s -> %s", c.Field, c.From, c.To) }

// DiffPasswordPolicy lists the fields that differ between before and after,
// in PasswordPolicy's field order, each marked Weakening when after is less
// strict in it. A nil before (no policy) lists every field, none
// weakening. ExpirePasswords, derived from MaxPasswordAge, is not listed on
// its own.
func DiffPasswordPolicy(before *PasswordPolicy, after PasswordPolicy) []FieldChange {
	var out []FieldChange
	after = after.normalized()
	for _, f := range policyFields {
		if f.weaker == nil {
			continue
		}
		to := f.get(after)
		if before == nil {
			out = append(out, FieldChange{Field: f.name, From: NoPolicy, To: to})
			continue
		}
		b := before.normalized()
		if from := f.get(b); from != to {
			out = append(out, FieldChange{Field: f.name, From: from, To: to, Weakening: f.weaker(b, after)})
		}
	}
	return out
}

// noPolicy is what a deleted policy leaves, for telling which fields a
// deletion weakens: AWS's minimum length and nothing required.
var noPolicy = PasswordPolicy{MinimumPasswordLength: minPasswordLength}

// diffDelete lists every field of current as changing to NoPolicy, marked
// Weakening where current is stricter than no policy.
func diffDelete(current PasswordPolicy) []FieldChange {
	var out []FieldChange
	for _, f := range policyFields {
		if f.weaker != nil {
			out = append(out, FieldChange{Field: f.name, From: f.get(current), To: NoPolicy, Weakening: f.weaker(current, noPolicy)})
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
// RestorePasswordPolicy. The zero value applies the wanted policy when it
// weakens no field, and refuses it otherwise.
type PasswordPolicyOptions struct {
	// DryRun plans the change and returns it without writing anything. A
	// weakening plan is refused in a dry run too, unless AllowWeaken.
	DryRun bool
	// AllowWeaken lets the change make fields less strict (FieldChange.
	// Weakening). Without it such a change is refused with an
	// *awsguard.WeakeningError naming each field, and nothing is written.
	AllowWeaken bool
	// Logger receives one record per action; default: discard.
	Logger *slog.Logger
}

func passwordPolicyOptions(optFns []func(*PasswordPolicyOptions)) PasswordPolicyOptions {
	var o PasswordPolicyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return o
}

// The kinds of the actions of a PasswordPolicyChange.
const (
	ActionUpdatePasswordPolicy = "update-password-policy"
	ActionDeletePasswordPolicy = "delete-password-policy"
)

// passwordPolicyResource is the Resource of a PasswordPolicyChange.
const passwordPolicyResource = "account-password-policy"

// PasswordPolicyChange is what EnablePasswordPolicy or
// RestorePasswordPolicy did, or in a dry run would do: the plan (at most
// one action, ActionUpdatePasswordPolicy or ActionDeletePasswordPolicy,
// marked Weakening when a field gets less strict), the field-by-field
// diff, and the policies before and after.
type PasswordPolicyChange struct {
	awsguard.Plan
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

// readPasswordPolicy returns the account's policy, or nil if it has none.
func readPasswordPolicy(ctx context.Context, api passwordPolicyReader) (*PasswordPolicy, error) {
	out, err := api.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if isNoSuchEntity(err) {
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

// describeDiff renders changes as "Field from -> to, ...".
func describeDiff(diff []FieldChange, onlyWeakening bool) string {
	var parts []string
	for _, d := range diff {
		if !onlyWeakening || d.Weakening {
			parts = append(parts, d.short())
		}
	}
	return strings.Join(parts, ", ")
}

// applyPasswordPolicyChange carries out ch's plan. A refusal names each
// weakening field ("MinimumPasswordLength 20 -> 14") in its
// *awsguard.WeakeningError.
func applyPasswordPolicyChange(ctx context.Context, pl *planner, ch *PasswordPolicyChange, o PasswordPolicyOptions) error {
	plan, err := pl.apply(ctx, o.Logger, o.AllowWeaken)
	ch.Plan = *plan
	var we *awsguard.WeakeningError
	if errors.As(err, &we) {
		we.Actions = nil
		for _, d := range ch.Diff {
			if d.Weakening {
				we.Actions = append(we.Actions, awsguard.Action{Kind: plan.Actions[0].Kind, Call: plan.Actions[0].Call,
					Resource: passwordPolicyResource, Detail: d.short(), Weakening: true, Outcome: awsguard.OutcomePlanned})
			}
		}
	}
	return err
}

// EnablePasswordPolicy makes want the account password policy, never
// weakening it unless told to.
//
// It validates want first (MinimumPasswordLength 6..128, MaxPasswordAge
// 1..1095 or 0, PasswordReusePrevention 1..24 or 0): a field out of range
// gives an *awsguard.InputError naming it ("PasswordPolicy.MaxPasswordAge")
// and no call is made. It then reads the current policy and compares it
// field by field (Diff). A change that makes any field less strict (see
// FieldChange.Weakening) marks the plan's action Weakening and is refused,
// dry run or not, with an *awsguard.WeakeningError (errors.Is
// awsguard.ErrWeakening) naming each such field, such as
// "MinimumPasswordLength 20 -> 14", and nothing is written, unless
// AllowWeaken is set. To raise a policy only where it falls short and keep
// its stricter values, pass Stricter(current, want). Unless DryRun, the
// policy is written with one UpdateAccountPasswordPolicy call.
//
// It is idempotent: when the account already has exactly the target policy
// it returns Applied false and Reason awsguard.ReasonAlreadyCompliant and
// writes nothing. The returned change records the previous policy in
// Before; undo with RestorePasswordPolicy(ctx, api, change.Before).
//
// If the update fails, the error is an *awsguard.StepError wrapping the
// SDK's error, and the change (with Applied false) says what was planned.
// When the response was lost the update may have taken effect: run
// EnablePasswordPolicy again, which converges.
//
// IAM permissions: iam:GetAccountPasswordPolicy,
// iam:UpdateAccountPasswordPolicy.
func EnablePasswordPolicy(ctx context.Context, api EnablePasswordPolicyAPI, want PasswordPolicy, optFns ...func(*PasswordPolicyOptions)) (*PasswordPolicyChange, error) {
	return enablePasswordPolicy(ctx, api, "EnablePasswordPolicy", want, passwordPolicyOptions(optFns))
}

func enablePasswordPolicy(ctx context.Context, api EnablePasswordPolicyAPI, op string, want PasswordPolicy, o PasswordPolicyOptions) (*PasswordPolicyChange, error) {
	if err := want.Validate(); err != nil {
		return nil, err
	}
	want = want.normalized()
	current, err := readPasswordPolicy(ctx, api)
	if err != nil {
		return nil, fmt.Errorf("iamguard: %s: read current policy: %w", op, err)
	}
	ch := &PasswordPolicyChange{Before: current, After: &want, Diff: DiffPasswordPolicy(current, want)}
	pl := newPlanner(op, passwordPolicyResource, o.DryRun)
	if current == nil || len(ch.Diff) > 0 {
		a := awsguard.Action{Kind: ActionUpdatePasswordPolicy, Call: "iam:UpdateAccountPasswordPolicy", Resource: passwordPolicyResource}
		switch {
		case current == nil:
			a.Detail = "create the account password policy: " + describeDiff(ch.Diff, false)
			a.Why = "the account has no password policy"
		default:
			a.Detail = "update the account password policy: " + describeDiff(ch.Diff, false)
			a.Why = fmt.Sprintf("%d field(s) differ from the wanted policy", len(ch.Diff))
		}
		for _, d := range ch.Diff {
			a.Weakening = a.Weakening || d.Weakening
		}
		if a.Weakening {
			a.Why += "; weakens " + describeDiff(ch.Diff, true)
		}
		pl.add(a, func(ctx context.Context) error {
			_, err := api.UpdateAccountPasswordPolicy(ctx, want.updateInput())
			return err
		})
	}
	return ch, applyPasswordPolicyChange(ctx, pl, ch, o)
}

// RestorePasswordPolicy puts back a policy recorded in
// PasswordPolicyChange.Before: the explicit undo of EnablePasswordPolicy.
// A nil before deletes the account password policy (AWS then applies no
// rules beyond its defaults); any other value is applied exactly as
// EnablePasswordPolicy would. It is idempotent and honours DryRun.
//
// Putting back an older policy usually weakens the current one (that is
// why it was changed), and a restore is refused like any other weakening
// change: with an *awsguard.WeakeningError naming each field that would
// get less strict, nothing written, unless AllowWeaken is set. Deleting
// the policy weakens every field stricter than no policy (minimum length
// 6, nothing required). An undo must be asked for as such: pass
// AllowWeaken only when the caller (a person, or a -allow-weaken flag)
// asked to go back to the weaker policy.
//
// IAM permissions: iam:GetAccountPasswordPolicy,
// iam:UpdateAccountPasswordPolicy, iam:DeleteAccountPasswordPolicy.
func RestorePasswordPolicy(ctx context.Context, api RestorePasswordPolicyAPI, before *PasswordPolicy, optFns ...func(*PasswordPolicyOptions)) (*PasswordPolicyChange, error) {
	const op = "RestorePasswordPolicy"
	o := passwordPolicyOptions(optFns)
	if before != nil {
		return enablePasswordPolicy(ctx, api, op, *before, o)
	}
	current, err := readPasswordPolicy(ctx, api)
	if err != nil {
		return nil, fmt.Errorf("iamguard: %s: read current policy: %w", op, err)
	}
	ch := &PasswordPolicyChange{Before: current}
	pl := newPlanner(op, passwordPolicyResource, o.DryRun)
	if current != nil {
		ch.Diff = diffDelete(*current)
		a := awsguard.Action{Kind: ActionDeletePasswordPolicy, Call: "iam:DeleteAccountPasswordPolicy", Resource: passwordPolicyResource,
			Detail: "delete the account password policy", Why: "the account had no password policy before"}
		for _, d := range ch.Diff {
			a.Weakening = a.Weakening || d.Weakening
		}
		if a.Weakening {
			a.Why += "; weakens " + describeDiff(ch.Diff, true)
		}
		pl.addAction(a, func(ctx context.Context, a *awsguard.Action) error {
			_, err := api.DeleteAccountPasswordPolicy(ctx, &iam.DeleteAccountPasswordPolicyInput{})
			if isNoSuchEntity(err) { // gone meanwhile: nothing left to do
				a.Outcome = awsguard.OutcomeSkipped
				pl.plan.Warnings = append(pl.plan.Warnings, "the account password policy was deleted meanwhile")
				return nil
			}
			return err
		})
	}
	err = applyPasswordPolicyChange(ctx, pl, ch, o)
	if err == nil && len(ch.Actions) == 1 && ch.Actions[0].Outcome == awsguard.OutcomeSkipped {
		ch.Reason, ch.Diff = awsguard.ReasonAlreadyCompliant, nil
	}
	return ch, err
}
