package iamguard_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
)

// mfaCodes returns two consecutive TOTP codes for the seed, as an
// authenticator app would show them.
func mfaCodes(t *testing.T, seed awsguard.Secret) (string, string) {
	t.Helper()
	now := time.Now()
	c1, err := totp.GenerateCode(seed.Reveal(), now)
	if err != nil {
		t.Fatalf("TOTP: %v", err) // err never holds the seed
	}
	c2, err := totp.GenerateCode(seed.Reveal(), now.Add(30*time.Second))
	if err != nil {
		t.Fatalf("TOTP: %v", err)
	}
	return c1, c2
}

func mfaVirtualDevices(t *testing.T, api *iam.Client) (assigned map[string]string, pending []string) {
	t.Helper()
	out := must(api.ListVirtualMFADevices(context.Background(), &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAny}))(t)
	assigned = map[string]string{}
	for _, d := range out.VirtualMFADevices {
		if d.User != nil {
			assigned[aws.ToString(d.SerialNumber)] = aws.ToString(d.User.UserName)
		} else {
			pending = append(pending, aws.ToString(d.SerialNumber))
		}
	}
	return assigned, pending
}

func mfaUserSerials(t *testing.T, api *iam.Client, user string) []string {
	t.Helper()
	out := must(api.ListMFADevices(context.Background(), &iam.ListMFADevicesInput{UserName: aws.String(user)}))(t)
	var s []string
	for _, d := range out.MFADevices {
		s = append(s, aws.ToString(d.SerialNumber))
	}
	return s
}

