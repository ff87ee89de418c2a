// Command cleanup finds what awsguard created in one region of the
// account (and in IAM) and removes it, in dependency order, through each
// package's own removal: nothing it did not create is touched.
//
//	cleanup [-dry-run] [-allow-weaken] [-force] [-keep-log-groups] [-format table|json]
//	        [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// Run it with -dry-run first: it lists what would go, and what stays and
// why. Without -dry-run it removes, in this order:
//
//   - the web ACLs of waf.AttachSQLiACL (tagged awsguard:managed=true) off
//     the ALBs they protect, then the ACLs (waf.RemoveSQLiACL);
//   - the HTTPS:443 listeners of waf.EnableHTTPS (tagged), HTTP:80 back to
//     forwarding, the certificates awsguard requested and their DNS
//     validation records (waf.DisableHTTPS; an alias record is kept);
//   - what observe created (observe.Teardown): the targets of its event
//     rules, the rules, the CIS alarms and their metric filters, the
//     topic's subscriptions and the topic, its log groups (unless
//     -keep-log-groups), the CloudWatch agent's instance profile and role
//     and configuration parameter, its trail (a trail bucket holding log
//     files is kept);
//   - with -allow-weaken only, what undoes a fix and so makes a security
//     setting less strict: the MFA enforcement policy (iamguard.RemoveEnforceMFA),
//     the EC2 Instance Connect deny policy (ec2recover.RemoveInstanceConnectDeny),
//     the rules inspect.CloseExposure revoked, from its records on the
//     security groups (inspect.RestoreExposure), the containment of a
//     leaked key (keyrotate.ReleaseContainment), and the Secrets Manager
//     rotations keyrotate.SetupRotation set up (keyrotate.TeardownRotation:
//     rotation off, the function's invoke permission for the secret and
//     the inline policy on its role removed; the secret and the user's
//     keys stay). Without -allow-weaken each is listed as remaining.
//
// A secret's rotation is awsguard's when the teardown's dry run finds
// what only SetupRotation makes, named for the secret: the
// awsguard-keyrotate-* inline policy on the function's role or the
// invoke permission on the function. Any other rotation (someone else's,
// even by the same function) is left as it is and listed as not
// awsguard's. A rotation already off whose policy or permission stayed
// (an interrupted removal) is finished without -allow-weaken.
//
// What awsguard made that no package can remove is listed too, with why:
// a snapshot an ec2recover recovery kept, an instance still marked by an
// unfinished recovery (ec2recover removes those only through the
// recovery's journal). Fixes that created nothing of their own stay as
// they are: the password policy, groups and their members, MFA devices,
// rotated keys. A second run removes nothing and lists only what stays.
// Exit codes: 0 done, 1 failed (one line on stderr naming the step;
// running again finishes the removal), 2 a bad command line.
//
// awsguard's web ACLs are deleted only when WAF can list what else uses
// them (ListResourcesForWebACL) or with -force; until then each stays on
// its ALB, whole, and is listed as remaining.
package main

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/keyrotate"
	"github.com/awsguard/awsguard/observe"
	"github.com/awsguard/awsguard/waf"
)

func main() { cli.Main("cleanup", run) }

const summary = `cleanup removes what awsguard created in the region (and in IAM), in
dependency order, through each package's own removal, and touches nothing
else: web ACLs and their associations, HTTPS listeners and certificates,
event rules and targets, alarms, metric filters, log groups, subscriptions
and topics, the CloudWatch agent's role and instance profile. Undoing a fix
that makes a setting less strict (MFA enforcement, the Instance Connect
deny, closed exposures, a contained key, the Secrets Manager rotation of a
key awsguard set up) needs -allow-weaken; a rotation someone else set up
is never touched. Run it with -dry-run first. Exit codes: 0 done, 1
failed (one line naming the step; run again to finish), 2 a bad command
line.`

// Result is what cleanup prints with -format json.
type Result struct {
	DryRun bool `json:"dry_run"`
	// Steps are the removals, in the order they ran.
	Steps []Step `json:"steps"`
	// Remains says what awsguard made that stays, and why.
	Remains []string `json:"remains"`
}

// Step is one package removal and its plan.
type Step struct {
	What string         `json:"what"`
	Plan *awsguard.Plan `json:"plan"`
}

// options are cleanup's flags.
type options struct {
	dryRun, allowWeaken, force, keepLogs bool
}

