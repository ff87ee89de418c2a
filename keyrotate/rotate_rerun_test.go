package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// rerunPlan plans a dry run from the given keys and tags.
func rerunPlan(t *testing.T, keys []types.AccessKeyMetadata, rec string, extra []types.Tag, opt func(*keyrotate.Options)) (*keyrotate.Rotation, error) {
	t.Helper()
	tags := append([]types.Tag{{Key: aws.String(keyrotate.TagRotation), Value: aws.String(rec)}}, extra...)
	fake := rotFakeState(t, "alice", keys, tags)
	return keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: fake}, "alice", func(o *keyrotate.Options) {
		o.DryRun, o.Now = true, func() time.Time { return rotT0.Add(48 * time.Hour) }
		if opt != nil {
			opt(o)
		}
	})
}

func planDeletes(rot *keyrotate.Rotation, id string) bool {
	for _, a := range rot.Actions {
		if a.Resource == id && (a.Kind == keyrotate.ActionDeleteKey || a.Kind == keyrotate.ActionDeleteOldKey) {
			return true
		}
	}
	return false
}

// A record left behind by a run that never created its key (CreateKey
// refused, the context cancelled, the process killed) must not make a key
// added later by an operator an orphan.
func TestRotateStaleIntentNamesNoOrphan(t *testing.T) {
	const a, k = "AKIAAAAAAAAAAAAAAAAA", "AKIAKKKKKKKKKKKKKKKK"
	withAt := "old=" + a + " at=" + rotT0.Format(time.RFC3339)
	tests := []struct {
		name    string
		created time.Time
		status  types.StatusType
		rec     string
		orphan  bool
		wantErr error
	}{
		{"active key added a day after a stale record", rotT0.Add(24 * time.Hour), types.StatusTypeActive, withAt, false, keyrotate.ErrKeyLimit},
		{"active key added before the record", rotT0.Add(-24 * time.Hour), types.StatusTypeActive, withAt, false, keyrotate.ErrKeyLimit},
		{"active key, record without a time", rotT0.Add(time.Second), types.StatusTypeActive, "old=" + a, false, keyrotate.ErrKeyLimit},
		{"inactive key older than the record: deleted to make room", rotT0.Add(-24 * time.Hour), types.StatusTypeInactive, withAt, false, nil},
		{"key created just after the record: the orphan", rotT0.Add(time.Second), types.StatusTypeActive, withAt, true, nil},
		{"key created within the clock skew before the record: the orphan", rotT0.Add(-time.Minute), types.StatusTypeActive, withAt, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := []types.AccessKeyMetadata{rotMeta(a, types.StatusTypeActive, rotT0.Add(-72*time.Hour)), rotMeta(k, tt.status, tt.created)}
			rot, err := rerunPlan(t, keys, tt.rec, nil, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v (plan %+v)", err, tt.wantErr, rot.Actions)
			}
			if err != nil {
				return
			}
			if !planDeletes(rot, k) {
				t.Fatalf("plan keeps %s next to the key in use: %+v", k, rot.Actions)
			}
			if got := strings.Contains(rot.Actions[0].Why, "orphan"); got != tt.orphan {
				t.Errorf("orphan = %v, want %v: %+v", got, tt.orphan, rot.Actions)
			}
		})
	}
}

// CreateAccessKey refused for certain: the intent record is removed, so it
// cannot outlive the run; a key added later by an operator survives the
// next run.
func testRotateCreateRefusedClearsRecord(t *testing.T) {
	w := newRotWorld(t, "app")
	w.addKey(types.StatusTypeActive)
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "CreateAccessKey", Nth: 1, Kind: fault.APIError, Code: "LimitExceeded", Status: 409})
	_, err := keyrotate.RotateAccessKey(context.Background(), w.clients(inj), w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify = w.deliver, rotFast })
	var se *awsguard.StepError
	if !errors.As(err, &se) || se.Step != keyrotate.ActionCreateKey {
		t.Fatalf("err = %v, want a StepError at %s", err, keyrotate.ActionCreateKey)
	}
	if v, ok := w.tags()[keyrotate.TagRotation]; ok {
		t.Fatalf("the intent record outlived a refused CreateAccessKey: %q", v)
	}
	added := w.addKey(types.StatusTypeActive)
	_, err = keyrotate.RotateAccessKey(context.Background(), w.clients(nil), w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify = w.deliver, rotFast })
	if !errors.Is(err, keyrotate.ErrKeyLimit) {
		t.Fatalf("re-run err = %v, want ErrKeyLimit", err)
	}
	if w.status(added.AccessKeyID) != types.StatusTypeActive {
		t.Fatalf("the operator's key %s was touched: %v", added.AccessKeyID, w.keys())
	}
}

