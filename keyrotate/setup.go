package keyrotate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/awsguard/awsguard"
)

// Steps of SetupRotation and TeardownRotation in their *awsguard.StepError
// when they fail while reading (the failed action's kind otherwise).
const (
	StepSetup    Step = "setup"
	StepTeardown Step = "teardown"
)

// RotationConfig says which secret rotates which user's key with which
// function on which schedule.
type RotationConfig struct {
	// SecretID is the secret's name (needed to create it) or ARN.
	SecretID string
	// UserName is the IAM user whose key the secret holds. The user must
	// serve this secret alone: the rotation handler removes keys that no
	// version of the secret holds (or refuses, ErrForeignKey).
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

// TeardownConfig names what TeardownRotation removes: the rotation of a
// secret by a function.
type TeardownConfig struct {
	// SecretID is the secret's name or ARN.
	SecretID string
	// FunctionARN is the rotation function.
	FunctionARN string
}

// Teardown returns the TeardownConfig of the same secret and function.
func (c RotationConfig) Teardown() TeardownConfig {
	return TeardownConfig{SecretID: c.SecretID, FunctionARN: c.FunctionARN}
}

// SetupOptions tune PlanSetup and SetupRotation. The zero value is ready.
type SetupOptions struct {
	// DryRun makes SetupRotation return the plan (as PlanSetup does) and
	// change nothing.
	DryRun bool
	Logger *slog.Logger
	// RotateImmediately starts a rotation as soon as rotation is enabled;
	// by default the first rotation waits for the schedule (Secrets
	// Manager still runs testSecret once to check the function).
	RotateImmediately bool
}

// TeardownOptions tune TeardownRotation. The zero value is ready.
type TeardownOptions struct {
	// DryRun returns the plan and changes nothing.
	DryRun bool
	Logger *slog.Logger
	// DeleteSecret schedules the secret's deletion after
	// RecoveryWindowDays (default 30). By default the secret, and the
	// user's keys, stay.
	DeleteSecret       bool
	RecoveryWindowDays int
}

// The kinds of Action of setup and teardown.
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

var setupCalls = map[string]string{
	ActionCreateAccessKey:  "iam:CreateAccessKey",
	ActionDeleteAccessKey:  "iam:DeleteAccessKey",
	ActionCreateSecret:     "secretsmanager:CreateSecret",
	ActionPutSecretValue:   "secretsmanager:PutSecretValue",
	ActionPutRolePolicy:    "iam:PutRolePolicy",
	ActionAddPermission:    "lambda:AddPermission",
	ActionRemovePermission: "lambda:RemovePermission",
	ActionEnableRotation:   "secretsmanager:RotateSecret",
	ActionCancelRotation:   "secretsmanager:CancelRotateSecret",
	ActionDeleteRolePolicy: "iam:DeleteRolePolicy",
	ActionDeleteSecret:     "secretsmanager:DeleteSecret",
}

func setupAction(kind, resource, detail, why string) awsguard.Action {
	return awsguard.Action{Kind: kind, Call: setupCalls[kind], Resource: resource, Detail: detail, Why: why, Outcome: awsguard.OutcomePlanned}
}

// Setup is what PlanSetup, SetupRotation and TeardownRotation return: an
// awsguard.Plan and the names of what it works on. "Nothing to do" is
// Reason awsguard.ReasonAlreadyCompliant (setup) or
// awsguard.ReasonNothingToRemove (teardown).
type Setup struct {
	awsguard.Plan
	SecretARN   string `json:"secret_arn,omitempty"`
	UserARN     string `json:"user_arn,omitempty"`
	RoleName    string `json:"role_name,omitempty"`
	PolicyName  string `json:"policy_name"`
	StatementID string `json:"statement_id"`
}

var (
	scheduleRE = regexp.MustCompile(`^(rate\([1-9][0-9]* (hour|hours|day|days)\)|cron\([^()]+\))$`)
	nameCharRE = regexp.MustCompile(`[^\w+=,.@-]`)
)

func validateTarget(op, secretID, functionARN string) error {
	switch {
	case secretID == "":
		return inputError(op, "RotationConfig.SecretID", "", "a secret name or ARN")
	case len(secretID) > 2048:
		return inputError(op, "RotationConfig.SecretID", secretID[:32]+"...", "at most 2048 characters")
	}
	a, err := arn.Parse(functionARN)
	if err != nil || a.Service != "lambda" || !strings.HasPrefix(a.Resource, "function:") {
		return inputError(op, "RotationConfig.FunctionARN", functionARN, "arn:<partition>:lambda:<region>:<account>:function:<name>")
	}
	return nil
}

func (c RotationConfig) validate(op string) error {
	if err := validateTarget(op, c.SecretID, c.FunctionARN); err != nil {
		return err
	}
	if !userNameRE.MatchString(c.UserName) {
		return inputError(op, "RotationConfig.UserName", c.UserName, allowedUser)
	}
	if !scheduleRE.MatchString(c.Schedule) {
		return inputError(op, "RotationConfig.Schedule", c.Schedule, `"rate(N days)", "rate(N hours)" or "cron(...)"`)
	}
	if c.Key != nil && (c.Key.UserName != c.UserName || c.Key.AccessKeyID == "" || c.Key.Secret.IsZero()) {
		return inputError(op, "RotationConfig.Key", c.Key.AccessKeyID, "the user's access key ID and secret")
	}
	if c.KMSKeyID != "" {
		if k, err := arn.Parse(c.KMSKeyID); err != nil || k.Service != "kms" {
			return inputError(op, "RotationConfig.KMSKeyID", c.KMSKeyID, "the key's ARN")
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

// rotationSecretActions and rotationIAMActions are what the rotation
// function's role may do: the methods of HandlerSecretsAPI and
// HandlerIAMAPI (a test checks it).
var (
	rotationSecretActions = []string{"secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecretVersionStage"}
	rotationIAMActions    = []string{"iam:ListAccessKeys", "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey", "iam:GetAccessKeyLastUsed"}
)

// RotationPolicyDocument is the inline policy the rotation function's role
// needs for one secret: Secrets Manager on the secret's ARN, IAM keys on
// the user's ARN, and, for a customer managed key, KMS through Secrets
// Manager only.
func RotationPolicyDocument(secretARN, userARN, kmsKeyARN string) *awsguard.PolicyDocument {
	doc := &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{
		{Sid: "RotateSecret", Effect: "Allow", Resource: awsguard.StringValue(secretARN), Action: awsguard.StringList(rotationSecretActions...)},
		{Sid: "RotateUserKeys", Effect: "Allow", Resource: awsguard.StringValue(userARN), Action: awsguard.StringList(rotationIAMActions...)},
	}}}
	if kmsKeyARN != "" {
		region := ""
		if a, err := arn.Parse(secretARN); err == nil {
			region = a.Region
		}
		doc.Statement.List = append(doc.Statement.List, awsguard.Statement{Sid: "SecretKMSKey", Effect: "Allow", Resource: awsguard.StringValue(kmsKeyARN),
			Action:    awsguard.StringList("kms:Decrypt", "kms:GenerateDataKey"),
			Condition: map[string]map[string]awsguard.Strings{"StringEquals": {"kms:ViaService": awsguard.StringValue("secretsmanager." + region + ".amazonaws.com")}}})
	}
	return doc
}

// RotationPolicy is RotationPolicyDocument as the JSON IAM takes.
func RotationPolicy(secretARN, userARN, kmsKeyARN string) string {
	s, _ := RotationPolicyDocument(secretARN, userARN, kmsKeyARN).JSON()
	return s
}

// samePolicy reports whether the live inline policy says what want says.
func samePolicy(live string, want *awsguard.PolicyDocument) bool {
	d, err := awsguard.ParsePolicyDocument(live)
	return err == nil && d.Equivalent(want)
}

// setupState is what SetupRotation and TeardownRotation read.
type setupState struct {
	secret      *secretsmanager.DescribeSecretOutput // nil: no such secret
	roleName    string
	policyName  string
	statementID string
	policy      string // current inline policy document, "" if none
	statement   *lambdaStatement
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

// setupFail is the *awsguard.StepError of a read or refusal of setup or
// teardown.
func setupFail(op string, step Step, secretID, action, remedy string, err error) error {
	return &awsguard.StepError{Operation: op, Step: string(step), Resource: secretID, Err: fmt.Errorf("%s: %w", action, err), ToDo: remedy}
}

// readCommon reads the function's role, the secret, the inline policy and
// the invoke permission.
func readCommon(ctx context.Context, sm commonSecretsAPI, iamAPI commonIAMAPI, lam commonLambdaAPI, op string, step Step, secretID, functionARN string) (*setupState, error) {
	fail := func(action string, err error) error {
		return setupFail(op, step, secretID, action, RemedyNothingChanged, err)
	}
	st := &setupState{}
	fn, err := lam.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(functionARN)})
	if err != nil {
		if notFound(err) {
			err = fmt.Errorf("%w: %s: %w", ErrFunctionNotFound, functionARN, err)
		}
		return nil, fail("read function", err)
	}
	role, err := arn.Parse(aws.ToString(fn.Role))
	if err != nil {
		return nil, fail("read function role", fmt.Errorf("role %q: %w", aws.ToString(fn.Role), err))
	}
	st.roleName = role.Resource[strings.LastIndex(role.Resource, "/")+1:]
	sec, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	switch {
	case notFound(err):
	case err != nil:
		return nil, fail("describe secret", err)
	default:
		st.secret = sec
	}
	name := secretName(secretID)
	if st.secret != nil {
		name = aws.ToString(st.secret.Name)
	}
	st.policyName, st.statementID = resourceNames(name)
	pol, err := iamAPI.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(st.roleName), PolicyName: aws.String(st.policyName)})
	switch {
	case notFound(err):
	case err != nil:
		return nil, fail("read role policy", err)
	default:
		st.policy = aws.ToString(pol.PolicyDocument)
	}
	if st.statement, err = readStatement(ctx, lam, functionARN, st.statementID); err != nil {
		return nil, fail("read function policy", err)
	}
	return st, nil
}

// readStatement reads the function's resource policy and returns the
// statement sid, or nil if the function has no policy or no such
// statement.
func readStatement(ctx context.Context, api commonLambdaAPI, function, sid string) (*lambdaStatement, error) {
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