func TestVirtualMFAEnrolment(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	serial := "arn:aws:iam::123456789012:mfa/alice"

	dry := must(iamguard.CreateVirtualMFA(ctx, api, "alice", func(o *iamguard.MFAOptions) { o.DryRun = true }))(t)
	if d := cmp.Diff([]string{"iam:CreateVirtualMFADevice mfa/alice: create virtual MFA device mfa/alice for alice"}, planSteps(dry.Plan)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if !dry.Seed.IsZero() || dry.SerialNumber != "" {
		t.Errorf("dry run returned a device: %+v", dry)
	}
	if a, p := mfaVirtualDevices(t, api); len(a)+len(p) != 0 {
		t.Fatalf("dry run created a device: %v %v", a, p)
	}

	v := must(iamguard.CreateVirtualMFA(ctx, api, "alice"))(t)
	if v.SerialNumber != serial || v.Seed.IsZero() || v.QRCode.IsZero() || v.Active {
		t.Fatalf("CreateVirtualMFA = %+v", v)
	}
	// moto's QR code is not a PNG: awsguard renders one from the seed.
	img, err := png.Decode(strings.NewReader(v.QRCode.Reveal()))
	if err != nil || img.Bounds().Dx() < 100 || !v.QRRendered {
		t.Errorf("QR code: decode err %v, rendered %v", err, v.QRRendered)
	}
	c1, c2 := mfaCodes(t, v.Seed)
	// An empty serial means the device named after the user.
	act, err := iamguard.ActivateVirtualMFA(ctx, api, "alice", "", c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"iam:EnableMFADevice user/alice: enable MFA device " + serial + " for alice"}, planSteps(act)); d != "" {
		t.Errorf("activation plan (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{serial}, mfaUserSerials(t, api, "alice")); d != "" {
		t.Errorf("user's MFA devices (-want +got):\n%s", d)
	}
	// Both steps are idempotent.
	assertIdle(t, must(iamguard.ActivateVirtualMFA(ctx, api, "alice", v.SerialNumber, c1, c2))(t), nil)
	again := must(iamguard.CreateVirtualMFA(ctx, api, "alice"))(t)
	if !again.Active || again.SerialNumber != serial || !again.Seed.IsZero() {
		t.Errorf("second CreateVirtualMFA = %+v, want the active device and no seed", again)
	}
	assertIdle(t, again.Plan, nil)

	// DeleteVirtualMFA undoes it.
	// Deactivating removes a second factor: refused unless allowed.
	refused, err := iamguard.DeleteVirtualMFA(ctx, api, "alice")
	var we *awsguard.WeakeningError
	if !errors.As(err, &we) || !errors.Is(err, awsguard.ErrWeakening) || len(we.Actions) != 1 || we.Actions[0].Kind != iamguard.ActionDeactivateMFADevice ||
		refused.Reason != awsguard.ReasonRefused || refused.Applied {
		t.Fatalf("DeleteVirtualMFA without AllowWeaken = %+v, %v; want a WeakeningError naming the deactivation", refused, err)
	}
	if d := cmp.Diff([]string{serial}, mfaUserSerials(t, api, "alice")); d != "" {
		t.Errorf("a refused delete changed the devices (-want +got):\n%s", d)
	}
	del := must(iamguard.DeleteVirtualMFA(ctx, api, "alice", mfaAllowWeaken))(t)
	if d := cmp.Diff([]string{"iam:DeactivateMFADevice user/alice: deactivate MFA device " + serial + " of alice",
		"iam:DeleteVirtualMFADevice mfa/alice: delete virtual MFA device " + serial}, planSteps(del)); d != "" {
		t.Errorf("delete plan (-want +got):\n%s", d)
	}
	if a, p := mfaVirtualDevices(t, api); len(a)+len(p) != 0 || len(mfaUserSerials(t, api, "alice")) != 0 {
		t.Errorf("devices left: %v %v", a, p)
	}
	assertIdle(t, must(iamguard.DeleteVirtualMFA(ctx, api, "alice"))(t), nil)
}

func mfaAllowWeaken(o *iamguard.DeleteVirtualMFAOptions) { o.AllowWeaken = true }

func TestVirtualMFARefusals(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	createUser(t, api, "bob")
	v := must(iamguard.CreateVirtualMFA(ctx, api, "alice"))(t)
	c1, c2 := mfaCodes(t, v.Seed)
	must(iamguard.ActivateVirtualMFA(ctx, api, "alice", v.SerialNumber, c1, c2))(t)

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"bad user", func() error { _, err := iamguard.CreateVirtualMFA(ctx, api, "a/b"); return err }, awsguard.ErrInvalidInput},
		{"missing user", func() error { _, err := iamguard.CreateVirtualMFA(ctx, api, "ghost"); return err }, iamguard.ErrUserNotFound},
		{"device of another user", func() error {
			_, err := iamguard.CreateVirtualMFA(ctx, api, "bob", func(o *iamguard.MFAOptions) { o.DeviceName = "alice" })
			return err
		}, iamguard.ErrMFAAssignedElsewhere},
		{"activate another's device", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "bob", v.SerialNumber, c1, c2)
			return err
		}, iamguard.ErrMFAAssignedElsewhere},
		{"short code", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "bob", v.SerialNumber, "12345", c2)
			return err
		}, iamguard.ErrMFACode},
		{"letters", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "bob", v.SerialNumber, c1, "12a456")
			return err
		}, iamguard.ErrMFACode},
		{"no device", func() error {
			_, err := iamguard.ActivateVirtualMFA(ctx, api, "bob", "arn:aws:iam::123456789012:mfa/nothing", c1, c2)
			return err
		}, iamguard.ErrMFADeviceNotFound},
		{"delete another's device", func() error {
			_, err := iamguard.DeleteVirtualMFA(ctx, api, "bob", func(o *iamguard.DeleteVirtualMFAOptions) { o.DeviceName = "alice" })
			return err
		}, iamguard.ErrMFAAssignedElsewhere},
	}
	for _, tt := range tests {
		err := tt.run()
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && (strings.Contains(err.Error(), c1) || strings.Contains(err.Error(), c2)) {
			t.Errorf("%s: the error shows a code: %v", tt.name, err)
		}
	}
	if d := cmp.Diff([]string{v.SerialNumber}, mfaUserSerials(t, api, "alice")); d != "" {
		t.Errorf("alice's devices changed (-want +got):\n%s", d)
	}
}

// A pending device left by an interrupted enrolment (its seed lost) is
// replaced, so no orphan stays.
func TestVirtualMFAReplacesPending(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	must(api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("alice")}))(t)
	v := must(iamguard.CreateVirtualMFA(ctx, api, "alice"))(t)
	if d := cmp.Diff([]string{
		"iam:DeleteVirtualMFADevice mfa/alice: delete the pending virtual MFA device arn:aws:iam::123456789012:mfa/alice",
		"iam:CreateVirtualMFADevice mfa/alice: create virtual MFA device mfa/alice for alice",
	}, planSteps(v.Plan)); d != "" {
		t.Errorf("plan (-want +got):\n%s", d)
	}
	if _, p := mfaVirtualDevices(t, api); len(p) != 1 || v.Seed.IsZero() {
		t.Errorf("pending devices %v, seed zero %v", p, v.Seed.IsZero())
	}
}

