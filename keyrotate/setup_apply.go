package keyrotate

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/awsguard/awsguard"
)

// SetupRotation brings a secret, its rotation function's permissions and
// its rotation schedule to the wanted state, in this order:
//
//  1. the secret: created with the key (Key, or a new key for a user that
//     has none), or given Key as its new AWSCURRENT;
//  2. an inline policy on the function's execution role, scoped to the
//     secret's ARN, the user's ARN and the secret's customer managed KMS
//     key (RotationPolicy);
//  3. the function's invoke permission for secretsmanager.amazonaws.com,
//     with SourceAccount and SourceArn;
//  4. rotation with the function on the schedule (RotateSecret).
//
// It plans from the live state first (PlanSetup): a DryRun returns that
// plan, and a second run finds nothing to do (Reason
// awsguard.ReasonAlreadyCompliant). It does not deploy the function: pass
// the ARN of a deployed examples/rotation-lambda. It refuses
// (ErrUserNotDedicated) a user that holds keys which no version of the
// secret holds, because the rotation handler removes such keys.
//
// Permissions: secretsmanager:DescribeSecret,
// secretsmanager:GetSecretValue, secretsmanager:CreateSecret,
// secretsmanager:PutSecretValue, secretsmanager:RotateSecret on the
// secret; iam:GetUser, iam:ListAccessKeys, iam:CreateAccessKey,
// iam:DeleteAccessKey on the user; iam:GetRolePolicy, iam:PutRolePolicy on
// the function's role; lambda:GetFunctionConfiguration, lambda:GetPolicy,
// lambda:AddPermission, lambda:RemovePermission on the function; and
// kms:GenerateDataKey, kms:Decrypt on a customer managed key.
func SetupRotation(ctx context.Context, c SetupClients, cfg RotationConfig, optFns ...func(*SetupOptions)) (*Setup, error) {
	o := setupOptions(optFns)
	if c.SecretsManager == nil || c.IAM == nil || c.Lambda == nil {
		return nil, inputError(opSetup, "SetupClients", "a nil client", "all three clients")
	}
	p, err := readAndPlanSetup(ctx, c.Plan(), cfg, o)
	if err != nil {
		return nil, err
	}
	a := &setupApply{c: c, p: p, key: cfg.Key, rotateNow: o.RotateImmediately}
	log := o.Logger.With("operation", opSetup, "resource", cfg.SecretID, "dry_run", o.DryRun)
	err = p.res.Apply(ctx, a.do, awsguard.ApplyOptions{Logger: log, ToDo: RemedyRunAgain})
	return p.res, err
}

// setupApply carries out a setup plan.
type setupApply struct {
	c         SetupClients
	p         *setupPlan
	key       *AccessKey
	rotateNow bool
}

// do carries out one setup action.
func (s *setupApply) do(ctx context.Context, a *awsguard.Action) error {
	p, cfg, res := s.p, s.p.cfg, s.p.res
	var err error
	switch a.Kind {
	case ActionCreateAccessKey:
		var out *iam.CreateAccessKeyOutput
		if out, err = s.c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(cfg.UserName)}); err == nil {
			s.key = &AccessKey{UserName: cfg.UserName, AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), Secret: awsguard.NewSecret(aws.ToString(out.AccessKey.SecretAccessKey))}
			a.Detail = "created key " + s.key.AccessKeyID
		}
	case ActionDeleteAccessKey:
		if _, err = s.c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(cfg.UserName), AccessKeyId: aws.String(a.Resource)}); notFound(err) {
			err = nil
		}
	case ActionCreateSecret:
		err = s.createSecret(ctx, a)
	case ActionPutSecretValue:
		var doc string
		if doc, err = EncodeSecretValue(*s.key, p.curRaw); err == nil {
			a.Resource = res.SecretARN
			_, err = s.c.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(res.SecretARN), SecretString: aws.String(doc), VersionStages: []string{StageCurrent}})
		}
	case ActionPutRolePolicy:
		_, err = s.c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(p.st.roleName), PolicyName: aws.String(p.st.policyName), PolicyDocument: aws.String(RotationPolicy(res.SecretARN, res.UserARN, p.kmsKey))})
	case ActionRemovePermission:
		if _, err = s.c.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(cfg.FunctionARN), StatementId: aws.String(p.st.statementID)}); notFound(err) {
			err = nil
		}
	case ActionAddPermission:
		err = s.addPermission(ctx)
	case ActionEnableRotation:
		_, err = s.c.SecretsManager.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
			SecretId:          aws.String(res.SecretARN),
			RotationLambdaARN: aws.String(cfg.FunctionARN),
			RotationRules:     &smtypes.RotationRulesType{ScheduleExpression: aws.String(cfg.Schedule)},
			RotateImmediately: aws.Bool(s.rotateNow),
		})
	}
	if err != nil {
		return fmt.Errorf("keyrotate: %s: %w", a.Kind, err)
	}
	return nil
}

func (s *setupApply) createSecret(ctx context.Context, a *awsguard.Action) error {
	cfg := s.p.cfg
	in := &secretsmanager.CreateSecretInput{Name: aws.String(cfg.SecretID), Description: aws.String(secretDescription(cfg.UserName))}
	if s.key != nil {
		doc, err := EncodeSecretValue(*s.key, "")
		if err != nil {
			return err
		}
		in.SecretString = aws.String(doc)
	}
	if s.p.kmsKey != "" {
		in.KmsKeyId = aws.String(s.p.kmsKey)
	}
	out, err := s.c.SecretsManager.CreateSecret(ctx, in)
	if err != nil {
		return err
	}
	s.p.res.SecretARN = aws.ToString(out.ARN)
	a.Resource = s.p.res.SecretARN
	a2, _ := arn.Parse(s.p.res.SecretARN)
	s.p.account = a2.AccountID
	return nil
}

func (s *setupApply) addPermission(ctx context.Context) error {
	cfg, st, res := s.p.cfg, s.p.st, s.p.res
	_, err := s.c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName:  aws.String(cfg.FunctionARN),
		StatementId:   aws.String(st.statementID),
		Action:        aws.String("lambda:InvokeFunction"),
		Principal:     aws.String("secretsmanager.amazonaws.com"),
		SourceAccount: aws.String(s.p.account),
		SourceArn:     aws.String(res.SecretARN),
	})
	var conflict *lambdatypes.ResourceConflictException
	if err == nil || !errors.As(err, &conflict) {
		return err
	}
	// A conflict means either that the statement ID is taken (an earlier
	// request whose answer was lost, or another writer) or that a function
	// update is in progress and nothing was added. Only the live policy
	// tells.
	found, rerr := readStatement(ctx, s.c.Lambda, cfg.FunctionARN, st.statementID)
	if rerr != nil {
		return fmt.Errorf("re-read the function policy after %w: %w", err, rerr)
	}
	if !permissionMatches(found, res.SecretARN, s.p.account) {
		return fmt.Errorf("statement %s is missing or differs after a conflict (a function update may be in progress): %w", st.statementID, err)
	}
	return nil
}
