// Command rotate-key rotates an IAM user's access key: it creates a new key,
// proves it authenticates, writes it to a credentials file (mode 0600,
// replaced atomically), and only then deactivates the old key.
//
//	rotate-key -user alice -credentials-out ~/.aws/alice.credentials
//	rotate-key -user alice -dry-run -format json
//	rotate-key -user alice -finish -grace 168h   # later: delete the old key
//
// Flags:
//
//	-user NAME            the IAM user (required)
//	-credentials-out FILE where the new key goes, in the shared credentials
//	                      file format; required unless -dry-run or -finish
//	-profile NAME         the profile name written to the file (default "default")
//	-in-use KEYID         the key the user's software uses now (the one replaced);
//	                      default: the caller's own key when the caller is the user
//	-delete-old           delete the replaced key right away (after checking its
//	                      last use) instead of leaving it Inactive
//	-delete-old-active    allow deleting the other active key when the user has two
//	-grace DURATION       keys deactivated longer ago than this are deleted (unless
//	                      used after deactivation); default 168h
//	-finish               only delete old keys past -grace; no rotation
//	-max-age DURATION     rotate only if the key in use is at least this old
//	-dry-run              print the plan; change nothing
//	-format text|json     output format (default text)
//
// It uses the standard AWS configuration chain (environment, shared files,
// SSO, instance roles). The secret key is never printed: it goes only to
// the credentials file. On failure it exits 1 with a one-line reason on
// stderr.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard/keyrotate"

	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("rotate-key", run) }

type flags struct {
	user, out, profile, inUse, format string
	deleteOld, deleteOldActive        bool
	finish, dryRun                    bool
	grace, maxAge                     time.Duration
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("rotate-key", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned as one line; usage only for -h
	fs.StringVar(&f.user, "user", "", "the IAM user whose key to rotate (required)")
	fs.StringVar(&f.out, "credentials-out", "", "file to write the new key to (0600, replaced atomically)")
	fs.StringVar(&f.profile, "profile", "default", "profile name in the credentials file")
	fs.StringVar(&f.inUse, "in-use", "", "ID of the key in use now (the one replaced)")
	fs.BoolVar(&f.deleteOld, "delete-old", false, "delete the replaced key at once (after checking its last use)")
	fs.BoolVar(&f.deleteOldActive, "delete-old-active", false, "allow deleting the other active key when the user has two")
	fs.DurationVar(&f.grace, "grace", 7*24*time.Hour, "delete keys deactivated longer ago than this")
	fs.BoolVar(&f.finish, "finish", false, "only delete old keys past -grace")
	fs.DurationVar(&f.maxAge, "max-age", 0, "rotate only if the key in use is at least this old")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan, change nothing")
	fs.StringVar(&f.format, "format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: rotate-key -user NAME -credentials-out FILE [flags]")
			fs.PrintDefaults()
		}
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.user == "":
		return nil, errors.New("-user is required")
	case keyrotate.ValidateUserName(f.user) != nil:
		return nil, keyrotate.ValidateUserName(f.user)
	case f.format != "text" && f.format != "json":
		return nil, fmt.Errorf("-format must be text or json, not %q", f.format)
	case f.grace < 0:
		return nil, errors.New("-grace must not be negative")
	case !f.finish && !f.dryRun && f.out == "":
		return nil, errors.New("-credentials-out is required: the new key must be delivered somewhere before the old one is deactivated (or use -dry-run)")
	case f.finish && f.out != "":
		return nil, errors.New("-finish rotates nothing: drop -credentials-out")
	case strings.ContainsAny(f.profile, "[]\n\r"):
		return nil, fmt.Errorf("-profile %q is not a valid profile name", f.profile)
	}
	return f, nil
}

