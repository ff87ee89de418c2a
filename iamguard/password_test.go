package iamguard_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// ppFake implements iamguard.RestorePasswordPolicyAPI and records calls.
type ppFake struct {
	calls  []string
	get    func() (*iam.GetAccountPasswordPolicyOutput, error)
	update func(*iam.UpdateAccountPasswordPolicyInput) (*iam.UpdateAccountPasswordPolicyOutput, error)
	del    func() (*iam.DeleteAccountPasswordPolicyOutput, error)
}

func (f *ppFake) GetAccountPasswordPolicy(ctx context.Context, _ *iam.GetAccountPasswordPolicyInput, _ ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error) {
	f.calls = append(f.calls, "GetAccountPasswordPolicy")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.get == nil {
		return nil, auditFakeUnexpected("GetAccountPasswordPolicy")
	}
	return f.get()
}

func (f *ppFake) UpdateAccountPasswordPolicy(ctx context.Context, in *iam.UpdateAccountPasswordPolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAccountPasswordPolicyOutput, error) {
	f.calls = append(f.calls, "UpdateAccountPasswordPolicy")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.update == nil {
		return nil, auditFakeUnexpected("UpdateAccountPasswordPolicy")
	}
	return f.update(in)
}

func (f *ppFake) DeleteAccountPasswordPolicy(ctx context.Context, _ *iam.DeleteAccountPasswordPolicyInput, _ ...func(*iam.Options)) (*iam.DeleteAccountPasswordPolicyOutput, error) {
	f.calls = append(f.calls, "DeleteAccountPasswordPolicy")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.del == nil {
		return nil, auditFakeUnexpected("DeleteAccountPasswordPolicy")
	}
	return f.del()
}

