package keyrotate_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/awsguard/awsguard/keyrotate"
)

const (
	exSecret   = "ci-deploy"
	exFunction = "arn:aws:lambda:us-east-1:123456789012:function:awsguard-keyrotate"
	// exNames is the role policy and permission statement name that
	// SetupRotation gives the secret ci-deploy (Setup.PolicyName).
	exNames = "awsguard-keyrotate-ci-deploy-3df6b6ad"
)

// setupWorld is the state the rotation setup examples read and tear
// down, in memory: a rotation function with its role, a user, and, once
// set up, the secret, the role policy and the invoke permission. It is a
// keyrotate.PlanSetup*API and a keyrotate.Teardown*API for each service.
type setupWorld struct {
	secret     *secretsmanager.DescribeSecretOutput // nil: no secret
	rolePolicy string                               // "": none
	statement  bool                                 // the invoke permission
}

func (w *setupWorld) DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	if w.secret == nil {
		return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no secret")}
	}
	return w.secret, nil
}

func (w *setupWorld) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no value")}
}

func (w *setupWorld) CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error) {
	w.secret.RotationEnabled = aws.Bool(false)
	return &secretsmanager.CancelRotateSecretOutput{}, nil
}

func (w *setupWorld) DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error) {
	w.secret = nil
	return &secretsmanager.DeleteSecretOutput{}, nil
}

func (w *setupWorld) GetRolePolicy(_ context.Context, in *iam.GetRolePolicyInput, _ ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	if w.rolePolicy == "" {
		return nil, &iamtypes.NoSuchEntityException{Message: aws.String("no policy")}
	}
	return &iam.GetRolePolicyOutput{RoleName: in.RoleName, PolicyName: in.PolicyName, PolicyDocument: aws.String(w.rolePolicy)}, nil
}

func (w *setupWorld) DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	w.rolePolicy = ""
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (w *setupWorld) GetUser(_ context.Context, in *iam.GetUserInput, _ ...func(*iam.Options)) (*iam.GetUserOutput, error) {
	return &iam.GetUserOutput{User: &iamtypes.User{UserName: in.UserName, Arn: aws.String("arn:aws:iam::123456789012:user/" + aws.ToString(in.UserName))}}, nil
}

func (w *setupWorld) ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	return &iam.ListAccessKeysOutput{}, nil
}

func (w *setupWorld) GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error) {
	return &lambda.GetFunctionConfigurationOutput{FunctionArn: aws.String(exFunction), Role: aws.String("arn:aws:iam::123456789012:role/keyrotate-function")}, nil
}

func (w *setupWorld) GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error) {
	if !w.statement {
		return nil, &lambdatypes.ResourceNotFoundException{Message: aws.String("no policy")}
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{
		"Sid": exNames, "Effect": "Allow", "Principal": map[string]string{"Service": "secretsmanager.amazonaws.com"}, "Action": "lambda:InvokeFunction"}}})
	return &lambda.GetPolicyOutput{Policy: aws.String(string(doc))}, nil
}

func (w *setupWorld) RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error) {
	w.statement = false
	return &lambda.RemovePermissionOutput{}, nil
}

var (
	_ keyrotate.PlanSetupSecretsAPI = (*setupWorld)(nil)
	_ keyrotate.PlanSetupIAMAPI     = (*setupWorld)(nil)
	_ keyrotate.PlanSetupLambdaAPI  = (*setupWorld)(nil)
	_ keyrotate.TeardownSecretsAPI  = (*setupWorld)(nil)
	_ keyrotate.TeardownIAMAPI      = (*setupWorld)(nil)
	_ keyrotate.TeardownLambdaAPI   = (*setupWorld)(nil)
)

// PlanSetup, SetupRotation's dry run, for a dedicated user and a
// rotation function in an account without the secret: it plans the
// secret, the user's first key and the secret's value holding it, the
// function role's policy, the permission for Secrets Manager to invoke
// the function, and the rotation schedule. Nothing changes. (Fakes stand in for Secrets Manager, IAM and
// Lambda.)
func ExamplePlanSetup() {
	w := &setupWorld{}
	c := keyrotate.PlanSetupClients{SecretsManager: w, IAM: w, Lambda: w}
	setup, err := keyrotate.PlanSetup(context.Background(), c, keyrotate.RotationConfig{
		SecretID: exSecret, UserName: "ci-deploy", FunctionARN: exFunction, Schedule: "rate(30 days)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(setup.Reason, setup.PolicyName)
	for _, a := range setup.Actions {
		fmt.Println(" ", a.Kind, a.Resource)
	}
	// Output:
	// dry run awsguard-keyrotate-ci-deploy-3df6b6ad
	//   create-secret ci-deploy
	//   create-access-key arn:aws:iam::123456789012:user/ci-deploy
	//   put-secret-value ci-deploy
	//   put-role-policy keyrotate-function
	//   add-permission arn:aws:lambda:us-east-1:123456789012:function:awsguard-keyrotate
	//   enable-rotation ci-deploy
}

// TeardownRotation undoes SetupRotation: it stops the rotation, removes
// the invoke permission and the role policy, and keeps the secret (and
// the user's key in it) unless TeardownOptions.DeleteSecret is set. A
// second run finds nothing to remove. (Fakes stand in for Secrets
// Manager, IAM and Lambda, in the state SetupRotation leaves.)
func ExampleTeardownRotation() {
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci-deploy-AbCdEf"
	w := &setupWorld{
		secret: &secretsmanager.DescribeSecretOutput{ARN: aws.String(arn), Name: aws.String(exSecret),
			RotationEnabled: aws.Bool(true), RotationLambdaARN: aws.String(exFunction)},
		rolePolicy: `{"Version":"2012-10-17","Statement":[]}`,
		statement:  true,
	}
	c := keyrotate.TeardownClients{SecretsManager: w, IAM: w, Lambda: w}
	cfg := keyrotate.TeardownConfig{SecretID: exSecret, FunctionARN: exFunction}
	for range 2 {
		res, err := keyrotate.TeardownRotation(context.Background(), c, cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Reason)
		for _, a := range res.Actions {
			fmt.Println(" ", a.Outcome, a.Kind, a.Detail)
		}
	}
	fmt.Println("secret kept:", w.secret != nil)
	// Output:
	// applied
	//   done cancel-rotation stop rotating arn:aws:secretsmanager:us-east-1:123456789012:secret:ci-deploy-AbCdEf
	//   done remove-permission statement awsguard-keyrotate-ci-deploy-3df6b6ad
	//   done delete-role-policy policy awsguard-keyrotate-ci-deploy-3df6b6ad
	// nothing to remove
	// secret kept: true
}
