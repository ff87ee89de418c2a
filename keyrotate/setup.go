package keyrotate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Steps of SetupRotation and TeardownRotation in a RotationError.
const (
	StepSetup    Step = "setup"
	StepTeardown Step = "teardown"
)

// SetupSecretsManager is the part of *secretsmanager.Client that
// SetupRotation and TeardownRotation call. Permissions: secretsmanager:
// DescribeSecret, GetSecretValue, CreateSecret, PutSecretValue,
// RotateSecret, CancelRotateSecret, DeleteSecret (teardown with
// DeleteSecret only) on the secret; kms:GenerateDataKey and kms:Decrypt on
// its key if it is a customer managed key.
type SetupSecretsManager interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
	CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ SetupSecretsManager = (*secretsmanager.Client)(nil)

// SetupIAM is the part of *iam.Client that SetupRotation and
// TeardownRotation call. Permissions: iam:GetUser, ListAccessKeys,
// CreateAccessKey, DeleteAccessKey on the user; iam:GetRolePolicy,
// PutRolePolicy, DeleteRolePolicy on the function's role.
type SetupIAM interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

var _ SetupIAM = (*iam.Client)(nil)

// LambdaAPI is the part of *lambda.Client that SetupRotation and
// TeardownRotation call. Permissions: lambda:GetFunctionConfiguration,
// GetPolicy, AddPermission, RemovePermission on the function.
type LambdaAPI interface {
	GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

var _ LambdaAPI = (*lambda.Client)(nil)

// SetupClients are the clients SetupRotation and TeardownRotation use.
type SetupClients struct {
	SecretsManager SetupSecretsManager
	IAM            SetupIAM
	Lambda         LambdaAPI
}

// RotationConfig says which secret rotates which user's key with which
// function on which schedule. TeardownRotation reads only SecretID and
// FunctionARN.
type RotationConfig struct {
	// SecretID is the secret's name (needed to create it) or ARN.
	SecretID string
	// UserName is the IAM user whose key the secret holds. The user must
	// serve this secret alone: the rotation handler deletes keys that no
	// version of the secret holds.
	UserName string
	// FunctionARN is the deployed rotation function (examples/rotation-lambda).
	// Its execution role receives the rotation policy.
	FunctionARN string
	// Schedule is a Secrets Manager schedule expression: "rate(30 days)",
	// "cron(0 4 1 * ? *)".
	Schedule string
	// Key is the key to store as AWSCURRENT. It may be left nil when the
	// secret already holds the user's key, or when the user has no key
	// yet (SetupRotation then creates one).
	Key *AccessKey
	// KMSKeyID is the customer managed KMS key (ARN) to encrypt a new
	// secret with; empty means the account's aws/secretsmanager key. An
	// existing secret keeps its key.
	KMSKeyID string
}

// SetupOptions tune SetupRotation and TeardownRotation. The zero value is
// ready.
type SetupOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	Logger *slog.Logger
	// RotateImmediately starts a rotation as soon as rotation is enabled;
	// by default the first rotation waits for the schedule (Secrets
	// Manager still runs testSecret once to check the function).
	RotateImmediately bool
	// DeleteSecret makes TeardownRotation schedule the secret's deletion
	// after RecoveryWindowDays (default 30). By default the secret, and
	// the user's keys, stay.
	DeleteSecret       bool
	RecoveryWindowDays int
}

// The kinds of Action.
const (
	ActionCreateAccessKey  = "create-access-key"
	ActionDeleteAccessKey  = "delete-access-key"
	ActionCreateSecret     = "create-secret"
	ActionPutSecretValue   = "put-secret-value"
	ActionPutRolePolicy    = "put-role-policy"
	ActionAddPermission    = "add-permission"
	ActionRemovePermission = "remove-permission"
	ActionEnableRotation   = "enable-rotation"
	ActionCancelRotation   = "cancel-rotation"
	ActionDeleteRolePolicy = "delete-role-policy"
	ActionDeleteSecret     = "delete-secret"
)

