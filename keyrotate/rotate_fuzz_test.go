package keyrotate_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/keyrotate"
)

// The records on a user are outside input (anyone with iam:TagUser can
// write them). Whatever they say, whatever the two keys' statuses and
// whichever key the caller names in use, a plan never deletes the key
// named in use, never deactivates it before a new key is delivered (in
// this run or, by the record, in an earlier one), and never deletes or
// deactivates the user's last Active key.
func FuzzRotatePlanFromRecords(f *testing.F) {
	f.Add("old=AKIAAAAAAAAAAAAAAAAA", "2026-01-01T00:00:00Z", true, true, false, uint8(1))
	f.Add("old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB", "", true, false, true, uint8(1))
	f.Add("old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB pending", "", true, true, false, uint8(0))
	f.Add("old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB pending", "", false, true, false, uint8(2))
	f.Add("old=AKIABBBBBBBBBBBBBBBB", "garbage", true, true, true, uint8(1))
	f.Add("old=AKIAAAAAAAAAAAAAAAAA", "", false, false, true, uint8(0))
	f.Add("old=AKIABBBBBBBBBBBBBBBB new=AKIAAAAAAAAAAAAAAAAA", "2026-01-01T00:00:00Z", true, true, true, uint8(0))
	f.Add("old=AKIABBBBBBBBBBBBBBBB", "", true, false, false, uint8(0))
	f.Add("old=AKIAAAAAAAAAAAAAAAAA at=2026-01-02T03:04:05Z", "", true, true, true, uint8(0))
	f.Add("new=AKIAAAAAAAAAAAAAAAAA old= new=", "2026-13-01", true, false, false, uint8(2))
	f.Fuzz(func(t *testing.T, rec, deact string, aActive, bActive, deleteOldActive bool, inUse uint8) {
		const a, b = "AKIAAAAAAAAAAAAAAAAA", "AKIABBBBBBBBBBBBBBBB"
		status := func(active bool) types.StatusType {
			if active {
				return types.StatusTypeActive
			}
			return types.StatusTypeInactive
		}
		var tags []types.Tag
		if rec != "" {
			tags = append(tags, types.Tag{Key: aws.String(keyrotate.TagRotation), Value: aws.String(rec)})
		}
		if deact != "" {
			tags = append(tags, types.Tag{Key: aws.String(keyrotate.TagDeactivatedPrefix + b), Value: aws.String(deact)})
		}
		fake := rotFakeState(nil, "fuzz", []types.AccessKeyMetadata{
			rotMeta(a, status(aActive), rotT0), rotMeta(b, status(bActive), rotT0.Add(time.Hour)),
		}, tags)
		named := []string{"", a, b}[int(inUse)%3]
		rot, err := keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: fake}, "fuzz", func(o *keyrotate.Options) {
			o.DryRun, o.InUseKeyID, o.DeleteOldActive = true, named, deleteOldActive
		})
		if err != nil {
			return
		}
		active := map[string]bool{a: aActive, b: bActive}
		count := func() int {
			n := 0
			for _, v := range active {
				if v {
					n++
				}
			}
			return n
		}
		delivered := rot.Resumed
		for _, act := range rot.Actions {
			switch act.Kind {
			case keyrotate.ActionCreateKey:
				active["new"] = true
			case keyrotate.ActionDeliverKey:
				delivered = true
			case keyrotate.ActionDeleteKey, keyrotate.ActionDeleteOldKey, keyrotate.ActionDeactivateKey:
				if named != "" && act.Resource == named && act.Kind != keyrotate.ActionDeactivateKey {
					t.Fatalf("plan deletes the key named in use: %+v", rot.Actions)
				}
				if named != "" && act.Resource == named && !delivered {
					t.Fatalf("plan deactivates the key in use before a delivery: %+v", rot.Actions)
				}
				delete(active, act.Resource)
				if count() == 0 {
					t.Fatalf("plan leaves no active key (a %v, b %v, in use %q): %+v", aActive, bActive, named, rot.Actions)
				}
			}
		}
		if rot.Resumed && (rot.NewKey == nil || slices.ContainsFunc(rot.Actions, func(x awsguard.Action) bool {
			return x.Resource == rot.NewKey.AccessKeyID && (x.Kind == keyrotate.ActionDeactivateKey || x.Kind == keyrotate.ActionDeleteKey || x.Kind == keyrotate.ActionDeleteOldKey)
		})) {
			t.Fatalf("resumed plan deactivates or deletes the delivered key: %+v", rot)
		}
		// Resumed only on the record's word or the caller's: the key
		// taken for the delivered one is the record's new= or InUseKeyID.
		if rot.Resumed && !strings.Contains(rec, "new="+rot.NewKey.AccessKeyID) && rot.NewKey.AccessKeyID != named {
			t.Fatalf("resumed to %s on a guess (record %q, in use %q): %+v", rot.NewKey.AccessKeyID, rec, named, rot.Actions)
		}
		// An Active key carrying its deactivation record was reactivated by
		// someone who uses it: a resume never deactivates it.
		if _, perr := time.Parse(time.RFC3339Nano, deact); perr == nil && bActive && rot.Resumed && slices.ContainsFunc(rot.Actions, func(x awsguard.Action) bool {
			return x.Resource == b && (x.Kind == keyrotate.ActionDeactivateKey || x.Kind == keyrotate.ActionDeleteOldKey)
		}) {
			t.Fatalf("resume deactivates the reactivated key %s: %+v", b, rot.Actions)
		}
		if _, err := keyrotate.FinishRotation(context.Background(), fake, "fuzz", time.Hour, func(o *keyrotate.FinishOptions) { o.DryRun = true }); err != nil && rec == "" {
			t.Fatalf("FinishRotation without a rotation record: %v", err)
		}
	})
}