// uses are the client interfaces cleanup calls: the packages' removals
// and the reads that find what they remove.
var uses = []reflect.Type{
	reflect.TypeFor[albAPI](), reflect.TypeFor[waf.RemoveWAF](),
	reflect.TypeFor[waf.ACMAPI](), reflect.TypeFor[waf.ListenerAPI](), reflect.TypeFor[waf.Route53API](), reflect.TypeFor[zonesAPI](),
	reflect.TypeFor[observe.TeardownSNSAPI](), reflect.TypeFor[observe.TeardownEventsAPI](), reflect.TypeFor[observe.TeardownAlarmsAPI](),
	reflect.TypeFor[observe.TeardownLogsAPI](), reflect.TypeFor[observe.TeardownIAMAPI](), reflect.TypeFor[observe.TeardownEC2API](),
	reflect.TypeFor[observe.TeardownSSMAPI](), reflect.TypeFor[observe.TeardownTrailAPI](), reflect.TypeFor[observe.TeardownBucketAPI](),
	reflect.TypeFor[policyAPI](), reflect.TypeFor[iamguard.RemoveEnforceMFAAPI](), reflect.TypeFor[denyRemoveAPI](),
	reflect.TypeFor[groupsAPI](), reflect.TypeFor[exposureAPI](), reflect.TypeFor[usersAPI](), reflect.TypeFor[keyrotate.ReleaseAPI](), reflect.TypeFor[recoveryAPI](),
	reflect.TypeFor[rotationSecretsAPI](), reflect.TypeFor[keyrotate.TeardownIAMAPI](), reflect.TypeFor[keyrotate.TeardownLambdaAPI](),
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWith(ctx, args, stdout, stderr, newClients)
}

// runWith is run with the clients newClients makes.
func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, newClients func(aws.Config) clients) error {
	c := cli.New("cleanup", summary)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	var o options
	dryRun := c.DryRun()
	c.Flags.BoolVar(&o.allowWeaken, "allow-weaken", false, "also undo awsguard's fixes that make a setting less strict: MFA enforcement, the Instance Connect deny,\nclosed exposures, contained keys, awsguard's Secrets Manager rotations")
	c.Flags.BoolVar(&o.force, "force", false, "delete awsguard's web ACLs even when the service cannot list the resources that use them")
	c.Flags.BoolVar(&o.keepLogs, "keep-log-groups", false, "keep the log groups observe created, with their events")
	c.Check = func() error {
		o.dryRun = *dryRun
		if !o.dryRun {
			c.Uses(uses...)
			// Permissions no call names: the ALB side of DisassociateWebACL.
			c.UsesActions("elasticloadbalancing:SetWebACL")
			return nil
		}
		acts, err := cli.Actions(uses...)
		if err != nil {
			return err
		}
		// A dry run only reads: the reads of the same interfaces (albAPI
		// holds only reads, and gives cli.Policy a type to start from).
		c.Uses(reflect.TypeFor[albAPI]())
		c.UsesActions(slices.DeleteFunc(acts, func(a string) bool { return !readOnly(a) })...)
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		res, err := clean(ctx, newClients(cfg), o)
		if werr := write(stdout, *format, res); err == nil {
			err = werr
		}
		return err
	})
}

// readOnly reports whether the IAM action only reads.
func readOnly(action string) bool {
	_, name, _ := strings.Cut(action, ":")
	for _, verb := range []string{"Describe", "List", "Get", "BatchGet"} {
		if strings.HasPrefix(name, verb) {
			return true
		}
	}
	return false
}

func write(w io.Writer, format string, res *Result) error {
	if res == nil {
		return nil
	}
	if format == cli.FormatJSON {
		return cli.WriteJSON(w, res)
	}
	var b strings.Builder
	if len(res.Steps) == 0 {
		b.WriteString("nothing of awsguard's found to remove\n")
	}
	for _, s := range res.Steps {
		p := s.Plan
		if p.NothingToDo() {
			fmt.Fprintf(&b, "%s: %s\n", s.What, p.Reason)
		} else {
			fmt.Fprintf(&b, "%s:\n", s.What)
		}
		for _, line := range p.Describe() {
			prefix := "  "
			if p.DryRun {
				prefix = "  would: "
			}
			b.WriteString(prefix + line + "\n")
		}
		for _, w := range p.Warnings {
			b.WriteString("  warning: " + w + "\n")
		}
	}
	for _, r := range res.Remains {
		b.WriteString("remains: " + r + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
