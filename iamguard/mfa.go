package iamguard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// The kinds of the actions of the virtual MFA operations.
const (
	ActionCreateVirtualMFADevice = "create-virtual-mfa-device"
	ActionDeleteVirtualMFADevice = "delete-virtual-mfa-device"
	ActionEnableMFADevice        = "enable-mfa-device"
	ActionDeactivateMFADevice    = "deactivate-mfa-device"
)

// The names and codes the virtual MFA operations check before their first
// call.
var (
	deviceNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,226}$`)
	serialRE     = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
	codeRE       = regexp.MustCompile(`^[0-9]{6}$`)
)

// VirtualMFA is the result of CreateVirtualMFA.
type VirtualMFA struct {
	User string `json:"user"`
	// SerialNumber is the device's ARN, which EnableMFADevice and
	// ActivateVirtualMFA take.
	SerialNumber string `json:"serial_number"`
	// Seed (the Base32 secret) and QRCode (the PNG of a QR code that
	// encodes it) are set only when the device was created by this call:
	// IAM never returns them again. Whoever holds either can make the
	// device's codes: they redact themselves everywhere (fmt, JSON, slog),
	// and a VirtualMFA decoded from JSON has neither. Reveal returns them.
	Seed   awsguard.Secret `json:"seed"`
	QRCode awsguard.Secret `json:"qr_code"`
	// QRRendered is true when IAM's QR code was not a PNG and awsguard
	// rendered one from the seed (otpauth URL, issuer "Amazon Web Services").
	QRRendered bool `json:"qr_rendered,omitempty"`
	// Active is true when the device is already enabled for the user.
	Active bool `json:"active"`
	// Plan is what was (or, in a dry run, would be) done.
	Plan *awsguard.Plan `json:"-"`
}

// MFAOptions tunes CreateVirtualMFA and ActivateVirtualMFA (and, within
// DeleteVirtualMFAOptions, DeleteVirtualMFA). The zero value means the
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

// DeleteVirtualMFAOptions tunes DeleteVirtualMFA: MFAOptions, and
// AllowWeaken.
type DeleteVirtualMFAOptions struct {
	MFAOptions
	// AllowWeaken lets DeleteVirtualMFA deactivate an active device, which
	// removes the user's second factor (the action is marked Weakening).
	// Without it that plan is refused with an *awsguard.WeakeningError and
	// nothing changes; a pending device is deleted either way.
	AllowWeaken bool
}

func (o *MFAOptions) validate(op, user string) error {
	if err := checkUser(op, "user", user); err != nil {
		return err
	}
	if o.DeviceName == "" {
		o.DeviceName = user
	}
	if o.Path == "" {
		o.Path = "/"
	}
	if err := checkName(deviceNameRE, op, "MFAOptions.DeviceName", o.DeviceName, "1 to 226 of letters, digits and +=,.@_-"); err != nil {
		return err
	}
	return checkPath(op, "MFAOptions.Path", o.Path)
}

func mfaOptions(op, user string, optFns []func(*MFAOptions)) (MFAOptions, error) {
	var o MFAOptions
	for _, f := range optFns {
		f(&o)
	}
	return o, o.validate(op, user)
}

// userMFASerials lists the serials of the user's MFA devices.
func userMFASerials(ctx context.Context, api iam.ListMFADevicesAPIClient, user string) ([]string, error) {
	var serials []string
	p := iam.NewListMFADevicesPaginator(api, &iam.ListMFADevicesInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNoSuchEntity(err) {
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

// findVirtualMFA finds a virtual device by serial (match) among all of
// the account's virtual devices.
func findVirtualMFA(ctx context.Context, api iam.ListVirtualMFADevicesAPIClient, match func(serial string) bool) (*types.VirtualMFADevice, error) {
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

func deviceByName(path, name string) func(string) bool {
	suffix := ":mfa" + path + name
	return func(serial string) bool { return strings.HasSuffix(serial, suffix) }
}

func assignee(d *types.VirtualMFADevice) string {
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
func CreateVirtualMFA(ctx context.Context, api CreateVirtualMFAAPI, user string, optFns ...func(*MFAOptions)) (*VirtualMFA, error) {
	const op = "CreateVirtualMFA"
	o, err := mfaOptions(op, user, optFns)
	if err != nil {
		return nil, err
	}
	pl := newPlanner(op, "user/"+user, o.DryRun)
	res := &VirtualMFA{User: user}
	serials, err := userMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := deviceByName(o.Path, o.DeviceName)
	for _, s := range serials {
		if match(s) {
			res.SerialNumber, res.Active = s, true
			res.Plan, err = pl.apply(ctx, o.Logger, false)
			return res, err
		}
	}
	dev, err := findVirtualMFA(ctx, api, match)
	if err != nil {
		return nil, err
	}
	devRes := "mfa" + o.Path + o.DeviceName
	if dev != nil {
		if who := assignee(dev); who != "" {
			return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", aws.ToString(dev.SerialNumber), ErrMFAAssignedElsewhere, who)
		}
		serial := aws.ToString(dev.SerialNumber)
		pl.add(awsguard.Action{Kind: ActionDeleteVirtualMFADevice, Call: "iam:DeleteVirtualMFADevice", Resource: devRes,
			Detail: "delete the pending virtual MFA device " + serial,
			Why:    "it was never activated and its seed is lost"}, func(ctx context.Context) error {
			return deleteDevice(ctx, api, serial)
		})
	}
	create := func(ctx context.Context) (*iam.CreateVirtualMFADeviceOutput, error) {
		return api.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{
			VirtualMFADeviceName: aws.String(o.DeviceName), Path: aws.String(o.Path)})
	}
	pl.add(awsguard.Action{Kind: ActionCreateVirtualMFADevice, Call: "iam:CreateVirtualMFADevice", Resource: devRes,
		Detail: "create virtual MFA device " + devRes + " for " + user,
		Why:    "the user has no active device of that name"}, func(ctx context.Context) error {
		out, err := create(ctx)
		if isAlreadyExists(err) {
			// A retried call created it and its seed was lost with the
			// answer; a pending device grants nothing: replace it once.
			d, ferr := findVirtualMFA(ctx, api, match)
			if ferr != nil || d == nil || assignee(d) != "" {
				return err
			}
			if derr := deleteDevice(ctx, api, aws.ToString(d.SerialNumber)); derr != nil {
				return derr
			}
			out, err = create(ctx)
		}
		if err != nil {
			return err
		}
		v := out.VirtualMFADevice
		res.SerialNumber = aws.ToString(v.SerialNumber)
		res.Seed = awsguard.NewSecretBytes(v.Base32StringSeed)
		res.QRCode = awsguard.NewSecretBytes(v.QRCodePNG)
		if !isPNG(v.QRCodePNG) && !res.Seed.IsZero() {
			qr, err := renderQR(res.SerialNumber, user, res.Seed)
			if err != nil {
				return fmt.Errorf("render QR code: %w", err)
			}
			res.QRCode, res.QRRendered = awsguard.NewSecretBytes(qr), true
		}
		return nil
	})
	res.Plan, err = pl.apply(ctx, o.Logger, false)
	return res, err
}

func deleteDevice(ctx context.Context, api mfaDeviceDeleter, serial string) error {
	_, err := api.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	if isNoSuchEntity(err) {
		return nil
	}
	return err
}

var pngMagic = []byte("\x89PNG\r\n\x1a\n")

func isPNG(b []byte) bool { return bytes.HasPrefix(b, pngMagic) }

// renderQR renders the otpauth URL that IAM's own QR code holds.
func renderQR(serial, user string, seed awsguard.Secret) ([]byte, error) {
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

func checkCode(op, field, code string) error {
	if !codeRE.MatchString(code) {
		// The code itself stays out of the error.
		return fmt.Errorf("%w: %w", ErrMFACode, inputError(op, field, "(not shown)", "six digits"))
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
func ActivateVirtualMFA(ctx context.Context, api ActivateVirtualMFAAPI, user, serial, code1, code2 string, optFns ...func(*MFAOptions)) (*awsguard.Plan, error) {
	const op = "ActivateVirtualMFA"
	o, err := mfaOptions(op, user, optFns)
	if err != nil {
		return nil, err
	}
	if serial != "" {
		if err := checkName(serialRE, op, "serial", serial, "an MFA device serial number (ARN), 9 to 256 characters"); err != nil {
			return nil, err
		}
	}
	if err := checkCode(op, "code1", code1); err != nil {
		return nil, err
	}
	if err := checkCode(op, "code2", code2); err != nil {
		return nil, err
	}
	pl := newPlanner(op, "user/"+user, o.DryRun)
	serials, err := userMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := func(s string) bool { return s == serial }
	if serial == "" {
		match = deviceByName(o.Path, o.DeviceName)
	}
	for _, s := range serials {
		if match(s) {
			return pl.apply(ctx, o.Logger, false)
		}
	}
	dev, err := findVirtualMFA(ctx, api, match)
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
	if who := assignee(dev); who != "" {
		return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", serial, ErrMFAAssignedElsewhere, who)
	}
	pl.add(awsguard.Action{Kind: ActionEnableMFADevice, Call: "iam:EnableMFADevice", Resource: "user/" + user,
		Detail: "enable MFA device " + serial + " for " + user, Why: "the device is pending"}, func(ctx context.Context) error {
		_, err := api.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(serial),
			AuthenticationCode1: aws.String(code1), AuthenticationCode2: aws.String(code2)})
		var bad *types.InvalidAuthenticationCodeException
		switch {
		case isAlreadyExists(err):
			// Enabled by a retried call whose answer was lost?
			if now, lerr := userMFASerials(ctx, api, user); lerr == nil && slices.Contains(now, serial) {
				return nil
			}
			return err
		case errors.As(err, &bad) || awserr.HasCode(err, "InvalidAuthenticationCode"):
			return fmt.Errorf("%w: %w", ErrMFACode, err)
		}
		return err
	})
	return pl.apply(ctx, o.Logger, false)
}

// DeleteVirtualMFA undoes CreateVirtualMFA and ActivateVirtualMFA: it
// deactivates the user's virtual device (named as in MFAOptions) if it is
// active, then deletes it. Deactivating removes a second factor: the user
// signs in with the password alone until enrolled again (and, under
// EnforceMFA, can do nothing but enrol). That action is marked Weakening
// and refused (*awsguard.WeakeningError, nothing changed) unless
// AllowWeaken is set; a pending device, which protects nothing, is deleted
// without it. A device that does not exist means nothing to do; one
// assigned to another user is refused (ErrMFAAssignedElsewhere).
//
// IAM permissions: iam:ListMFADevices, iam:ListVirtualMFADevices,
// iam:DeactivateMFADevice, iam:DeleteVirtualMFADevice.
func DeleteVirtualMFA(ctx context.Context, api DeleteVirtualMFAAPI, user string, optFns ...func(*DeleteVirtualMFAOptions)) (*awsguard.Plan, error) {
	const op = "DeleteVirtualMFA"
	var o DeleteVirtualMFAOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := o.validate(op, user); err != nil {
		return nil, err
	}
	pl := newPlanner(op, "user/"+user, o.DryRun)
	serials, err := userMFASerials(ctx, api, user)
	if err != nil {
		return nil, err
	}
	match := deviceByName(o.Path, o.DeviceName)
	dev, err := findVirtualMFA(ctx, api, match)
	if err != nil {
		return nil, err
	}
	active := ""
	for _, s := range serials {
		if match(s) {
			active = s
		}
	}
	if who := assignee(dev); who != "" && who != user {
		return nil, fmt.Errorf("iamguard: virtual MFA device %s: %w (%s)", aws.ToString(dev.SerialNumber), ErrMFAAssignedElsewhere, who)
	}
	if active != "" {
		pl.add(awsguard.Action{Kind: ActionDeactivateMFADevice, Call: "iam:DeactivateMFADevice", Resource: "user/" + user,
			Detail: "deactivate MFA device " + active + " of " + user, Why: "the device is to be deleted",
			Weakening: true}, func(ctx context.Context) error {
			_, err := api.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String(user), SerialNumber: aws.String(active)})
			if isNoSuchEntity(err) {
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
		pl.add(awsguard.Action{Kind: ActionDeleteVirtualMFADevice, Call: "iam:DeleteVirtualMFADevice", Resource: "mfa" + o.Path + o.DeviceName,
			Detail: "delete virtual MFA device " + serial}, func(ctx context.Context) error {
			return deleteDevice(ctx, api, serial)
		})
	}
	return pl.apply(ctx, o.Logger, o.AllowWeaken)
}
