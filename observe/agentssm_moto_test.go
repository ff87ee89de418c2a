package observe_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/observe"
)

func TestApplyAgentConfigMoto(t *testing.T) {
	env := sharedEnv(t)
	ctx := context.Background()
	cfg, calls := counted(env)
	api := ssm.NewFromConfig(cfg)
	conf, err := observe.BuildAgentConfig(observe.AgentConfig{WebServers: []observe.WebServer{observe.Nginx}})
	must(t, err)
	want := observe.AgentApply{Config: conf, InstanceIDs: []string{"i-0123456789abcdef0"}, Parameter: "AmazonCloudWatch-test"}
	res, err := observe.ApplyAgentConfig(ctx, api, want)
	must(t, err)
	if len(res.Actions) != 2 || res.CommandID == "" {
		t.Fatalf("apply = %+v", res)
	}
	// Again: the parameter is not written, the command is sent.
	calls.Reset()
	res, err = observe.ApplyAgentConfig(ctx, api, want)
	must(t, err)
	if len(res.Actions) != 1 || res.Actions[0].Kind != observe.ActionSendCommand || calls.Count("SSM", "PutParameter") != 0 {
		t.Errorf("second apply = %+v", res.Plan)
	}
	// Storing only, unchanged: nothing to do.
	want.InstanceIDs = nil
	res, err = observe.ApplyAgentConfig(ctx, api, want)
	must(t, err)
	if res.Reason != awsguard.ReasonAlreadyCompliant {
		t.Errorf("store again = %+v", res.Plan)
	}
	// Someone else's parameter is left alone.
	_, err = api.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("AmazonCloudWatch-theirs"), Value: aws.String("{}"), Type: ssmtypes.ParameterTypeString})
	must(t, err)
	want.Parameter = "AmazonCloudWatch-theirs"
	if _, err := observe.ApplyAgentConfig(ctx, api, want); !errors.Is(err, observe.ErrNotManaged) {
		t.Errorf("theirs: err = %v", err)
	}
	// A bad configuration is refused before any call.
	calls.Reset()
	_, err = observe.ApplyAgentConfig(ctx, api, observe.AgentApply{Config: []byte(`{"logs":{"x":1}}`)})
	var ie *awsguard.InputError
	if !errors.As(err, &ie) || ie.Field != "AgentApply.Config" || calls.Total() != 0 {
		t.Errorf("bad config: err = %v, calls %v", err, calls)
	}
	// Teardown removes observe's parameter only.
	td, err := observe.Teardown(ctx, observe.TeardownClients{SSM: api})
	must(t, err)
	if len(td.Actions) != 1 || td.Actions[0].Resource != "AmazonCloudWatch-test" {
		t.Errorf("teardown = %+v", td.Plan)
	}
	if _, err := api.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("AmazonCloudWatch-theirs")}); err != nil {
		t.Errorf("their parameter: %v", err)
	}
}
