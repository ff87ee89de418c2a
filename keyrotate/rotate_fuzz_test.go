package keyrotate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/keyrotate"
)

// The records on a user are outside input (anyone with iam:TagUser can
// write them). Whatever they say, a plan never deletes the key named in
// use, and never deactivates it before a new key is delivered (in this run
// or, by the record, in an earlier one).
func FuzzRotatePlanFromRecords(f *testing.F) {
	f.Add("old=AKIAAAAAAAAAAAAAAAAA", "2026-01-01T00:00:00Z", true, false)
	f.Add("old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB", "", false, true)
	f.Add("old=AKIABBBBBBBBBBBBBBBB", "garbage", true, true)
	f.Add("new=AKIAAAAAAAAAAAAAAAAA old= new=", "2026-13-01", false, false)
	f.Fuzz(func(t *testing.T, rec, deact string, bActive, deleteOldActive bool) {
		const a, b = "AKIAAAAAAAAAAAAAAAAA", "AKIABBBBBBBBBBBBBBBB"
		bStatus := types.StatusTypeInactive
		if bActive {
			bStatus = types.StatusTypeActive
		}
		var tags []types.Tag
		if rec != "" {
			tags = append(tags, types.Tag{Key: aws.String(keyrotate.TagRotation), Value: aws.String(rec)})
		}
		if deact != "" {
			tags = append(tags, types.Tag{Key: aws.String(keyrotate.TagDeactivatedPrefix + b), Value: aws.String(deact)})
		}
		fake := rotFakeState(nil, "fuzz", []types.AccessKeyMetadata{
			rotMeta(a, types.StatusTypeActive, rotT0), rotMeta(b, bStatus, rotT0.Add(time.Hour)),
		}, tags)
		rot, err := keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: fake}, "fuzz", func(o *keyrotate.Options) {
			o.DryRun, o.InUseKeyID, o.DeleteOldActive = true, a, deleteOldActive
		})
		if err != nil {
			return
		}
		delivered := rot.Resumed
		for _, act := range rot.Plan {
			switch {
			case act.Kind == keyrotate.ActionDeliverKey:
				delivered = true
			case act.Resource == a && (act.Kind == keyrotate.ActionDeleteKey || act.Kind == keyrotate.ActionDeleteOldKey):
				t.Fatalf("plan deletes the key in use: %+v", rot.Plan)
			case act.Resource == a && act.Kind == keyrotate.ActionDeactivateKey && !delivered:
				t.Fatalf("plan deactivates the key in use before a delivery: %+v", rot.Plan)
			}
		}
		if rot.Resumed && (rot.NewKey == nil || rot.NewKey.AccessKeyID == a && slices.ContainsFunc(rot.Plan, func(x keyrotate.Action) bool { return x.Kind == keyrotate.ActionDeactivateKey && x.Resource == a })) {
			t.Fatalf("resumed plan deactivates the delivered key: %+v", rot)
		}
		if _, err := keyrotate.FinishRotation(context.Background(), fake, "fuzz", time.Hour, func(o *keyrotate.Options) { o.DryRun = true }); err != nil && rec == "" {
			t.Fatalf("FinishRotation without a rotation record: %v", err)
		}
	})
}