// The record left by a run killed before CreateKey: an operator's key added
// later is not an orphan.
func testRotateStaleRecordOnMoto(t *testing.T) {
	w := newRotWorld(t, "app")
	old := w.addKey(types.StatusTypeActive)
	stale := "old=" + old.AccessKeyID + " at=" + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if _, err := w.iam.TagUser(context.Background(), &iam.TagUserInput{UserName: aws.String(w.user), Tags: []types.Tag{{Key: aws.String(keyrotate.TagRotation), Value: aws.String(stale)}}}); err != nil {
		t.Fatal(err)
	}
	added := w.addKey(types.StatusTypeActive)
	_, err := keyrotate.RotateAccessKey(context.Background(), w.clients(nil), w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify = w.deliver, rotFast })
	if !errors.Is(err, keyrotate.ErrKeyLimit) {
		t.Fatalf("err = %v, want ErrKeyLimit", err)
	}
	if w.status(added.AccessKeyID) != types.StatusTypeActive {
		t.Fatalf("the operator's key %s was deleted: %v", added.AccessKeyID, w.keys())
	}
}

// A Deliver interrupted by its context may have delivered the key: the run
// keeps the new key and the pending record, and the re-run naming the key
// in use finishes. Another Deliver error still rolls back.
func testRotateDeliverInterruptedKeepsNewKey(t *testing.T) {
	w := newRotWorld(t, "app")
	old := w.addKey(types.StatusTypeActive)
	for _, cause := range []error{context.DeadlineExceeded, context.Canceled} {
		_, err := keyrotate.RotateAccessKey(context.Background(), w.clients(nil), w.user, func(o *keyrotate.Options) {
			o.Verify = rotFast
			o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
				_ = w.deliver(ctx, k) // took effect, then the wait for the answer ran out
				return fmt.Errorf("write secret: %w", cause)
			}
		})
		var se *awsguard.StepError
		if !errors.As(err, &se) || se.Step != keyrotate.ActionDeliverKey || len(se.RolledBack) != 0 || !strings.Contains(se.ToDo, "InUseKeyID") {
			t.Fatalf("%v: err = %v, want a StepError at %s that keeps the key and says to name the key in use", cause, err, keyrotate.ActionDeliverKey)
		}
		nk, _ := w.lastDelivered()
		if w.status(nk.AccessKeyID) != types.StatusTypeActive || w.status(old.AccessKeyID) != types.StatusTypeActive {
			t.Fatalf("%v: keys %v, want the delivered %s and the old %s Active", cause, w.keys(), nk.AccessKeyID, old.AccessKeyID)
		}
		if v := w.tags()[keyrotate.TagRotation]; !strings.Contains(v, "new="+nk.AccessKeyID+" pending") {
			t.Fatalf("%v: record %q, want the pending new key", cause, v)
		}
		rot, err := keyrotate.RotateAccessKey(context.Background(), w.clients(nil), w.user, func(o *keyrotate.Options) {
			o.Deliver, o.Verify, o.InUseKeyID = w.deliver, rotFast, nk.AccessKeyID
		})
		if err != nil || !rot.Resumed || w.status(nk.AccessKeyID) != types.StatusTypeActive || w.status(old.AccessKeyID) != types.StatusTypeInactive {
			t.Fatalf("%v: re-run naming %s: err %v, keys %v", cause, nk.AccessKeyID, err, w.keys())
		}
		if _, err := keyrotate.FinishRotation(context.Background(), w.iam, w.user, 0); err != nil {
			t.Fatal(err)
		}
		old = nk
	}
}
