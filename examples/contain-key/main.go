// Command contain-key responds to a leaked IAM access key from its ID
// alone: it finds the key's user, contains the key (deactivates it and
// attaches the AWS managed quarantine policy; on request denies older
// sessions and deletes the console password), measures what the key did
// from CloudTrail event history, and on request replaces it: a new key,
// verified and written to a 0600 file, before the user-wide quarantine is
// lifted. The leaked secret is never needed.
//
//	contain-key -key AKIA... -revoke-sessions                 # contain and measure
//	contain-key -key AKIA... -dry-run -format json            # the plan only
//	contain-key -key AKIA... -replace -credentials-out FILE   # a new key, the user released
//	contain-key -key AKIA... -user alice -delete-leaked       # the evidence is no longer needed
//	contain-key -key AKIA... -release                         # a false alarm
//
// Flags (besides the common -profile, -region, -endpoint-url, -timeout,
// -attempt-timeout and -print-policy of every example):
//
//	-key KEYID              the leaked access key (AKIA...; required)
//	-user NAME              the key's user: needed once the leaked key is deleted
//	-window DURATION        how far back to read CloudTrail (1h to 2160h; default 2160h)
//	-regions LIST           comma-separated regions to read CloudTrail in
//	                        (default: us-east-1, where IAM logs, and -region)
//	-revoke-sessions        also deny sessions issued before now
//	-disable-console        also delete the user's console password (not restorable)
//	-replace                create a new key, verify it, write it to -credentials-out,
//	                        then lift the quarantine (which covers the whole user)
//	-keep-quarantine        with -replace: keep the quarantine (the new key cannot work under it)
//	-credentials-out FILE   where the new key goes (shared credentials format, 0600,
//	                        replaced whole and atomically); required with -replace
//	-delete-leaked          delete the leaked key: it is no longer needed as evidence
//	-release                undo the containment (a false alarm)
//	-reactivate             with -release: reactivate the key if containment deactivated it
//	-dry-run                print the plan; change nothing
//	-format table|json      output format (default table)
//
// CloudTrail event history that cannot be read (a region without access,
// an emulator without LookupEvents) is an ERROR finding, never a crash.
// Exit codes: 0 done, 1 failed (one line on stderr naming the step), 2 a
// bad command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/keyrotate"
)

func main() { cli.Main("contain-key", run) }

const summary = `contain-key contains a leaked IAM access key from its ID alone: it
deactivates the key, attaches the AWS managed quarantine policy (and on
request denies older sessions and deletes the console password), measures
what the key did from CloudTrail, and on request replaces it (the new key
goes only to -credentials-out, 0600) before lifting the quarantine.
Exit codes: 0 done, 1 failed, 2 a bad command line.`

type flags struct {
	key, user, out, regions     string
	window                      time.Duration
	revoke, console             bool
	replace, keep, deleteLeaked bool
	release, reactivate         bool
	format                      *string
	dryRun                      *bool
}

var (
	keyRE    = regexp.MustCompile(`^AKIA[A-Z0-9]{16,124}$`)
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
)

// flagOf maps the fields of keyrotate's input errors to the flags.
var flagOf = map[string]string{
	"accessKeyID":            "-key",
	"user":                   "-user",
	"ReleaseOptions.User":    "-user",
	"MeasureOptions.Window":  "-window",
	"MeasureOptions.Regions": "-regions",
	"ReplaceOptions.Deliver": "-credentials-out",
}

func newCommand() (*cli.Command, *flags) {
	c := cli.New("contain-key", summary)
	c.Synopsis = "-key AKIA... [flags]"
	f := &flags{}
	f.format = c.Format(cli.FormatTable, cli.FormatJSON)
	f.dryRun = c.DryRun()
	fl := c.Flags
	fl.StringVar(&f.key, "key", "", "the leaked access `key` ID, AKIA... (required)")
	fl.StringVar(&f.user, "user", "", "the key's IAM `user`: needed once the leaked key is deleted")
	fl.DurationVar(&f.window, "window", keyrotate.MaxLookupWindow, "read CloudTrail this far back (`duration`, 1h to 2160h)")
	fl.StringVar(&f.regions, "regions", "", "comma-separated `regions` to read CloudTrail in (default: us-east-1 and -region)")
	fl.BoolVar(&f.revoke, "revoke-sessions", false, "also deny every session issued before now")
	fl.BoolVar(&f.console, "disable-console", false, "also delete the user's console password (it cannot be restored)")
	fl.BoolVar(&f.replace, "replace", false, "create a new key, verify it, write it to -credentials-out, then lift the quarantine")
	fl.BoolVar(&f.keep, "keep-quarantine", false, "with -replace: keep the quarantine (the new key cannot work under it)")
	fl.StringVar(&f.out, "credentials-out", "", "`file` for the new key (0600, replaced atomically); required with -replace")
	fl.BoolVar(&f.deleteLeaked, "delete-leaked", false, "delete the leaked key: it is no longer needed as evidence")
	fl.BoolVar(&f.release, "release", false, "undo the containment (a false alarm)")
	fl.BoolVar(&f.reactivate, "reactivate", false, "with -release: reactivate the key if containment deactivated it")
	for k, v := range flagOf {
		c.FlagOf[k] = v
	}
	c.Check = func() error { return f.check(c) }
	return c, f
}

