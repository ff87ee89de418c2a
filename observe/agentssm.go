package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard"
)

// AgentSSMAPI is the part of *ssm.Client that ApplyAgentConfig calls:
// ssm:GetParameter, ssm:ListTagsForResource, and to change:
// ssm:PutParameter (with ssm:AddTagsToResource) and ssm:SendCommand.
type AgentSSMAPI interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, optFns ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	PutParameter(ctx context.Context, in *ssm.PutParameterInput, optFns ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	SendCommand(ctx context.Context, in *ssm.SendCommandInput, optFns ...func(*ssm.Options)) (*ssm.SendCommandOutput, error)
}

var _ AgentSSMAPI = (*ssm.Client)(nil)

// DefaultAgentParameter is the Parameter Store name of the configuration.
// The agent's managed policy lets it read parameters whose names start
// with AmazonCloudWatch-.
const DefaultAgentParameter = "AmazonCloudWatch-awsguard"

// ManageAgentDocument is the SSM document that configures the agent.
const ManageAgentDocument = "AmazonCloudWatch-ManageAgent"

// AgentApply asks for a configuration to be stored and applied.
type AgentApply struct {
	// Config is the agent configuration (BuildAgentConfig's).
	Config []byte
	// InstanceIDs are the instances to configure (at most 50); none
	// stores the configuration only.
	InstanceIDs []string
	// Parameter is the Parameter Store name; default
	// DefaultAgentParameter. It must start with AmazonCloudWatch-.
	Parameter string
}

// The action kinds of ApplyAgentConfig.
const (
	ActionPutParameter = "put-parameter"
	ActionSendCommand  = "send-command"
)

// AgentApplyResult is what ApplyAgentConfig did (or would do).
type AgentApplyResult struct {
	awsguard.Plan
	// CommandID is the SSM Run Command that configures the agent; follow
	// it with ssm:ListCommandInvocations.
	CommandID string `json:"command_id,omitempty"`
}

var parameterRE = regexp.MustCompile(`^AmazonCloudWatch-[A-Za-z0-9_.\-/]{1,1000}$`)

// ApplyAgentConfig stores the agent configuration in Parameter Store (a
// String parameter tagged as observe's, written only when it differs) and
// sends AmazonCloudWatch-ManageAgent to the instances to configure and
// restart the agent from it. The instances need the agent installed, the
// SSM agent registered (EnsureAgentRole with SSM) and a path to the SSM
// endpoints. The command is sent on every run that names instances
// (configuring the agent again is harmless); its outcome is for the
// caller to follow. A parameter of the name that observe did not create is
// left alone (ErrNotManaged). Permissions: those of AgentSSMAPI.
func ApplyAgentConfig(ctx context.Context, api AgentSSMAPI, want AgentApply, optFns ...func(*Options)) (*AgentApplyResult, error) {
	const op = "observe.ApplyAgentConfig"
	if want.Parameter == "" {
		want.Parameter = DefaultAgentParameter
	}
	if !parameterRE.MatchString(want.Parameter) {
		return nil, inputErr(op, "AgentApply.Parameter", want.Parameter, "a parameter name starting AmazonCloudWatch-")
	}
	if err := ValidateAgentConfig(want.Config); err != nil {
		return nil, inputErr(op, "AgentApply.Config", truncate(string(want.Config), 64), "a valid agent configuration: "+err.Error())
	}
	if len(want.InstanceIDs) > 50 {
		return nil, inputErr(op, "AgentApply.InstanceIDs", fmt.Sprint(len(want.InstanceIDs), " instances"), "at most 50")
	}
	for i, id := range want.InstanceIDs {
		if !instanceRE.MatchString(id) {
			return nil, inputErr(op, fmt.Sprintf("AgentApply.InstanceIDs[%d]", i), id, "an EC2 instance ID")
		}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, want.Config); err != nil {
		return nil, inputErr(op, "AgentApply.Config", truncate(string(want.Config), 64), "JSON")
	}
	value := compact.String()
	o := options(optFns)
	res := &AgentApplyResult{Plan: awsguard.Plan{Operation: op, Resource: "parameter/" + want.Parameter, DryRun: o.DryRun}}

	got, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(want.Parameter)})
	var nf *ssmtypes.ParameterNotFound
	exists := err == nil
	switch {
	case errors.As(err, &nf):
	case err != nil:
		return nil, fmt.Errorf("observe: get parameter %s: %w", want.Parameter, err)
	}
	if exists {
		tags, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(want.Parameter)})
		if err != nil {
			return nil, fmt.Errorf("observe: list tags of parameter %s: %w", want.Parameter, err)
		}
		m := map[string]string{}
		for _, t := range tags.TagList {
			m[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if !isManaged(m) {
			res.Reason = awsguard.ReasonRefused
			return res, fmt.Errorf("%w: parameter %s", ErrNotManaged, want.Parameter)
		}
	}
	if !exists || aws.ToString(got.Parameter.Value) != value {
		why := "no parameter of the name"
		if exists {
			why = "the stored configuration differs"
		}
		res.Add(awsguard.Action{Kind: ActionPutParameter, Call: "ssm:PutParameter", Resource: want.Parameter,
			Detail: "store the agent configuration in " + want.Parameter, Why: why})
	}
	if len(want.InstanceIDs) > 0 {
		res.Add(awsguard.Action{Kind: ActionSendCommand, Call: "ssm:SendCommand", Resource: strings.Join(want.InstanceIDs, ","),
			Detail: "configure and restart the CloudWatch agent on " + strings.Join(want.InstanceIDs, ", ") + " from " + want.Parameter,
			Why:    "apply the stored configuration"})
	}
	err = res.Plan.Apply(ctx, func(ctx context.Context, a *awsguard.Action) error {
		switch a.Kind {
		case ActionPutParameter:
			in := &ssm.PutParameterInput{Name: aws.String(want.Parameter), Value: aws.String(value), Type: ssmtypes.ParameterTypeString,
				Description: aws.String("awsguard: CloudWatch agent configuration")}
			if exists {
				in.Overwrite = aws.Bool(true)
			} else {
				in.Tags = []ssmtypes.Tag{{Key: aws.String(TagManaged), Value: aws.String("true")}, {Key: aws.String(TagPackage), Value: aws.String(PackageName)}}
			}
			_, err := api.PutParameter(ctx, in)
			var ae *ssmtypes.ParameterAlreadyExists
			if errors.As(err, &ae) {
				// Made by a call whose answer was lost: write it again over it.
				in.Tags, in.Overwrite = nil, aws.Bool(true)
				_, err = api.PutParameter(ctx, in)
			}
			return wrapStep("put parameter "+want.Parameter, err)
		case ActionSendCommand:
			out, err := api.SendCommand(ctx, &ssm.SendCommandInput{DocumentName: aws.String(ManageAgentDocument), InstanceIds: want.InstanceIDs,
				Comment: aws.String("awsguard: configure the CloudWatch agent"),
				Parameters: map[string][]string{"action": {"configure"}, "mode": {"ec2"}, "optionalConfigurationSource": {"ssm"},
					"optionalConfigurationLocation": {want.Parameter}, "optionalRestart": {"yes"}}})
			if err != nil {
				return wrapStep("send "+ManageAgentDocument, err)
			}
			res.CommandID = aws.ToString(out.Command.CommandId)
			return nil
		}
		return fmt.Errorf("unknown action %q", a.Kind)
	}, o.apply(op))
	return res, err
}

