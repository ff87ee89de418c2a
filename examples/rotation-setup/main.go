// Command rotation-setup sets up (or, with -teardown, removes) the Secrets
// Manager rotation of an IAM user's access key by a deployed
// rotation-lambda function:
//
//	rotation-setup -secret-id app/access-key -user app \
//	    -function-arn arn:aws:lambda:eu-west-1:123456789012:function:key-rotator \
//	    -schedule 'rate(30 days)' -dry-run
//
// It creates the secret (with a new key if the user has none; or stores
// the key given by -access-key-id, whose secret it reads from the
// environment variable AWSGUARD_SECRET_ACCESS_KEY), puts a policy scoped to
// the secret on the function's role, lets Secrets Manager invoke the
// function for this secret only, and turns rotation on. Run twice, the
// second run does nothing. -dry-run prints the plan; -format json prints it
// as JSON. It uses the standard AWS configuration (environment, shared
// files, SSO, instance roles) and exits 1 with a one-line reason on error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"

	"github.com/awsguard/awsguard/internal/cli"
)

// SecretEnv names the environment variable that holds the secret half of
// -access-key-id (never a flag: flags show in process listings).
const SecretEnv = "AWSGUARD_SECRET_ACCESS_KEY"

func main() { cli.Main("rotation-setup", run) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, stdout, stderr, func(cfg aws.Config) clients {
		return clients{setup: keyrotate.SetupClientsFromConfig(cfg), teardown: keyrotate.TeardownClientsFromConfig(cfg)}
	})
}

// clients are the clients of setup and of teardown.
type clients struct {
	setup    keyrotate.SetupClients
	teardown keyrotate.TeardownClients
}

func runWith(ctx context.Context, args []string, stdout, _ io.Writer, newClients func(aws.Config) clients) error {
	fs := flag.NewFlagSet("rotation-setup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		cfg                                     keyrotate.RotationConfig
		keyID, format                           string
		dryRun, teardown, rotateNow, deleteSecr bool
		recoveryDays                            int
	)
	fs.StringVar(&cfg.SecretID, "secret-id", "", "secret name (to create it) or ARN")
	fs.StringVar(&cfg.SecretID, "name", "", "same as -secret-id")
	fs.StringVar(&cfg.UserName, "user", "", "IAM user whose access key the secret holds (the user must serve this secret alone)")
	fs.StringVar(&cfg.FunctionARN, "function-arn", "", "ARN of the deployed rotation-lambda function")
	fs.StringVar(&cfg.Schedule, "schedule", "rate(30 days)", "rotation schedule: rate(N days) or cron(...)")
	fs.StringVar(&cfg.KMSKeyID, "kms-key-id", "", "ARN of a customer managed KMS key for a new secret")
	fs.StringVar(&keyID, "access-key-id", "", "store this existing key (its secret from $"+SecretEnv+")")
	fs.BoolVar(&dryRun, "dry-run", false, "print the plan, change nothing")
	fs.StringVar(&format, "format", "text", "output: text or json")
	fs.BoolVar(&teardown, "teardown", false, "stop rotation and remove the permission and the policy")
	fs.BoolVar(&rotateNow, "rotate-now", false, "start the first rotation at once")
	fs.BoolVar(&deleteSecr, "delete-secret", false, "with -teardown: schedule the secret's deletion")
	fs.IntVar(&recoveryDays, "recovery-days", 30, "with -delete-secret: days the secret stays recoverable (7-30)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if format != "text" && format != "json" {
		return fmt.Errorf("-format %q: want text or json", format)
	}
	if keyID != "" {
		secret := os.Getenv(SecretEnv)
		if secret == "" {
			return fmt.Errorf("-access-key-id needs the key's secret in $%s", SecretEnv)
		}
		cfg.Key = &keyrotate.AccessKey{UserName: cfg.UserName, AccessKeyID: keyID, Secret: awsguard.NewSecret(secret)}
	}
	awsCfg, err := cli.LoadConfig(ctx)
	if err != nil {
		return err
	}
	op := "setup"
	var plan *keyrotate.Setup
	if teardown {
		op = "teardown"
		plan, err = keyrotate.TeardownRotation(ctx, newClients(awsCfg).teardown, cfg.Teardown(), func(o *keyrotate.TeardownOptions) {
			o.DryRun, o.DeleteSecret, o.RecoveryWindowDays = dryRun, deleteSecr, recoveryDays
		})
	} else {
		plan, err = keyrotate.SetupRotation(ctx, newClients(awsCfg).setup, cfg, func(o *keyrotate.SetupOptions) {
			o.DryRun, o.RotateImmediately = dryRun, rotateNow
		})
	}
	if plan != nil {
		if perr := printPlan(stdout, format, op, cfg.SecretID, plan); perr != nil && err == nil {
			err = perr
		}
	}
	return flagError(err)
}

// flags maps the fields keyrotate names in its input errors to the flags
// that set them.
var flags = map[string]string{
	"RotationConfig.SecretID":            "-secret-id",
	"RotationConfig.UserName":            "-user",
	"RotationConfig.FunctionARN":         "-function-arn",
	"RotationConfig.Schedule":            "-schedule",
	"RotationConfig.KMSKeyID":            "-kms-key-id",
	"RotationConfig.Key":                 "-access-key-id",
	"TeardownOptions.RecoveryWindowDays": "-recovery-days",
}

// flagError renames the field of an input error to the flag the user
// typed; the error still matches the *awsguard.InputError.
func flagError(err error) error {
	var ie *awsguard.InputError
	if !errors.As(err, &ie) {
		return err
	}
	if f, ok := flags[ie.Field]; ok {
		return fmt.Errorf("invalid %s %q: want %s: %w", f, ie.Value, ie.Allowed, err)
	}
	return err
}

func printPlan(w io.Writer, format, op, secret string, p *keyrotate.Setup) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	mode := ""
	if p.DryRun {
		mode = " (dry run: nothing changed)"
	}
	if _, err := fmt.Fprintf(w, "%s of secret %s%s\n", op, secret, mode); err != nil {
		return err
	}
	if len(p.Actions) == 0 {
		_, err := fmt.Fprintf(w, "  nothing to do: %s\n", p.Reason)
		return err
	}
	for i, a := range p.Actions {
		state := "planned"
		if a.Outcome == awsguard.OutcomeDone {
			state = "done"
		}
		if _, err := fmt.Fprintf(w, "  %d. %-18s %-8s %s  %s\n", i+1, a.Kind, state, a.Resource, a.Detail); err != nil {
			return err
		}
	}
	return nil
}
