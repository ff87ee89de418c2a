package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
)

type options struct {
	user, qr, code1, code2, deviceName, format string
	dryRun, showSeed                           bool
}

func parse(args []string, stderr io.Writer) (*options, error) {
	var o options
	fs := flag.NewFlagSet("mfa-enroll", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.user, "user", "", "IAM user to enrol (required)")
	fs.StringVar(&o.qr, "qr", "", "write the QR code PNG to this file (mode 0600)")
	fs.StringVar(&o.code1, "code1", "", "first of two consecutive codes: activates the device")
	fs.StringVar(&o.code2, "code2", "", "second of two consecutive codes")
	fs.StringVar(&o.deviceName, "device-name", "", "virtual device name (default: the user name)")
	fs.StringVar(&o.format, "format", "text", "output format: text or json")
	fs.BoolVar(&o.dryRun, "dry-run", false, "show the plan, change nothing")
	fs.BoolVar(&o.showSeed, "show-seed", false, "print the Base32 seed (it is a secret: for manual entry only)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stderr)
			fs.PrintDefaults()
		}
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.user == "":
		return nil, fmt.Errorf("-user is required")
	case o.format != "text" && o.format != "json":
		return nil, fmt.Errorf("-format %q: want text or json", o.format)
	case (o.code1 == "") != (o.code2 == ""):
		return nil, fmt.Errorf("-code1 and -code2 go together: two consecutive codes from the authenticator")
	case o.code1 != "" && (o.qr != "" || o.showSeed):
		return nil, fmt.Errorf("-qr and -show-seed belong to the first invocation (creation), not to activation with codes")
	case o.code1 == "" && o.qr == "" && !o.showSeed && !o.dryRun:
		return nil, fmt.Errorf("creating a device needs -qr FILE or -show-seed: otherwise its seed would be lost")
	}
	return &o, nil
}

// result is what mfa-enroll prints.
type result struct {
	User   string `json:"user"`
	Action string `json:"action"` // "create" or "activate"
	DryRun bool   `json:"dry_run"`
	Serial string `json:"serial_number,omitempty"`
	Active bool   `json:"active"`
	QRFile string `json:"qr_file,omitempty"`
	// Seed is set only with -show-seed.
	Seed    string   `json:"seed,omitempty"`
	Steps   []string `json:"steps"`
	Applied bool     `json:"applied"`
	Reason  string   `json:"reason"`
	Next    string   `json:"next,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	api := iam.NewFromConfig(cfg)
	mfaOpts := func(m *iamguard.MFAOptions) { m.DryRun, m.DeviceName = o.dryRun, o.deviceName }
	res := result{User: o.user, DryRun: o.dryRun, Steps: []string{}}

	if o.code1 != "" {
		res.Action = "activate"
		plan, err := iamguard.ActivateVirtualMFA(ctx, api, o.user, "", o.code1, o.code2, mfaOpts)
		if err != nil {
			return err
		}
		res.Active = !o.dryRun || plan.NothingToDo()
		fill(&res, plan)
		return write(stdout, o.format, &res)
	}

	res.Action = "create"
	// Make the QR file's temporary twin before the device exists: a seed
	// that cannot be saved is a device nobody can activate. It is renamed
	// over -qr only once written, so a re-run never clobbers a good file.
	var qr *os.File
	if o.qr != "" && !o.dryRun {
		qr, err = os.CreateTemp(filepath.Dir(o.qr), ".mfa-enroll-*.png") // mode 0600
		if err != nil {
			return fmt.Errorf("QR file: %w", err)
		}
		defer func() {
			qr.Close()
			os.Remove(qr.Name()) // fails harmlessly once renamed
		}()
		if err := qr.Chmod(0o600); err != nil {
			return fmt.Errorf("QR file: %w", err)
		}
	}
	v, err := iamguard.CreateVirtualMFA(ctx, api, o.user, mfaOpts)
	if err != nil {
		return err
	}
	res.Serial, res.Active = v.SerialNumber, v.Active
	fill(&res, v.Plan)
	switch {
	case v.Active:
		res.Next = "nothing: the device is already active"
	case o.dryRun:
	default:
		if qr != nil {
			if err := saveQR(qr, o.qr, []byte(v.QRCode.Reveal())); err != nil {
				return fmt.Errorf("QR file (the device %s was created; run again to replace it): %w", v.SerialNumber, err)
			}
			res.QRFile = o.qr
		}
		if o.showSeed {
			res.Seed = v.Seed.Reveal()
			fmt.Fprintln(stderr, "mfa-enroll: warning: the MFA seed is printed; clear it from your terminal once enrolled")
		}
		res.Next = fmt.Sprintf("add the device to an authenticator, then run: mfa-enroll -user %s -code1 CODE -code2 NEXTCODE", o.user)
	}
	return write(stdout, o.format, &res)
}

func saveQR(tmp *os.File, path string, png []byte) error {
	if _, err := tmp.Write(png); err != nil {
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
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
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
	if r.Seed != "" {
		fmt.Fprintf(w, "seed:    %s\n", r.Seed)
	}
	if r.Active && !r.DryRun {
		fmt.Fprintln(w, "active:  yes")
	}
	if r.Next != "" {
		fmt.Fprintf(w, "next:    %s\n", r.Next)
	}
	return nil
}