// output is what -format json prints.
type output struct {
	Rotation *keyrotate.Rotation `json:"rotation,omitempty"`
	Finish   *keyrotate.Rotation `json:"finish,omitempty"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load AWS configuration: %w", err)
	}
	// A user rotating their own key must sign the steps after delivery
	// with the new key: AWS rejects a deactivated one.
	self, callerKey, err := callerIsUser(ctx, cfg, f.user)
	if err != nil {
		return err
	}
	clients := keyrotate.ClientsFromConfig(cfg)
	if self {
		clients = keyrotate.SelfClientsFromConfig(cfg)
		if f.inUse == "" {
			f.inUse = callerKey
		}
	}
	var out output
	finishAPI := clients.IAM
	if !f.finish {
		var delivered *keyrotate.AccessKey
		rot, err := keyrotate.RotateAccessKey(ctx, clients, f.user, func(o *keyrotate.Options) {
			o.DryRun, o.InUseKeyID, o.DeleteOld, o.DeleteOldActive, o.MaxAge = f.dryRun, f.inUse, f.deleteOld, f.deleteOldActive, f.maxAge
			o.Deliver = func(_ context.Context, k keyrotate.AccessKey) error {
				if err := writeCredentials(f.out, f.profile, k); err != nil {
					return err
				}
				delivered = &k
				return nil
			}
		})
		out.Rotation = rot
		if err != nil {
			_ = report(stdout, f.format, out)
			return err
		}
		if self && delivered != nil {
			finishAPI = clients.IAMFor(*delivered)
		}
	}
	if f.finish || !f.dryRun {
		fin, err := keyrotate.FinishRotation(ctx, finishAPI, f.user, f.grace, func(o *keyrotate.Options) { o.DryRun = f.dryRun })
		out.Finish = fin
		if err != nil {
			_ = report(stdout, f.format, out)
			return err
		}
	}
	return report(stdout, f.format, out)
}

// callerIsUser reports whether the configured credentials belong to user,
// and their key ID.
func callerIsUser(ctx context.Context, cfg aws.Config, user string) (bool, string, error) {
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return false, "", fmt.Errorf("AWS credentials: %w", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return false, "", fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	arn := aws.ToString(id.Arn)
	return strings.Contains(arn, ":user/") && strings.HasSuffix(arn, "/"+user), creds.AccessKeyID, nil
}

// writeCredentials writes the key in the shared credentials file format to
// path: a new temporary file in the same folder (created 0600 and
// exclusively by os.CreateTemp), synced, then renamed over path, so that a
// reader sees the old file or the new one, never half of one, and the
// secret is never readable by others.
func writeCredentials(path, profile string, k keyrotate.AccessKey) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	w := bufio.NewWriter(tmp)
	fmt.Fprintf(w, "[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, k.AccessKeyID, k.Secret.Reveal())
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write credentials: %w", err)
	}
	return nil
}

func report(w io.Writer, format string, out output) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, r := range []*keyrotate.Rotation{out.Rotation, out.Finish} {
		if r == nil {
			continue
		}
		if len(r.Plan) > 0 && !r.Applied {
			fmt.Fprintf(w, "plan for %s:\n", r.User)
			for i, a := range r.Plan {
				id := a.Resource
				if id == "" {
					id = "(new key)"
				}
				fmt.Fprintf(w, "  %d. %-20s %-22s %s\n", i+1, a.Kind, id, a.Detail)
			}
		}
		if r.NewKey != nil && r.Applied {
			fmt.Fprintf(w, "new key: %s (verified in %d poll(s) as %s)\n", r.NewKey.AccessKeyID, r.VerifyPolls, r.Identity)
		}
		for _, k := range r.OldKeys {
			line := fmt.Sprintf("key %s: %s", k.KeyID, k.Outcome)
			if !k.DeleteAfter.IsZero() {
				line += ", deletable after " + k.DeleteAfter.UTC().Format(time.RFC3339)
			}
			if k.LastUsed != nil {
				line += fmt.Sprintf(", last used %s (%s)", k.LastUsed.Date.UTC().Format(time.RFC3339), k.LastUsed.Service)
			}
			fmt.Fprintln(w, line)
		}
		for _, x := range r.Warnings {
			fmt.Fprintln(w, "warning: "+x)
		}
		if r.Reason != "" {
			fmt.Fprintln(w, r.Reason)
		}
	}
	return nil
}