// TeardownSSMAPI is the part of *ssm.Client that Teardown calls for the
// agent's configuration parameters: ssm:DescribeParameters,
// ssm:ListTagsForResource and, to remove, ssm:DeleteParameter. It looks
// only at names starting AmazonCloudWatch-.
type TeardownSSMAPI interface {
	DescribeParameters(ctx context.Context, in *ssm.DescribeParametersInput, optFns ...func(*ssm.Options)) (*ssm.DescribeParametersOutput, error)
	ListTagsForResource(ctx context.Context, in *ssm.ListTagsForResourceInput, optFns ...func(*ssm.Options)) (*ssm.ListTagsForResourceOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, optFns ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

var _ TeardownSSMAPI = (*ssm.Client)(nil)

// ActionDeleteParameter is Teardown's action kind for a parameter.
const ActionDeleteParameter = "delete-parameter"

func planSSMTeardown(ctx context.Context, api TeardownSSMAPI) ([]teardownStep, error) {
	var steps []teardownStep
	p := ssm.NewDescribeParametersPaginator(api, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{{
		Key: aws.String("Name"), Option: aws.String("BeginsWith"), Values: []string{"AmazonCloudWatch-"}}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("observe: describe parameters: %w", err)
		}
		for _, prm := range out.Parameters {
			name := aws.ToString(prm.Name)
			tags, err := api.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(name)})
			if err != nil {
				return nil, fmt.Errorf("observe: list tags of parameter %s: %w", name, err)
			}
			m := map[string]string{}
			for _, t := range tags.TagList {
				m[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if !isManaged(m) {
				continue
			}
			steps = append(steps, teardownStep{
				action: awsguard.Action{Kind: ActionDeleteParameter, Call: "ssm:DeleteParameter", Resource: name, Detail: "delete parameter " + name},
				do: func(ctx context.Context) error {
					_, err := api.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)})
					var nf *ssmtypes.ParameterNotFound
					if err != nil && !errors.As(err, &nf) {
						return fmt.Errorf("delete parameter %s: %w", name, err)
					}
					return nil
				},
			})
		}
	}
	return steps, nil
}
