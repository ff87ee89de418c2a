package ec2recover

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awserr"
)

// RunCommand is the part of *ssm.Client that DisableInstanceConnect calls:
// ssm:SendCommand and ssm:GetCommandInvocation.
type RunCommand interface {
	SendCommand(context.Context, *ssm.SendCommandInput, ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
	GetCommandInvocation(context.Context, *ssm.GetCommandInvocationInput, ...func(*ssm.Options)) (*ssm.GetCommandInvocationOutput, error)
}

// DenyPolicyIAM is the part of *iam.Client that manages the policy
// denying ec2-instance-connect:* (DisableInstanceConnect with
// DisableOptions.DenyGroups, and RemoveInstanceConnectDeny).
type DenyPolicyIAM interface {
	ListPolicies(context.Context, *iam.ListPoliciesInput, ...func(*iam.Options)) (*iam.ListPoliciesOutput, error)
	GetPolicyVersion(context.Context, *iam.GetPolicyVersionInput, ...func(*iam.Options)) (*iam.GetPolicyVersionOutput, error)
	CreatePolicy(context.Context, *iam.CreatePolicyInput, ...func(*iam.Options)) (*iam.CreatePolicyOutput, error)
	DeletePolicy(context.Context, *iam.DeletePolicyInput, ...func(*iam.Options)) (*iam.DeletePolicyOutput, error)
	ListAttachedGroupPolicies(context.Context, *iam.ListAttachedGroupPoliciesInput, ...func(*iam.Options)) (*iam.ListAttachedGroupPoliciesOutput, error)
	AttachGroupPolicy(context.Context, *iam.AttachGroupPolicyInput, ...func(*iam.Options)) (*iam.AttachGroupPolicyOutput, error)
	DetachGroupPolicy(context.Context, *iam.DetachGroupPolicyInput, ...func(*iam.Options)) (*iam.DetachGroupPolicyOutput, error)
}

var (
	_ RunCommand    = (*ssm.Client)(nil)
	_ DenyPolicyIAM = (*iam.Client)(nil)
)

// The deny policy's name and path.
const (
	DenyPolicyName = "awsguard-deny-instance-connect"
	DenyPolicyPath = "/awsguard/"
)

// The kinds of DisableInstanceConnect's actions.
const (
	ActionRemoveAgent      = "remove-agent"
	ActionCreateDenyPolicy = "create-deny-policy"
	ActionAttachDenyPolicy = "attach-deny-policy"
	ActionDetachDenyPolicy = "detach-deny-policy"
	ActionDeleteDenyPolicy = "delete-deny-policy"
)

// DenyInstanceConnectPolicy is the policy DisableInstanceConnect attaches.
func DenyInstanceConnectPolicy() awsguard.PolicyDocument {
	return awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{{
		Sid: "DenyEC2InstanceConnect", Effect: "Deny", Action: awsguard.StringValue("ec2-instance-connect:*"), Resource: awsguard.StringValue("*"),
	}}}}
}

// DisableClients are the clients DisableInstanceConnect uses; IAM only
// with DenyGroups.
type DisableClients struct {
	EC2 InstanceConnectEC2
	SSM RunCommand
	IAM DenyPolicyIAM
}

// DisableOptions tune DisableInstanceConnect.
type DisableOptions struct {
	// DenyGroups, if set, get the policy denying ec2-instance-connect:*.
	DenyGroups []string
	DryRun     bool
	Wait       WaitOptions
	Logger     *slog.Logger
	Progress   func(awsguard.Progress)
}

// InstanceResult is what DisableInstanceConnect did on one instance.
type InstanceResult struct {
	InstanceID string   `json:"instance_id"`
	Family     OSFamily `json:"family"`
	// Outcome is "removed", "absent" (nothing to remove), "sent" (the
	// command succeeded without a report line), "skipped" (no command for
	// the family; Detail says why) or "planned".
	Outcome string `json:"outcome"`
	Detail  string `json:"detail,omitempty"`
}

// DisableResult is DisableInstanceConnect's plan and per-instance report.
type DisableResult struct {
	awsguard.Plan
	Instances []InstanceResult `json:"instances"`
}