// Action is one change of a Plan.
type Action struct {
	Kind     string `json:"kind"`
	Resource string `json:"resource"`
	Detail   string `json:"detail,omitempty"`
	// Done is true once applied.
	Done bool `json:"done"`
}

// Plan is what SetupRotation or TeardownRotation found to do, in order,
// and what it did.
type Plan struct {
	SecretARN   string   `json:"secret_arn,omitempty"`
	UserARN     string   `json:"user_arn,omitempty"`
	RoleName    string   `json:"role_name,omitempty"`
	PolicyName  string   `json:"policy_name"`
	StatementID string   `json:"statement_id"`
	Actions     []Action `json:"actions"`
	DryRun      bool     `json:"dry_run"`
	// Applied is true when at least one action was carried out.
	Applied bool `json:"applied"`
	// Reason says why there is nothing to do.
	Reason string `json:"reason,omitempty"`
}

var (
	userNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	scheduleRE = regexp.MustCompile(`^(rate\([1-9][0-9]* (hour|hours|day|days)\)|cron\([^()]+\))$`)
	nameCharRE = regexp.MustCompile(`[^\w+=,.@-]`)
)

func (c RotationConfig) validate(setup bool) error {
	switch {
	case c.SecretID == "":
		return &InputError{Field: "SecretID", Reason: "empty"}
	case len(c.SecretID) > 2048:
		return &InputError{Field: "SecretID", Reason: "longer than 2048 characters"}
	}
	a, err := arn.Parse(c.FunctionARN)
	if err != nil || a.Service != "lambda" || !strings.HasPrefix(a.Resource, "function:") {
		return &InputError{Field: "FunctionARN", Reason: "want arn:<partition>:lambda:<region>:<account>:function:<name>"}
	}
	if !setup {
		return nil
	}
	if !userNameRE.MatchString(c.UserName) {
		return &InputError{Field: "UserName", Reason: "want 1 to 64 of letters, digits and +=,.@_-"}
	}
	if !scheduleRE.MatchString(c.Schedule) {
		return &InputError{Field: "Schedule", Reason: `want "rate(N days)", "rate(N hours)" or "cron(...)"`}
	}
	if c.Key != nil && (c.Key.UserName != c.UserName || c.Key.AccessKeyID == "" || c.Key.Secret == "") {
		return &InputError{Field: "Key", Reason: "want the user's access key ID and secret"}
	}
	if c.KMSKeyID != "" {
		if k, err := arn.Parse(c.KMSKeyID); err != nil || k.Service != "kms" {
			return &InputError{Field: "KMSKeyID", Reason: "want the key's ARN"}
		}
	}
	return nil
}

// secretName returns the name a secret ID denotes: an ARN's name without
// Secrets Manager's six-character suffix.
func secretName(id string) string {
	a, err := arn.Parse(id)
	if err != nil || a.Service != "secretsmanager" {
		return id
	}
	name := strings.TrimPrefix(a.Resource, "secret:")
	if i := len(name) - 7; i > 0 && name[i] == '-' {
		name = name[:i]
	}
	return name
}

// resourceNames returns the inline policy name and the Lambda permission
// statement ID for a secret: readable, valid, and distinct per secret.
func resourceNames(secret string) (policy, statement string) {
	sum := sha256.Sum256([]byte(secret))
	h := hex.EncodeToString(sum[:4])
	clean := nameCharRE.ReplaceAllString(secret, "-")
	if len(clean) > 60 {
		clean = clean[:60]
	}
	policy = "awsguard-keyrotate-" + clean + "-" + h
	statement = strings.NewReplacer("+", "-", "=", "-", ",", "-", ".", "-", "@", "-").Replace(policy)
	return policy, statement
}

type policyDoc struct {
	Version   string
	Statement []policyStatement
}

