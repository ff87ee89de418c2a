package keyrotate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

// errUnexpectedCall is what a fake returns for a call the test did not expect.
var errUnexpectedCall = errors.New("fake: unexpected call")

// smFakeSM is a hand-written Secrets Manager fake: one function per call.
type smFakeSM struct {
	describe func(*secretsmanager.DescribeSecretInput) (*secretsmanager.DescribeSecretOutput, error)
	get      func(*secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error)
	put      func(*secretsmanager.PutSecretValueInput) (*secretsmanager.PutSecretValueOutput, error)
	stage    func(*secretsmanager.UpdateSecretVersionStageInput) (*secretsmanager.UpdateSecretVersionStageOutput, error)
}

func (f *smFakeSM) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.describe == nil {
		return nil, errUnexpectedCall
	}
	return f.describe(in)
}

func (f *smFakeSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.get == nil {
		return nil, errUnexpectedCall
	}
	return f.get(in)
}

func (f *smFakeSM) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.put == nil {
		return nil, errUnexpectedCall
	}
	return f.put(in)
}

func (f *smFakeSM) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.stage == nil {
		return nil, errUnexpectedCall
	}
	return f.stage(in)
}

// smFakeIAM is a hand-written IAM fake.
type smFakeIAM struct {
	list   func(*iam.ListAccessKeysInput) (*iam.ListAccessKeysOutput, error)
	create func(*iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error)
	update func(*iam.UpdateAccessKeyInput) (*iam.UpdateAccessKeyOutput, error)
	del    func(*iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error)
	used   func(*iam.GetAccessKeyLastUsedInput) (*iam.GetAccessKeyLastUsedOutput, error)
}

func (f *smFakeIAM) GetAccessKeyLastUsed(ctx context.Context, in *iam.GetAccessKeyLastUsedInput, _ ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.used == nil {
		return nil, errUnexpectedCall
	}
	return f.used(in)
}

func (f *smFakeIAM) ListAccessKeys(ctx context.Context, in *iam.ListAccessKeysInput, _ ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.list == nil {
		return nil, errUnexpectedCall
	}
	return f.list(in)
}

func (f *smFakeIAM) CreateAccessKey(ctx context.Context, in *iam.CreateAccessKeyInput, _ ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.create == nil {
		return nil, errUnexpectedCall
	}
	return f.create(in)
}

func (f *smFakeIAM) UpdateAccessKey(ctx context.Context, in *iam.UpdateAccessKeyInput, _ ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.update == nil {
		return nil, errUnexpectedCall
	}
	return f.update(in)
}

func (f *smFakeIAM) DeleteAccessKey(ctx context.Context, in *iam.DeleteAccessKeyInput, _ ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.del == nil {
		return nil, errUnexpectedCall
	}
	return f.del(in)
}

// The real service's start of a rotation: the pending version exists
// without a value. createSecret passes Secrets Manager's RotationToken on,
// and IAM's AccessDenied is wrapped with its type and a remedy that is not
// "retry".
func TestCreateSecretWithFakes(t *testing.T) {
	const tok = "00000000-0000-4000-8000-0000000000aa"
	cur, _ := keyrotate.EncodeSecretValue(keyrotate.AccessKey{UserName: "app", AccessKeyID: "AKIACURRENT", Secret: awsguard.NewSecret("s")}, "")
	sm := &smFakeSM{
		describe: func(*secretsmanager.DescribeSecretInput) (*secretsmanager.DescribeSecretOutput, error) {
			return &secretsmanager.DescribeSecretOutput{ARN: aws.String("arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"), RotationEnabled: aws.Bool(true),
				VersionIdsToStages: map[string][]string{"v1": {"AWSCURRENT"}, tok: {"AWSPENDING"}}}, nil
		},
		get: func(in *secretsmanager.GetSecretValueInput) (*secretsmanager.GetSecretValueOutput, error) {
			if aws.ToString(in.VersionStage) == "AWSCURRENT" {
				return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(cur)}, nil
			}
			return nil, &smtypes.ResourceNotFoundException{Message: aws.String("no value")}
		},
	}
	var puts []*secretsmanager.PutSecretValueInput
	sm.put = func(in *secretsmanager.PutSecretValueInput) (*secretsmanager.PutSecretValueOutput, error) {
		puts = append(puts, in)
		return &secretsmanager.PutSecretValueOutput{}, nil
	}
	var deleted []string
	fakeIAM := &smFakeIAM{
		list: func(*iam.ListAccessKeysInput) (*iam.ListAccessKeysOutput, error) {
			return &iam.ListAccessKeysOutput{AccessKeyMetadata: []iamtypes.AccessKeyMetadata{{AccessKeyId: aws.String("AKIACURRENT"), Status: iamtypes.StatusTypeActive}}}, nil
		},
		create: func(*iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error) {
			return &iam.CreateAccessKeyOutput{AccessKey: &iamtypes.AccessKey{AccessKeyId: aws.String("AKIANEW"), SecretAccessKey: aws.String("n3w"), UserName: aws.String("app")}}, nil
		},
		del: func(in *iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error) {
			deleted = append(deleted, aws.ToString(in.AccessKeyId))
			return &iam.DeleteAccessKeyOutput{}, nil
		},
	}
	h := keyrotate.NewHandler(sm, fakeIAM, nil)
	res, err := h.Rotate(context.Background(), keyrotate.RotationEvent{Step: keyrotate.StepCreateSecret, SecretID: "app", ClientRequestToken: tok, RotationToken: "rot-token"})
	if err != nil {
		t.Fatal(err)
	}
	if res.CreatedKeyID != "AKIANEW" || len(deleted) != 0 || len(puts) != 1 {
		t.Fatalf("result %+v, deleted %v, puts %d", res, deleted, len(puts))
	}
	got, _ := keyrotate.DecodeSecretValue(aws.ToString(puts[0].SecretString))
	if diff := cmp.Diff([]string{"rot-token", tok, "AWSPENDING", "AKIANEW", "n3w"},
		[]string{aws.ToString(puts[0].RotationToken), aws.ToString(puts[0].ClientRequestToken), puts[0].VersionStages[0], got.AccessKeyID, got.Secret.Reveal()}); diff != "" {
		t.Errorf("PutSecretValue (-want +got):\n%s", diff)
	}

	fakeIAM.create = func(*iam.CreateAccessKeyInput) (*iam.CreateAccessKeyOutput, error) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not allowed", Fault: smithy.FaultClient}
	}
	_, err = h.Rotate(context.Background(), keyrotate.RotationEvent{Step: keyrotate.StepCreateSecret, SecretID: "app", ClientRequestToken: tok})
	var re *awsguard.StepError
	var ae smithy.APIError
	if !errors.As(err, &re) || !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || re.ToDo == keyrotate.RemedyRetry || re.Step != string(keyrotate.StepCreateSecret) {
		t.Errorf("err = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Rotate(ctx, keyrotate.RotationEvent{Step: keyrotate.StepCreateSecret, SecretID: "app", ClientRequestToken: tok}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}
