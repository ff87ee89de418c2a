// Command cloudwatch-agent prints the unified CloudWatch agent's
// configuration for web server logs, memory and disk, and with -instance
// sets the instance up to run it.
//
//	cloudwatch-agent [-web httpd-amazon-linux,httpd-debian,nginx] [-file PATH=GROUP,...] [-log-group-prefix /awsguard]
//	                 [-instance ID [-retention 365] [-replace-profile] [-dry-run] [-format table|json]]
//	                 [-profile NAME] [-region NAME] [-endpoint-url URL] [-timeout 5m] [-print-policy]
//
// Without -instance it prints the configuration (JSON for
// /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json) and
// calls nothing. With -instance it creates the log groups with the
// retention, gives the instance the agent's role (CloudWatchAgentServerPolicy
// and AmazonSSMManagedInstanceCore) through an instance profile (an
// instance with another profile keeps it unless -replace-profile), stores
// the configuration in Parameter Store and sends AmazonCloudWatch-ManageAgent
// to the instance, which must have the agent installed and the SSM agent
// running. Log streams are named after the instance ID. Exit codes: 0
// done, 1 failed (one line on stderr naming the step), 2 a bad command
// line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/cli"
	"github.com/awsguard/awsguard/observe"
)

func main() { cli.Main("cloudwatch-agent", run) }

const summary = `cloudwatch-agent prints the unified CloudWatch agent's configuration for web
server access and error logs, memory and disk; with -instance it also sets
the instance up: log groups, the agent's role and instance profile, the
configuration in Parameter Store, applied through SSM Run Command.`

// Result is what cloudwatch-agent prints with -instance and -format json.
type Result struct {
	LogGroups *observe.LogGroupsResult  `json:"log_groups"`
	Role      *observe.AgentRoleResult  `json:"role"`
	Apply     *observe.AgentApplyResult `json:"apply"`
}

// agentActions are the permissions that setting the instance up needs and
// no call names: tagging on creation (the log groups, the role, the
// instance profile, the parameter) and iam:PassRole for associating the
// instance profile with the instance.
var agentActions = []string{"logs:TagResource", "iam:TagRole", "iam:TagInstanceProfile", "iam:PassRole", "ssm:AddTagsToResource"}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("cloudwatch-agent", summary)
	format := c.Format(cli.FormatTable, cli.FormatJSON)
	dryRun := c.DryRun()
	web := c.Flags.String("web", "httpd-amazon-linux", "web server `presets`: a comma-separated list of httpd-amazon-linux, httpd-debian, nginx, or none")
	files := c.Flags.String("file", "", "other log files: a comma-separated `list` of PATH=LOG_GROUP")
	prefix := c.Flags.String("log-group-prefix", "/awsguard", "log group name `prefix` of the presets' files")
	instance := c.Flags.String("instance", "", "set up this EC2 instance `ID` to run the configuration")
	retention := c.Flags.Int("retention", 365, "with -instance, keep log events this many `days`")
	replace := c.Flags.Bool("replace-profile", false, "with -instance, replace the instance's other instance profile")
	c.FlagOf["AgentRole.InstanceID"] = "-instance"
	c.FlagOf["AgentConfig.LogGroupPrefix"] = "-log-group-prefix"
	var conf observe.AgentConfig
	var doc []byte
	c.Check = func() error {
		conf = observe.AgentConfig{LogGroupPrefix: *prefix}
		if *web != "none" {
			for _, w := range splitList(*web) {
				conf.WebServers = append(conf.WebServers, observe.WebServer(w))
			}
		}
		for _, f := range splitList(*files) {
			path, group, ok := strings.Cut(f, "=")
			if !ok {
				return cli.Usagef("-file %q: want PATH=LOG_GROUP", f)
			}
			conf.Files = append(conf.Files, observe.LogFile{Path: path, LogGroup: group})
		}
		var err error
		if doc, err = observe.BuildAgentConfig(conf); err != nil {
			// Name the flag, not the Go field (AgentConfig.WebServers[0]).
			var ie *awsguard.InputError
			if errors.As(err, &ie) {
				for field, f := range map[string]string{"AgentConfig.WebServers": "-web", "AgentConfig.Files": "-file", "AgentConfig.LogGroupPrefix": "-log-group-prefix"} {
					if strings.HasPrefix(ie.Field, field) {
						return cli.Usagef("%s %q: want %s", f, ie.Value, ie.Allowed)
					}
				}
			}
			return cli.Usagef("%v", err)
		}
		if !slices.Contains(observe.RetentionValues, int32(*retention)) {
			return cli.Usagef("-retention %d: want one of %v", *retention, observe.RetentionValues)
		}
		if *instance == "" {
			if *dryRun || *replace {
				return cli.Usagef("-dry-run and -replace-profile go with -instance")
			}
			return nil
		}
		// Checked here, before any call: the log groups are made before
		// the instance is looked at.
		if !instanceIDRE.MatchString(*instance) {
			return cli.Usagef("-instance %q: want an EC2 instance ID such as i-0123456789abcdef0", *instance)
		}
		switch {
		case *dryRun:
			c.Uses(reflect.TypeFor[readLogsAPI](), reflect.TypeFor[readIAMAPI](), reflect.TypeFor[readEC2API](), reflect.TypeFor[readSSMAPI]())
		case *replace:
			c.Uses(reflect.TypeFor[setupLogsAPI](), reflect.TypeFor[observe.AgentRoleIAMAPI](), reflect.TypeFor[observe.AgentRoleEC2API](), reflect.TypeFor[observe.AgentSSMAPI]())
		default:
			c.Uses(reflect.TypeFor[setupLogsAPI](), reflect.TypeFor[observe.AgentRoleIAMAPI](), reflect.TypeFor[associateEC2API](), reflect.TypeFor[observe.AgentSSMAPI]())
		}
		if !*dryRun {
			c.UsesActions(agentActions...)
		}
		return nil
	}
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		if *instance == "" {
			_, err := stdout.Write(doc)
			return err
		}
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		dry := func(o *observe.Options) { o.DryRun = *dryRun }
		var res Result
		if res.LogGroups, err = observe.EnsureLogGroups(ctx, cloudwatchlogs.NewFromConfig(cfg), conf.LogGroups(int32(*retention)), dry); err != nil {
			return err
		}
		if res.Role, err = observe.EnsureAgentRole(ctx, observe.AgentRoleClients{IAM: iam.NewFromConfig(cfg), EC2: ec2.NewFromConfig(cfg)},
			observe.AgentRole{SSM: true, InstanceID: *instance, ReplaceAssociation: *replace}, dry); err != nil {
			return err
		}
		if res.Apply, err = observe.ApplyAgentConfig(ctx, ssm.NewFromConfig(cfg), observe.AgentApply{Config: doc, InstanceIDs: []string{*instance}}, dry); err != nil {
			return err
		}
		if *format == cli.FormatJSON {
			return cli.WriteJSON(stdout, &res)
		}
		var b strings.Builder
		for _, p := range []*awsguard.Plan{&res.LogGroups.Plan, &res.Role.Plan, &res.Apply.Plan} {
			fmt.Fprintf(&b, "%s: %s\n", p.Operation, p.Reason)
			for _, line := range p.Describe() {
				if p.NothingToDo() {
					break
				}
				b.WriteString("  " + line + "\n")
			}
			for _, w := range p.Warnings {
				b.WriteString("  warning: " + w + "\n")
			}
		}
		if res.Apply.CommandID != "" {
			fmt.Fprintf(&b, "SSM command %s configures the agent on %s\n", res.Apply.CommandID, *instance)
		}
		_, err = io.WriteString(stdout, b.String())
		return err
	})
}

