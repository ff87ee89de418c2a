package iamguard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp"
)

const fixRedacted = "[REDACTED]"

// MFASeed is the Base32 secret of a virtual MFA device. Whoever holds it
// can make the device's codes, so it redacts itself everywhere: String,
// GoString, every fmt verb, JSON and slog all show "[REDACTED]". Only
// Reveal returns it.
type MFASeed struct{ base32 string }

// NewMFASeed wraps a Base32 seed.
func NewMFASeed(base32 string) MFASeed { return MFASeed{base32: base32} }

// Reveal returns the Base32 seed. Do not log it.
func (s MFASeed) Reveal() string { return s.base32 }

// IsZero reports whether there is no seed.
func (s MFASeed) IsZero() bool { return s.base32 == "" }

func (MFASeed) String() string               { return fixRedacted }
func (MFASeed) GoString() string             { return fixRedacted }
func (MFASeed) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(fixRedacted)) }
func (MFASeed) MarshalJSON() ([]byte, error) { return json.Marshal(fixRedacted) }
func (MFASeed) MarshalText() ([]byte, error) { return []byte(fixRedacted), nil }
func (MFASeed) LogValue() slog.Value         { return slog.StringValue(fixRedacted) }

// UnmarshalJSON decodes what MarshalJSON writes: "[REDACTED]", "" or null
// decode to the zero MFASeed (the seed is never in JSON, so a VirtualMFA
// read back has none). Any other value is refused, so that a seed put in
// JSON by other means is not taken up silently.
func (s *MFASeed) UnmarshalJSON(b []byte) error {
	if err := unmarshalRedacted(b, "MFASeed"); err != nil {
		return err
	}
	*s = MFASeed{}
	return nil
}

// MFAQRCode is the PNG of a QR code that encodes a virtual MFA device's
// seed; it redacts itself like MFASeed. Only Reveal returns the bytes.
type MFAQRCode struct{ png []byte }

// Reveal returns a copy of the PNG bytes. Do not log them.
func (q MFAQRCode) Reveal() []byte { return bytes.Clone(q.png) }

// IsZero reports whether there is no QR code.
func (q MFAQRCode) IsZero() bool { return len(q.png) == 0 }

func (MFAQRCode) String() string               { return fixRedacted }
func (MFAQRCode) GoString() string             { return fixRedacted }
func (MFAQRCode) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(fixRedacted)) }
func (MFAQRCode) MarshalJSON() ([]byte, error) { return json.Marshal(fixRedacted) }
func (MFAQRCode) MarshalText() ([]byte, error) { return []byte(fixRedacted), nil }
func (MFAQRCode) LogValue() slog.Value         { return slog.StringValue(fixRedacted) }

// UnmarshalJSON decodes what MarshalJSON writes ("[REDACTED]", "" or null)
// to the zero MFAQRCode, like MFASeed's.
func (q *MFAQRCode) UnmarshalJSON(b []byte) error {
	if err := unmarshalRedacted(b, "MFAQRCode"); err != nil {
		return err
	}
	*q = MFAQRCode{}
	return nil
}

// unmarshalRedacted accepts the JSON that a redacted secret marshals to:
// "[REDACTED]", "" or null. The error never quotes the value.
func unmarshalRedacted(b []byte, typ string) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("iamguard: %s: want a JSON string", typ)
	}
	if v != "" && v != fixRedacted {
		return fmt.Errorf("iamguard: %s: JSON holds a value other than %q; seeds are never read from JSON", typ, fixRedacted)
	}
	return nil
}

// VirtualMFA is the result of CreateVirtualMFA.
type VirtualMFA struct {
	User string `json:"user"`
	// SerialNumber is the device's ARN, which EnableMFADevice and
	// ActivateVirtualMFA take.
	SerialNumber string `json:"serial_number"`
	// Seed and QRCode are set only when the device was created by this
	// call: IAM never returns them again.
	Seed   MFASeed   `json:"seed"`
	QRCode MFAQRCode `json:"qr_code"`
	// QRRendered is true when IAM's QR code was not a PNG and awsguard
	// rendered one from the seed (otpauth URL, issuer "Amazon Web Services").
	QRRendered bool `json:"qr_rendered,omitempty"`
	// Active is true when the device is already enabled for the user.
	Active bool `json:"active"`
	// Plan is what was (or, in a dry run, would be) done.
	Plan *ActionPlan `json:"-"`
}

