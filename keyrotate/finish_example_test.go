package keyrotate_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/keyrotate"
)

// FinishRotation, run on a schedule after RotateAccessKey, deletes the
// Inactive keys whose recorded deactivation is older than the grace
// period and that IAM saw no use of since; a key still in its grace
// period stays. (The IAM client is a fake holding that state.)
func ExampleFinishRotation() {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	t0 := now.AddDate(0, -6, 0)
	api := rotFakeState(nil, "alice", []types.AccessKeyMetadata{
		rotMeta("AKIAOLDROTATED000001", types.StatusTypeInactive, t0),
		rotMeta("AKIARECENTLYOFF00002", types.StatusTypeInactive, t0.AddDate(0, 3, 0)),
		rotMeta("AKIAINUSE00000000003", types.StatusTypeActive, now.AddDate(0, 0, -2)),
	}, []types.Tag{
		{Key: aws.String(keyrotate.TagDeactivatedPrefix + "AKIAOLDROTATED000001"), Value: aws.String(now.AddDate(0, 0, -10).Format(time.RFC3339))},
		{Key: aws.String(keyrotate.TagDeactivatedPrefix + "AKIARECENTLYOFF00002"), Value: aws.String(now.AddDate(0, 0, -2).Format(time.RFC3339))},
	})
	api.getAccessKeyLastUsed = func(*iam.GetAccessKeyLastUsedInput) (*iam.GetAccessKeyLastUsedOutput, error) {
		return &iam.GetAccessKeyLastUsedOutput{UserName: aws.String("alice"),
			AccessKeyLastUsed: &types.AccessKeyLastUsed{LastUsedDate: aws.Time(now.AddDate(0, 0, -11)), ServiceName: aws.String("s3")}}, nil
	}
	api.deleteAccessKey = func(*iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error) {
		return &iam.DeleteAccessKeyOutput{}, nil
	}
	api.untagUser = func(*iam.UntagUserInput) (*iam.UntagUserOutput, error) { return &iam.UntagUserOutput{}, nil }
	api.tagUser = func(*iam.TagUserInput) (*iam.TagUserOutput, error) { return &iam.TagUserOutput{}, nil }

	rot, err := keyrotate.FinishRotation(context.Background(), api, "alice", 7*24*time.Hour,
		func(o *keyrotate.FinishOptions) { o.Now = func() time.Time { return now } })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rot.Reason)
	for _, a := range rot.Actions {
		fmt.Println(" ", a.Outcome, a.Kind, a.Resource)
	}
	for _, k := range rot.OldKeys {
		line := fmt.Sprintf("%s %s", k.KeyID, k.Outcome)
		if !k.DeleteAfter.IsZero() {
			line += " until " + k.DeleteAfter.Format(time.DateOnly)
		}
		fmt.Println(line)
	}
	// Output:
	// applied
	//   done delete-old-key AKIAOLDROTATED000001
	//   done clear-record alice
	// AKIAOLDROTATED000001 deleted
	// AKIARECENTLYOFF00002 kept-in-grace until 2026-12-06
}