// The parts of observe's interfaces that cloudwatch-agent calls, for
// -print-policy: a dry run reads only; the log groups get no KMS key
// (there is no flag for one), so logs:AssociateKmsKey is never called;
// ec2:ReplaceIamInstanceProfileAssociation only with -replace-profile.
// iam:UpdateAssumeRolePolicy stays: the role's trust policy may have been
// changed since it was made.
type (
	readLogsAPI interface {
		DescribeLogGroups(ctx context.Context, in *cloudwatchlogs.DescribeLogGroupsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.DescribeLogGroupsOutput, error)
		ListTagsForResource(ctx context.Context, in *cloudwatchlogs.ListTagsForResourceInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.ListTagsForResourceOutput, error)
	}
	setupLogsAPI interface {
		readLogsAPI
		CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
		PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
	}
	readIAMAPI interface {
		GetRole(ctx context.Context, in *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
		ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
		GetInstanceProfile(ctx context.Context, in *iam.GetInstanceProfileInput, optFns ...func(*iam.Options)) (*iam.GetInstanceProfileOutput, error)
	}
	readEC2API interface {
		DescribeIamInstanceProfileAssociations(ctx context.Context, in *ec2.DescribeIamInstanceProfileAssociationsInput, optFns ...func(*ec2.Options)) (*ec2.DescribeIamInstanceProfileAssociationsOutput, error)
	}
	associateEC2API interface {
		readEC2API
		AssociateIamInstanceProfile(ctx context.Context, in *ec2.AssociateIamInstanceProfileInput, optFns ...func(*ec2.Options)) (*ec2.AssociateIamInstanceProfileOutput, error)
	}
	readSSMAPI interface {
		GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
		ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	}
)

// Each is a part of the interface observe's function takes.
var (
	_ setupLogsAPI    = observe.LogGroupsAPI(nil)
	_ readIAMAPI      = observe.AgentRoleIAMAPI(nil)
	_ associateEC2API = observe.AgentRoleEC2API(nil)
	_ readSSMAPI      = observe.AgentSSMAPI(nil)
)

var instanceIDRE = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