func TestEvaluateKISA(t *testing.T) {
	base := iamguard.PasswordPolicy{MinimumPasswordLength: 10, RequireLowercaseCharacters: true, RequireNumbers: true, MaxPasswordAge: 90, AllowUsersToChangePassword: true}
	with := func(fn func(*iamguard.PasswordPolicy)) *iamguard.PasswordPolicy {
		p := base
		fn(&p)
		return &p
	}
	tests := []struct {
		name   string
		policy *iamguard.PasswordPolicy
		want   []iamguard.Violation
	}{
		{"2 classes, length 10", &base, nil},
		{"upper case counts as letters", with(func(p *iamguard.PasswordPolicy) {
			p.RequireLowercaseCharacters, p.RequireUppercaseCharacters = false, true
		}), nil},
		{"3 classes, length 8", with(func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength, p.RequireSymbols = 8, true }), nil},
		{"the preset", &iamguard.KISA.Policy, nil},
		{"2 classes, length 9", with(func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 9 }), []iamguard.Violation{{
			Field: "Composition", Got: "2 of {letters, digits, symbols} (letters, digits) with length 9",
			Want: "2 of {letters, digits, symbols} with length >= 10, or 3 of {letters, digits, symbols} with length >= 8"}}},
		{"3 classes, length 7", with(func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength, p.RequireSymbols = 7, true }), []iamguard.Violation{{
			Field: "Composition", Got: "3 of {letters, digits, symbols} (letters, digits, symbols) with length 7",
			Want: "2 of {letters, digits, symbols} with length >= 10, or 3 of {letters, digits, symbols} with length >= 8"}}},
		{"1 class, length 20", with(func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength, p.RequireNumbers = 20, false }), []iamguard.Violation{{
			Field: "Composition", Got: "1 of {letters, digits, symbols} (letters) with length 20",
			Want: "2 of {letters, digits, symbols} with length >= 10, or 3 of {letters, digits, symbols} with length >= 8"}}},
		{"never expires", with(func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 0 }), []iamguard.Violation{{Field: "MaxPasswordAge", Got: "0 (passwords never expire)", Want: "1..90 days"}}},
		{"expires after 91 days", with(func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 91 }), []iamguard.Violation{{Field: "MaxPasswordAge", Got: "91", Want: "1..90 days"}}},
		{"users cannot change", with(func(p *iamguard.PasswordPolicy) { p.AllowUsersToChangePassword = false }), []iamguard.Violation{{Field: "AllowUsersToChangePassword", Got: "false", Want: "true"}}},
		{"no policy", nil, []iamguard.Violation{{Field: "PasswordPolicy", Got: "none", Want: "an account password policy (KISA)"}}},
		{"AWS default", &iamguard.PasswordPolicy{MinimumPasswordLength: 6}, []iamguard.Violation{
			{Field: "Composition", Got: "no character class required, length 6", Want: "2 of {letters, digits, symbols} with length >= 10, or 3 of {letters, digits, symbols} with length >= 8"},
			{Field: "AllowUsersToChangePassword", Got: "false", Want: "true"},
			{Field: "MaxPasswordAge", Got: "0 (passwords never expire)", Want: "1..90 days"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, iamguard.Evaluate(tt.policy, iamguard.KISA)); diff != "" {
				t.Errorf("Evaluate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEvaluateCIS(t *testing.T) {
	if got := iamguard.Evaluate(&iamguard.CIS.Policy, iamguard.CIS); got != nil {
		t.Errorf("the CIS preset violates CIS: %v", got)
	}
	// A KISA-compliant policy is not CIS-compliant, and the other way round.
	want := []iamguard.Violation{
		{Field: "MinimumPasswordLength", Got: "8", Want: ">= 14"},
		{Field: "PasswordReusePrevention", Got: "0", Want: ">= 24"},
	}
	if diff := cmp.Diff(want, iamguard.Evaluate(&iamguard.KISA.Policy, iamguard.CIS)); diff != "" {
		t.Errorf("KISA preset against CIS (-want +got):\n%s", diff)
	}
	want = []iamguard.Violation{
		{Field: "Composition", Got: "no character class required, length 14", Want: "2 of {letters, digits, symbols} with length >= 10, or 3 of {letters, digits, symbols} with length >= 8"},
		{Field: "MaxPasswordAge", Got: "0 (passwords never expire)", Want: "1..90 days"},
	}
	if diff := cmp.Diff(want, iamguard.Evaluate(&iamguard.CIS.Policy, iamguard.KISA)); diff != "" {
		t.Errorf("CIS preset against KISA (-want +got):\n%s", diff)
	}
}

func TestBaselineByName(t *testing.T) {
	for _, n := range []string{"kisa", "KISA", "cis"} {
		b, err := iamguard.BaselineByName(n)
		if err != nil || b.Name == "" {
			t.Errorf("BaselineByName(%q) = %v, %v", n, b.Name, err)
		}
	}
	if _, err := iamguard.BaselineByName("nist"); err == nil {
		t.Error("unknown baseline accepted")
	}
	b, _ := iamguard.BaselineByName("kisa")
	b.Controls[0] = "changed"
	if iamguard.KISA.Controls[0] != "ISMS-P:2.5.4" {
		t.Error("BaselineByName returns the preset's own slice")
	}
}

func TestPasswordPolicyValidate(t *testing.T) {
	ok := iamguard.KISA.Policy
	tests := []struct {
		name      string
		mod       func(*iamguard.PasswordPolicy)
		wantField string
	}{
		{"valid", func(*iamguard.PasswordPolicy) {}, ""},
		{"length 5", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 5 }, "MinimumPasswordLength"},
		{"length 0", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 0 }, "MinimumPasswordLength"},
		{"length 129", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 129 }, "MinimumPasswordLength"},
		{"length 128", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 128 }, ""},
		{"age 1096", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 1096 }, "MaxPasswordAge"},
		{"age -1", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = -1 }, "MaxPasswordAge"},
		{"age 0 is never", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 0 }, ""},
		{"reuse 25", func(p *iamguard.PasswordPolicy) { p.PasswordReusePrevention = 25 }, "PasswordReusePrevention"},
		{"reuse 24", func(p *iamguard.PasswordPolicy) { p.PasswordReusePrevention = 24 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.mod(&p)
			err := p.Validate()
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			var pe *awsguard.InputError
			if !errors.As(err, &pe) || pe.Field != "PasswordPolicy."+tt.wantField || !errors.Is(err, awsguard.ErrInvalidInput) {
				t.Fatalf("Validate = %v, want an *awsguard.InputError on PasswordPolicy.%s", err, tt.wantField)
			}
			// An invalid policy makes no call at all.
			f := &ppFake{}
			if _, err := iamguard.EnablePasswordPolicy(context.Background(), f, p); !errors.As(err, &pe) || len(f.calls) != 0 {
				t.Errorf("EnablePasswordPolicy = %v after calls %v", err, f.calls)
			}
		})
	}
}