// Interrupted at any call, enrolment finishes on a re-run with exactly one
// active device and no orphan.
func TestVirtualMFASweep(t *testing.T) {
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createUser(t, api, "u"+ns)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		v, err := iamguard.CreateVirtualMFA(ctx, api, "u"+ns)
		if err != nil || v.Active {
			if v != nil {
				return v.Plan, err
			}
			return nil, err
		}
		c1, c2 := mfaCodes(t, v.Seed)
		p, err := iamguard.ActivateVirtualMFA(ctx, api, "u"+ns, v.SerialNumber, c1, c2)
		if err != nil {
			return nil, err
		}
		p.Actions = append(v.Plan.Actions, p.Actions...)
		return p, nil
	}, func(t *testing.T, api *iam.Client, ns string) {
		serial := "arn:aws:iam::123456789012:mfa/u" + ns
		if d := cmp.Diff([]string{serial}, mfaUserSerials(t, api, "u"+ns)); d != "" {
			t.Errorf("devices of the user (-want +got):\n%s", d)
		}
		assigned, pending := mfaVirtualDevices(t, api)
		for _, p := range pending {
			if strings.HasSuffix(p, "/u"+ns) {
				t.Errorf("orphan pending device %s", p)
			}
		}
		if assigned[serial] != "u"+ns {
			t.Errorf("device %s assigned to %q", serial, assigned[serial])
		}
	})
}

func TestDeleteVirtualMFASweep(t *testing.T) {
	sweep(t, func(t *testing.T, api *iam.Client, ns string) {
		createUser(t, api, "u"+ns)
		v := must(iamguard.CreateVirtualMFA(context.Background(), api, "u"+ns))(t)
		c1, c2 := mfaCodes(t, v.Seed)
		must(iamguard.ActivateVirtualMFA(context.Background(), api, "u"+ns, v.SerialNumber, c1, c2))(t)
	}, func(ctx context.Context, t *testing.T, api *iam.Client, ns string) (*awsguard.Plan, error) {
		return iamguard.DeleteVirtualMFA(ctx, api, "u"+ns, mfaAllowWeaken)
	}, func(t *testing.T, api *iam.Client, ns string) {
		if s := mfaUserSerials(t, api, "u"+ns); len(s) != 0 {
			t.Errorf("user still has %v", s)
		}
		assigned, pending := mfaVirtualDevices(t, api)
		for s := range assigned {
			if strings.HasSuffix(s, "/u"+ns) {
				t.Errorf("device %s left", s)
			}
		}
		for _, s := range pending {
			if strings.HasSuffix(s, "/u"+ns) {
				t.Errorf("device %s left", s)
			}
		}
	})
}

const mfaSeedText = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// The seed and the QR code never show in fmt, JSON, slog or errors.
func TestMFASecretsRedact(t *testing.T) {
	seed := awsguard.NewSecret(mfaSeedText)
	v := iamguard.VirtualMFA{User: "alice", SerialNumber: "arn:aws:iam::123456789012:mfa/alice", Seed: seed}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("enrol", "seed", seed, "device", v)
	log.Info("enrol", slog.Any("v", &v))
	jb, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(seed), fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d", seed, seed, seed, seed, seed, seed, seed, seed),
		fmt.Sprintf("%v|%+v|%#v", v, v, &v), seed.String(), seed.GoString(),
		string(jb), logs.String(), fmt.Errorf("wrapped: %v", seed).Error(),
		fmt.Sprintf("%v %s", v.QRCode, v.QRCode),
	}
	for _, o := range outs {
		if strings.Contains(o, mfaSeedText) || strings.Contains(strings.ToLower(o), strings.ToLower(mfaSeedText[:8])) {
			t.Errorf("seed leaked: %s", o)
		}
		if !strings.Contains(o, "[REDACTED]") {
			t.Errorf("no redaction marker in %q", o)
		}
	}
	if seed.Reveal() != mfaSeedText {
		t.Error("Reveal does not return the seed")
	}
	var back map[string]any
	if err := json.Unmarshal(jb, &back); err != nil || back["seed"] != "[REDACTED]" {
		t.Errorf("JSON = %s", jb)
	}
}

