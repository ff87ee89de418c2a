package keyrotate

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard"
)

// setupLive is everything PlanSetup reads; planSetup decides from it
// alone.
type setupLive struct {
	st      *setupState
	userARN string
	keys    []iamtypes.AccessKeyMetadata
	held    map[string]bool // keys some version of the secret holds
	current *AccessKey      // AWSCURRENT's key, if the user's
	curRaw  string
}

// setupPlan is PlanSetup's plan and what applying it needs.
type setupPlan struct {
	res    *Setup
	cfg    RotationConfig
	st     *setupState
	kmsKey string
	curRaw string
	// account is the secret's account (the function's while the secret
	// does not exist): the invoke permission's SourceAccount.
	account string
}

const opSetup = "keyrotate.SetupRotation"

// PlanSetup reads the live state and returns the plan SetupRotation would
// carry out (DryRun true, Reason awsguard.ReasonDryRun, or
// awsguard.ReasonAlreadyCompliant when there is nothing to do), changing
// nothing. It refuses as SetupRotation does. It takes no options: it only
// reads, and logs nothing.
//
// Permissions: the reads of SetupRotation: secretsmanager:DescribeSecret,
// secretsmanager:GetSecretValue on the secret; iam:GetUser,
// iam:ListAccessKeys on the user; iam:GetRolePolicy on the function's role;
// lambda:GetFunctionConfiguration, lambda:GetPolicy on the function.
func PlanSetup(ctx context.Context, c PlanSetupClients, cfg RotationConfig) (*Setup, error) {
	p, err := readAndPlanSetup(ctx, c, cfg, SetupOptions{DryRun: true})
	if err != nil {
		return nil, err
	}
	p.res.Reason = awsguard.ReasonDryRun
	if len(p.res.Actions) == 0 {
		p.res.Reason = awsguard.ReasonAlreadyCompliant
	}
	return p.res, nil
}

func setupOptions(optFns []func(*SetupOptions)) SetupOptions {
	var o SetupOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

func readAndPlanSetup(ctx context.Context, c PlanSetupClients, cfg RotationConfig, o SetupOptions) (*setupPlan, error) {
	if c.SecretsManager == nil || c.IAM == nil || c.Lambda == nil {
		return nil, inputError(opSetup, "SetupClients", "a nil client", "all three clients")
	}
	if err := cfg.validate(opSetup); err != nil {
		return nil, err
	}
	l, err := readSetup(ctx, c, cfg)
	if err != nil {
		return nil, err
	}
	p, err := planSetup(l, cfg)
	if err != nil {
		return nil, err
	}
	p.res.DryRun = o.DryRun
	return p, nil
}

// readSetup reads the function, the secret and its versions, the policy,
// the permission, the user and its keys.
func readSetup(ctx context.Context, c PlanSetupClients, cfg RotationConfig) (*setupLive, error) {
	refuse := func(action string, err error) error {
		return setupFail(opSetup, StepSetup, cfg.SecretID, action, RemedyNothingChanged, err)
	}
	st, err := readCommon(ctx, c.SecretsManager, c.IAM, c.Lambda, opSetup, StepSetup, cfg.SecretID, cfg.FunctionARN)
	if err != nil {
		return nil, err
	}
	l := &setupLive{st: st, held: map[string]bool{}}
	user, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(cfg.UserName)})
	if err != nil {
		return nil, refuse("read user", err)
	}
	l.userARN = aws.ToString(user.User.Arn)
	keys, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(cfg.UserName)})
	if err != nil {
		return nil, refuse("list access keys", err)
	}
	l.keys = keys.AccessKeyMetadata
	if st.secret == nil {
		return l, nil
	}
	for v, stages := range st.secret.VersionIdsToStages {
		for _, stage := range []string{StageCurrent, StagePrevious, StagePending} {
			if !slices.Contains(stages, stage) {
				continue
			}
			out, err := c.SecretsManager.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: st.secret.ARN, VersionId: aws.String(v), VersionStage: aws.String(stage)})
			if notFound(err) {
				continue
			}
			if err != nil {
				return nil, refuse("read "+stage, err)
			}
			k, derr := DecodeSecretValue(aws.ToString(out.SecretString))
			if derr == nil && k.UserName == cfg.UserName {
				l.held[k.AccessKeyID] = true
				if stage == StageCurrent {
					l.current, l.curRaw = &k, aws.ToString(out.SecretString)
				}
			}
		}
	}
	return l, nil
}

