package keyrotate_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

// A rotation function builds one handler and runs the step of each event.
func ExampleNewHandler() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return
	}
	h := keyrotate.NewHandler(secretsmanager.NewFromConfig(cfg), iam.NewFromConfig(cfg), keyrotate.STSFromConfig(cfg))
	res, err := h.HandleEvent(ctx, "createSecret", "app/access-key", "f5e1c0a8-4b1d-4a59-9d43-0c1f6a2b9e77", "")
	var re *awsguard.StepError
	if errors.As(err, &re) {
		fmt.Println(re.Step, re.Err, re.ToDo)
		return
	}
	fmt.Println(res.CreatedKeyID)
}

func ExampleParseStep() {
	for _, s := range []string{"finishSecret", "deleteSecret"} {
		step, err := keyrotate.ParseStep(s)
		fmt.Println(step, errors.Is(err, keyrotate.ErrUnknownStep))
	}
	// Output:
	// finishSecret false
	//  true
}

func ExampleEncodeSecretValue() {
	doc, _ := keyrotate.EncodeSecretValue(keyrotate.AccessKey{UserName: "app", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Secret: awsguard.NewSecret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")}, `{"Region":"eu-west-1"}`)
	fmt.Println(doc)
	key, _ := keyrotate.DecodeSecretValue(doc)
	fmt.Println(key.UserName, key.AccessKeyID, key.Secret)
	// Output:
	// {"AccessKeyId":"AKIAIOSFODNN7EXAMPLE","Region":"eu-west-1","SecretAccessKey":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","UserName":"app"}
	// app AKIAIOSFODNN7EXAMPLE [REDACTED]
}