// mfaFake implements the virtual MFA operations' interfaces with a function field per method; a call
// without one fails the test.
type mfaFake struct {
	t            *testing.T
	listMFA      func(*iam.ListMFADevicesInput) (*iam.ListMFADevicesOutput, error)
	listVirtual  func(*iam.ListVirtualMFADevicesInput) (*iam.ListVirtualMFADevicesOutput, error)
	create       func(*iam.CreateVirtualMFADeviceInput) (*iam.CreateVirtualMFADeviceOutput, error)
	enable       func(*iam.EnableMFADeviceInput) (*iam.EnableMFADeviceOutput, error)
	deactivate   func(*iam.DeactivateMFADeviceInput) (*iam.DeactivateMFADeviceOutput, error)
	deleteDevice func(*iam.DeleteVirtualMFADeviceInput) (*iam.DeleteVirtualMFADeviceOutput, error)
	calls        []string
}

var (
	_ iamguard.CreateVirtualMFAAPI   = (*mfaFake)(nil)
	_ iamguard.ActivateVirtualMFAAPI = (*mfaFake)(nil)
	_ iamguard.DeleteVirtualMFAAPI   = (*mfaFake)(nil)
)

func mfaCall[I, O any](f *mfaFake, ctx context.Context, name string, fn func(I) (O, error), in I) (O, error) {
	f.calls = append(f.calls, name)
	var zero O
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if fn == nil {
		f.t.Fatalf("unexpected call %s", name)
	}
	return fn(in)
}

func (f *mfaFake) ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, _ ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error) {
	return mfaCall(f, ctx, "ListMFADevices", f.listMFA, in)
}
func (f *mfaFake) ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, _ ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error) {
	return mfaCall(f, ctx, "ListVirtualMFADevices", f.listVirtual, in)
}
func (f *mfaFake) CreateVirtualMFADevice(ctx context.Context, in *iam.CreateVirtualMFADeviceInput, _ ...func(*iam.Options)) (*iam.CreateVirtualMFADeviceOutput, error) {
	return mfaCall(f, ctx, "CreateVirtualMFADevice", f.create, in)
}
func (f *mfaFake) EnableMFADevice(ctx context.Context, in *iam.EnableMFADeviceInput, _ ...func(*iam.Options)) (*iam.EnableMFADeviceOutput, error) {
	return mfaCall(f, ctx, "EnableMFADevice", f.enable, in)
}
func (f *mfaFake) DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, _ ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error) {
	return mfaCall(f, ctx, "DeactivateMFADevice", f.deactivate, in)
}
func (f *mfaFake) DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, _ ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error) {
	return mfaCall(f, ctx, "DeleteVirtualMFADevice", f.deleteDevice, in)
}

const mfaSerial = "arn:aws:iam::111122223333:mfa/alice"

func mfaNone(*iam.ListMFADevicesInput) (*iam.ListMFADevicesOutput, error) {
	return &iam.ListMFADevicesOutput{}, nil
}

func mfaPending(*iam.ListVirtualMFADevicesInput) (*iam.ListVirtualMFADevicesOutput, error) {
	return &iam.ListVirtualMFADevicesOutput{VirtualMFADevices: []types.VirtualMFADevice{{SerialNumber: aws.String(mfaSerial)}}}, nil
}