// planSetup is setup's plan function: pure, from what readSetup read.
func planSetup(l *setupLive, cfg RotationConfig) (*setupPlan, error) {
	st := l.st
	res := &Setup{Plan: awsguard.Plan{Operation: opSetup, Resource: cfg.SecretID, Actions: []awsguard.Action{}},
		UserARN: l.userARN, RoleName: st.roleName, PolicyName: st.policyName, StatementID: st.statementID}
	p := &setupPlan{res: res, cfg: cfg, st: st, curRaw: l.curRaw}
	onUser := map[string]bool{}
	for _, k := range l.keys {
		onUser[aws.ToString(k.AccessKeyId)] = true
	}
	if cfg.Key != nil && !onUser[cfg.Key.AccessKeyID] {
		return nil, inputError(opSetup, "RotationConfig.Key", cfg.Key.AccessKeyID, "a key of user "+cfg.UserName)
	}
	held := maps.Clone(l.held)
	var err error
	if st.secret != nil {
		err = p.planExistingSecret(l, held)
	} else {
		err = p.planNewSecret(l, held)
	}
	if err != nil {
		return nil, err
	}
	var stray []string
	for id := range onUser {
		if !held[id] {
			stray = append(stray, id)
		}
	}
	if len(stray) > 0 {
		slices.Sort(stray)
		return nil, setupFail(opSetup, StepSetup, cfg.SecretID, "check user's keys", RemedyNothingChanged, fmt.Errorf("%w: %s holds %s", ErrUserNotDedicated, cfg.UserName, strings.Join(stray, ", ")))
	}
	p.planFunction()
	return p, nil
}

// planExistingSecret plans step 1 for a secret that exists.
func (p *setupPlan) planExistingSecret(l *setupLive, held map[string]bool) error {
	cfg, st, res := p.cfg, p.st, p.res
	res.SecretARN = aws.ToString(st.secret.ARN)
	p.kmsKey = cfg.KMSKeyID
	if id := aws.ToString(st.secret.KmsKeyId); id != "" && id != "alias/aws/secretsmanager" {
		if _, err := arn.Parse(id); err != nil {
			return setupFail(opSetup, StepSetup, cfg.SecretID, "read secret's KMS key", RemedyNothingChanged, fmt.Errorf("the secret's KMS key %q is not an ARN; re-point the secret at the key's ARN", id))
		}
		if p.kmsKey != "" && p.kmsKey != id {
			return inputError(opSetup, "RotationConfig.KMSKeyID", p.kmsKey, "the existing secret's key "+id+": SetupRotation does not re-encrypt it")
		}
		p.kmsKey = id
	} else if p.kmsKey != "" {
		return inputError(opSetup, "RotationConfig.KMSKeyID", p.kmsKey, "empty: the existing secret uses the AWS managed key and SetupRotation does not re-encrypt it")
	}
	switch {
	case cfg.Key != nil && (l.current == nil || l.current.AccessKeyID != cfg.Key.AccessKeyID):
		res.Add(setupAction(ActionPutSecretValue, res.SecretARN, "store key "+cfg.Key.AccessKeyID+" as AWSCURRENT", "the secret holds another key"))
		held[cfg.Key.AccessKeyID] = true
	case l.current == nil && len(st.secret.VersionIdsToStages) == 0 && aws.ToString(st.secret.Description) == secretDescription(cfg.UserName):
		// An earlier run created the secret empty and stopped before
		// storing a new key. Keys made since then are that run's: no one
		// else can use them, since their secret was never stored.
		created := aws.ToTime(st.secret.CreatedDate).Truncate(time.Second)
		for _, k := range l.keys {
			if id := aws.ToString(k.AccessKeyId); !aws.ToTime(k.CreateDate).Before(created) {
				held[id] = true
				res.Add(setupAction(ActionDeleteAccessKey, id, "delete key "+id, "made by an interrupted run, never stored"))
			}
		}
		res.Add(setupAction(ActionCreateAccessKey, res.UserARN, "the user's first key", "the secret is empty"))
		res.Add(setupAction(ActionPutSecretValue, res.SecretARN, "store the new key as AWSCURRENT", "the secret is empty"))
	case l.current == nil:
		return inputError(opSetup, "RotationConfig.Key", "", fmt.Sprintf("the key to store: secret %s holds no access-key document for user %s", cfg.SecretID, cfg.UserName))
	}
	return nil
}