func FuzzValidatePasswordPolicy(f *testing.F) {
	f.Add(int32(8), int32(90), int32(0), true, false)
	f.Add(int32(5), int32(0), int32(24), false, true)
	f.Add(int32(128), int32(1095), int32(25), true, true)
	f.Add(int32(-1), int32(-1), int32(-1), false, false)
	f.Fuzz(func(t *testing.T, length, age, reuse int32, symbols, hard bool) {
		p := iamguard.PasswordPolicy{MinimumPasswordLength: length, MaxPasswordAge: age, PasswordReusePrevention: reuse, RequireSymbols: symbols, HardExpiry: hard}
		valid := length >= 6 && length <= 128 && age >= 0 && age <= 1095 && reuse >= 0 && reuse <= 24
		err := p.Validate()
		if (err == nil) != valid {
			t.Fatalf("Validate(%+v) = %v, want valid=%v", p, err, valid)
		}
		if err != nil && !errors.Is(err, awsguard.ErrInvalidInput) {
			t.Fatalf("error does not match awsguard.ErrInvalidInput: %v", err)
		}
		fake := &ppFake{get: func() (*iam.GetAccountPasswordPolicyOutput, error) { return &iam.GetAccountPasswordPolicyOutput{}, nil }}
		ch, err := iamguard.EnablePasswordPolicy(context.Background(), fake, p, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = true })
		if !valid {
			if err == nil || len(fake.calls) != 0 {
				t.Fatalf("invalid policy: err = %v, calls = %v", err, fake.calls)
			}
			return
		}
		if err != nil || ch.Applied || ch.After.MinimumPasswordLength != length {
			t.Fatalf("dry run: %+v, %v", ch, err)
		}
		// Stricter of a valid policy and a preset is valid and meets the preset's fields.
		s := iamguard.Stricter(p, iamguard.CIS.Policy)
		if err := s.Validate(); err != nil {
			t.Fatalf("Stricter gives an invalid policy: %v", err)
		}
		if s.MinimumPasswordLength < 14 || s.PasswordReusePrevention < 24 {
			t.Fatalf("Stricter weakened: %+v", s)
		}
	})
}

func TestPasswordPolicyStricter(t *testing.T) {
	current := iamguard.PasswordPolicy{MinimumPasswordLength: 16, RequireSymbols: true, MaxPasswordAge: 30, PasswordReusePrevention: 24, HardExpiry: true}
	got := iamguard.Stricter(current, iamguard.KISA.Policy)
	want := iamguard.PasswordPolicy{
		MinimumPasswordLength: 16, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
		AllowUsersToChangePassword: true, ExpirePasswords: true, MaxPasswordAge: 30, PasswordReusePrevention: 24, HardExpiry: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stricter (-want +got):\n%s", diff)
	}
	// A policy whose passwords never expire takes the other's age.
	if got := iamguard.Stricter(iamguard.PasswordPolicy{MinimumPasswordLength: 6}, iamguard.KISA.Policy); got.MaxPasswordAge != 90 {
		t.Errorf("MaxPasswordAge = %d, want 90", got.MaxPasswordAge)
	}
}

func TestPasswordPolicyDiff(t *testing.T) {
	before := iamguard.PasswordPolicy{MinimumPasswordLength: 6, AllowUsersToChangePassword: true}
	want := []iamguard.FieldChange{
		{Field: "MinimumPasswordLength", From: "6", To: "14"},
		{Field: "PasswordReusePrevention", From: "0", To: "24"},
	}
	if diff := cmp.Diff(want, iamguard.DiffPasswordPolicy(&before, iamguard.CIS.Policy)); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
	if got := iamguard.DiffPasswordPolicy(nil, iamguard.CIS.Policy); len(got) != 9 || got[0].From != iamguard.NoPolicy {
		t.Errorf("diff from no policy = %v", got)
	}
}

// A failed update returns the plan and the wrapped error.
func TestEnablePasswordPolicyUpdateError(t *testing.T) {
	f := &ppFake{
		get: func() (*iam.GetAccountPasswordPolicyOutput, error) { return nil, auditAPIErr("NoSuchEntity") },
		update: func(*iam.UpdateAccountPasswordPolicyInput) (*iam.UpdateAccountPasswordPolicyOutput, error) {
			return nil, auditAPIErr("LimitExceeded")
		},
	}
	ch, err := iamguard.EnablePasswordPolicy(context.Background(), f, iamguard.KISA.Policy)
	if err == nil || ch == nil || ch.Applied || len(ch.Diff) == 0 {
		t.Fatalf("change = %+v, err = %v", ch, err)
	}
}

