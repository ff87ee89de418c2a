package keyrotate

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard"
)

// TeardownRotation reverses SetupRotation in reverse order: it stops
// rotation (CancelRotateSecret), removes the function's invoke permission
// for the secret, deletes the inline policy from the function's role and,
// only with DeleteSecret, schedules the secret's deletion. The user's keys
// stay: the AWSCURRENT key is still in use. It plans from the live state,
// honours DryRun, and a second run finds nothing to do (Reason
// awsguard.ReasonNothingToRemove). An AWSPENDING label left by a failed
// rotation stays: see RepairPending.
//
// Permissions: secretsmanager:DescribeSecret,
// secretsmanager:CancelRotateSecret, secretsmanager:DeleteSecret (used
// only with DeleteSecret) on the secret; iam:GetRolePolicy,
// iam:DeleteRolePolicy on the function's role;
// lambda:GetFunctionConfiguration, lambda:GetPolicy,
// lambda:RemovePermission on the function.
func TeardownRotation(ctx context.Context, c TeardownClients, cfg TeardownConfig, optFns ...func(*TeardownOptions)) (*Setup, error) {
	const op = "keyrotate.TeardownRotation"
	var o TeardownOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RecoveryWindowDays == 0 {
		o.RecoveryWindowDays = 30
	}
	if c.SecretsManager == nil || c.IAM == nil || c.Lambda == nil {
		return nil, inputError(op, "TeardownClients", "a nil client", "all three clients")
	}
	if err := validateTarget(op, cfg.SecretID, cfg.FunctionARN); err != nil {
		return nil, err
	}
	if o.DeleteSecret && (o.RecoveryWindowDays < 7 || o.RecoveryWindowDays > 30) {
		return nil, inputError(op, "TeardownOptions.RecoveryWindowDays", fmt.Sprint(o.RecoveryWindowDays), "7 to 30")
	}
	st, err := readCommon(ctx, c.SecretsManager, c.IAM, c.Lambda, op, StepTeardown, cfg.SecretID, cfg.FunctionARN)
	if err != nil {
		return nil, err
	}
	res := planTeardown(st, cfg, o)
	do := func(ctx context.Context, a *awsguard.Action) error {
		var err error
		switch a.Kind {
		case ActionCancelRotation:
			_, err = c.SecretsManager.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(res.SecretARN)})
		case ActionRemovePermission:
			_, err = c.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(cfg.FunctionARN), StatementId: aws.String(st.statementID)})
		case ActionDeleteRolePolicy:
			_, err = c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(st.roleName), PolicyName: aws.String(st.policyName)})
		case ActionDeleteSecret:
			_, err = c.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(res.SecretARN), RecoveryWindowInDays: aws.Int64(int64(o.RecoveryWindowDays))})
		}
		if err != nil && !notFound(err) {
			return fmt.Errorf("keyrotate: %s: %w", a.Kind, err)
		}
		return nil
	}
	log := o.Logger.With("operation", op, "resource", cfg.SecretID, "dry_run", o.DryRun)
	err = res.Apply(ctx, do, awsguard.ApplyOptions{Logger: log, ToDo: RemedyRunAgain})
	return res, err
}

// planTeardown is teardown's plan function: pure, from what it read.
func planTeardown(st *setupState, cfg TeardownConfig, o TeardownOptions) *Setup {
	res := &Setup{Plan: awsguard.Plan{Operation: "keyrotate.TeardownRotation", Resource: cfg.SecretID, DryRun: o.DryRun, Actions: []awsguard.Action{}},
		RoleName: st.roleName, PolicyName: st.policyName, StatementID: st.statementID}
	if st.secret != nil {
		res.SecretARN = aws.ToString(st.secret.ARN)
		if aws.ToBool(st.secret.RotationEnabled) {
			res.Add(setupAction(ActionCancelRotation, res.SecretARN, "stop rotating "+res.SecretARN, "rotation is on"))
		}
	}
	if st.statement != nil {
		res.Add(setupAction(ActionRemovePermission, cfg.FunctionARN, "statement "+st.statementID, "Secrets Manager may invoke the function for the secret"))
	}
	if st.policy != "" {
		res.Add(setupAction(ActionDeleteRolePolicy, st.roleName, "policy "+st.policyName, "the role holds the rotation policy"))
	}
	if st.secret != nil && o.DeleteSecret && st.secret.DeletedDate == nil {
		res.Add(setupAction(ActionDeleteSecret, res.SecretARN, fmt.Sprintf("recoverable for %d days", o.RecoveryWindowDays), "DeleteSecret"))
	}
	if len(res.Actions) == 0 {
		res.Reason = awsguard.ReasonNothingToRemove
	}
	return res
}