type policyStatement struct {
	Sid       string                       `json:",omitempty"`
	Effect    string                       `json:",omitempty"`
	Action    []string                     `json:",omitempty"`
	Resource  string                       `json:",omitempty"`
	Condition map[string]map[string]string `json:",omitempty"`
}

// RotationPolicy returns the inline policy the rotation function's role
// needs for one secret: Secrets Manager on the secret's ARN, IAM keys on
// the user's ARN, and, for a customer managed key, KMS through Secrets
// Manager only.
func RotationPolicy(secretARN, userARN, kmsKeyARN string) string {
	doc := policyDoc{Version: "2012-10-17", Statement: []policyStatement{
		{Sid: "RotateSecret", Effect: "Allow", Resource: secretARN, Action: []string{
			"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}},
		{Sid: "RotateUserKeys", Effect: "Allow", Resource: userARN, Action: []string{
			"iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey"}},
	}}
	if kmsKeyARN != "" {
		region := ""
		if a, err := arn.Parse(secretARN); err == nil {
			region = a.Region
		}
		doc.Statement = append(doc.Statement, policyStatement{Sid: "SecretKMSKey", Effect: "Allow", Resource: kmsKeyARN,
			Action:    []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Condition: map[string]map[string]string{"StringEquals": {"kms:ViaService": "secretsmanager." + region + ".amazonaws.com"}}})
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

func samePolicy(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// setupState is what SetupRotation and TeardownRotation read.
type setupState struct {
	secret       *secretsmanager.DescribeSecretOutput // nil: no such secret
	roleName     string
	policyName   string
	statementID  string
	policy       string // current inline policy document, "" if none
	statement    *lambdaStatement
	functionName string
}

type lambdaStatement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Condition map[string]map[string]string
}

func notFound(err error) bool {
	var sm *smtypes.ResourceNotFoundException
	var nse *iamtypes.NoSuchEntityException
	var lm *lambdatypes.ResourceNotFoundException
	return errors.As(err, &sm) || errors.As(err, &nse) || errors.As(err, &lm)
}

func setupFail(step Step, cfg RotationConfig, action string, err error) error {
	remedy := "nothing was changed"
	if step == StepSetup || step == StepTeardown {
		remedy = "run it again: it plans from the live state and continues where it stopped"
	}
	return &RotationError{Step: step, SecretID: cfg.SecretID, Action: action, Remedy: remedy, Err: err}
}

// readCommon reads the function's role, the secret, the inline policy and
// the invoke permission.
func readCommon(ctx context.Context, c SetupClients, cfg RotationConfig, step Step) (*setupState, error) {
	st := &setupState{functionName: cfg.FunctionARN}
	fn, err := c.Lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(cfg.FunctionARN)})
	if err != nil {
		if notFound(err) {
			err = fmt.Errorf("%w: %s: %w", ErrFunctionNotFound, cfg.FunctionARN, err)
		}
		return nil, setupFail(step, cfg, "read function", err)
	}
	role, err := arn.Parse(aws.ToString(fn.Role))
	if err != nil {
		return nil, setupFail(step, cfg, "read function role", fmt.Errorf("role %q: %w", aws.ToString(fn.Role), err))
	}
	st.roleName = role.Resource[strings.LastIndex(role.Resource, "/")+1:]

	sec, err := c.SecretsManager.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(cfg.SecretID)})
	switch {
	case notFound(err):
	case err != nil:
		return nil, setupFail(step, cfg, "describe secret", err)
	default:
		st.secret = sec
	}
	name := secretName(cfg.SecretID)
	if st.secret != nil {
		name = aws.ToString(st.secret.Name)
	}
	st.policyName, st.statementID = resourceNames(name)

	pol, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(st.roleName), PolicyName: aws.String(st.policyName)})
	switch {
	case notFound(err):
	case err != nil:
		return nil, setupFail(step, cfg, "read role policy", err)
	default:
		doc, derr := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
		if derr != nil {
			doc = aws.ToString(pol.PolicyDocument)
		}
		st.policy = doc
	}

	st.statement, err = readStatement(ctx, c.Lambda, cfg.FunctionARN, st.statementID)
	if err != nil {
		return nil, setupFail(step, cfg, "read function policy", err)
	}
	return st, nil
}