// removeCommand returns the shell command that removes the agent package
// on a family, printing "ec2recover-eic: removed" or "absent".
func removeCommand(f OSFamily) string {
	switch f {
	case FamilyUbuntu, FamilyDebian:
		return `if dpkg -s ec2-instance-connect >/dev/null 2>&1; then (apt-get remove -y ec2-instance-connect || dpkg -r ec2-instance-connect) >/dev/null && echo "ec2recover-eic: removed"; else echo "ec2recover-eic: absent"; fi`
	case FamilyAmazonLinux2, FamilyAmazonLinux2023, FamilyRedHat:
		return `if rpm -q ec2-instance-connect >/dev/null 2>&1; then (dnf remove -y ec2-instance-connect || yum remove -y ec2-instance-connect) >/dev/null && echo "ec2recover-eic: removed"; else echo "ec2recover-eic: absent"; fi`
	}
	return ""
}

const opDisable = "ec2recover.DisableInstanceConnect"

// DisableInstanceConnect removes the EC2 Instance Connect agent from each
// instance through SSM Run Command (apt-get remove on Debian-like
// families, dnf or yum remove on Red Hat-like ones; an instance of
// another family is skipped and reported), and with DenyGroups ensures a
// managed policy denying ec2-instance-connect:* (DenyInstanceConnectPolicy)
// attached to those groups. Idempotent: an instance without the package
// reports "absent", an attached policy is left alone; a policy of the same
// name with another document is refused. DryRun returns the plan after
// read calls only. The instances must be SSM managed.
func DisableInstanceConnect(ctx context.Context, c DisableClients, instanceIDs []string, optFns ...func(*DisableOptions)) (*DisableResult, error) {
	var o DisableOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Wait = o.Wait.withDefaults()
	bad := func(field, value, allowed string) error {
		return &awsguard.InputError{Operation: opDisable, Field: field, Value: value, Allowed: allowed}
	}
	if c.EC2 == nil || c.SSM == nil {
		return nil, bad("DisableClients", "nil EC2 or SSM", "EC2 and SSM clients")
	}
	if len(o.DenyGroups) > 0 && c.IAM == nil {
		return nil, bad("DisableClients.IAM", "nil", "an IAM client, for DisableOptions.DenyGroups")
	}
	for i, id := range instanceIDs {
		if !instanceIDRE.MatchString(id) {
			return nil, bad(fmt.Sprintf("instanceIDs[%d]", i), id, "an EC2 instance ID")
		}
	}
	for i, g := range o.DenyGroups {
		if !validGroupName(g) {
			return nil, bad(fmt.Sprintf("DisableOptions.DenyGroups[%d]", i), g, "an IAM group name: 1 to 128 of letters, digits and +=,.@_-")
		}
	}
	res := &DisableResult{Plan: awsguard.Plan{Operation: opDisable, Resource: strings.Join(instanceIDs, ","), DryRun: o.DryRun}}
	var insts []InstanceResult
	if len(instanceIDs) > 0 {
		found, err := listInstances(ctx, c.EC2, instanceIDs)
		if err != nil {
			return nil, err
		}
		names, err := imageNames(ctx, c.EC2, found)
		if err != nil {
			return nil, err
		}
		for _, i := range found {
			fam, _ := ImageFamily(names[aws.ToString(i.ImageId)], aws.ToString(i.PlatformDetails))
			ir := InstanceResult{InstanceID: aws.ToString(i.InstanceId), Family: fam, Outcome: "planned"}
			if removeCommand(fam) == "" {
				ir.Outcome, ir.Detail = "skipped", "no removal command for family "+string(fam)+" (image "+names[aws.ToString(i.ImageId)]+")"
				res.Warnings = append(res.Warnings, ir.InstanceID+": "+ir.Detail)
			} else {
				res.Add(awsguard.Action{Kind: ActionRemoveAgent, Call: "ssm:SendCommand,ssm:GetCommandInvocation", Resource: ir.InstanceID,
					Detail: "remove the ec2-instance-connect package from " + ir.InstanceID + " (" + string(fam) + ")", Why: "ISMS-P 2.6.6: one managed remote access path"})
			}
			insts = append(insts, ir)
		}
	}
	res.Instances = insts
	var policyARN string
	if len(o.DenyGroups) > 0 {
		arn, err := ensureDenyPlan(ctx, c.IAM, o.DenyGroups, &res.Plan)
		if err != nil {
			return res, err
		}
		policyARN = arn
	}
	x := &executor{o: &Options{Wait: o.Wait}}
	err := res.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionRemoveAgent:
			return removeAgent(ctx, c.SSM, x, res, a.Resource)
		case ActionCreateDenyPolicy:
			pol := DenyInstanceConnectPolicy()
			doc, err := pol.JSON()
			if err != nil {
				return err
			}
			out, err := c.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(DenyPolicyName), Path: aws.String(DenyPolicyPath), PolicyDocument: aws.String(doc),
				Description: aws.String("awsguard: deny EC2 Instance Connect (ISMS-P 2.6.6)"), Tags: []iamtypes.Tag{{Key: aws.String("awsguard:managed"), Value: aws.String("true")}}})
			if awserr.HasCode(err, "EntityAlreadyExists") {
				if policyARN, err = findDenyPolicy(ctx, c.IAM); err == nil && policyARN == "" {
					err = fmt.Errorf("ec2recover: policy %s exists but is not found under %s", DenyPolicyName, DenyPolicyPath)
				}
				return err
			}
			if err != nil {
				return fmt.Errorf("ec2recover: create policy %s: %w", DenyPolicyName, err)
			}
			policyARN = aws.ToString(out.Policy.Arn)
			return nil
		case ActionAttachDenyPolicy:
			_, err := c.IAM.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String(a.Resource), PolicyArn: aws.String(policyARN)})
			return wrap(err, "attach %s to group %s", DenyPolicyName, a.Resource)
		}
		return fmt.Errorf("ec2recover: unknown step %s", a.Kind)
	}, awsguard.ApplyOptions{Logger: o.Logger, Progress: o.Progress, ToDo: "run DisableInstanceConnect again: it does only what is left"})
	return res, err
}