// A policy deleted by someone else meanwhile: restoring "no policy" is
// then already done, and says so.
func TestRestorePasswordPolicyGoneMeanwhile(t *testing.T) {
	f := &ppFake{
		get: func() (*iam.GetAccountPasswordPolicyOutput, error) {
			return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: kisaByTwoClasses}, nil
		},
		del: func() (*iam.DeleteAccountPasswordPolicyOutput, error) { return nil, auditAPIErr("NoSuchEntity") },
	}
	ch, err := iamguard.RestorePasswordPolicy(context.Background(), f, nil, func(o *iamguard.PasswordPolicyOptions) { o.AllowWeaken = true })
	if err != nil || ch.Applied || ch.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("restore = %+v, %v", ch, err)
	}
	f.del = func() (*iam.DeleteAccountPasswordPolicyOutput, error) { return nil, auditAPIErr("AccessDenied") }
	if _, err := iamguard.RestorePasswordPolicy(context.Background(), f, nil, func(o *iamguard.PasswordPolicyOptions) { o.AllowWeaken = true }); err == nil {
		t.Error("a failed delete gave no error")
	}
}

func TestEnablePasswordPolicyCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &ppFake{}
	if _, err := iamguard.EnablePasswordPolicy(ctx, f, iamguard.KISA.Policy); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(f.calls) > 1 {
		t.Errorf("calls after cancel = %v", f.calls)
	}
}

// Each field's stricter direction: a change the other way is weakening.
func TestPasswordPolicyDiffWeakening(t *testing.T) {
	base := iamguard.PasswordPolicy{MinimumPasswordLength: 12, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true,
		RequireLowercaseCharacters: true, AllowUsersToChangePassword: true, MaxPasswordAge: 60, PasswordReusePrevention: 12, HardExpiry: true}
	tests := []struct {
		name string
		mod  func(*iamguard.PasswordPolicy)
		want iamguard.FieldChange
	}{
		{"shorter", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 8 }, iamguard.FieldChange{Field: "MinimumPasswordLength", From: "12", To: "8", Weakening: true}},
		{"longer", func(p *iamguard.PasswordPolicy) { p.MinimumPasswordLength = 14 }, iamguard.FieldChange{Field: "MinimumPasswordLength", From: "12", To: "14"}},
		{"symbols dropped", func(p *iamguard.PasswordPolicy) { p.RequireSymbols = false }, iamguard.FieldChange{Field: "RequireSymbols", From: "true", To: "false", Weakening: true}},
		{"numbers dropped", func(p *iamguard.PasswordPolicy) { p.RequireNumbers = false }, iamguard.FieldChange{Field: "RequireNumbers", From: "true", To: "false", Weakening: true}},
		{"upper dropped", func(p *iamguard.PasswordPolicy) { p.RequireUppercaseCharacters = false }, iamguard.FieldChange{Field: "RequireUppercaseCharacters", From: "true", To: "false", Weakening: true}},
		{"lower dropped", func(p *iamguard.PasswordPolicy) { p.RequireLowercaseCharacters = false }, iamguard.FieldChange{Field: "RequireLowercaseCharacters", From: "true", To: "false", Weakening: true}},
		{"change own password off", func(p *iamguard.PasswordPolicy) { p.AllowUsersToChangePassword = false }, iamguard.FieldChange{Field: "AllowUsersToChangePassword", From: "true", To: "false", Weakening: true}},
		{"longer age", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 90 }, iamguard.FieldChange{Field: "MaxPasswordAge", From: "60", To: "90", Weakening: true}},
		{"never expire", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 0 }, iamguard.FieldChange{Field: "MaxPasswordAge", From: "60", To: "0", Weakening: true}},
		{"shorter age", func(p *iamguard.PasswordPolicy) { p.MaxPasswordAge = 30 }, iamguard.FieldChange{Field: "MaxPasswordAge", From: "60", To: "30"}},
		{"less reuse prevention", func(p *iamguard.PasswordPolicy) { p.PasswordReusePrevention = 0 }, iamguard.FieldChange{Field: "PasswordReusePrevention", From: "12", To: "0", Weakening: true}},
		{"more reuse prevention", func(p *iamguard.PasswordPolicy) { p.PasswordReusePrevention = 24 }, iamguard.FieldChange{Field: "PasswordReusePrevention", From: "12", To: "24"}},
		{"hard expiry off", func(p *iamguard.PasswordPolicy) { p.HardExpiry = false }, iamguard.FieldChange{Field: "HardExpiry", From: "true", To: "false", Weakening: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			after := base
			tt.mod(&after)
			if d := cmp.Diff([]iamguard.FieldChange{tt.want}, iamguard.DiffPasswordPolicy(&base, after)); d != "" {
				t.Errorf("diff (-want +got):\n%s", d)
			}
			// The other way round, the change tightens (or weakens) the other way.
			back := iamguard.DiffPasswordPolicy(&after, base)
			if len(back) != 1 || back[0].Weakening == tt.want.Weakening {
				t.Errorf("reverse diff = %v", back)
			}
		})
	}
	// Creating a policy where there was none weakens nothing.
	for _, c := range iamguard.DiffPasswordPolicy(nil, iamguard.PasswordPolicy{MinimumPasswordLength: 6}) {
		if c.Weakening {
			t.Errorf("from no policy: %v is weakening", c)
		}
	}
}