// MFAAPI is the part of *iam.Client that CreateVirtualMFA,
// ActivateVirtualMFA and DeleteVirtualMFA call.
type MFAAPI interface {
	ListMFADevices(ctx context.Context, in *iam.ListMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
	ListVirtualMFADevices(ctx context.Context, in *iam.ListVirtualMFADevicesInput, optFns ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	CreateVirtualMFADevice(ctx context.Context, in *iam.CreateVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.CreateVirtualMFADeviceOutput, error)
	EnableMFADevice(ctx context.Context, in *iam.EnableMFADeviceInput, optFns ...func(*iam.Options)) (*iam.EnableMFADeviceOutput, error)
	DeactivateMFADevice(ctx context.Context, in *iam.DeactivateMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeactivateMFADeviceOutput, error)
	DeleteVirtualMFADevice(ctx context.Context, in *iam.DeleteVirtualMFADeviceInput, optFns ...func(*iam.Options)) (*iam.DeleteVirtualMFADeviceOutput, error)
}

var _ MFAAPI = (*iam.Client)(nil)

// MFAOptions tunes the virtual MFA operations. The zero value means the
// defaults.
type MFAOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	// Logger receives one record per step; nil discards. Seeds and codes
	// are never logged.
	Logger *slog.Logger
	// DeviceName is the virtual device's name; default the user's name,
	// which is what SelfServicePolicyDocument lets users manage.
	DeviceName string
	// Path is the device's path; default "/".
	Path string
}

func mfaOptions(user string, optFns []func(*MFAOptions)) (MFAOptions, error) {
	var o MFAOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := fixCheckUser("user", user); err != nil {
		return o, err
	}
	if o.DeviceName == "" {
		o.DeviceName = user
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if err := fixCheck(fixDeviceNameRE, "DeviceName", o.DeviceName, "1 to 226 of letters, digits and +=,.@_-"); err != nil {
		return o, err
	}
	return o, fixCheckPath("Path", o.Path)
}

// fixUserMFASerials lists the serials of the user's MFA devices.
func fixUserMFASerials(ctx context.Context, api MFAAPI, user string) ([]string, error) {
	var serials []string
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if fixIsNoSuchEntity(err) {
			return nil, fmt.Errorf("iamguard: user %s: %w: %w", user, ErrUserNotFound, err)
		}
		if err != nil {
			return nil, fmt.Errorf("iamguard: list MFA devices of user %s: %w", user, err)
		}
		for _, d := range page.MFADevices {
			serials = append(serials, aws.ToString(d.SerialNumber))
		}
	}
	return serials, nil
}

// fixFindVirtualMFA finds a virtual device by serial (match) among all of
// the account's virtual devices.
func fixFindVirtualMFA(ctx context.Context, api MFAAPI, match func(serial string) bool) (*types.VirtualMFADevice, error) {
	p := iam.NewListVirtualMFADevicesPaginator(api, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAny})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("iamguard: list virtual MFA devices: %w", err)
		}
		for _, d := range page.VirtualMFADevices {
			if match(aws.ToString(d.SerialNumber)) {
				return &types.VirtualMFADevice{SerialNumber: d.SerialNumber, User: d.User, EnableDate: d.EnableDate}, nil
			}
		}
	}
	return nil, nil
}

func fixByName(path, name string) func(string) bool {
	suffix := ":mfa" + path + name
	return func(serial string) bool { return strings.HasSuffix(serial, suffix) }
}

func fixAssignee(d *types.VirtualMFADevice) string {
	if d == nil || d.User == nil {
		return ""
	}
	return aws.ToString(d.User.UserName)
}

