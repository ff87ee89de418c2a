package main

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// smStartedRotation is moto's Secrets Manager plus what moto's RotateSecret
// cannot do without running a Lambda: the AWSPENDING version named by the
// token (without a value yet) and rotation turned on.
type smStartedRotation struct {
	c     *secretsmanager.Client
	token string
}

func (s *smStartedRotation) DescribeSecret(ctx context.Context, in *secretsmanager.DescribeSecretInput, o ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	out, err := s.c.DescribeSecret(ctx, in, o...)
	if err != nil {
		return out, err
	}
	out.RotationEnabled = aws.Bool(true)
	if _, ok := out.VersionIdsToStages[s.token]; !ok {
		for v, st := range out.VersionIdsToStages {
			out.VersionIdsToStages[v] = slices.DeleteFunc(slices.Clone(st), func(x string) bool { return x == keyrotate.StagePending })
		}
		out.VersionIdsToStages[s.token] = []string{keyrotate.StagePending}
	}
	return out, nil
}

func (s *smStartedRotation) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return s.c.GetSecretValue(ctx, in, o...)
}

func (s *smStartedRotation) PutSecretValue(ctx context.Context, in *secretsmanager.PutSecretValueInput, o ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	return s.c.PutSecretValue(ctx, in, o...)
}

func (s *smStartedRotation) UpdateSecretVersionStage(ctx context.Context, in *secretsmanager.UpdateSecretVersionStageInput, o ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	return s.c.UpdateSecretVersionStage(ctx, in, o...)
}

// The entry point runs the four steps Secrets Manager sends, against moto
// with authentication enforced; the new key authenticates.
func TestHandleAgainstMoto(t *testing.T) {
	env := awstest.New(t)
	admin := env.EnforceAuth()
	ctx := context.Background()
	iamAPI := iam.NewFromConfig(admin)
	smAPI := secretsmanager.NewFromConfig(admin)
	if _, err := iamAPI.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	k, err := iamAPI.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	first := keyrotate.AccessKey{UserName: "app", AccessKeyID: *k.AccessKey.AccessKeyId, Secret: awsguard.NewSecret(*k.AccessKey.SecretAccessKey)}
	doc, _ := keyrotate.EncodeSecretValue(first, "")
	if _, err := smAPI.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("app"), SecretString: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}

	const token = "6c1c7f4e-0000-4000-8000-000000000001"
	calls := apicalls.New()
	cfg := admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, calls.APIOption)
	h := keyrotate.NewHandler(&smStartedRotation{c: secretsmanager.NewFromConfig(cfg), token: token}, iam.NewFromConfig(cfg), keyrotate.STSFromConfig(cfg),
		func(o *keyrotate.HandlerOptions) {
			// Success returns at once; a long bound keeps a loaded machine from
			// failing it.
			o.Verify.MaxWait, o.Verify.MinDelay = 30*time.Second, 10*time.Millisecond
		})
	fn := handle(h)

	err = fn(ctx, events.SecretsManagerSecretRotationEvent{Step: "rotateSecret", SecretID: "app", ClientRequestToken: token})
	if !errors.Is(err, keyrotate.ErrUnknownStep) || calls.Total() != 0 {
		t.Fatalf("unknown step: err %v, %d calls; want ErrUnknownStep and no call", err, calls.Total())
	}
	for _, step := range []string{"createSecret", "setSecret", "testSecret", "finishSecret"} {
		if err := fn(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: "app", ClientRequestToken: token}); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	out, err := smAPI.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("app"), VersionStage: aws.String(keyrotate.StageCurrent)})
	if err != nil {
		t.Fatal(err)
	}
	cur, err := keyrotate.DecodeSecretValue(aws.ToString(out.SecretString))
	if err != nil || cur.AccessKeyID == first.AccessKeyID || aws.ToString(out.VersionId) != token {
		t.Fatalf("AWSCURRENT = %s (version %s), %v", cur.AccessKeyID, aws.ToString(out.VersionId), err)
	}
	if _, err := keyrotate.STSFromConfig(admin)(cur).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Errorf("new key does not authenticate: %v", err)
	}
}