func (f *flags) check(c *cli.Command) error {
	policyOnly := c.Flags.Lookup("print-policy").Value.String() == "true"
	switch {
	case f.key == "" && !policyOnly:
		return cli.Usagef("-key is required")
	case f.key != "" && !keyRE.MatchString(f.key):
		return cli.Usagef("-key %q: want a long-term access key ID: AKIA followed by 16 or more capital letters and digits (temporary ASIA keys cannot be deactivated)", f.key)
	case f.user != "" && keyrotate.ValidateUserName(f.user) != nil:
		return cli.Usagef("-user %q: want an IAM user name: 1 to 64 of letters, digits and +=,.@_-", f.user)
	case f.window < time.Hour || f.window > keyrotate.MaxLookupWindow:
		return cli.Usagef("-window %s: want 1h to 2160h (90 days, CloudTrail event history's reach)", f.window)
	case f.release && (f.replace || f.deleteLeaked || f.revoke || f.console):
		return cli.Usagef("-release undoes a containment: drop -replace, -delete-leaked, -revoke-sessions and -disable-console")
	case f.reactivate && !f.release:
		return cli.Usagef("-reactivate applies to -release")
	case f.keep && !f.replace:
		return cli.Usagef("-keep-quarantine applies to -replace")
	case f.out != "" && !f.replace:
		return cli.Usagef("-credentials-out applies to -replace")
	case f.replace && f.out == "" && !*f.dryRun && !policyOnly:
		return cli.Usagef("-credentials-out is required with -replace: the new key must go somewhere before the quarantine is lifted")
	}
	if _, err := f.regionList("us-east-1"); err != nil {
		return err
	}
	if f.release {
		c.Uses(reflect.TypeFor[keyrotate.ReleaseAPI]())
		return nil
	}
	c.Uses(reflect.TypeFor[keyrotate.ContainAPI](), reflect.TypeFor[keyrotate.LookupEventsAPI]())
	if f.replace {
		c.Uses(reflect.TypeFor[keyrotate.ReplaceAPI](), reflect.TypeFor[keyrotate.CallerIdentityAPI]())
	} else if f.deleteLeaked {
		c.Uses(reflect.TypeFor[keyrotate.DeleteLeakedAPI]())
	}
	return nil
}

