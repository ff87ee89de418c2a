// Command rotate-key rotates an IAM user's access key: it creates a new key,
// proves it authenticates, writes it to a credentials file (mode 0600,
// replaced atomically; in an existing file only the -profile section is
// replaced, other profiles are kept byte for byte), and only then
// deactivates the old key.
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
//	                      default: the caller's own key when the caller is the user,
//	                      unless the credentials file already holds another key.
//	                      After a run interrupted between writing the file and
//	                      recording the delivery, it says which key is in use:
//	                      the written one (finish) or the old one (start over)
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
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
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
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	// A user rotating their own key must sign the steps after delivery
	// with the new key: AWS rejects a deactivated one.
	self, caller, err := callerIsUser(ctx, cfg, f.user)
	if err != nil {
		return err
	}
	clients := keyrotate.ClientsFromConfig(cfg)
	if self {
		clients = keyrotate.SelfClientsFromConfig(cfg)
		// The caller's own key is the one in use, unless the credentials
		// file already holds another key of the user's: an interrupted run
		// may have delivered it, and only the caller can say which is in
		// use (-in-use); the library then refuses rather than guess.
		fileKey, _ := credentialsKey(f.out, f.profile)
		if f.inUse == "" && (f.out == "" || fileKey.AccessKeyID == "" || fileKey.AccessKeyID == caller.AccessKeyID) {
			f.inUse = caller.AccessKeyID
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
			// Finishing an interrupted self-rotation: sign with the key the
			// earlier run delivered, from the caller's credentials or the file.
			o.DeliveredKey = func(_ context.Context, id string) (keyrotate.AccessKey, bool) {
				k := caller
				if k.AccessKeyID != id {
					k, _ = credentialsKey(f.out, f.profile)
				}
				if k.AccessKeyID != id {
					return keyrotate.AccessKey{}, false
				}
				k.UserName = f.user
				delivered = &k
				return k, true
			}
		})
		out.Rotation = rot
		if err != nil {
			_ = report(stdout, f.format, out)
			if errors.Is(err, keyrotate.ErrRotationInProgress) {
				err = fmt.Errorf("%w (say which key is in use with -in-use KEYID)", err)
			}
			return err
		}
		if self && delivered != nil {
			finishAPI = clients.IAMFor(*delivered)
		}
	}
	if f.finish || !f.dryRun {
		fin, err := keyrotate.FinishRotation(ctx, finishAPI, f.user, f.grace, func(o *keyrotate.FinishOptions) { o.DryRun = f.dryRun })
		out.Finish = fin
		if err != nil {
			_ = report(stdout, f.format, out)
			return err
		}
	}
	return report(stdout, f.format, out)
}

// callerIsUser reports whether the configured credentials belong to user,
// and returns their key.
func callerIsUser(ctx context.Context, cfg aws.Config, user string) (bool, keyrotate.AccessKey, error) {
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return false, keyrotate.AccessKey{}, fmt.Errorf("AWS credentials: %w", err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return false, keyrotate.AccessKey{}, fmt.Errorf("who am I (sts:GetCallerIdentity): %w", err)
	}
	arn := aws.ToString(id.Arn)
	k := keyrotate.AccessKey{AccessKeyID: creds.AccessKeyID, Secret: awsguard.NewSecret(creds.SecretAccessKey)}
	if creds.SessionToken != "" {
		k.Secret = awsguard.Secret{} // temporary credentials: not a key that can be rotated or re-used here
	}
	return strings.Contains(arn, ":user/") && strings.HasSuffix(arn, "/"+user), k, nil
}

// writeCredentials writes the key in the shared credentials file format to
// path, as the section [profile]. If the file exists, only that section is
// replaced (or appended); every other byte is kept, so that pointing it at
// ~/.aws/credentials keeps the other profiles. The result goes to a new
// temporary file in the same folder (created 0600 and exclusively by
// os.CreateTemp), synced, then renamed over path (over the file a symbolic
// link points to, if path is one), so that a reader sees the old file or
// the new one, never half of one, and the secret is never readable by
// others.
func writeCredentials(path, profile string, k keyrotate.AccessKey) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("write credentials: %w", err)
	}
	section := fmt.Sprintf("[%s]\naws_access_key_id = %s\naws_secret_access_key = %s\n", profile, k.AccessKeyID, k.Secret.Reveal())
	content := replaceSection(old, profile, section)
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
	w.Write(content)
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

// sectionName returns the name of the section a line opens ("[name]",
// spaces allowed around the name), or false.
func sectionName(line []byte) (string, bool) {
	t := strings.TrimSpace(string(line))
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return "", false
	}
	return strings.TrimSpace(t[1 : len(t)-1]), true
}

// replaceSection returns file with the section [profile] (its header line
// up to the next section's header) replaced by section, or section
// appended if file has none. A repeated [profile] section is dropped (it
// would hold the old key). Every other byte is kept.
func replaceSection(file []byte, profile, section string) []byte {
	var out []byte
	replaced, inProfile := false, false
	for rest := file; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if name, ok := sectionName(line); ok {
			inProfile = name == profile
			if inProfile && !replaced {
				out = append(out, section...)
				replaced = true
			}
		}
		if !inProfile {
			out = append(out, line...)
		}
	}
	if !replaced {
		if len(out) > 0 && out[len(out)-1] != '\n' {
			out = append(out, '\n')
		}
		out = append(out, section...)
	}
	return out
}

// credentialsKey returns the key in the section [profile] of the
// credentials file at path, if it holds one.
func credentialsKey(path, profile string) (keyrotate.AccessKey, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return keyrotate.AccessKey{}, false
	}
	var k keyrotate.AccessKey
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := sectionName([]byte(line)); ok {
			in = name == profile
			continue
		}
		name, val, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		switch strings.TrimSpace(name) {
		case "aws_access_key_id":
			k.AccessKeyID = strings.TrimSpace(val)
		case "aws_secret_access_key":
			k.Secret = awsguard.NewSecret(strings.TrimSpace(val))
		}
	}
	return k, k.AccessKeyID != "" && !k.Secret.IsZero()
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
		if len(r.Actions) > 0 && !r.Applied {
			fmt.Fprintf(w, "plan for %s:\n", r.User)
			for i, a := range r.Actions {
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
		if r.Summary != "" {
			fmt.Fprintln(w, r.Summary)
		}
	}
	return nil
}
