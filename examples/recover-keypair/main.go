// Command recover-keypair gives a new SSH key access to a Linux EC2
// instance whose key pair's private key is lost, by the least disruptive
// way that works (ec2recover.RecoverLostKeyPair), and resumes or rolls
// back a recovery that stopped half-way.
//
//	recover-keypair -instance i-0123456789abcdef0 -key-out recovered.pem -journal recovery.json
//	recover-keypair -instance i-0123456789abcdef0 -dry-run -format json
//	recover-keypair -resume -journal recovery.json
//	recover-keypair -rollback -journal recovery.json
//
// The private key is generated here and goes only to the -key-out file
// (mode 0600, never over an existing file), never to stdout or stderr.
// On failure it exits 1 with a one-line reason; a bad command line exits
// 2 with usage.
package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("recover-keypair", run) }

const summary = `recover-keypair puts a new SSH key on a Linux EC2 instance whose private
key is lost: through SSM Run Command if its agent is online, else through a
one-boot user data document, else by repairing its root volume on a helper
instance, else by relaunching it from an image. The preflight refuses what
is unsafe before anything stops. Every step is journaled (-journal) so that
a failed run can be resumed (-resume) or rolled back (-rollback).`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("recover-keypair", summary)
	c.SetTimeout(time.Hour)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	fs := c.Flags
	instance := fs.String("instance", "", "the instance `ID` (required unless -resume or -rollback)")
	strategy := fs.String("strategy", "auto", "`strategy`: auto, ssm, userdata, repair or relaunch")
	keyOut := fs.String("key-out", "", "write the new private key to this `file` (0600; required unless -dry-run)")
	keyType := fs.String("key-type", "ed25519", "key `type`: ed25519 or rsa (RSA 4096)")
	loginUser := fs.String("login-user", "", "the `user` whose authorized_keys gets the key (default: found on the instance)")
	keepSnapshot := fs.Bool("keep-snapshot", false, "keep the snapshot of the root volume (repair)")
	journal := fs.String("journal", "", "journal `file` of the recovery (needed by -resume and -rollback)")
	resume := fs.Bool("resume", false, "finish the recovery of -journal")
	rollback := fs.Bool("rollback", false, "undo the recovery of -journal")
	pollDelay := fs.Duration("poll-delay", 5*time.Second, "shortest `delay` between polls of a wait")
	c.FlagOf = map[string]string{
		"instanceID": "-instance", "Options.Strategy": "-strategy", "Options.KeyType": "-key-type",
		"Options.LoginUser": "-login-user", "Options.KeyFile": "-key-out",
	}
	c.Check = func() error {
		// -print-policy: a dry run of a recovery needs the preflight's
		// reads and the EC2 actions it checks with DryRun set; anything
		// else every action of the interfaces.
		if *dryRun && !*resume && !*rollback {
			c.Uses(reflect.TypeFor[describeInstancesAPI]())
			c.UsesActions(ec2recover.DryRunActions(ec2recover.Strategy(*strategy))...)
		} else {
			c.Uses(reflect.TypeFor[ec2recover.RecoverEC2](), reflect.TypeFor[ec2recover.RecoverSSM](), reflect.TypeFor[ec2recover.RecoverIAM](),
				reflect.TypeFor[ec2recover.RecoverAutoScaling](), reflect.TypeFor[ec2recover.RecoverKMS]())
		}
		switch {
		case *resume && *rollback:
			return cli.Usagef("-resume and -rollback: choose one")
		case (*resume || *rollback) && *journal == "":
			return cli.Usagef("-journal: required with -resume and -rollback")
		case (*resume || *rollback) && *instance != "":
			return cli.Usagef("-instance: the journal names the instance; drop it with -resume and -rollback")
		case *resume || *rollback:
			return nil
		case *instance == "":
			return cli.Usagef("-instance: required")
		case *keyOut == "" && !*dryRun:
			return cli.Usagef("-key-out: required (the private key goes only to a 0600 file), or use -dry-run")
		case *pollDelay <= 0:
			return cli.Usagef("-poll-delay %s: want a positive duration", *pollDelay)
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		clients := ec2recover.ClientsFromConfig(cfg)
		opts := func(o *ec2recover.Options) {
			o.DryRun = *dryRun
			o.Wait = ec2recover.WaitOptions{MinDelay: *pollDelay, MaxDelay: max(30*time.Second, *pollDelay)}
			if *journal != "" {
				o.Journal = ec2recover.FileJournal{Path: *journal}
			}
		}
		var rec *ec2recover.Recovery
		switch {
		case *resume:
			rec, err = ec2recover.Resume(ctx, clients, ec2recover.FileJournal{Path: *journal}, opts)
		case *rollback:
			rec, err = ec2recover.Rollback(ctx, clients, ec2recover.FileJournal{Path: *journal}, opts)
		default:
			rec, err = ec2recover.RecoverLostKeyPair(ctx, clients, *instance, opts, func(o *ec2recover.Options) {
				o.Strategy, o.KeyType, o.LoginUser = ec2recover.Strategy(*strategy), ec2recover.KeyType(*keyType), *loginUser
				o.KeyFile, o.KeepSnapshot = *keyOut, *keepSnapshot
				if *dryRun {
					o.KeyFile = ""
				}
			})
		}
		if rec != nil {
			if werr := write(stdout, *format, rec, *keyOut); werr != nil && err == nil {
				err = werr
			}
		}
		return err
	})
}

// describeInstancesAPI is the first call of every recovery's preflight.
type describeInstancesAPI interface {
	DescribeInstances(context.Context, *ec2.DescribeInstancesInput, ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
}

func write(w io.Writer, format string, rec *ec2recover.Recovery, keyOut string) error {
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, rec)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s\n", rec.Operation, rec.InstanceID, rec.Reason)
	if rec.Strategy != "" {
		fmt.Fprintf(&b, "strategy: %s (downtime: %s)\n", rec.Strategy, rec.Downtime)
	}
	for _, c := range rec.Considered {
		if !c.Possible {
			fmt.Fprintf(&b, "  not %s: %s\n", c.Strategy, c.Reason)
		}
	}
	if rec.NewPublicIP {
		b.WriteString("the instance comes back with a new public IP (it has no Elastic IP)\n")
	}
	for _, a := range rec.Actions {
		fmt.Fprintf(&b, "  [%s] %s\n", a.Outcome, a.String())
	}
	if len(rec.Permissions) > 0 {
		n := map[string]int{}
		for _, pc := range rec.Permissions {
			n[pc.Result]++
			if pc.Result == ec2recover.PermissionDenied {
				fmt.Fprintf(&b, "  permission denied: %s (step %s, on %s)\n", pc.Action, pc.Step, pc.Resource)
			}
		}
		fmt.Fprintf(&b, "permissions (EC2 DryRun checks): %d allowed, %d denied, %d not checked\n",
			n[ec2recover.PermissionAllowed], n[ec2recover.PermissionDenied], n[ec2recover.PermissionNotChecked])
	}
	for _, warn := range rec.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	if rec.Key != nil && rec.Applied && keyOut != "" {
		fmt.Fprintf(&b, "key %s written to %s\n", rec.Key.Fingerprint, keyOut)
	}
	if rec.LoginUser != "" {
		fmt.Fprintf(&b, "login user: %s\n", rec.LoginUser)
	}
	if rec.CopyInstanceID != "" {
		fmt.Fprintf(&b, "the copy: %s\n", rec.CopyInstanceID)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