func validGroupName(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-", r)) {
			return false
		}
	}
	return true
}

func removeAgent(ctx context.Context, api RunCommand, x *executor, res *DisableResult, id string) error {
	var ir *InstanceResult
	for i := range res.Instances {
		if res.Instances[i].InstanceID == id {
			ir = &res.Instances[i]
		}
	}
	out, err := sendAndWait(ctx, api, x, id, removeCommand(ir.Family), "ec2recover: remove EC2 Instance Connect")
	if err != nil {
		return err
	}
	switch {
	case strings.Contains(out, "ec2recover-eic: removed"):
		ir.Outcome = "removed"
	case strings.Contains(out, "ec2recover-eic: absent"):
		ir.Outcome = "absent"
	default:
		ir.Outcome, ir.Detail = "sent", "the command succeeded without a report line"
	}
	return nil
}

// findDenyPolicy returns the ARN of the deny policy, or "".
func findDenyPolicy(ctx context.Context, api DenyPolicyIAM) (string, error) {
	p := iam.NewListPoliciesPaginator(api, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, PathPrefix: aws.String(DenyPolicyPath)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", fmt.Errorf("ec2recover: list policies: %w", err)
		}
		for _, pol := range page.Policies {
			if aws.ToString(pol.PolicyName) == DenyPolicyName {
				return aws.ToString(pol.Arn), nil
			}
		}
	}
	return "", nil
}

// ensureDenyPlan adds the actions that make the deny policy exist and be
// attached to each group; a policy of that name with another document is
// refused.
func ensureDenyPlan(ctx context.Context, api DenyPolicyIAM, groups []string, plan *awsguard.Plan) (string, error) {
	arn, err := findDenyPolicy(ctx, api)
	if err != nil {
		return "", err
	}
	want := DenyInstanceConnectPolicy()
	if arn == "" {
		plan.Add(awsguard.Action{Kind: ActionCreateDenyPolicy, Call: "iam:CreatePolicy", Resource: DenyPolicyPath + DenyPolicyName, Detail: "create policy " + DenyPolicyName + " denying ec2-instance-connect:*"})
	} else {
		pols, err := api.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal, PathPrefix: aws.String(DenyPolicyPath)})
		if err != nil {
			return "", fmt.Errorf("ec2recover: list policies: %w", err)
		}
		for _, p := range pols.Policies {
			if aws.ToString(p.Arn) != arn {
				continue
			}
			v, err := api.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: p.Arn, VersionId: p.DefaultVersionId})
			if err != nil {
				return "", fmt.Errorf("ec2recover: read policy %s: %w", arn, err)
			}
			got, err := awsguard.ParsePolicyDocument(aws.ToString(v.PolicyVersion.Document))
			if err != nil || !got.Equivalent(&want) {
				return "", fmt.Errorf("ec2recover: policy %s holds another document; it is not overwritten", arn)
			}
		}
	}
	for _, g := range groups {
		attached := false
		if arn != "" {
			out, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(g), PathPrefix: aws.String(DenyPolicyPath)})
			if err != nil {
				return "", fmt.Errorf("ec2recover: list policies of group %s: %w", g, err)
			}
			for _, p := range out.AttachedPolicies {
				attached = attached || aws.ToString(p.PolicyArn) == arn
			}
		}
		if !attached {
			plan.Add(awsguard.Action{Kind: ActionAttachDenyPolicy, Call: "iam:AttachGroupPolicy", Resource: g, Detail: "attach " + DenyPolicyName + " to group " + g})
		}
	}
	return arn, nil
}

