// Command rotation-setup sets up (or, with -teardown, removes) the Secrets
// Manager rotation of an IAM user's access key by a deployed
// rotation-lambda function:
//
//	rotation-setup -secret-id app/access-key -user app \
//	    -function-arn arn:aws:lambda:eu-west-1:123456789012:function:key-rotator \
//	    -schedule 'rate(30 days)' -dry-run
//	rotation-setup -print-policy                     # the IAM policy setup needs
//	rotation-setup -teardown -print-policy           # and teardown
//
// It creates the secret (with a new key if the user has none; or stores
// the key given by -access-key-id, whose secret it reads from the
// environment variable AWSGUARD_SECRET_ACCESS_KEY), puts a policy scoped to
// the secret on the function's role, lets Secrets Manager invoke the
// function for this secret only, and turns rotation on. Run twice, the
// second run does nothing. -dry-run prints the plan; -format json prints it
// as JSON. It uses the standard AWS configuration chain under the common
// flags -profile, -region, -endpoint-url, -timeout and -attempt-timeout.
// -print-policy prints the IAM policy of the run the flags ask for (setup,
// or -teardown; a -dry-run needs only its reads): with -kms-key-id it holds
// kms:GenerateDataKey and kms:Decrypt, which an existing secret under a
// customer managed key needs too.
//
// Exit codes: 0 done, 1 failed (one line on stderr naming the flag or the
// step; a step that stopped half-way says that running it again carries
// out only what is left, a refusal before any change says nothing was
// changed), 2 a bad command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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

// teardownKeepSecretAPI is the part of *secretsmanager.Client that a
// teardown without -delete-secret calls: TeardownSecretsAPI but
// DeleteSecret.
type teardownKeepSecretAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error)
}

var _ teardownKeepSecretAPI = (*secretsmanager.Client)(nil)

// kmsActions are what Secrets Manager asks of the caller to store a value
// in a secret under a customer managed KMS key.
var kmsActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

const summary = `rotation-setup turns on the Secrets Manager rotation of an IAM user's access
key by a deployed rotation-lambda function (see rotation-lambda -h): it
creates the secret, puts a policy scoped to the secret on the function's
role, lets Secrets Manager invoke the function for this secret only, and
turns rotation on. -teardown reverses it. It plans from the live state:
run twice, the second run does nothing. -print-policy prints the IAM
policy the run needs (add kms:GenerateDataKey and kms:Decrypt on the key
of an existing secret under a customer managed key). Exit codes: 0 done,
1 failed, 2 a bad command line.`

// flagOf maps the fields keyrotate names in its input errors to the flags
// that set them.
var flagOf = map[string]string{
	"RotationConfig.SecretID":            "-secret-id",
	"RotationConfig.UserName":            "-user",
	"RotationConfig.FunctionARN":         "-function-arn",
	"RotationConfig.Schedule":            "-schedule",
	"RotationConfig.KMSKeyID":            "-kms-key-id",
	"RotationConfig.Key":                 "-access-key-id",
	"TeardownOptions.RecoveryWindowDays": "-recovery-days",
}