// regionList returns -regions, or us-east-1 and the configured region.
func (f *flags) regionList(configured string) ([]string, error) {
	if f.regions == "" {
		rs := []string{"us-east-1"}
		if configured != "" && configured != "us-east-1" {
			rs = append(rs, configured)
		}
		return rs, nil
	}
	var rs []string
	for _, r := range strings.Split(f.regions, ",") {
		r = strings.TrimSpace(r)
		if !regionRE.MatchString(r) {
			return nil, cli.Usagef("-regions %q: %q is not a region name (like ap-northeast-2)", f.regions, r)
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs, nil
}

// output is what -format json prints.
type output struct {
	Containment *keyrotate.Containment `json:"containment,omitempty"`
	Activity    *keyrotate.Activity    `json:"activity,omitempty"`
	Report      *awsguard.Report       `json:"report,omitempty"`
	Replacement *keyrotate.Containment `json:"replacement,omitempty"`
	Deletion    *keyrotate.Containment `json:"deletion,omitempty"`
	Release     *keyrotate.Containment `json:"release,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, f := newCommand()
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		var out output
		err = f.do(ctx, cfg, &out)
		if werr := report(stdout, *f.format, &out); err == nil {
			err = werr
		}
		return err
	})
}

func (f *flags) do(ctx context.Context, cfg aws.Config, out *output) error {
	api := iam.NewFromConfig(cfg)
	dry := *f.dryRun
	if f.release {
		rel, err := keyrotate.ReleaseContainment(ctx, api, f.key, func(o *keyrotate.ReleaseOptions) {
			o.DryRun, o.AllowWeaken, o.User = dry, f.reactivate, f.user
		})
		out.Release = rel
		if errors.Is(err, awsguard.ErrWeakening) {
			err = fmt.Errorf("%w (add -reactivate to reactivate the key)", err)
		}
		return err
	}
	user, err := f.contain(ctx, cfg, api, out)
	if err != nil {
		return err
	}
	if dry && out.Containment != nil && len(out.Containment.Actions) > 0 && (f.replace || f.deleteLeaked) {
		out.Containment.Warnings = append(out.Containment.Warnings, "the replacement or deletion is planned once the containment is applied: run without -dry-run, or again after it")
		return nil
	}
	if f.replace {
		r, err := keyrotate.ReplaceLeakedKey(ctx, keyrotate.ReplaceClients{IAM: api, STS: keyrotate.STSFromConfig(cfg)}, user, f.key, func(o *keyrotate.ReplaceOptions) {
			o.DryRun, o.KeepQuarantine, o.DeleteLeaked = dry, f.keep, f.deleteLeaked
			o.AllowWeaken = true // -replace asks for the user to be released
			o.Deliver = func(_ context.Context, k keyrotate.AccessKey) error {
				if err := writeCredentials(f.out, k); err != nil {
					return fmt.Errorf("-credentials-out %s: %w", f.out, err)
				}
				return nil
			}
		})
		out.Replacement = r
		if errors.Is(err, keyrotate.ErrNoKeySlot) {
			err = fmt.Errorf("%w (add -delete-leaked, or delete the user's other key)", err)
		}
		return err
	}
	if f.deleteLeaked {
		d, err := keyrotate.DeleteLeakedKey(ctx, api, user, f.key, func(o *keyrotate.DeleteLeakedOptions) { o.DryRun = dry })
		out.Deletion = d
		return err
	}
	return nil
}

// contain contains the key and measures it, and returns its user. A key
// already deleted (a re-run after -delete-leaked) needs -user: it is then
// neither contained nor measured again.
func (f *flags) contain(ctx context.Context, cfg aws.Config, api *iam.Client, out *output) (string, error) {
	c, err := keyrotate.ContainLeakedKey(ctx, api, f.key, func(o *keyrotate.ContainOptions) {
		o.DryRun, o.RevokeSessions, o.DisableConsole = dry(f), f.revoke, f.console
	})
	switch {
	case errors.Is(err, keyrotate.ErrKeyNotFound) && f.user != "" && (f.replace || f.deleteLeaked):
		return f.user, nil // deleted by an earlier run
	case err != nil:
		out.Containment = c
		return "", err
	}
	out.Containment = c
	if f.user != "" && f.user != c.User {
		return "", fmt.Errorf("-user %s: the key belongs to %s", f.user, c.User)
	}
	regions, _ := f.regionList(cfg.Region)
	act, err := keyrotate.MeasureKeyActivity(ctx, func(region string) keyrotate.LookupEventsAPI {
		return cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = region })
	}, f.key, func(o *keyrotate.MeasureOptions) { o.Regions, o.Window = regions, f.window })
	if err != nil {
		return "", err
	}
	out.Activity = act
	account := ""
	if parts := strings.Split(c.UserARN, ":"); len(parts) > 4 {
		account = parts[4]
	}
	out.Report = act.Report(account)
	return c.User, nil
}

func dry(f *flags) bool { return *f.dryRun }

// writeCredentials writes the key as the [default] section of a shared
// credentials file at path: a new temporary file in the same folder
// (0600, created exclusively), synced, then renamed over path, so that a
// reader sees the old file or the new one and the secret is never
// readable by others.
func writeCredentials(path string, k keyrotate.AccessKey) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(tmp, "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", k.AccessKeyID, k.Secret.Reveal()); err != nil {
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

func report(w io.Writer, format string, out *output) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, out)
	}
	for _, c := range []*keyrotate.Containment{out.Containment, out.Replacement, out.Deletion, out.Release} {
		if c == nil {
			continue
		}
		fmt.Fprintf(w, "%s of %s (%s): state %s\n", c.Operation, c.KeyID, c.User, c.State)
		for i, a := range c.Actions {
			fmt.Fprintf(w, "  %d. %-30s %-10s %s\n", i+1, a.Kind, a.Outcome, a.Detail)
		}
		if c.NewKey != nil {
			fmt.Fprintf(w, "new key: %s (secret in the -credentials-out file only)\n", c.NewKey.AccessKeyID)
		}
		for _, x := range c.Warnings {
			fmt.Fprintln(w, "warning: "+x)
		}
		fmt.Fprintln(w, c.Summary)
	}
	if out.Report != nil {
		fmt.Fprintln(w, "activity:")
		for _, f := range out.Report.Findings {
			fmt.Fprintf(w, "  %-5s %-8s %-12s %s\n", f.Status, f.Severity, f.Region, f.Title)
			if e := f.Evidence["error"]; e != "" {
				fmt.Fprintf(w, "        %s\n", e)
			}
		}
	}
	return nil
}
