// Command password-policy makes a preset the account password policy.
//
//	password-policy [-preset kisa|cis] [-min-length N] [-max-age DAYS] [-reuse-prevention N]
//	                [-allow-weaken] [-dry-run] [-format table|json]
//	                [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 2m] [-print-policy]
//
// It never weakens the current policy unless told to: a preset that would
// make any field less strict (a shorter length, a class no longer
// required, a longer maximum age, ...) is refused, naming each field and
// -allow-weaken, and nothing changes; -allow-weaken applies it. -min-length,
// -max-age and -reuse-prevention change the preset's value of that field.
// -dry-run prints the plan and changes nothing. Re-running is safe: a
// compliant account is left alone ("already compliant"). The JSON output
// records the previous policy ("before"; null when there was none) so that
// it can be restored. -print-policy prints the IAM policy it needs (with
// -dry-run, read only). Exit codes: 0 done, 1 failed or refused (one line
// on stderr), 2 a bad command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/internal/present"
)

func main() { cli.Main("password-policy", run) }

// policyReader is the part of *iam.Client that a dry run calls.
type policyReader interface {
	GetAccountPasswordPolicy(ctx context.Context, in *iam.GetAccountPasswordPolicyInput, optFns ...func(*iam.Options)) (*iam.GetAccountPasswordPolicyOutput, error)
}

var _ policyReader = (*iam.Client)(nil)

const summary = `password-policy makes a preset (kisa or cis) the account password policy.
It never makes a field less strict unless -allow-weaken is given; -dry-run
prints the plan and changes nothing. Exit codes: 0 done, 1 failed or
refused, 2 a bad command line.`

// flagOf names the flag of each field of iamguard.PasswordPolicy that a
// flag sets.
var flagOf = map[string]string{
	"PasswordPolicy.MinimumPasswordLength":   "-min-length",
	"PasswordPolicy.MaxPasswordAge":          "-max-age",
	"PasswordPolicy.PasswordReusePrevention": "-reuse-prevention",
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("password-policy", summary)
	c.SetTimeout(2 * time.Minute)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	preset := c.Flags.String("preset", "kisa", "policy `preset`: kisa or cis")
	allowWeaken := c.Flags.Bool("allow-weaken", false, "apply the preset even where it makes the current policy less strict")
	minLength := c.Flags.Int("min-length", 0, "minimum password `length`, 6..128 (default: the preset's)")
	maxAge := c.Flags.Int("max-age", 0, "`days` a password is valid, 1..1095, or 0 for never (default: the preset's)")
	reuse := c.Flags.Int("reuse-prevention", 0, "`number` of previous passwords that may not be reused, 1..24, or 0 for none (default: the preset's)")
	for k, v := range flagOf {
		c.FlagOf[k] = v
	}
	var baseline iamguard.Baseline
	c.Check = func() error {
		var err error
		if baseline, err = iamguard.BaselineByName(*preset); err != nil {
			return cli.Usagef("-preset %q: want kisa or cis", *preset)
		}
		c.Flags.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "min-length":
				baseline.Policy.MinimumPasswordLength = int32(clamp(*minLength))
			case "max-age":
				baseline.Policy.MaxPasswordAge = int32(clamp(*maxAge))
			case "reuse-prevention":
				baseline.Policy.PasswordReusePrevention = int32(clamp(*reuse))
			}
		})
		if err := baseline.Policy.Validate(); err != nil {
			return cli.Usagef("%s", inputErrors(err))
		}
		if *dryRun {
			c.Uses(reflect.TypeFor[policyReader]())
		} else {
			c.Uses(reflect.TypeFor[iamguard.EnablePasswordPolicyAPI]())
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		ch, err := iamguard.EnablePasswordPolicy(ctx, iam.NewFromConfig(cfg), baseline.Policy, func(o *iamguard.PasswordPolicyOptions) {
			o.DryRun, o.AllowWeaken = *dryRun, *allowWeaken
		})
		var we *awsguard.WeakeningError
		if errors.As(err, &we) {
			return fmt.Errorf("refused: -preset %s would weaken the password policy (%s): pass -allow-weaken to apply it, nothing was changed: %w",
				*preset, details(we.Actions), awsguard.ErrWeakening)
		}
		if err != nil {
			return present.StepFailed(err, cli.RerunHint)
		}
		if *format == cli.FormatJSON {
			return cli.WriteJSON(stdout, ch)
		}
		return writeText(stdout, baseline.Name, ch)
	})
}

// clamp keeps a flag's value within int32 for Validate to judge.
func clamp(v int) int {
	return min(max(v, -1), 1<<30)
}

// inputErrors names the flag of each *awsguard.InputError joined in err.
func inputErrors(err error) string {
	var parts []string
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var ie *awsguard.InputError
		if errors.As(err, &ie) && flagOf[ie.Field] != "" {
			parts = append(parts, fmt.Sprintf("%s %s: want %s", flagOf[ie.Field], ie.Value, ie.Allowed))
			return
		}
		parts = append(parts, err.Error())
	}
	walk(err)
	return strings.Join(parts, "; ")
}

func details(actions []awsguard.Action) string {
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
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