// readStatement reads the function's resource policy and returns the
// statement sid, or nil if the function has no policy or no such
// statement.
func readStatement(ctx context.Context, api LambdaAPI, function, sid string) (*lambdaStatement, error) {
	lp, err := api.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(function)})
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct{ Statement []lambdaStatement }
	if err := json.Unmarshal([]byte(aws.ToString(lp.Policy)), &doc); err != nil {
		return nil, err
	}
	var found *lambdaStatement
	for i := range doc.Statement {
		if doc.Statement[i].Sid == sid {
			found = &doc.Statement[i]
		}
	}
	return found, nil
}

// permissionMatches reports whether an invoke statement grants Secrets
// Manager the invocation for this secret only.
func permissionMatches(s *lambdaStatement, secretARN, account string) bool {
	if s == nil || s.Effect != "Allow" {
		return false
	}
	p, _ := json.Marshal(s.Principal)
	if !strings.Contains(string(p), `"secretsmanager.amazonaws.com"`) {
		return false
	}
	return s.Condition["ArnLike"]["AWS:SourceArn"] == secretARN && s.Condition["StringEquals"]["AWS:SourceAccount"] == account
}

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
// It plans from the live state first: a DryRun returns that plan, and a
// second run finds nothing to do (Reason "already configured"). It does
// not deploy the function: pass the ARN of a deployed
// examples/rotation-lambda. It refuses (ErrUserNotDedicated) a user that
// holds keys which no version of the secret holds, because the rotation
// handler deletes such keys.
func SetupRotation(ctx context.Context, c SetupClients, cfg RotationConfig, optFns ...func(*SetupOptions)) (*Plan, error) {
	o := setupOptions(optFns)
	if c.SecretsManager == nil || c.IAM == nil || c.Lambda == nil {
		return nil, &InputError{Field: "SetupClients", Reason: "all three clients are required"}
	}
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	log := o.Logger.With("operation", "keyrotate.SetupRotation", "resource", cfg.SecretID, "dry_run", o.DryRun)
	st, err := readCommon(ctx, c, cfg, StepSetup)
	if err != nil {
		return nil, err
	}
	fail := func(action string, err error) error { return setupFail(StepSetup, cfg, action, err) }
	refuse := func(action string, err error) error {
		return &RotationError{Step: StepSetup, SecretID: cfg.SecretID, Action: action, Remedy: RemedyNothingChanged, Err: err}
	}
	user, err := c.IAM.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(cfg.UserName)})
	if err != nil {
		return nil, refuse("read user", err)
	}
	keys, err := c.IAM.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(cfg.UserName)})
	if err != nil {
		return nil, refuse("list access keys", err)
	}
	plan := &Plan{UserARN: aws.ToString(user.User.Arn), RoleName: st.roleName, PolicyName: st.policyName, StatementID: st.statementID, DryRun: o.DryRun}
	onUser := map[string]bool{}
	for _, k := range keys.AccessKeyMetadata {
		onUser[aws.ToString(k.AccessKeyId)] = true
	}
	if cfg.Key != nil && !onUser[cfg.Key.AccessKeyID] {
		return nil, &InputError{Field: "Key", Reason: fmt.Sprintf("user %s has no access key %s", cfg.UserName, cfg.Key.AccessKeyID)}
	}

	// 1. The secret.
	held := map[string]bool{}
	kmsKey := cfg.KMSKeyID
	var current *AccessKey
	currentRaw := ""
	if st.secret != nil {
		plan.SecretARN = aws.ToString(st.secret.ARN)
		if id := aws.ToString(st.secret.KmsKeyId); id != "" && id != "alias/aws/secretsmanager" {
			if _, err := arn.Parse(id); err != nil {
				return nil, refuse("read secret's KMS key", fmt.Errorf("the secret's KMS key %q is not an ARN; re-point the secret at the key's ARN", id))
			}
			if kmsKey != "" && kmsKey != id {
				return nil, &InputError{Field: "KMSKeyID", Reason: "the existing secret uses " + id + "; SetupRotation does not re-encrypt it"}
			}
			kmsKey = id
		} else if kmsKey != "" {
			return nil, &InputError{Field: "KMSKeyID", Reason: "the existing secret uses the AWS managed key; SetupRotation does not re-encrypt it"}
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
					held[k.AccessKeyID] = true
					if stage == StageCurrent {
						current, currentRaw = &k, aws.ToString(out.SecretString)
					}
				}
			}
		}
		switch {
		case cfg.Key != nil && (current == nil || current.AccessKeyID != cfg.Key.AccessKeyID):
			plan.Actions = append(plan.Actions, Action{Kind: ActionPutSecretValue, Resource: plan.SecretARN, Detail: "store key " + cfg.Key.AccessKeyID + " as AWSCURRENT"})
			held[cfg.Key.AccessKeyID] = true
		case current == nil && len(st.secret.VersionIdsToStages) == 0 && aws.ToString(st.secret.Description) == secretDescription(cfg.UserName):
			// An earlier run created the secret empty and stopped before
			// storing a new key. Keys made since then are that run's: no
			// one else can use them, since their secret was never stored.
			created := aws.ToTime(st.secret.CreatedDate).Truncate(time.Second)
			for _, k := range keys.AccessKeyMetadata {
				if id := aws.ToString(k.AccessKeyId); !aws.ToTime(k.CreateDate).Before(created) {
					held[id] = true
					plan.Actions = append(plan.Actions, Action{Kind: ActionDeleteAccessKey, Resource: id, Detail: "made by an interrupted run, never stored"})
				}
			}
			plan.Actions = append(plan.Actions,
				Action{Kind: ActionCreateAccessKey, Resource: plan.UserARN, Detail: "the user's first key"},
				Action{Kind: ActionPutSecretValue, Resource: plan.SecretARN, Detail: "store the new key as AWSCURRENT"})
		case current == nil:
			return nil, &InputError{Field: "Key", Reason: fmt.Sprintf("secret %s holds no access-key document for user %s; pass the key to store", cfg.SecretID, cfg.UserName)}
		}
	} else {
		if _, err := arn.Parse(cfg.SecretID); err == nil {
			return nil, &InputError{Field: "SecretID", Reason: "no such secret; give a name to create it"}
		}
		detail := "holding key " + keyIDOf(cfg.Key)
		if kmsKey != "" {
			detail += ", encrypted with " + kmsKey
		}
		switch {
		case cfg.Key != nil:
			held[cfg.Key.AccessKeyID] = true
			plan.Actions = append(plan.Actions, Action{Kind: ActionCreateSecret, Resource: cfg.SecretID, Detail: detail})
		case len(keys.AccessKeyMetadata) == 0:
			// The secret first, empty: a run cut short after the key is
			// made finds the secret and knows the key for its own.
			plan.Actions = append(plan.Actions,
				Action{Kind: ActionCreateSecret, Resource: cfg.SecretID, Detail: "empty for now" + strings.TrimPrefix(detail, "holding key ")},
				Action{Kind: ActionCreateAccessKey, Resource: plan.UserARN, Detail: "the user has no key: create its first"},
				Action{Kind: ActionPutSecretValue, Resource: cfg.SecretID, Detail: "store the new key as AWSCURRENT"})
		default:
			return nil, &InputError{Field: "Key", Reason: fmt.Sprintf("user %s already has access keys; pass the one to store (its secret cannot be read back)", cfg.UserName)}
		}
	}
	var stray []string
	for id := range onUser {
		if !held[id] {
			stray = append(stray, id)
		}
	}
	if len(stray) > 0 {
		slices.Sort(stray)
		return nil, refuse("check user's keys", fmt.Errorf("%w: %s holds %s", ErrUserNotDedicated, cfg.UserName, strings.Join(stray, ", ")))
	}

	// 2.-4. Policy, permission, rotation: known once the secret's ARN is.
	wantPolicy := func(secretARN string) string { return RotationPolicy(secretARN, plan.UserARN, kmsKey) }
	fnARN, _ := arn.Parse(cfg.FunctionARN)
	account := fnARN.AccountID
	if plan.SecretARN != "" {
		a, _ := arn.Parse(plan.SecretARN)
		account = a.AccountID
	}
	if plan.SecretARN == "" || !samePolicy(st.policy, wantPolicy(plan.SecretARN)) {
		plan.Actions = append(plan.Actions, Action{Kind: ActionPutRolePolicy, Resource: st.roleName, Detail: "policy " + st.policyName + " scoped to the secret, the user and the secret's KMS key"})
	}
	if plan.SecretARN == "" || !permissionMatches(st.statement, plan.SecretARN, account) {
		if st.statement != nil {
			plan.Actions = append(plan.Actions, Action{Kind: ActionRemovePermission, Resource: cfg.FunctionARN, Detail: "statement " + st.statementID + " differs"})
		}
		plan.Actions = append(plan.Actions, Action{Kind: ActionAddPermission, Resource: cfg.FunctionARN, Detail: "statement " + st.statementID + ": secretsmanager.amazonaws.com may invoke, SourceAccount " + account + " and SourceArn the secret"})
	}
	if st.secret == nil || !aws.ToBool(st.secret.RotationEnabled) || aws.ToString(st.secret.RotationLambdaARN) != cfg.FunctionARN ||
		!sameSchedule(st.secret.RotationRules, cfg.Schedule) {
		plan.Actions = append(plan.Actions, Action{Kind: ActionEnableRotation, Resource: cfg.SecretID, Detail: "rotate with " + cfg.FunctionARN + " on " + cfg.Schedule})
	}
	if len(plan.Actions) == 0 {
		plan.Reason = "already configured"
		log.Info("nothing to do")
		return plan, nil
	}
	if o.DryRun {
		return plan, nil
	}

	key := cfg.Key
	for i := range plan.Actions {
		if err := ctx.Err(); err != nil {
			return plan, fail(plan.Actions[i].Kind, err)
		}
		a := &plan.Actions[i]
		switch a.Kind {
		case ActionCreateAccessKey:
			out, err := c.IAM.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(cfg.UserName)})
			if err != nil {
				return plan, fail(a.Kind, err)
			}
			key = &AccessKey{UserName: cfg.UserName, AccessKeyID: aws.ToString(out.AccessKey.AccessKeyId), Secret: Secret(aws.ToString(out.AccessKey.SecretAccessKey))}
			a.Detail = "created key " + key.AccessKeyID
		case ActionDeleteAccessKey:
			if _, err := c.IAM.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(cfg.UserName), AccessKeyId: aws.String(a.Resource)}); err != nil && !notFound(err) {
				return plan, fail(a.Kind, err)
			}
		case ActionCreateSecret:
			in := &secretsmanager.CreateSecretInput{Name: aws.String(cfg.SecretID), Description: aws.String(secretDescription(cfg.UserName))}
			if key != nil {
				doc, err := EncodeSecretValue(*key, "")
				if err != nil {
					return plan, fail(a.Kind, err)
				}
				in.SecretString = aws.String(doc)
			}
			if kmsKey != "" {
				in.KmsKeyId = aws.String(kmsKey)
			}
			out, err := c.SecretsManager.CreateSecret(ctx, in)
			if err != nil {
				return plan, fail(a.Kind, err)
			}
			plan.SecretARN = aws.ToString(out.ARN)
			a.Resource = plan.SecretARN
			a2, _ := arn.Parse(plan.SecretARN)
			account = a2.AccountID
		case ActionPutSecretValue:
			doc, err := EncodeSecretValue(*key, currentRaw)
			if err != nil {
				return plan, fail(a.Kind, err)
			}
			a.Resource = plan.SecretARN
			if _, err := c.SecretsManager.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(plan.SecretARN), SecretString: aws.String(doc), VersionStages: []string{StageCurrent}}); err != nil {
				return plan, fail(a.Kind, err)
			}
		case ActionPutRolePolicy:
			if _, err := c.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(st.roleName), PolicyName: aws.String(st.policyName), PolicyDocument: aws.String(wantPolicy(plan.SecretARN))}); err != nil {
				return plan, fail(a.Kind, err)
			}
		case ActionRemovePermission:
			if _, err := c.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(cfg.FunctionARN), StatementId: aws.String(st.statementID)}); err != nil && !notFound(err) {
				return plan, fail(a.Kind, err)
			}
		case ActionAddPermission:
			if _, err := c.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{
				FunctionName:  aws.String(cfg.FunctionARN),
				StatementId:   aws.String(st.statementID),
				Action:        aws.String("lambda:InvokeFunction"),
				Principal:     aws.String("secretsmanager.amazonaws.com"),
				SourceAccount: aws.String(account),
				SourceArn:     aws.String(plan.SecretARN),
			}); err != nil {
				var conflict *lambdatypes.ResourceConflictException
				if !errors.As(err, &conflict) {
					return plan, fail(a.Kind, err)
				}
				// A conflict means either that the statement ID is taken
				// (an earlier request whose answer was lost, or another
				// writer) or that a function update is in progress and
				// nothing was added. Only the live policy tells.
				s, rerr := readStatement(ctx, c.Lambda, cfg.FunctionARN, st.statementID)
				if rerr != nil {
					return plan, fail(a.Kind, fmt.Errorf("re-read the function policy after %w: %w", err, rerr))
				}
				if !permissionMatches(s, plan.SecretARN, account) {
					return plan, fail(a.Kind, fmt.Errorf("statement %s is missing or differs after a conflict (a function update may be in progress): %w", st.statementID, err))
				}
			}
		case ActionEnableRotation:
			in := &secretsmanager.RotateSecretInput{
				SecretId:          aws.String(plan.SecretARN),
				RotationLambdaARN: aws.String(cfg.FunctionARN),
				RotationRules:     &smtypes.RotationRulesType{ScheduleExpression: aws.String(cfg.Schedule)},
				RotateImmediately: aws.Bool(o.RotateImmediately),
			}
			if _, err := c.SecretsManager.RotateSecret(ctx, in); err != nil {
				return plan, fail(a.Kind, err)
			}
		}
		a.Done = true
		plan.Applied = true
		log.Info("applied", "action", a.Kind, "target", a.Resource)
	}
	return plan, nil
}

