// Command password-policy makes a preset the account password policy,
// through the standard AWS configuration chain (AWS_PROFILE, AWS_REGION,
// AWS_ENDPOINT_URL, ...).
//
//	password-policy [-preset kisa|cis] [-allow-weaken] [-dry-run] [-format text|json]
//
// It never weakens the current policy unless told to: a preset that would
// make any field less strict (a shorter length, a class no longer
// required, a longer maximum age, ...) is refused, naming each field and
// -allow-weaken, and nothing changes; -allow-weaken applies it. -dry-run
// prints the plan and changes nothing. Re-running is safe: a compliant
// account is left alone ("already compliant"). The JSON output records the
// previous policy ("before"; null when there was none) so that it can be
// restored. It exits 1 with a one-line reason on stderr on failure and 2
// on bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("password-policy", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("password-policy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	preset := fs.String("preset", "kisa", "policy preset: kisa or cis")
	allowWeaken := fs.Bool("allow-weaken", false, "apply the preset even where it makes the current policy less strict")
	dryRun := fs.Bool("dry-run", false, "print the plan, change nothing")
	format := fs.String("format", "text", "output format: text or json")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", cli.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", cli.ErrUsage, fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: -format %q: want text or json", cli.ErrUsage, *format)
	}
	baseline, err := iamguard.BaselineByName(*preset)
	if err != nil {
		return fmt.Errorf("%w: -preset: %v", cli.ErrUsage, err)
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	cfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	ch, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), baseline.Policy, func(o *iamguard.PasswordPolicyOptions) {
		o.DryRun, o.AllowWeaken = *dryRun, *allowWeaken
	})
	if errors.Is(err, awsguard.ErrWeakening) {
		return fmt.Errorf("%w (pass -allow-weaken to apply it)", err)
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ch)
	}
	return writeText(stdout, baseline.Name, ch)
}

func writeText(w io.Writer, preset string, ch *iamguard.PasswordPolicyChange) error {
	var b strings.Builder
	switch {
	case ch.Applied:
		fmt.Fprintf(&b, "password policy %s (%s, %d fields):\n", ch.Reason, preset, len(ch.Diff))
	case ch.DryRun && len(ch.Diff) > 0:
		fmt.Fprintf(&b, "dry run: would change %d fields (%s):\n", len(ch.Diff), preset)
	default:
		fmt.Fprintf(&b, "password policy %s (%s)\n", ch.Reason, preset)
	}
	for _, d := range ch.Diff {
		fmt.Fprintf(&b, "  %s\n", d)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
