package keyrotate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The client interfaces of keyrotate, one per operation and service. Each
// holds exactly the calls its operation makes, with the SDK's own
// signatures, so the SDK's clients satisfy them and a test fake is small;
// its methods are the permissions the operation needs (each function's
// documentation lists them, and a test checks the lists against these
// interfaces). Larger ones are composed from smaller ones, as the SDK
// composes its paginator clients.

// ReadUserAPI is the part of *iam.Client that reads a user's rotation
// state: its ARN, its keys and the records on its tags. Every direct
// rotation operation starts with these calls.
type ReadUserAPI interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
}

// FinishAPI is the part of *iam.Client that FinishRotation calls: the
// reads, and deleting keys after their last use is checked, with the
// records on the user's tags. It never creates or updates a key.
type FinishAPI interface {
	ReadUserAPI
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error)
	UntagUser(context.Context, *iam.UntagUserInput, ...func(*iam.Options)) (*iam.UntagUserOutput, error)
}

// RotateAPI is the part of *iam.Client that RotateAccessKey and
// RotateAccessKeys call: FinishAPI and creating and deactivating keys.
type RotateAPI interface {
	FinishAPI
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
}

// CallerIdentityAPI is the part of *sts.Client that key verification
// (WaitForKey) calls. It needs no IAM permission: any valid key may call
// it.
type CallerIdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// RepairSecretsAPI is the part of *secretsmanager.Client that
// RepairPending calls.
type RepairSecretsAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	UpdateSecretVersionStage(context.Context, *secretsmanager.UpdateSecretVersionStageInput, ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

// HandlerSecretsAPI is the part of *secretsmanager.Client that the
// rotation handler calls: RepairSecretsAPI and storing the new version.
type HandlerSecretsAPI interface {
	RepairSecretsAPI
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
}

// RepairIAMAPI is the part of *iam.Client that RepairPending calls.
type RepairIAMAPI interface {
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
}

// HandlerIAMAPI is the part of *iam.Client that the rotation handler
// calls: RepairIAMAPI, creating and activating keys, and reading a stray
// key's last use before createSecret removes it.
type HandlerIAMAPI interface {
	RepairIAMAPI
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
}

// commonSecretsAPI, commonIAMAPI and commonLambdaAPI are the reads that
// setup and teardown share.
type commonSecretsAPI interface {
	DescribeSecret(context.Context, *secretsmanager.DescribeSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error)
}

type commonIAMAPI interface {
	GetRolePolicy(context.Context, *iam.GetRolePolicyInput, ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
}

type commonLambdaAPI interface {
	GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	GetPolicy(context.Context, *lambda.GetPolicyInput, ...func(*lambda.Options)) (*lambda.GetPolicyOutput, error)
}

// PlanSetupSecretsAPI is the part of *secretsmanager.Client that PlanSetup
// calls: it reads only.
type PlanSetupSecretsAPI interface {
	commonSecretsAPI
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// PlanSetupIAMAPI is the part of *iam.Client that PlanSetup calls.
type PlanSetupIAMAPI interface {
	commonIAMAPI
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
}

// PlanSetupLambdaAPI is the part of *lambda.Client that PlanSetup calls.
type PlanSetupLambdaAPI interface {
	commonLambdaAPI
}

// SetupSecretsAPI is the part of *secretsmanager.Client that SetupRotation
// calls: PlanSetup's reads and the changes.
type SetupSecretsAPI interface {
	PlanSetupSecretsAPI
	CreateSecret(context.Context, *secretsmanager.CreateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	PutSecretValue(context.Context, *secretsmanager.PutSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error)
	RotateSecret(context.Context, *secretsmanager.RotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error)
}

// SetupIAMAPI is the part of *iam.Client that SetupRotation calls.
type SetupIAMAPI interface {
	PlanSetupIAMAPI
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
}

// SetupLambdaAPI is the part of *lambda.Client that SetupRotation calls.
type SetupLambdaAPI interface {
	PlanSetupLambdaAPI
	AddPermission(context.Context, *lambda.AddPermissionInput, ...func(*lambda.Options)) (*lambda.AddPermissionOutput, error)
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

// TeardownSecretsAPI is the part of *secretsmanager.Client that
// TeardownRotation calls.
type TeardownSecretsAPI interface {
	commonSecretsAPI
	CancelRotateSecret(context.Context, *secretsmanager.CancelRotateSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.CancelRotateSecretOutput, error)
	DeleteSecret(context.Context, *secretsmanager.DeleteSecretInput, ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

// TeardownIAMAPI is the part of *iam.Client that TeardownRotation calls.
type TeardownIAMAPI interface {
	commonIAMAPI
	DeleteRolePolicy(context.Context, *iam.DeleteRolePolicyInput, ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
}

// TeardownLambdaAPI is the part of *lambda.Client that TeardownRotation
// calls.
type TeardownLambdaAPI interface {
	commonLambdaAPI
	RemovePermission(context.Context, *lambda.RemovePermissionInput, ...func(*lambda.Options)) (*lambda.RemovePermissionOutput, error)
}

var (
	_ ReadUserAPI         = (*iam.Client)(nil)
	_ FinishAPI           = (*iam.Client)(nil)
	_ RotateAPI           = (*iam.Client)(nil)
	_ CallerIdentityAPI   = (*sts.Client)(nil)
	_ RepairSecretsAPI    = (*secretsmanager.Client)(nil)
	_ HandlerSecretsAPI   = (*secretsmanager.Client)(nil)
	_ RepairIAMAPI        = (*iam.Client)(nil)
	_ HandlerIAMAPI       = (*iam.Client)(nil)
	_ PlanSetupSecretsAPI = (*secretsmanager.Client)(nil)
	_ PlanSetupIAMAPI     = (*iam.Client)(nil)
	_ PlanSetupLambdaAPI  = (*lambda.Client)(nil)
	_ SetupSecretsAPI     = (*secretsmanager.Client)(nil)
	_ SetupIAMAPI         = (*iam.Client)(nil)
	_ SetupLambdaAPI      = (*lambda.Client)(nil)
	_ TeardownSecretsAPI  = (*secretsmanager.Client)(nil)
	_ TeardownIAMAPI      = (*iam.Client)(nil)
	_ TeardownLambdaAPI   = (*lambda.Client)(nil)
)

// Clients are the clients a direct rotation uses.
type Clients struct {
	// IAM reads and changes the user's keys and tags. Required.
	IAM RotateAPI
	// STS builds the client that verifies the new key, signed with it.
	// Required unless the run is a dry run; STSFromConfig makes one.
	STS STSFactory
	// IAMFor, if set, returns an IAM client signed with the given key.
	// RotateAccessKey then makes every call after the delivery of the new key
	// (deactivating and deleting the old one, the records) with the new key.
	// Set it only when the caller signs with the key it rotates (a user
	// rotating their own key): once the old key is inactive, AWS rejects
	// calls signed with it. Leave it nil when an administrator rotates
	// another user's key: that user's key lacks the administrator's rights.
	IAMFor func(AccessKey) RotateAPI
}

// ClientsFromConfig returns Clients whose IAM and STS clients use cfg.
// IAMFor stays nil; see SelfClientsFromConfig.
func ClientsFromConfig(cfg aws.Config) Clients {
	return Clients{IAM: iam.NewFromConfig(cfg), STS: STSFromConfig(cfg)}
}

// SelfClientsFromConfig is ClientsFromConfig with IAMFor set, for a caller
// that rotates the key it signs with.
func SelfClientsFromConfig(cfg aws.Config) Clients {
	c := ClientsFromConfig(cfg)
	c.IAMFor = func(key AccessKey) RotateAPI {
		k := cfg.Copy()
		k.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret.Reveal(), "")
		return iam.NewFromConfig(k)
	}
	return c
}

// STSFactory returns an STS client signed with the given key. Verification
// builds one per key it checks.
type STSFactory func(key AccessKey) CallerIdentityAPI

// STSFromConfig returns an STSFactory that uses cfg (region, endpoint,
// HTTP client, retryer, API options) with the key's credentials in place of
// cfg's own.
func STSFromConfig(cfg aws.Config) STSFactory {
	return func(key AccessKey) CallerIdentityAPI {
		c := cfg.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret.Reveal(), "")
		return sts.NewFromConfig(c)
	}
}

// SetupClients are the clients SetupRotation uses.
type SetupClients struct {
	SecretsManager SetupSecretsAPI
	IAM            SetupIAMAPI
	Lambda         SetupLambdaAPI
}

// PlanSetupClients are the clients PlanSetup uses: it only reads.
type PlanSetupClients struct {
	SecretsManager PlanSetupSecretsAPI
	IAM            PlanSetupIAMAPI
	Lambda         PlanSetupLambdaAPI
}

// Plan returns the PlanSetupClients of the same clients.
func (c SetupClients) Plan() PlanSetupClients {
	return PlanSetupClients{SecretsManager: c.SecretsManager, IAM: c.IAM, Lambda: c.Lambda}
}

// TeardownClients are the clients TeardownRotation uses.
type TeardownClients struct {
	SecretsManager TeardownSecretsAPI
	IAM            TeardownIAMAPI
	Lambda         TeardownLambdaAPI
}

// SetupClientsFromConfig returns SetupClients whose clients use cfg.
func SetupClientsFromConfig(cfg aws.Config) SetupClients {
	return SetupClients{SecretsManager: secretsmanager.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)}
}

// TeardownClientsFromConfig returns TeardownClients whose clients use cfg.
func TeardownClientsFromConfig(cfg aws.Config) TeardownClients {
	return TeardownClients{SecretsManager: secretsmanager.NewFromConfig(cfg), IAM: iam.NewFromConfig(cfg), Lambda: lambda.NewFromConfig(cfg)}
}
