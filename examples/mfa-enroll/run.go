package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/present"
)

type options struct {
	user, qr, seed, code1, code2, deviceName string
	format                                   *string
	dryRun                                   *bool
	showSeed                                 bool
}

// mfaReader is the part of *iam.Client that a dry run calls.
type mfaReader interface {
	iam.ListMFADevicesAPIClient
	iam.ListVirtualMFADevicesAPIClient
}

var _ mfaReader = (*iam.Client)(nil)

const summary = `mfa-enroll enrols a virtual MFA device for an IAM user in two invocations:
first -user NAME -qr FILE (and/or -seed FILE) creates the device and writes
its QR code (or seed) to a file of mode 0600; then -user NAME -code1 CODE
-code2 NEXTCODE activates it with two consecutive codes from the
authenticator. Exit codes: 0 done, 1 failed, 2 a bad command line.`

func command(o *options) *cli.Command {
	c := cli.New("mfa-enroll", summary)
	o.format = c.Format(cli.FormatTable, cli.FormatJSON)
	o.dryRun = c.DryRun()
	fs := c.Flags
	fs.StringVar(&o.user, "user", "", "IAM `user` to enrol (required)")
	fs.StringVar(&o.qr, "qr", "", "write the QR code PNG to this `file` (mode 0600)")
	fs.StringVar(&o.seed, "seed", "", "write the Base32 seed to this `file` (mode 0600), for typing it in by hand")
	fs.StringVar(&o.code1, "code1", "", "first of two consecutive `code`s: activates the device")
	fs.StringVar(&o.code2, "code2", "", "second of two consecutive `code`s")
	fs.StringVar(&o.deviceName, "device-name", "", "virtual device `name` (default: the user name)")
	fs.BoolVar(&o.showSeed, "show-seed", false, "refused: secrets never reach the terminal; use -seed FILE")
	c.FlagOf["user"] = "-user"
	c.FlagOf["MFAOptions.DeviceName"] = "-device-name"
	c.FlagOf["code1"] = "-code1"
	c.FlagOf["code2"] = "-code2"
	c.Check = func() error {
		switch {
		case o.showSeed:
			return cli.Usagef("-show-seed: the seed never reaches the terminal; use -seed FILE (written mode 0600)")
		case o.user == "":
			return cli.Usagef("-user is required")
		case (o.code1 == "") != (o.code2 == ""):
			return cli.Usagef("-code1 and -code2 go together: two consecutive codes from the authenticator")
		case o.code1 != "" && (o.qr != "" || o.seed != ""):
			return cli.Usagef("-qr and -seed belong to the first invocation (creation), not to activation with codes")
		case o.code1 == "" && o.qr == "" && o.seed == "" && !*o.dryRun:
			return cli.Usagef("creating a device needs -qr FILE or -seed FILE: otherwise its seed would be lost")
		case o.qr != "" && o.qr == o.seed:
			return cli.Usagef("-qr and -seed name the same file %q", o.qr)
		}
		switch {
		case *o.dryRun:
			c.Uses(reflect.TypeFor[mfaReader]())
		case o.code1 != "":
			c.Uses(reflect.TypeFor[iamguard.ActivateVirtualMFAAPI]())
		default:
			c.Uses(reflect.TypeFor[iamguard.CreateVirtualMFAAPI]())
		}
		return nil
	}
	return c
}

