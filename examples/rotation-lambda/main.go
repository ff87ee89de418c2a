// Command rotation-lambda is the Secrets Manager rotation function for an
// IAM user's access key: the Lambda entry point around keyrotate's
// handler, and nothing more.
//
// Build it for the provided.al2023 runtime and deploy it with an execution
// role; then let rotation-setup grant that role the rotation policy, give
// Secrets Manager the invoke permission and turn rotation on:
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/rotation-lambda
//	zip rotation.zip bootstrap
//	aws lambda create-function --function-name key-rotator --runtime provided.al2023 \
//	    --architectures arm64 --handler bootstrap --zip-file fileb://rotation.zip --role ROLE_ARN
//
// The execution role needs the basic Lambda execution policy (CloudWatch
// Logs) and the rotation policy, which rotation-setup puts on it scoped to
// the secret and the user; rotation-lambda -print-policy prints its
// actions. The function reads the standard AWS configuration of its
// environment. It logs one JSON line per step outcome to stderr
// (CloudWatch Logs); secrets never appear there.
//
// Run outside Lambda (AWS_LAMBDA_RUNTIME_API unset) it prints this
// description and exits 2, as for any bad command line: it has nothing to
// do there. -h prints it and exits 0; -print-policy prints the role's
// policy and exits 0. The common flags apply to the function's AWS
// configuration; -timeout bounds only its start-up (each invocation is
// bounded by the function's timeout).
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"reflect"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard/keyrotate"

	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("rotation-lambda", run) }

// RuntimeEnv is the variable the Lambda runtime sets: the address of its
// runtime API.
const RuntimeEnv = "AWS_LAMBDA_RUNTIME_API"

const summary = `rotation-lambda is the AWS Lambda function that Secrets Manager invokes to
rotate the access key of an IAM user held in a secret (the four steps
createSecret, setSecret, testSecret, finishSecret). It runs only inside
Lambda. Deploy it:

  GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/rotation-lambda
  zip rotation.zip bootstrap
  aws lambda create-function --function-name key-rotator --runtime provided.al2023 \
      --architectures arm64 --handler bootstrap --zip-file fileb://rotation.zip --role ROLE_ARN

The runtime is provided.al2023 and the handler bootstrap. The execution
role ROLE_ARN must trust lambda.amazonaws.com and hold the basic execution
policy (arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole,
for its logs). Then rotation-setup gives the role the rotation policy,
scoped to the secret and the user (-print-policy here prints its actions),
lets Secrets Manager invoke the function and turns rotation on:

  rotation-setup -secret-id NAME -user NAME -function-arn FUNCTION_ARN

It logs one JSON line per step to CloudWatch Logs; secrets never appear
there. In Lambda, -timeout bounds only the start-up: each invocation is
bounded by the function's own timeout. Exit codes outside Lambda: 0 for
-h and -print-policy, 2 otherwise.`

// The seams the tests replace: the Lambda runtime loop, and the Secrets
// Manager client (moto cannot start a rotation).
var (
	start      = func(handler any) { lambda.Start(handler) }
	newSecrets = func(cfg aws.Config) keyrotate.HandlerSecretsAPI { return secretsmanager.NewFromConfig(cfg) }
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("rotation-lambda", summary)
	c.Uses(reflect.TypeFor[keyrotate.HandlerSecretsAPI](), reflect.TypeFor[keyrotate.HandlerIAMAPI](), reflect.TypeFor[keyrotate.CallerIdentityAPI]())
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		if os.Getenv(RuntimeEnv) == "" {
			return cli.Usagef("not running in AWS Lambda (%s is not set): deploy it as above", RuntimeEnv)
		}
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		logger := slog.New(slog.NewJSONHandler(stderr, nil))
		start(handle(keyrotate.NewHandler(newSecrets(cfg), iam.NewFromConfig(cfg), keyrotate.STSFromConfig(cfg),
			func(o *keyrotate.HandlerOptions) { o.Logger = logger })))
		return nil
	})
}

// handle adapts the handler to the Lambda event: the event's Step is a
// plain string, which HandleEvent maps to keyrotate's steps (an unknown one
// is an error, and nothing is done).
func handle(h *keyrotate.Handler) func(context.Context, events.SecretsManagerSecretRotationEvent) error {
	return func(ctx context.Context, ev events.SecretsManagerSecretRotationEvent) error {
		_, err := h.HandleEvent(ctx, ev.Step, ev.SecretID, ev.ClientRequestToken, ev.RotationToken)
		return err
	}
}