// sameSchedule reports whether the secret's rotation rules are schedule.
// Secrets Manager may report "rate(N days)" as AutomaticallyAfterDays N.
func sameSchedule(r *smtypes.RotationRulesType, schedule string) bool {
	if r == nil {
		return false
	}
	if e := aws.ToString(r.ScheduleExpression); e != "" {
		return e == schedule
	}
	days := aws.ToInt64(r.AutomaticallyAfterDays)
	return days > 0 && (schedule == fmt.Sprintf("rate(%d days)", days) || (days == 1 && schedule == "rate(1 day)"))
}

// secretDescription marks the secrets SetupRotation creates.
func secretDescription(user string) string {
	return "Access key of IAM user " + user + ", rotated by awsguard keyrotate"
}

func keyIDOf(k *AccessKey) string {
	if k == nil {
		return ""
	}
	return k.AccessKeyID
}

func setupOptions(optFns []func(*SetupOptions)) SetupOptions {
	var o SetupOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.RecoveryWindowDays == 0 {
		o.RecoveryWindowDays = 30
	}
	return o
}

// TeardownRotation reverses SetupRotation in reverse order: it stops
// rotation (CancelRotateSecret), removes the function's invoke permission
// for the secret, deletes the inline policy from the function's role and,
// only with DeleteSecret, schedules the secret's deletion. The user's keys
// stay: the AWSCURRENT key is still in use. It plans from the live state,
// honours DryRun, and a second run finds nothing to do. An AWSPENDING
// label left by a failed rotation stays: see RepairPending.
func TeardownRotation(ctx context.Context, c SetupClients, cfg RotationConfig, optFns ...func(*SetupOptions)) (*Plan, error) {
	o := setupOptions(optFns)
	if c.SecretsManager == nil || c.IAM == nil || c.Lambda == nil {
		return nil, &InputError{Field: "SetupClients", Reason: "all three clients are required"}
	}
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	if o.DeleteSecret && (o.RecoveryWindowDays < 7 || o.RecoveryWindowDays > 30) {
		return nil, &InputError{Field: "RecoveryWindowDays", Reason: "want 7 to 30"}
	}
	log := o.Logger.With("operation", "keyrotate.TeardownRotation", "resource", cfg.SecretID, "dry_run", o.DryRun)
	st, err := readCommon(ctx, c, cfg, StepTeardown)
	if err != nil {
		return nil, err
	}
	plan := &Plan{RoleName: st.roleName, PolicyName: st.policyName, StatementID: st.statementID, DryRun: o.DryRun}
	if st.secret != nil {
		plan.SecretARN = aws.ToString(st.secret.ARN)
		if aws.ToBool(st.secret.RotationEnabled) {
			plan.Actions = append(plan.Actions, Action{Kind: ActionCancelRotation, Resource: plan.SecretARN})
		}
	}
	if st.statement != nil {
		plan.Actions = append(plan.Actions, Action{Kind: ActionRemovePermission, Resource: cfg.FunctionARN, Detail: "statement " + st.statementID})
	}
	if st.policy != "" {
		plan.Actions = append(plan.Actions, Action{Kind: ActionDeleteRolePolicy, Resource: st.roleName, Detail: "policy " + st.policyName})
	}
	if st.secret != nil && o.DeleteSecret && st.secret.DeletedDate == nil {
		plan.Actions = append(plan.Actions, Action{Kind: ActionDeleteSecret, Resource: plan.SecretARN, Detail: fmt.Sprintf("recoverable for %d days", o.RecoveryWindowDays)})
	}
	if len(plan.Actions) == 0 {
		plan.Reason = "nothing to tear down"
		return plan, nil
	}
	if o.DryRun {
		return plan, nil
	}
	for i := range plan.Actions {
		a := &plan.Actions[i]
		var err error
		switch a.Kind {
		case ActionCancelRotation:
			_, err = c.SecretsManager.CancelRotateSecret(ctx, &secretsmanager.CancelRotateSecretInput{SecretId: aws.String(plan.SecretARN)})
		case ActionRemovePermission:
			_, err = c.Lambda.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(cfg.FunctionARN), StatementId: aws.String(st.statementID)})
		case ActionDeleteRolePolicy:
			_, err = c.IAM.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(st.roleName), PolicyName: aws.String(st.policyName)})
		case ActionDeleteSecret:
			_, err = c.SecretsManager.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(plan.SecretARN), RecoveryWindowInDays: aws.Int64(int64(o.RecoveryWindowDays))})
		}
		if err != nil && !notFound(err) {
			return plan, setupFail(StepTeardown, cfg, a.Kind, err)
		}
		a.Done = true
		plan.Applied = true
		log.Info("applied", "action", a.Kind, "target", a.Resource)
	}
	return plan, nil
}