// CreateVirtualMFA creates a virtual MFA device for the user (named after
// the user unless DeviceName says otherwise) and returns its serial, Base32
// seed and QR code PNG. Activate it with ActivateVirtualMFA and two
// consecutive codes from an authenticator that holds the seed.
//
// If the device is already active for the user, nothing is done and
// VirtualMFA.Active is true (no seed: IAM never reveals it again). A device
// of that name that was created but never activated (a pending device,
// left by an interrupted enrolment whose seed is lost) is deleted and
// created anew, so no orphan device stays behind. A device of that name
// assigned to another user is an error (ErrMFAAssignedElsewhere). The user
// must exist (ErrUserNotFound).
//
// IAM permissions: iam:ListMFADevices, iam:ListVirtualMFADevices,
// iam:CreateVirtualMFADevice, iam:DeleteVirtualMFADevice.
func CreateVirtualMFA(ctx context.Context, api MFAAPI, user string, optFns ...func(*MFAOptions)) (*VirtualMFA, error) {
	o, err := mfaOptions(user, optFns)
	if err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "CreateVirtualMFA", Resource: "user/" + user, DryRun: o.DryRun}
	res := &VirtualMFA{User: user, Plan: plan}
	serials, err := fixUserMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := fixByName(o.Path, o.DeviceName)
	for _, s := range serials {
		if match(s) {
			res.SerialNumber, res.Active = s, true
			return res, plan.run(ctx, fixLogger(o.Logger))
		}
	}
	dev, err := fixFindVirtualMFA(ctx, api, match)
	if err != nil {
		return nil, err
	}
	devRes := "mfa" + o.Path + o.DeviceName
	if dev != nil {
		if who := fixAssignee(dev); who != "" {
			return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", aws.ToString(dev.SerialNumber), ErrMFAAssignedElsewhere, who)
		}
		serial := aws.ToString(dev.SerialNumber)
		plan.add("iam:DeleteVirtualMFADevice", devRes, "pending device, seed lost", func(ctx context.Context) error {
			return fixDeleteDevice(ctx, api, serial)
		})
	}
	create := func(ctx context.Context) (*iam.CreateVirtualMFADeviceOutput, error) {
		return api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{
			VirtualMFADeviceName: aws.String(o.DeviceName), Path: aws.String(o.Path)})
	}
	plan.add("iam:CreateVirtualMFADevice", devRes, "", func(ctx context.Context) error {
		out, err := create(ctx)
		if fixIsAlreadyExists(err) {
			// A retried call created it and its seed was lost with the
			// answer; a pending device grants nothing: replace it once.
			d, ferr := fixFindVirtualMFA(ctx, api, match)
			if ferr != nil || d == nil || fixAssignee(d) != "" {
				return err
			}
			if derr := fixDeleteDevice(ctx, api, aws.ToString(d.SerialNumber)); derr != nil {
				return derr
			}
			out, err = create(ctx)
		}
		if err != nil {
			return err
		}
		v := out.VirtualMFADevice
		res.SerialNumber = aws.ToString(v.SerialNumber)
		res.Seed = MFASeed{base32: string(v.Base32StringSeed)}
		res.QRCode = MFAQRCode{png: bytes.Clone(v.QRCodePNG)}
		if !fixIsPNG(v.QRCodePNG) && !res.Seed.IsZero() {
			qr, err := fixRenderQR(res.SerialNumber, user, res.Seed)
			if err != nil {
				return fmt.Errorf("render QR code: %w", err)
			}
			res.QRCode, res.QRRendered = MFAQRCode{png: qr}, true
		}
		return nil
	})
	return res, plan.run(ctx, fixLogger(o.Logger))
}

func fixDeleteDevice(ctx context.Context, api MFAAPI, serial string) error {
	_, err := api.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	if fixIsNoSuchEntity(err) {
		return nil
	}
	return err
}

var fixPNGMagic = []byte("\x89PNG\r\n\x1a\n")

func fixIsPNG(b []byte) bool { return bytes.HasPrefix(b, fixPNGMagic) }

// fixRenderQR renders the otpauth URL that IAM's own QR code holds.
func fixRenderQR(serial, user string, seed MFASeed) ([]byte, error) {
	account := ""
	if parts := strings.Split(serial, ":"); len(parts) >= 6 {
		account = parts[4]
	}
	label := user
	if account != "" {
		label += "@" + account
	}
	const issuer = "Amazon Web Services"
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + label,
		RawQuery: url.Values{"secret": {seed.Reveal()}, "issuer": {issuer}}.Encode()}
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return nil, errors.New("the seed does not make a valid otpauth URL") // never echo err: it may hold the seed
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func fixCheckCode(field, code string) error {
	if !fixCodeRE.MatchString(code) {
		// The code itself stays out of the error.
		return fmt.Errorf("iamguard: %s: %w: want six digits", field, ErrMFACode)
	}
	return nil
}