// RemoveInstanceConnectDeny detaches the deny policy from the groups and,
// when no group is given, from none; it deletes the policy when asked
// (deletePolicy) after detaching it from every group given. Idempotent;
// DryRun returns the plan.
func RemoveInstanceConnectDeny(ctx context.Context, api DenyPolicyIAM, groups []string, deletePolicy, dryRun bool) (*awsguard.Plan, error) {
	plan := &awsguard.Plan{Operation: "ec2recover.RemoveInstanceConnectDeny", Resource: DenyPolicyPath + DenyPolicyName, DryRun: dryRun}
	for i, g := range groups {
		if !validGroupName(g) {
			return nil, &awsguard.InputError{Operation: plan.Operation, Field: fmt.Sprintf("groups[%d]", i), Value: g, Allowed: "an IAM group name"}
		}
	}
	arn, err := findDenyPolicy(ctx, api)
	if err != nil {
		return nil, err
	}
	if arn == "" {
		plan.Reason = awsguard.ReasonNothingToRemove
		return plan, nil
	}
	for _, g := range groups {
		out, err := api.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String(g), PathPrefix: aws.String(DenyPolicyPath)})
		if err != nil {
			return nil, fmt.Errorf("ec2recover: list policies of group %s: %w", g, err)
		}
		for _, p := range out.AttachedPolicies {
			if aws.ToString(p.PolicyArn) == arn {
				plan.Add(awsguard.Action{Kind: ActionDetachDenyPolicy, Call: "iam:DetachGroupPolicy", Resource: g, Detail: "detach " + DenyPolicyName + " from group " + g, Weakening: true})
			}
		}
	}
	if deletePolicy {
		plan.Add(awsguard.Action{Kind: ActionDeleteDenyPolicy, Call: "iam:DeletePolicy", Resource: arn, Detail: "delete policy " + DenyPolicyName, Weakening: true})
	}
	if len(plan.Actions) == 0 {
		plan.Reason = awsguard.ReasonNothingToRemove
	}
	// Removing a deny is weakening by nature; the caller asked for it.
	err = plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionDetachDenyPolicy:
			_, err := api.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String(a.Resource), PolicyArn: aws.String(arn)})
			if awserr.HasCode(err, "NoSuchEntity") {
				a.Outcome = awsguard.OutcomeSkipped
				return nil
			}
			return wrap(err, "detach %s from group %s", DenyPolicyName, a.Resource)
		case ActionDeleteDenyPolicy:
			_, err := api.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
			if awserr.HasCode(err, "NoSuchEntity") {
				a.Outcome = awsguard.OutcomeSkipped
				return nil
			}
			return wrap(err, "delete policy %s (is it still attached elsewhere?)", arn)
		}
		return nil
	}, awsguard.ApplyOptions{AllowWeaken: true, ToDo: "run RemoveInstanceConnectDeny again"})
	return plan, err
}

// sendAndWait runs a shell command on an instance and returns its output.
func sendAndWait(ctx context.Context, api RunCommand, x *executor, id, command, comment string) (string, error) {
	out, err := api.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String("AWS-RunShellScript"), InstanceIds: []string{id},
		Comment: aws.String(comment), Parameters: map[string][]string{"commands": {command}}})
	if err != nil {
		return "", wrap(err, "send command to %s", id)
	}
	cmdID := aws.ToString(out.Command.CommandId)
	var inv *ssm.GetCommandInvocationOutput
	_, err = pollUntil(ctx, x, func(ctx context.Context) (bool, error) {
		o, err := api.GetCommandInvocation(ctx, &ssm.GetCommandInvocationInput{CommandId: aws.String(cmdID), InstanceId: aws.String(id)})
		if awserr.HasCode(err, "InvocationDoesNotExist") {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		inv = o
		switch o.Status {
		case "Pending", "InProgress", "Delayed":
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return "", wrap(err, "wait for command %s on %s", cmdID, id)
	}
	if inv.Status != "Success" {
		return "", fmt.Errorf("%w: command %s on %s: %s (exit code %d)", ErrCommandFailed, cmdID, id, inv.Status, inv.ResponseCode)
	}
	return aws.ToString(inv.StandardOutputContent), nil
}