// planNewSecret plans step 1 for a secret to create.
func (p *setupPlan) planNewSecret(l *setupLive, held map[string]bool) error {
	cfg, res := p.cfg, p.res
	p.kmsKey = cfg.KMSKeyID
	if _, err := arn.Parse(cfg.SecretID); err == nil {
		return inputError(opSetup, "RotationConfig.SecretID", cfg.SecretID, "a name, to create the secret: no secret has this ARN")
	}
	detail := "holding key " + keyIDOf(cfg.Key)
	if p.kmsKey != "" {
		detail += ", encrypted with " + p.kmsKey
	}
	switch {
	case cfg.Key != nil:
		held[cfg.Key.AccessKeyID] = true
		res.Add(setupAction(ActionCreateSecret, cfg.SecretID, detail, "no such secret"))
	case len(l.keys) == 0:
		// The secret first, empty: a run cut short after the key is made
		// finds the secret and knows the key for its own.
		res.Add(setupAction(ActionCreateSecret, cfg.SecretID, "empty for now"+strings.TrimPrefix(detail, "holding key "), "no such secret"))
		res.Add(setupAction(ActionCreateAccessKey, res.UserARN, "the user has no key: create its first", "the user has no key"))
		res.Add(setupAction(ActionPutSecretValue, cfg.SecretID, "store the new key as AWSCURRENT", "the secret is new"))
	default:
		return inputError(opSetup, "RotationConfig.Key", "", fmt.Sprintf("the key to store: user %s already has access keys and their secrets cannot be read back", cfg.UserName))
	}
	return nil
}

// planFunction plans steps 2 to 4: policy, permission, rotation.
func (p *setupPlan) planFunction() {
	cfg, st, res := p.cfg, p.st, p.res
	fnARN, _ := arn.Parse(cfg.FunctionARN)
	p.account = fnARN.AccountID
	if res.SecretARN != "" {
		a, _ := arn.Parse(res.SecretARN)
		p.account = a.AccountID
	}
	if res.SecretARN == "" || !samePolicy(st.policy, RotationPolicyDocument(res.SecretARN, res.UserARN, p.kmsKey)) {
		res.Add(setupAction(ActionPutRolePolicy, st.roleName, "policy "+st.policyName+" scoped to the secret, the user and the secret's KMS key", "the role lacks the rotation policy"))
	}
	if res.SecretARN == "" || !permissionMatches(st.statement, res.SecretARN, p.account) {
		if st.statement != nil {
			res.Add(setupAction(ActionRemovePermission, cfg.FunctionARN, "statement "+st.statementID, "the statement differs"))
		}
		res.Add(setupAction(ActionAddPermission, cfg.FunctionARN, "statement "+st.statementID+": secretsmanager.amazonaws.com may invoke, SourceAccount "+p.account+" and SourceArn the secret", "Secrets Manager may not invoke the function for this secret"))
	}
	if st.secret == nil || !aws.ToBool(st.secret.RotationEnabled) || aws.ToString(st.secret.RotationLambdaARN) != cfg.FunctionARN ||
		!sameSchedule(st.secret.RotationRules, cfg.Schedule) {
		res.Add(setupAction(ActionEnableRotation, cfg.SecretID, "rotate with "+cfg.FunctionARN+" on "+cfg.Schedule, "rotation is off or differs"))
	}
}