// Real IAM refuses wrong codes with InvalidAuthenticationCode (moto
// accepts any): that maps to ErrMFACode and keeps the AWS error.
func TestActivateWrongCode(t *testing.T) {
	f := &mfaFake{t: t, listMFA: mfaNone, listVirtual: mfaPending,
		enable: func(*iam.EnableMFADeviceInput) (*iam.EnableMFADeviceOutput, error) {
			return nil, &types.InvalidAuthenticationCodeException{Message: aws.String("Authentication code for device is not valid.")}
		}}
	_, err := iamguard.ActivateVirtualMFA(context.Background(), f, "alice", mfaSerial, "123456", "654321")
	var ice *types.InvalidAuthenticationCodeException
	var se *awsguard.StepError
	if !errors.Is(err, iamguard.ErrMFACode) || !errors.As(err, &ice) || !errors.As(err, &se) {
		t.Fatalf("err = %v, want ErrMFACode wrapping the AWS error in a StepError", err)
	}
	if se.Step != iamguard.ActionEnableMFADevice || len(se.Done) != 0 {
		t.Errorf("step error = %+v", se)
	}
	if strings.Contains(err.Error(), "123456") || strings.Contains(err.Error(), "654321") {
		t.Errorf("codes in the error: %v", err)
	}
}

// A CreateVirtualMFADevice whose answer was lost and that the SDK retried
// gets EntityAlreadyExists: the seed is gone, so the pending device is
// replaced once and the new seed returned.
func TestCreateVirtualMFARetried(t *testing.T) {
	created := 0
	var deleted []string
	f := &mfaFake{t: t, listMFA: mfaNone,
		listVirtual: func(*iam.ListVirtualMFADevicesInput) (*iam.ListVirtualMFADevicesOutput, error) {
			if created == 0 {
				return &iam.ListVirtualMFADevicesOutput{}, nil
			}
			return mfaPending(nil)
		},
		create: func(in *iam.CreateVirtualMFADeviceInput) (*iam.CreateVirtualMFADeviceOutput, error) {
			created++
			if created == 1 {
				return nil, &types.EntityAlreadyExistsException{Message: aws.String("exists")}
			}
			return &iam.CreateVirtualMFADeviceOutput{VirtualMFADevice: &types.VirtualMFADevice{
				SerialNumber: aws.String(mfaSerial), Base32StringSeed: []byte(mfaSeedText), QRCodePNG: []byte("\x89PNG\r\n\x1a\nfake")}}, nil
		},
		deleteDevice: func(in *iam.DeleteVirtualMFADeviceInput) (*iam.DeleteVirtualMFADeviceOutput, error) {
			deleted = append(deleted, aws.ToString(in.SerialNumber))
			return &iam.DeleteVirtualMFADeviceOutput{}, nil
		}}
	v, err := iamguard.CreateVirtualMFA(context.Background(), f, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if v.Seed.Reveal() != mfaSeedText || v.QRRendered || string(v.QRCode.Reveal()) != "\x89PNG\r\n\x1a\nfake" {
		t.Errorf("result = %+v", v)
	}
	if d := cmp.Diff([]string{mfaSerial}, deleted); d != "" {
		t.Errorf("deleted (-want +got):\n%s", d)
	}
	want := []string{"ListMFADevices", "ListVirtualMFADevices", "CreateVirtualMFADevice", "ListVirtualMFADevices", "DeleteVirtualMFADevice", "CreateVirtualMFADevice"}
	if d := cmp.Diff(want, f.calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
}

// A cancelled context stops before the first change and says so.
func TestMFACancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := &mfaFake{t: t, listMFA: func(*iam.ListMFADevicesInput) (*iam.ListMFADevicesOutput, error) {
		cancel()
		return &iam.ListMFADevicesOutput{}, nil
	}}
	_, err := iamguard.CreateVirtualMFA(ctx, f, "alice")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Errorf("unexpected API error %v", ae)
	}
}