func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, newClients func(aws.Config) clients) error {
	c := cli.New("rotation-setup", summary)
	c.Synopsis = "-secret-id NAME -user NAME -function-arn ARN [flags]"
	var (
		cfg                               keyrotate.RotationConfig
		keyID                             string
		teardown, rotateNow, deleteSecret bool
		recoveryDays                      int
	)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	fs := c.Flags
	fs.StringVar(&cfg.SecretID, "secret-id", "", "secret `name` (to create it) or ARN")
	fs.StringVar(&cfg.SecretID, "name", "", "same as -secret-id")
	fs.StringVar(&cfg.UserName, "user", "", "IAM `user` whose access key the secret holds (the user must serve this secret alone)")
	fs.StringVar(&cfg.FunctionARN, "function-arn", "", "`ARN` of the deployed rotation-lambda function")
	fs.StringVar(&cfg.Schedule, "schedule", "rate(30 days)", "rotation `schedule`: rate(N days), rate(N hours) or cron(...)")
	fs.StringVar(&cfg.KMSKeyID, "kms-key-id", "", "`ARN` of a customer managed KMS key for a new secret")
	fs.StringVar(&keyID, "access-key-id", "", "store this existing `key` (its secret from $"+SecretEnv+")")
	fs.BoolVar(&teardown, "teardown", false, "stop rotation and remove the permission and the policy")
	fs.BoolVar(&rotateNow, "rotate-now", false, "start the first rotation at once")
	fs.BoolVar(&deleteSecret, "delete-secret", false, "with -teardown: schedule the secret's deletion")
	fs.IntVar(&recoveryDays, "recovery-days", 30, "with -delete-secret: `days` the secret stays recoverable (7-30)")
	for k, v := range flagOf {
		c.FlagOf[k] = v
	}
	c.Check = func() error {
		switch {
		case deleteSecret && !teardown:
			return cli.Usagef("-delete-secret needs -teardown")
		case teardown && (rotateNow || keyID != "" || cfg.KMSKeyID != ""):
			return cli.Usagef("-teardown removes rotation: -rotate-now, -access-key-id and -kms-key-id apply to a setup")
		case recoveryDays < 7 || recoveryDays > 30:
			return cli.Usagef("-recovery-days %d: want 7 to 30", recoveryDays)
		}
		if keyID != "" {
			secret := os.Getenv(SecretEnv)
			if secret == "" {
				return cli.Usagef("-access-key-id needs the key's secret in $%s", SecretEnv)
			}
			cfg.Key = &keyrotate.AccessKey{UserName: cfg.UserName, AccessKeyID: keyID, Secret: awsguard.NewSecret(secret)}
		}
		if teardown {
			sm := reflect.TypeFor[teardownKeepSecretAPI]()
			if deleteSecret {
				sm = reflect.TypeFor[keyrotate.TeardownSecretsAPI]()
			}
			c.Uses(sm, reflect.TypeFor[keyrotate.TeardownIAMAPI](), reflect.TypeFor[keyrotate.TeardownLambdaAPI]())
		} else {
			c.Uses(reflect.TypeFor[keyrotate.SetupSecretsAPI](), reflect.TypeFor[keyrotate.SetupIAMAPI](), reflect.TypeFor[keyrotate.SetupLambdaAPI]())
			if cfg.KMSKeyID != "" {
				// Secrets Manager asks them of the caller for a secret
				// under a customer managed key.
				c.UsesActions(kmsActions...)
			}
		}
		return nil
	}
	err := c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		awsCfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		op := "setup"
		var plan *keyrotate.Setup
		if teardown {
			op = "teardown"
			plan, err = keyrotate.TeardownRotation(ctx, newClients(awsCfg).teardown, cfg.Teardown(), func(o *keyrotate.TeardownOptions) {
				o.DryRun, o.DeleteSecret, o.RecoveryWindowDays = *dryRun, deleteSecret, recoveryDays
			})
		} else {
			plan, err = keyrotate.SetupRotation(ctx, newClients(awsCfg).setup, cfg, func(o *keyrotate.SetupOptions) {
				o.DryRun, o.RotateImmediately = *dryRun, rotateNow
			})
		}
		if plan != nil {
			if perr := printPlan(stdout, *format, op, cfg.SecretID, plan); perr != nil && err == nil {
				err = fmt.Errorf("write the plan: %w", perr)
			}
		}
		if errors.Is(err, keyrotate.ErrFunctionNotFound) {
			return &named{msg: fmt.Sprintf("-function-arn %s: no such function (deploy rotation-lambda first: rotation-lambda -h says how); nothing was changed", cfg.FunctionARN), err: err}
		}
		return err
	})
	return keepToDo(err)
}

// named is an error whose message names the flag to fix; the cause stays
// reachable.
type named struct {
	msg string
	err error
}

func (e *named) Error() string { return e.msg }
func (e *named) Unwrap() error { return e.err }

// keepToDo keeps what a failed step says to do (its *awsguard.StepError's
// ToDo: run it again after a step stopped half-way, nothing changed after a
// refusal) where the command line rewrote the message (a timeout, refused
// credentials).
func keepToDo(err error) error {
	var se *awsguard.StepError
	if !errors.As(err, &se) || se.ToDo == "" || strings.Contains(err.Error(), se.ToDo) || strings.Contains(err.Error(), "nothing was changed") {
		return err
	}
	if se.ToDo == keyrotate.RemedyRunAgain {
		return cli.Hint(err, cli.RerunHint)
	}
	return cli.Hint(err, se.ToDo)
}

func printPlan(w io.Writer, format, op, secret string, p *keyrotate.Setup) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, p)
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