// result is what mfa-enroll prints.
type result struct {
	User   string `json:"user"`
	Action string `json:"action"` // "create" or "activate"
	DryRun bool   `json:"dry_run"`
	Serial string `json:"serial_number,omitempty"`
	Active bool   `json:"active"`
	QRFile string `json:"qr_file,omitempty"`
	// SeedFile is the file the seed was written to (-seed).
	SeedFile string   `json:"seed_file,omitempty"`
	Steps    []string `json:"steps"`
	Applied  bool     `json:"applied"`
	Reason   string   `json:"reason"`
	Next     string   `json:"next,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	c := command(&o)
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		return enrol(ctx, iam.NewFromConfig(cfg), &o, stdout)
	})
}

func enrol(ctx context.Context, api *iam.Client, o *options, stdout io.Writer) error {
	mfaOpts := func(m *iamguard.MFAOptions) { m.DryRun, m.DeviceName = *o.dryRun, o.deviceName }
	res := result{User: o.user, DryRun: *o.dryRun, Steps: []string{}}

	if o.code1 != "" {
		res.Action = "activate"
		plan, err := iamguard.ActivateVirtualMFA(ctx, api, o.user, "", o.code1, o.code2, mfaOpts)
		switch {
		case errors.Is(err, iamguard.ErrMFADeviceNotFound):
			return fmt.Errorf("-user %s: no pending virtual MFA device to activate: create one first (mfa-enroll -user %s -qr FILE): %w", o.user, o.user, err)
		case errors.Is(err, iamguard.ErrMFACode) && !errors.Is(err, awsguard.ErrInvalidInput):
			return fmt.Errorf("-code1, -code2: IAM refused the codes: wait for two fresh consecutive codes and run the activation again: %w", iamguard.ErrMFACode)
		case err != nil:
			return userError(o.user, present.StepFailed(err, cli.RerunHint))
		}
		res.Active = !*o.dryRun || plan.NothingToDo()
		fill(&res, plan)
		return write(stdout, *o.format, &res)
	}

	res.Action = "create"
	// Make the files' temporary twins before the device exists: a seed
	// that cannot be saved is a device nobody can activate. Each is
	// renamed over its name only once written, so a re-run never clobbers
	// a good file.
	var qr, seed *os.File
	if !*o.dryRun {
		var err error
		if qr, err = tempFor(o.qr, "-qr"); err != nil {
			return err
		}
		defer discard(qr)
		if seed, err = tempFor(o.seed, "-seed"); err != nil {
			return err
		}
		defer discard(seed)
	}
	v, err := iamguard.CreateVirtualMFA(ctx, api, o.user, mfaOpts)
	if err != nil {
		return userError(o.user, present.StepFailed(err, cli.RerunHint))
	}
	res.Serial, res.Active = v.SerialNumber, v.Active
	fill(&res, v.Plan)
	switch {
	case v.Active:
		res.Next = "nothing: the device is already active"
	case *o.dryRun:
	default:
		if qr != nil {
			if err := save(qr, o.qr, []byte(v.QRCode.Reveal())); err != nil {
				return fmt.Errorf("-qr %s: the device %s was created but its QR code could not be written (run it again to replace the device): %w", o.qr, v.SerialNumber, err)
			}
			res.QRFile = o.qr
		}
		if seed != nil {
			if err := save(seed, o.seed, []byte(v.Seed.Reveal()+"\n")); err != nil {
				return fmt.Errorf("-seed %s: the device %s was created but its seed could not be written (run it again to replace the device): %w", o.seed, v.SerialNumber, err)
			}
			res.SeedFile = o.seed
		}
		res.Next = fmt.Sprintf("add the device to an authenticator, then run: mfa-enroll -user %s -code1 CODE -code2 NEXTCODE", o.user)
	}
	return write(stdout, *o.format, &res)
}

// userError names -user for a user that does not exist.
func userError(user string, err error) error {
	if errors.Is(err, iamguard.ErrUserNotFound) {
		return fmt.Errorf("-user %s: user not found (%w)", user, err)
	}
	return err
}

// tempFor creates, mode 0600, the temporary twin of path in its
// directory, or returns nil for an empty path.
func tempFor(path, flag string) (*os.File, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".mfa-enroll-*") // mode 0600
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		discard(f)
		return nil, fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return f, nil
}

func discard(f *os.File) {
	if f != nil {
		f.Close()
		os.Remove(f.Name()) // fails harmlessly once renamed
	}
}

func save(tmp *os.File, path string, data []byte) error {
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func fill(r *result, p *awsguard.Plan) {
	for _, a := range p.Actions {
		r.Steps = append(r.Steps, fmt.Sprintf("%s (%s)", a.String(), a.Call))
	}
	r.Applied, r.Reason = p.Applied, string(p.Reason)
}

func write(w io.Writer, format string, r *result) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, r)
	}
	fmt.Fprintf(w, "user:    %s\n", r.User)
	if r.Serial != "" {
		fmt.Fprintf(w, "device:  %s\n", r.Serial)
	}
	for _, s := range r.Steps {
		verb := "did"
		if r.DryRun {
			verb = "would"
		}
		fmt.Fprintf(w, "%-7s  %s\n", verb+":", s)
	}
	fmt.Fprintf(w, "result:  %s\n", r.Reason)
	if r.QRFile != "" {
		fmt.Fprintf(w, "qr:      %s (mode 0600; delete it once scanned)\n", r.QRFile)
	}
	if r.SeedFile != "" {
		fmt.Fprintf(w, "seed:    in %s (mode 0600; delete it once typed in)\n", r.SeedFile)
	}
	if r.Active && !r.DryRun {
		fmt.Fprintln(w, "active:  yes")
	}
	if r.Next != "" {
		fmt.Fprintf(w, "next:    %s\n", r.Next)
	}
	return nil
}