// ActivateVirtualMFA enables the virtual MFA device (serial) for the user
// with two consecutive codes from the authenticator. An empty serial means
// the device named as in MFAOptions (by default after the user), as
// CreateVirtualMFA made it. A device already
// active for the user needs nothing (a re-run after a lost answer is
// safe). The device must exist and be pending (ErrMFADeviceNotFound) or
// not belong to another user (ErrMFAAssignedElsewhere); codes must be six
// digits, and a pair IAM refuses gives ErrMFACode (get two fresh codes and
// call again). The codes never reach logs or errors.
//
// IAM permissions: iam:ListMFADevices, iam:ListVirtualMFADevices,
// iam:EnableMFADevice.
func ActivateVirtualMFA(ctx context.Context, api MFAAPI, user, serial, code1, code2 string, optFns ...func(*MFAOptions)) (*ActionPlan, error) {
	o, err := mfaOptions(user, optFns)
	if err != nil {
		return nil, err
	}
	if serial != "" {
		if err := fixCheck(fixSerialRE, "serial", serial, "an MFA device serial number (ARN), 9 to 256 characters"); err != nil {
			return nil, err
		}
	}
	if err := fixCheckCode("code1", code1); err != nil {
		return nil, err
	}
	if err := fixCheckCode("code2", code2); err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "ActivateVirtualMFA", Resource: "user/" + user, DryRun: o.DryRun}
	serials, err := fixUserMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := func(s string) bool { return s == serial }
	if serial == "" {
		match = fixByName(o.Path, o.DeviceName)
	}
	for _, s := range serials {
		if match(s) {
			return plan, plan.run(ctx, fixLogger(o.Logger))
		}
	}
	dev, err := fixFindVirtualMFA(ctx, api, match)
	if err != nil {
		return nil, err
	}
	if dev == nil {
		name := serial
		if name == "" {
			name = "mfa" + o.Path + o.DeviceName
		}
		return nil, fmt.Errorf("iamguard: %s: %w", name, ErrMFADeviceNotFound)
	}
	serial = aws.ToString(dev.SerialNumber)
	if who := fixAssignee(dev); who != "" {
		return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", serial, ErrMFAAssignedElsewhere, who)
	}
	plan.add("iam:EnableMFADevice", "user/"+user, serial, func(ctx context.Context) error {
		_, err := api.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
			AuthenticationCode1: aws.String(code1), AuthenticationCode2: aws.String(code2)})
		var bad *types.InvalidAuthenticationCodeException
		switch {
		case fixIsAlreadyExists(err):
			// Enabled by a retried call whose answer was lost?
			if now, lerr := fixUserMFASerials(ctx, api, user); lerr == nil && slices.Contains(now, serial) {
				return nil
			}
			return err
		case errors.As(err, &bad) || fixCode(err) == "InvalidAuthenticationCode":
			return fmt.Errorf("%w: %w", ErrMFACode, err)
		}
		return err
	})
	return plan, plan.run(ctx, fixLogger(o.Logger))
}

// DeleteVirtualMFA undoes CreateVirtualMFA and ActivateVirtualMFA: it
// deactivates the user's virtual device (named as in MFAOptions) if it is
// active, then deletes it. This removes a second factor: the user signs in
// with the password alone until enrolled again (and, under EnforceMFA, can
// do nothing but enrol). A device that does not exist means nothing to do;
// one assigned to another user is refused (ErrMFAAssignedElsewhere).
//
// IAM permissions: iam:ListMFADevices, iam:ListVirtualMFADevices,
// iam:DeactivateMFADevice, iam:DeleteVirtualMFADevice.
func DeleteVirtualMFA(ctx context.Context, api MFAAPI, user string, optFns ...func(*MFAOptions)) (*ActionPlan, error) {
	o, err := mfaOptions(user, optFns)
	if err != nil {
		return nil, err
	}
	plan := &ActionPlan{Operation: "DeleteVirtualMFA", Resource: "user/" + user, DryRun: o.DryRun}
	serials, err := fixUserMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := fixByName(o.Path, o.DeviceName)
	dev, err := fixFindVirtualMFA(ctx, api, match)
	if err != nil {
		return nil, err
	}
	active := ""
	for _, s := range serials {
		if match(s) {
			active = s
		}
	}
	if who := fixAssignee(dev); who != "" && who != user {
		return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", aws.ToString(dev.SerialNumber), ErrMFAAssignedElsewhere, who)
	}
	if active != "" {
		plan.add("iam:DeactivateMFADevice", "user/"+user, active, func(ctx context.Context) error {
			_, err := api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(active)})
			if fixIsNoSuchEntity(err) {
				return nil
			}
			return err
		})
	}
	serial := active
	if dev != nil {
		serial = aws.ToString(dev.SerialNumber)
	}
	if serial != "" {
		plan.add("iam:DeleteVirtualMFADevice", "mfa"+o.Path+o.DeviceName, serial, func(ctx context.Context) error {
			return fixDeleteDevice(ctx, api, serial)
		})
	}
	return plan, plan.run(ctx, fixLogger(o.Logger))
}
