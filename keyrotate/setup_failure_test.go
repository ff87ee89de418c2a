package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// conflictLambda is the moto Lambda client whose AddPermission answers
// ResourceConflictException, after adding the statement if Add is set (a
// retried request whose first answer was lost) or without adding it (a
// function update in progress).
type conflictLambda struct {
	c   keyrotate.SetupLambdaAPI
	Add bool
}

func (l *conflictLambda) GetFunctionConfiguration(ctx context.Context, in *lambda.GetFunctionConfigurationInput, o ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	return l.c.GetFunctionConfiguration(ctx, in, o...)
}

func (l *conflictLambda) GetPolicy(ctx context.Context, in *lambda.GetPolicyInput, o ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	return l.c.GetPolicy(ctx, in, o...)
}

func (l *conflictLambda) AddPermission(ctx context.Context, in *lambda.AddPermissionInput, o ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error) {
	if l.Add {
		if _, err := l.c.AddPermission(ctx, in, o...); err != nil {
			return nil, err
		}
	}
	return nil, &lambdatypes.ResourceConflictException{Message: aws.String("The statement id provided already exists, or an update is in progress")}
}

func (l *conflictLambda) RemovePermission(ctx context.Context, in *lambda.RemovePermissionInput, o ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	return l.c.RemovePermission(ctx, in, o...)
}

// A ResourceConflictException from AddPermission is success only if the
// live policy then holds the wanted statement; otherwise the step fails
// (rotation is not enabled) and a re-run converges.
func testSetupAddPermissionConflict(t *testing.T) {
	w := newSMSetupWorld(t)
	ctx := context.Background()
	n := 0
	for _, tt := range []struct {
		name    string
		lambda  func(keyrotate.SetupLambdaAPI) keyrotate.SetupLambdaAPI
		wantErr bool
	}{
		{"update in progress, nothing added", func(c keyrotate.SetupLambdaAPI) keyrotate.SetupLambdaAPI { return &conflictLambda{c: c} }, true},
		{"statement added, answer a conflict", func(c keyrotate.SetupLambdaAPI) keyrotate.SetupLambdaAPI { return &conflictLambda{c: c, Add: true} }, false},
		{"injected conflict (typed by the SDK)", nil, true},
	} {
		n++
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("c%d", n)
			fn := w.deploy(name)
			key := w.newKey(name)
			cfg := keyrotate.RotationConfig{SecretID: name + "/key", UserName: name, FunctionARN: fn, Schedule: "rate(7 days)", Key: &key}
			c := w.clients()
			if tt.lambda != nil {
				c.Lambda = tt.lambda(c.Lambda)
			} else {
				inj := fault.New(fault.Rule{Service: "Lambda", Operation: "AddPermission", Kind: fault.APIError, Code: "ResourceConflictException", Status: 409})
				c = w.clients(inj.APIOption)
			}
			rotatedBefore := len(*w.sm.rotated)
			plan, err := keyrotate.SetupRotation(ctx, c, cfg)
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]string{"create-secret+", "put-role-policy+", "add-permission+", "enable-rotation+"}, kinds(plan)); diff != "" {
					t.Errorf("plan (-want +got):\n%s", diff)
				}
				if w.invokeStatement(fn, plan.StatementID) == nil {
					t.Error("no invoke statement")
				}
				return
			}
			var re *awsguard.StepError
			if !errors.As(err, &re) || re.ToDo == keyrotate.RemedyNothingChanged {
				t.Fatalf("err = %v, want a RotationError to retry", err)
			}
			var conflict *lambdatypes.ResourceConflictException
			if !errors.As(err, &conflict) {
				t.Errorf("err %v does not wrap the conflict", err)
			}
			if diff := cmp.Diff([]string{"create-secret+", "put-role-policy+", "add-permission", "enable-rotation"}, kinds(plan)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if n := len(*w.sm.rotated); n != rotatedBefore {
				t.Errorf("rotation enabled without the invoke permission")
			}
			// The re-run adds the permission and enables rotation.
			again, err := keyrotate.SetupRotation(ctx, w.clients(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"add-permission+", "enable-rotation+"}, kinds(again)); diff != "" {
				t.Errorf("re-run plan (-want +got):\n%s", diff)
			}
			if w.invokeStatement(fn, again.StatementID) == nil {
				t.Error("no invoke statement after the re-run")
			}
		})
	}
}

// A failed RotateSecret fails the enable-rotation step; the re-run enables
// rotation and a third run finds nothing to do.
func testSetupRotateSecretFails(t *testing.T) {
	w := newSMSetupWorld(t)
	ctx := context.Background()
	fn := w.deploy("r")
	key := w.newKey("r")
	cfg := keyrotate.RotationConfig{SecretID: "r/key", UserName: "r", FunctionARN: fn, Schedule: "rate(7 days)", Key: &key}
	c := w.clients()
	sm := c.SecretsManager.(*smFakeRotation)
	sm.RotateErr = errors.New("AccessDeniedException: not authorized to invoke the function")
	plan, err := keyrotate.SetupRotation(ctx, c, cfg)
	if !errors.Is(err, sm.RotateErr) {
		t.Fatalf("err = %v, want the RotateSecret error", err)
	}
	if diff := cmp.Diff([]string{"create-secret+", "put-role-policy+", "add-permission+", "enable-rotation"}, kinds(plan)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if len(w.sm.enabled) != 0 {
		t.Error("rotation enabled")
	}
	again, err := keyrotate.SetupRotation(ctx, w.clients(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"enable-rotation+"}, kinds(again)); diff != "" {
		t.Errorf("re-run plan (-want +got):\n%s", diff)
	}
	third, err := keyrotate.SetupRotation(ctx, w.clients(), cfg)
	if err != nil || len(third.Actions) != 0 {
		t.Errorf("third run = %v, %v; want nothing to do", kinds(third), err)
	}
}