// A VirtualMFA written as JSON reads back, without its secrets; a value
// other than the redaction marker is refused without being quoted.
func TestVirtualMFAJSONRoundTrip(t *testing.T) {
	in := iamguard.VirtualMFA{User: "alice", SerialNumber: "arn:aws:iam::123456789012:mfa/alice",
		Seed: awsguard.NewSecret(mfaSeedText), Active: true}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var got iamguard.VirtualMFA
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	want := iamguard.VirtualMFA{User: "alice", SerialNumber: "arn:aws:iam::123456789012:mfa/alice", Active: true}
	if got.User != want.User || got.SerialNumber != want.SerialNumber || got.Active != want.Active || !got.Seed.IsZero() || !got.QRCode.IsZero() {
		t.Errorf("decoded %+v, want %+v with no seed or QR", got, want)
	}
	for _, ok := range []string{`{"seed":"[REDACTED]","qr_code":"[REDACTED]"}`, `{"seed":"","qr_code":""}`, `{"seed":null,"qr_code":null}`} {
		var v iamguard.VirtualMFA
		if err := json.Unmarshal([]byte(ok), &v); err != nil || !v.Seed.IsZero() || !v.QRCode.IsZero() {
			t.Errorf("decode %s: %v, seed zero %v", ok, err, v.Seed.IsZero())
		}
	}
	for _, bad := range []string{`{"seed":"` + mfaSeedText + `"}`, `{"qr_code":"` + mfaSeedText + `"}`, `{"seed":42}`} {
		var v iamguard.VirtualMFA
		err := json.Unmarshal([]byte(bad), &v)
		if err == nil || strings.Contains(err.Error(), mfaSeedText) {
			t.Errorf("decode %s: err = %v, want a refusal that does not quote the value", bad, err)
		}
	}
}

// The seed and QR code of a real CreateVirtualMFA result (on moto) never
// show in fmt, JSON or slog output of the result, its fields or its plan.
func TestMFASecretsRedactMoto(t *testing.T) {
	ctx := context.Background()
	_, api := motoIAM(t)
	createUser(t, api, "alice")
	v := must(iamguard.CreateVirtualMFA(ctx, api, "alice"))(t)
	seed, qr := v.Seed.Reveal(), []byte(v.QRCode.Reveal())
	if len(seed) < 16 || len(qr) < 100 {
		t.Fatalf("CreateVirtualMFA gave seed of %d chars, QR of %d bytes", len(seed), len(qr))
	}

	var jsonLogs, textLogs bytes.Buffer
	for _, log := range []*slog.Logger{slog.New(slog.NewJSONHandler(&jsonLogs, nil)), slog.New(slog.NewTextHandler(&textLogs, nil))} {
		log.Info("enrol", "device", v, "seed", v.Seed, "qr", v.QRCode, "plan", v.Plan)
		log.Info("enrol", slog.Any("v", &v), slog.Any("seed", &v.Seed), slog.Any("qr", &v.QRCode))
		log.Info("enrol", slog.Group("g", "v", v))
	}
	jb, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	jp, err := json.Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	outs := map[string]string{
		"%v":        fmt.Sprintf("%v", v),
		"%+v":       fmt.Sprintf("%+v", v),
		"%#v":       fmt.Sprintf("%#v", v),
		"%v ptr":    fmt.Sprintf("%v", &v),
		"%+v ptr":   fmt.Sprintf("%+v", &v),
		"%#v ptr":   fmt.Sprintf("%#v", &v),
		"fields":    fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d", v.Seed, v.Seed, v.Seed, v.Seed, v.Seed, v.Seed, v.Seed, v.Seed),
		"qr fields": fmt.Sprintf("%v|%+v|%#v|%s|%q|%x|%X|%d", v.QRCode, v.QRCode, v.QRCode, v.QRCode, v.QRCode, v.QRCode, v.QRCode, v.QRCode),
		"plan":      fmt.Sprintf("%v|%+v|%#v", v.Plan, v.Plan, v.Plan),
		"JSON":      string(jb),
		"JSON ptr":  string(jp),
		"slog JSON": jsonLogs.String(),
		"slog text": textLogs.String(),
		"error":     fmt.Errorf("enrol %v: %w", v, errors.New("x")).Error(),
	}
	leaks := []string{
		seed, strings.ToLower(seed), seed[:12],
		string(qr), base64.StdEncoding.EncodeToString(qr)[:24],
		hex.EncodeToString(qr[:12]), strings.ToUpper(hex.EncodeToString(qr[:12])),
		strings.Trim(fmt.Sprint(qr[:12]), "[]"),
	}
	for name, o := range outs {
		for _, l := range leaks {
			if strings.Contains(o, l) {
				t.Errorf("%s leaks a secret (%.8q...): %.200s", name, l, o)
			}
		}
	}
	for _, name := range []string{"%v", "%+v", "%#v", "JSON", "slog JSON", "slog text", "fields", "qr fields"} {
		if !strings.Contains(outs[name], "[REDACTED]") {
			t.Errorf("%s has no redaction marker: %.200s", name, outs[name])
		}
	}
}
