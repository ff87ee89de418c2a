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
// The function reads the standard AWS configuration of its environment.
// It logs one JSON line per step outcome to stderr (CloudWatch Logs);
// secrets never appear there.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard/keyrotate"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "rotation-lambda: load AWS configuration:", err)
		os.Exit(1)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	lambda.Start(handle(keyrotate.NewHandler(secretsmanager.NewFromConfig(cfg), iam.NewFromConfig(cfg), keyrotate.STSFromConfig(cfg),
		func(o *keyrotate.HandlerOptions) { o.Logger = logger })))
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