// A wanted policy less strict than the account's is refused before any
// write, the error naming each weakened field; AllowWeaken writes it.
func TestEnablePasswordPolicyRefusesWeakening(t *testing.T) {
	strict := &types.PasswordPolicy{MinimumPasswordLength: aws.Int32(20), RequireSymbols: true, RequireNumbers: true,
		RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, AllowUsersToChangePassword: true,
		ExpirePasswords: true, MaxPasswordAge: aws.Int32(30), PasswordReusePrevention: aws.Int32(24)}
	var written *iam.UpdateAccountPasswordPolicyInput
	f := &ppFake{get: func() (*iam.GetAccountPasswordPolicyOutput, error) {
		return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: strict}, nil
	}}
	for _, dry := range []bool{false, true} {
		f.calls = nil
		ch, err := iamguard.EnablePasswordPolicy(context.Background(), f, iamguard.CIS.Policy, func(o *iamguard.PasswordPolicyOptions) { o.DryRun = dry })
		var we *awsguard.WeakeningError
		if !errors.As(err, &we) || !errors.Is(err, awsguard.ErrWeakening) || we.Operation != "iamguard.EnablePasswordPolicy" {
			t.Fatalf("dry %v: err = %v, want a WeakeningError", dry, err)
		}
		want := []string{"MinimumPasswordLength 20 -> 14", "RequireSymbols true -> false", "RequireNumbers true -> false",
			"RequireUppercaseCharacters true -> false", "RequireLowercaseCharacters true -> false", "MaxPasswordAge 30 -> 0"}
		var got []string
		for _, a := range we.Actions {
			got = append(got, a.Detail)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("dry %v: weakened fields (-want +got):\n%s", dry, d)
		}
		if d := cmp.Diff([]string{"GetAccountPasswordPolicy"}, f.calls); d != "" {
			t.Errorf("dry %v: calls (-want +got):\n%s", dry, d)
		}
		if ch == nil || ch.Applied || ch.Reason != awsguard.ReasonRefused || len(ch.Weakening()) != 1 {
			t.Errorf("dry %v: change = %+v", dry, ch)
		}
	}
	f.update = func(in *iam.UpdateAccountPasswordPolicyInput) (*iam.UpdateAccountPasswordPolicyOutput, error) {
		written = in
		return &iam.UpdateAccountPasswordPolicyOutput{}, nil
	}
	ch, err := iamguard.EnablePasswordPolicy(context.Background(), f, iamguard.CIS.Policy, func(o *iamguard.PasswordPolicyOptions) { o.AllowWeaken = true })
	if err != nil || !ch.Applied || written == nil || aws.ToInt32(written.MinimumPasswordLength) != 14 {
		t.Fatalf("AllowWeaken: %+v, %v, wrote %+v", ch, err, written)
	}
	// Tightening needs no AllowWeaken.
	f.calls = nil
	if ch, err := iamguard.EnablePasswordPolicy(context.Background(), f, iamguard.Stricter(iamguard.KISA.Policy, iamguard.PasswordPolicy{
		MinimumPasswordLength: 24, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true,
		MaxPasswordAge: 30, PasswordReusePrevention: 24})); err != nil || !ch.Applied || ch.Weakening() != nil {
		t.Errorf("tightening: %+v, %v", ch, err)
	}
}

// Deleting the policy weakens its strict fields: refused unless allowed.
func TestRestorePasswordPolicyToNoneRefused(t *testing.T) {
	f := &ppFake{get: func() (*iam.GetAccountPasswordPolicyOutput, error) {
		return &iam.GetAccountPasswordPolicyOutput{PasswordPolicy: kisaByTwoClasses}, nil
	}}
	ch, err := iamguard.RestorePasswordPolicy(context.Background(), f, nil)
	if !errors.Is(err, awsguard.ErrWeakening) || ch.Applied || !strings.Contains(err.Error(), "MinimumPasswordLength 10 -> (no policy)") {
		t.Fatalf("restore to none = %+v, %v", ch, err)
	}
	if d := cmp.Diff([]string{"GetAccountPasswordPolicy"}, f.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}
