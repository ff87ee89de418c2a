package keyrotate

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// IAM is the part of *iam.Client that RotateAccessKey, RotateAccessKeys and
// FinishRotation call. Its methods are the IAM permissions they need, on the
// rotated user: iam:GetUser, iam:ListAccessKeys, iam:CreateAccessKey,
// iam:UpdateAccessKey, iam:DeleteAccessKey, iam:GetAccessKeyLastUsed,
// iam:ListUserTags, iam:TagUser and iam:UntagUser.
type IAM interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListUserTags(context.Context, *iam.ListUserTagsInput, ...func(*iam.Options)) (*iam.ListUserTagsOutput, error)
	TagUser(context.Context, *iam.TagUserInput, ...func(*iam.Options)) (*iam.TagUserOutput, error)
	UntagUser(context.Context, *iam.UntagUserInput, ...func(*iam.Options)) (*iam.UntagUserOutput, error)
}

var _ IAM = (*iam.Client)(nil)

// Clients are the clients a direct rotation uses.
type Clients struct {
	// IAM reads and changes the user's keys and tags. Required.
	IAM IAM
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
	IAMFor func(AccessKey) IAM
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
	c.IAMFor = func(key AccessKey) IAM {
		k := cfg.Copy()
		k.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret.Reveal(), "")
		return iam.NewFromConfig(k)
	}
	return c
}
