package observe_test

import (
	"encoding/json"
	"testing"

	"github.com/awsguard/awsguard/observe"
)

// The topic policy lets only the account's own rules and alarms publish.
func TestTopicPolicyStatementsGolden(t *testing.T) {
	st, err := observe.TopicPolicyStatements("arn:aws:sns:ap-northeast-2:123456789012:awsguard-alerts")
	must(t, err)
	b, err := json.MarshalIndent(st, "", "  ")
	must(t, err)
	golden(t, "topic-policy-statements.json", append(b, '\n'))
	if _, err := observe.TopicPolicyStatements("arn:aws:sqs:us-east-1:123456789012:q"); err == nil {
		t.Error("accepted an SQS ARN")
	}
}
