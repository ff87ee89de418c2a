// Command audit-lambda is awsguard's read-only audit of one account as an
// AWS Lambda function, so that an organization audits its accounts with
// Step Functions (a Distributed Map over the accounts, one invocation
// each) or EventBridge Scheduler instead of one long process: the Lambda
// entry point around the packages' audits, and nothing more.
//
// The event names the account, the role to assume in it (none: the
// function's own account), the regions, where to write the report, and
// whether to publish it to Security Hub:
//
//	{"account": "111122223333", "role": "AwsguardAudit", "external_id": "...",
//	 "regions": ["us-east-1", "ap-northeast-2"], "bucket": "audit-reports",
//	 "key_prefix": "awsguard/", "security_hub": true}
//
// regions may be ["all"] (the account's enabled regions) or left out (the
// function's region). The function audits what audit does (IAM, and per
// region WAF, HTTPS and certificates, network exposure, EC2 Instance
// Connect, Inspector, alerts and logs) with the role's credentials, writes
// the report as JSON in the findings contract to
// s3://BUCKET/PREFIXACCOUNT/TIME.json with its own credentials, publishes the findings to
// the account's Security Hub (through the role) when asked, and returns a
// summary: the counts by status and of failures by severity, and the S3
// key. A part of the account that could not be read is ERROR findings in
// the report and listed in the summary's errors; the invocation still
// succeeds, so that a Map run goes on. A bad event, a role that cannot be
// assumed, or a report that cannot be written fails the invocation.
//
// Build it for the provided.al2023 runtime:
//
//	GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/audit-lambda
//	zip audit.zip bootstrap
//	aws lambda create-function --function-name awsguard-audit --runtime provided.al2023 \
//	    --architectures arm64 --handler bootstrap --zip-file fileb://audit.zip --role ROLE_ARN \
//	    --timeout 900 --memory-size 256
//
// The execution role needs the basic Lambda execution policy (CloudWatch
// Logs), s3:PutObject on the bucket and sts:AssumeRole on the member role
// (audit-lambda -print-policy prints these); the member role needs what
// audit -print-policy prints, securityhub:BatchImportFindings when
// security_hub is set, and a trust policy for the execution role. The
// README's "At organization scale" shows both and the state machine.
//
// Run outside Lambda (AWS_LAMBDA_RUNTIME_API unset) it prints this
// description and exits 2, as for any bad command line: it has nothing to
// do there. -h prints it and exits 0; -print-policy prints the execution
// role's policy and exits 0. The common flags apply to the function's AWS
// configuration; -timeout bounds only its start-up.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"reflect"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard"

	"github.com/awsguard/awsguard/internal/cli"
)

func main() { cli.Main("audit-lambda", run) }

// RuntimeEnv is the variable the Lambda runtime sets: the address of its
// runtime API.
const RuntimeEnv = "AWS_LAMBDA_RUNTIME_API"

const summary = `audit-lambda is the AWS Lambda function that audits one account (read-only:
IAM, and per region WAF, HTTPS, network exposure, Instance Connect,
Inspector, alerts and logs) through a role assumed in it, writes the report
(JSON, the findings contract) to S3, optionally publishes it to Security
Hub, and returns a summary. It runs only inside Lambda, one invocation per
account (Step Functions Distributed Map, EventBridge Scheduler). Event:

  {"account": "111122223333", "role": "AwsguardAudit", "external_id": "optional",
   "regions": ["us-east-1"], "bucket": "audit-reports", "key_prefix": "awsguard/",
   "security_hub": false}

Deploy it:

  GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -o bootstrap ./examples/audit-lambda
  zip audit.zip bootstrap
  aws lambda create-function --function-name awsguard-audit --runtime provided.al2023 \
      --architectures arm64 --handler bootstrap --zip-file fileb://audit.zip --role ROLE_ARN \
      --timeout 900 --memory-size 256

The execution role needs the basic execution policy, s3:PutObject on the
bucket and sts:AssumeRole on the member role (-print-policy prints them);
the member role needs what "audit -print-policy" prints (and
securityhub:BatchImportFindings for security_hub) and must trust the
execution role. Exit codes outside Lambda: 0 for -h and -print-policy, 2
otherwise.`

// The seam the tests replace: the Lambda runtime loop.
var start = func(handler any) { lambda.Start(handler) }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := cli.New("audit-lambda", summary)
	c.Uses(reflect.TypeFor[PutObjectAPI](), reflect.TypeFor[awsguard.AssumeRoleAPI]())
	return c.Run(ctx, args, stdout, stderr, func(ctx context.Context) error {
		if os.Getenv(RuntimeEnv) == "" {
			return cli.Usagef("not running in AWS Lambda (%s is not set): deploy it as above", RuntimeEnv)
		}
		cfg, err := c.Config(ctx)
		if err != nil {
			return err
		}
		h := &Handler{Config: cfg, STS: sts.NewFromConfig(cfg), S3: s3.NewFromConfig(cfg),
			Logger: slog.New(slog.NewJSONHandler(stderr, nil))}
		start(h.Handle)
		return nil
	})
}

var _ PutObjectAPI = (*s3.Client)(nil)
