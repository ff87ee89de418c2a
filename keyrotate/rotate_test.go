package keyrotate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/keyrotate"
)

var rotT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func rotNoDeliver(context.Context, keyrotate.AccessKey) error { return nil }

// Bad input is refused with a field-named error before any call.
func TestRotateValidatesBeforeCalling(t *testing.T) {
	for _, tt := range []struct {
		name  string
		user  string
		opt   func(*keyrotate.Options)
		field string
	}{
		{"empty user", "", nil, "user"},
		{"bad user", "al ice", nil, "user"},
		{"long user", strings.Repeat("a", 65), nil, "user"},
		{"bad in-use id", "alice", func(o *keyrotate.Options) { o.InUseKeyID = "akia-lower" }, "Options.InUseKeyID"},
		{"negative max age", "alice", func(o *keyrotate.Options) { o.MaxAge = -time.Hour }, "Options.MaxAge"},
		{"no deliver", "alice", func(o *keyrotate.Options) { o.Deliver = nil }, "Options.Deliver"},
		{"negative verify", "alice", func(o *keyrotate.Options) { o.Verify.MaxWait = -1 }, "Options.Verify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := &rotFakeIAM{t: t}
			opts := []func(*keyrotate.Options){func(o *keyrotate.Options) { o.Deliver = rotNoDeliver }}
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			_, err := keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: fake, STS: func(keyrotate.AccessKey) keyrotate.CallerIdentityAPI { return nil }}, tt.user, opts...)
			var ie *awsguard.InputError
			if !errors.As(err, &ie) || ie.Field != tt.field || !errors.Is(err, keyrotate.ErrInvalidInput) {
				t.Fatalf("err = %v, want an InputError on %s", err, tt.field)
			}
			if len(fake.calls) != 0 {
				t.Errorf("calls made: %v", fake.calls)
			}
		})
	}
	if _, err := keyrotate.RotateAccessKeys(context.Background(), keyrotate.Clients{IAM: &rotFakeIAM{t: t}}, []string{"a", "a"}, func(o *keyrotate.BatchOptions) { o.DryRun = true }); !errors.Is(err, keyrotate.ErrInvalidInput) {
		t.Errorf("duplicate users: err = %v", err)
	}
	if _, err := keyrotate.FinishRotation(context.Background(), &rotFakeIAM{t: t}, "alice", -time.Second); !errors.Is(err, keyrotate.ErrInvalidInput) {
		t.Errorf("negative grace: err = %v", err)
	}
}

// Planning from fake live state: the plans, the key limit, and how a
// re-run reads the records of an interrupted one.
func TestRotatePlans(t *testing.T) {
	old, newer := rotT0, rotT0.Add(time.Hour)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	deact := keyrotate.TagDeactivatedPrefix
	tests := []struct {
		name    string
		keys    []types.AccessKeyMetadata
		tags    []types.Tag
		opt     func(*keyrotate.Options)
		want    []awsguard.Action // kinds and key IDs only
		resumed bool
		wantErr error
	}{
		{
			name: "one active key",
			keys: []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old)},
			want: []awsguard.Action{
				{Kind: keyrotate.ActionRecordIntent, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionCreateKey}, {Kind: keyrotate.ActionRecordNewKey}, {Kind: keyrotate.ActionVerifyKey},
				{Kind: keyrotate.ActionDeliverKey}, {Kind: keyrotate.ActionRecordDelivery}, {Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"},
				{Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			name: "inactive key makes room; delete old",
			keys: []types.AccessKeyMetadata{rotMeta("AKIAXXXXXXXXXXXXXXXX", types.StatusTypeInactive, old), rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, newer)},
			opt:  func(o *keyrotate.Options) { o.DeleteOld = true },
			want: []awsguard.Action{
				{Kind: keyrotate.ActionDeleteKey, Resource: "AKIAXXXXXXXXXXXXXXXX"},
				{Kind: keyrotate.ActionRecordIntent, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionCreateKey}, {Kind: keyrotate.ActionRecordNewKey}, {Kind: keyrotate.ActionVerifyKey},
				{Kind: keyrotate.ActionDeliverKey}, {Kind: keyrotate.ActionRecordDelivery}, {Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"},
				{Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionDeleteOldKey, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			name:    "two active keys",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			wantErr: keyrotate.ErrKeyLimit,
		},
		{
			name:    "two active keys, in use named but no permission to delete",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = "AKIAAAAAAAAAAAAAAAAA" },
			wantErr: keyrotate.ErrKeyLimit,
		},
		{
			name: "two active keys, older in use: the newer makes room, never the one in use",
			keys: []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			opt:  func(o *keyrotate.Options) { o.InUseKeyID, o.DeleteOldActive = "AKIAAAAAAAAAAAAAAAAA", true },
			want: []awsguard.Action{
				{Kind: keyrotate.ActionDeleteKey, Resource: "AKIABBBBBBBBBBBBBBBB"},
				{Kind: keyrotate.ActionRecordIntent, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionCreateKey}, {Kind: keyrotate.ActionRecordNewKey}, {Kind: keyrotate.ActionVerifyKey},
				{Kind: keyrotate.ActionDeliverKey}, {Kind: keyrotate.ActionRecordDelivery}, {Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"},
				{Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			// Deleting an active key on a guess could cut off the software
			// that uses it.
			name:    "two active keys, none named: the caller must name the key in use",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			opt:     func(o *keyrotate.Options) { o.DeleteOldActive = true },
			wantErr: keyrotate.ErrInvalidInput,
		},
		{
			name:    "in-use key unknown",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old)},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = "AKIAZZZZZZZZZZZZZZZZ" },
			wantErr: keyrotate.ErrInUseKeyNotFound,
		},
		{
			name:    "no key",
			wantErr: keyrotate.ErrNoActiveKey,
		},
		{
			name:    "only inactive",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeInactive, old)},
			wantErr: keyrotate.ErrNoActiveKey,
		},
		{
			name: "young key under MaxAge",
			keys: []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, rotT0.Add(-24*time.Hour))},
			opt:  func(o *keyrotate.Options) { o.MaxAge = 90 * 24 * time.Hour },
			want: []awsguard.Action{},
		},
		{
			name: "interrupted before delivery: the key created right after the record is an orphan",
			keys: []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags: []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA at="+newer.Add(-time.Second).Format(time.RFC3339))},
			want: []awsguard.Action{
				{Kind: keyrotate.ActionDeleteKey, Resource: "AKIABBBBBBBBBBBBBBBB"},
				{Kind: keyrotate.ActionRecordIntent, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionCreateKey}, {Kind: keyrotate.ActionRecordNewKey}, {Kind: keyrotate.ActionVerifyKey},
				{Kind: keyrotate.ActionDeliverKey}, {Kind: keyrotate.ActionRecordDelivery}, {Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"},
				{Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			name:    "interrupted before delivery was recorded, caller names the new key in use: finish",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA")},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = "AKIABBBBBBBBBBBBBBBB" },
			resumed: true,
			want: []awsguard.Action{
				{Kind: keyrotate.ActionRecordDelivery, Resource: "AKIABBBBBBBBBBBBBBBB"},
				{Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			name:    "interrupted after delivery: finish",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB")},
			opt:     func(o *keyrotate.Options) { o.DeleteOld = true },
			resumed: true,
			want: []awsguard.Action{
				{Kind: keyrotate.ActionDeactivateKey, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionRecordDeactivation, Resource: "AKIAAAAAAAAAAAAAAAAA"},
				{Kind: keyrotate.ActionDeleteOldKey, Resource: "AKIAAAAAAAAAAAAAAAAA"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			// old=A alone means nothing was delivered: the other key is not
			// taken for the delivered one on a guess.
			name:    "old key inactive, record names no delivery, nothing named: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeInactive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA"), tag(deact+"AKIAAAAAAAAAAAAAAAAA", rotT0.Format(time.RFC3339))},
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "old key inactive, record names no delivery, caller names the other key in use: record the delivery and finish",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeInactive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA"), tag(deact+"AKIAAAAAAAAAAAAAAAAA", rotT0.Format(time.RFC3339))},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = "AKIABBBBBBBBBBBBBBBB" },
			resumed: true,
			want:    []awsguard.Action{{Kind: keyrotate.ActionRecordDelivery, Resource: "AKIABBBBBBBBBBBBBBBB"}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"}},
		},
		{
			// Someone reactivated the old key after the rotation deactivated
			// it: they still use it, so the resume does not deactivate it.
			name:    "delivered, old key reactivated after its deactivation: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB"), tag(deact+"AKIAAAAAAAAAAAAAAAAA", rotT0.Format(time.RFC3339))},
			opt:     func(o *keyrotate.Options) { o.DeleteOld = true },
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "pending, caller names the new key, old key reactivated after its deactivation: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta("AKIAAAAAAAAAAAAAAAAA", types.StatusTypeActive, old), rotMeta("AKIABBBBBBBBBBBBBBBB", types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old=AKIAAAAAAAAAAAAAAAAA new=AKIABBBBBBBBBBBBBBBB pending"), tag(deact+"AKIAAAAAAAAAAAAAAAAA", rotT0.Format(time.RFC3339))},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = "AKIABBBBBBBBBBBBBBBB" },
			wantErr: keyrotate.ErrRotationInProgress,
		},
	}
	const a, b = "AKIAAAAAAAAAAAAAAAAA", "AKIABBBBBBBBBBBBBBBB"
	both := []types.AccessKeyMetadata{rotMeta(a, types.StatusTypeActive, old), rotMeta(b, types.StatusTypeActive, newer)}
	pending := []types.Tag{tag(keyrotate.TagRotation, "old="+a+" new="+b+" pending")}
	finish := []awsguard.Action{{Kind: keyrotate.ActionDeactivateKey, Resource: a}, {Kind: keyrotate.ActionRecordDeactivation, Resource: a}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"}}
	tests = append(tests, []struct {
		name    string
		keys    []types.AccessKeyMetadata
		tags    []types.Tag
		opt     func(*keyrotate.Options)
		want    []awsguard.Action
		resumed bool
		wantErr error
	}{
		{
			// The key may have been delivered: it is not deleted unless the
			// caller says which key is in use.
			name:    "new key created, delivery not confirmed, nothing named: refuse",
			keys:    both,
			tags:    pending,
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "new key created, delivery not confirmed, caller names it in use: record the delivery and finish",
			keys:    both,
			tags:    pending,
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = b },
			resumed: true,
			want:    append([]awsguard.Action{{Kind: keyrotate.ActionRecordDelivery, Resource: b}}, finish...),
		},
		{
			name: "new key created, delivery not confirmed, caller names the old key in use: the new one is an orphan",
			keys: both,
			tags: pending,
			opt:  func(o *keyrotate.Options) { o.InUseKeyID = a },
			want: []awsguard.Action{
				{Kind: keyrotate.ActionDeleteKey, Resource: b},
				{Kind: keyrotate.ActionRecordIntent, Resource: a}, {Kind: keyrotate.ActionCreateKey}, {Kind: keyrotate.ActionRecordNewKey}, {Kind: keyrotate.ActionVerifyKey},
				{Kind: keyrotate.ActionDeliverKey}, {Kind: keyrotate.ActionRecordDelivery}, {Kind: keyrotate.ActionDeactivateKey, Resource: a},
				{Kind: keyrotate.ActionRecordDeactivation, Resource: a}, {Kind: keyrotate.ActionClearRecord, Resource: "alice"},
			},
		},
		{
			name:    "new key pending but gone (rolled back): rotate afresh",
			keys:    both[:1],
			tags:    pending,
			want:    tests[0].want,
			resumed: false,
		},
		{
			// Finishing would deactivate the only other key: no active key.
			name:    "delivered key inactive: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta(a, types.StatusTypeActive, old), rotMeta(b, types.StatusTypeInactive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old="+a+" new="+b)},
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "delivered key gone: refuse",
			keys:    both[:1],
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old="+a+" new="+b)},
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "delivered key, caller names the old key in use: refuse",
			keys:    both,
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old="+a+" new="+b)},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = a },
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "old key inactive, the other inactive too: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta(a, types.StatusTypeInactive, old), rotMeta(b, types.StatusTypeInactive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old="+a)},
			wantErr: keyrotate.ErrRotationInProgress,
		},
		{
			name:    "old key inactive, caller names it in use: refuse",
			keys:    []types.AccessKeyMetadata{rotMeta(a, types.StatusTypeInactive, old), rotMeta(b, types.StatusTypeActive, newer)},
			tags:    []types.Tag{tag(keyrotate.TagRotation, "old="+a)},
			opt:     func(o *keyrotate.Options) { o.InUseKeyID = a },
			wantErr: keyrotate.ErrRotationInProgress,
		},
	}...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := rotFakeState(t, "alice", tt.keys, tt.tags)
			rot, err := keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: fake}, "alice", func(o *keyrotate.Options) {
				o.DryRun, o.Now = true, func() time.Time { return rotT0 }
				if tt.opt != nil {
					tt.opt(o)
				}
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			got := []awsguard.Action{}
			for _, a := range rot.Actions {
				got = append(got, awsguard.Action{Kind: a.Kind, Resource: a.Resource})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if rot.Applied || rot.Resumed != tt.resumed || rot.Reason == "" {
				t.Errorf("Applied %v Resumed %v Reason %q", rot.Applied, rot.Resumed, rot.Reason)
			}
			if diff := cmp.Diff([]string{"GetUser", "ListAccessKeys", "ListUserTags"}, fake.calls); diff != "" {
				t.Errorf("a dry run made other calls (-want +got):\n%s", diff)
			}
		})
	}
}

// End to end on moto with authentication enforced: the new key works with
// real signed calls, the old one is deactivated, and with DeleteOld it is
// deleted and rejected.
func testRotateAccessKeyAgainstMoto(t *testing.T) {
	ctx := context.Background()
	w := newRotWorld(t, "app")
	a := w.addKey(types.StatusTypeActive)
	counter := apicalls.New()
	c := w.clients(nil, func(cfg *aws.Config) { cfg.APIOptions = append(cfg.APIOptions, counter.APIOption) })

	// A dry run plans and calls nothing that changes state.
	plan, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) { o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	if plan.Applied || plan.NewKey != nil || len(plan.Actions) != 9 {
		t.Errorf("dry run: %+v", plan)
	}
	if got := counter.String(); got != "IAM.GetUser=1 IAM.ListAccessKeys=1 IAM.ListUserTags=1" {
		t.Errorf("dry run calls: %s", got)
	}
	if diff := cmp.Diff([]rotKeyState{{a.AccessKeyID, types.StatusTypeActive}}, w.keys()); diff != "" {
		t.Errorf("dry run changed keys:\n%s", diff)
	}

	counter.Reset()
	var logged strings.Builder
	rot, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.InUseKeyID = w.deliver, rotFast, a.AccessKeyID
		o.Logger = slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if err != nil {
		t.Fatalf("RotateAccessKey: %v", err)
	}
	t.Logf("rotation calls: %s", counter)
	nk, ok := w.lastDelivered()
	if !ok || rot.NewKey == nil || nk.AccessKeyID != rot.NewKey.AccessKeyID || nk.Secret.Reveal() == "" {
		t.Fatalf("delivered %+v, rotation new key %+v", nk, rot.NewKey)
	}
	if !w.authenticates(nk) {
		t.Error("the new key does not authenticate")
	}
	if !rot.Applied || rot.VerifyPolls < 1 || rot.Identity != "arn:aws:iam::123456789012:user/"+w.user {
		t.Errorf("rotation: %+v", rot)
	}
	for _, act := range rot.Actions {
		if act.Outcome != awsguard.OutcomeDone || act.Resource == "" {
			t.Errorf("action %+v: not done, or no resource", act)
		}
	}
	if diff := cmp.Diff([]keyrotate.OldKey{{KeyID: a.AccessKeyID, Status: "Active", CreateDate: a.CreateDate, Outcome: keyrotate.OutcomeDeactivated, DeactivatedAt: rot.OldKeys[0].DeactivatedAt}}, rot.OldKeys); diff != "" {
		t.Errorf("old keys (-want +got):\n%s", diff)
	}
	if got := w.status(a.AccessKeyID); got != types.StatusTypeInactive {
		t.Errorf("old key status %q", got)
	}
	tags := w.tags()
	if _, ok := tags[keyrotate.TagRotation]; ok || tags[keyrotate.TagDeactivatedPrefix+a.AccessKeyID] == "" {
		t.Errorf("tags after rotation: %v", tags)
	}
	// Nothing secret in the result's text forms.
	js, _ := json.Marshal(rot)
	for _, s := range []string{string(js), fmt.Sprintf("%v %+v", rot, rot.NewKey), logged.String()} {
		if strings.Contains(s, nk.Secret.Reveal()) {
			t.Errorf("secret leaked: %s", s)
		}
	}

	// Rotating again with DeleteOld: the inactive key makes room, the
	// replaced key is deleted and no longer authenticates.
	rot2, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.DeleteOld = w.deliver, rotFast, true
	})
	if err != nil {
		t.Fatalf("second rotation: %v", err)
	}
	nk2, _ := w.lastDelivered()
	if diff := cmp.Diff([]rotKeyState{{nk2.AccessKeyID, types.StatusTypeActive}}, w.keys()); diff != "" {
		t.Errorf("keys after the second rotation:\n%s", diff)
	}
	var outcomes []keyrotate.KeyOutcome
	for _, k := range rot2.OldKeys {
		outcomes = append(outcomes, k.Outcome)
	}
	if diff := cmp.Diff([]keyrotate.KeyOutcome{keyrotate.OutcomeDeletedToMakeRoom, keyrotate.OutcomeDeleted}, outcomes); diff != "" {
		t.Errorf("outcomes:\n%s", diff)
	}
	for _, k := range []keyrotate.AccessKey{a, nk} {
		_, err := keyrotate.STSFromConfig(w.admin)(k).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if !keyrotate.IsBadCredentials(err) {
			t.Errorf("deleted key %s: err = %v, want bad credentials", k.AccessKeyID, err)
		}
	}
	if !w.authenticates(nk2) {
		t.Error("the newest key does not authenticate")
	}
	if tags := w.tags(); len(tags) != 0 {
		t.Errorf("tags left: %v", tags)
	}

	// With MaxAge the young key is left alone: a second run changes nothing.
	rot3, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.MaxAge = w.deliver, rotFast, 90*24*time.Hour
	})
	if err != nil || rot3.Applied || rot3.Reason != awsguard.ReasonNotDue || !strings.Contains(rot3.Summary, "under the maximum age") {
		t.Errorf("MaxAge run: %+v, %v", rot3, err)
	}
	// An injected clock makes the same key old enough (how a demo rotates a
	// key the audit flags as older than 90 days).
	rot4, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) {
		o.Deliver, o.Verify, o.MaxAge = w.deliver, rotFast, 90*24*time.Hour
		o.Now = func() time.Time { return time.Now().Add(91 * 24 * time.Hour) }
	})
	if err != nil || !rot4.Applied || rot4.NewKey == nil {
		t.Errorf("MaxAge run with an old key: %+v, %v", rot4, err)
	}
}

// A failing delivery and a failing verification delete the new key and
// leave the old one active.
func testRotateRollsBack(t *testing.T) {
	ctx := context.Background()
	errStore := errors.New("store unavailable")
	for _, tt := range []struct {
		name    string
		deliver func(*rotWorld) func(context.Context, keyrotate.AccessKey) error
		badSTS  bool
		step    string
		wantErr error
	}{
		{
			name: "delivery fails",
			deliver: func(w *rotWorld) func(context.Context, keyrotate.AccessKey) error {
				return func(context.Context, keyrotate.AccessKey) error { return errStore }
			},
			step: keyrotate.ActionDeliverKey, wantErr: errStore,
		},
		{
			name:   "verification never succeeds",
			badSTS: true,
			step:   keyrotate.ActionVerifyKey, wantErr: keyrotate.ErrKeyNotValid,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newRotWorld(t, "app")
			a := w.addKey(types.StatusTypeActive)
			c := w.clients(nil)
			if tt.badSTS {
				admin := w.admin
				c.STS = func(k keyrotate.AccessKey) keyrotate.CallerIdentityAPI {
					k.Secret = awsguard.NewSecret("wrong-secret") // signs with a secret moto rejects
					return keyrotate.STSFromConfig(admin)(k)
				}
			}
			deliver := w.deliver
			if tt.deliver != nil {
				deliver = tt.deliver(w)
			}
			// Verification must succeed when delivery is what fails: a
			// generous wait (success returns at once); a short one only
			// where it must fail.
			verify := rotFast
			if tt.badSTS {
				verify = keyrotate.VerifyOptions{MaxWait: 200 * time.Millisecond, MinDelay: 10 * time.Millisecond}
			}
			rot, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) {
				o.Deliver, o.DeleteOld, o.Verify = deliver, true, verify
			})
			var se *awsguard.StepError
			if !errors.As(err, &se) || se.Step != tt.step || !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want a StepError at %s wrapping %v", err, tt.step, tt.wantErr)
			}
			if len(se.RolledBack) != 2 || !strings.Contains(se.Error(), "rolled back: deleted the new key") {
				t.Errorf("StepError: %v", se)
			}
			if rot.NewKey != nil {
				t.Errorf("rotation still reports a new key: %+v", rot.NewKey)
			}
			if diff := cmp.Diff([]rotKeyState{{a.AccessKeyID, types.StatusTypeActive}}, w.keys()); diff != "" {
				t.Errorf("keys after rollback (-want +got):\n%s", diff)
			}
			if !w.authenticates(a) {
				t.Error("the old key no longer authenticates")
			}
			if tags := w.tags(); len(tags) != 0 {
				t.Errorf("tags left: %v", tags)
			}
		})
	}
}

// FinishRotation waits out the grace period, deletes the key after it,
// and keeps (and reports) a key used after its deactivation.
func testFinishRotationAgainstMoto(t *testing.T) {
	ctx := context.Background()
	w := newRotWorld(t, "app")
	a := w.addKey(types.StatusTypeActive)
	c := w.clients(nil)
	// The rotation's clock runs a minute behind moto's, so that a use of
	// the old key right after it counts as "after deactivation".
	past := func() time.Time { return time.Now().Add(-time.Minute) }
	if _, err := keyrotate.RotateAccessKey(ctx, c, w.user, func(o *keyrotate.Options) { o.Deliver, o.Verify, o.Now = w.deliver, rotFast, past }); err != nil {
		t.Fatal(err)
	}
	grace := 7 * 24 * time.Hour

	fin, err := keyrotate.FinishRotation(ctx, c.IAM, w.user, grace)
	if err != nil || fin.Applied || len(fin.OldKeys) != 1 || fin.OldKeys[0].Outcome != keyrotate.OutcomeInGrace {
		t.Fatalf("within grace: %+v, %v", fin, err)
	}
	later := func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	dry, err := keyrotate.FinishRotation(ctx, c.IAM, w.user, grace, func(o *keyrotate.FinishOptions) { o.Now, o.DryRun = later, true })
	if err != nil || dry.Applied || len(dry.Actions) != 2 || w.status(a.AccessKeyID) != types.StatusTypeInactive {
		t.Fatalf("dry run after grace: %+v, %v", dry, err)
	}

	// Someone still uses the old key (moto lets an inactive key sign).
	if !w.authenticates(a) {
		t.Fatal("moto rejected the inactive key")
	}
	fin, err = keyrotate.FinishRotation(ctx, c.IAM, w.user, grace, func(o *keyrotate.FinishOptions) { o.Now = later })
	if err != nil {
		t.Fatal(err)
	}
	if len(fin.OldKeys) != 1 || fin.OldKeys[0].Outcome != keyrotate.OutcomeUsedAfterDeactivation || fin.OldKeys[0].LastUsed == nil ||
		!fin.OldKeys[0].LastUsed.AfterDeactivation || len(fin.Warnings) != 1 || w.status(a.AccessKeyID) != types.StatusTypeInactive {
		t.Fatalf("used after deactivation: %+v", fin)
	}

	// Once the record says the deactivation came after that use, the key
	// goes; the run after that has nothing to do.
	if _, err := w.iam.TagUser(ctx, &iam.TagUserInput{UserName: aws.String(w.user), Tags: []types.Tag{{
		Key: aws.String(keyrotate.TagDeactivatedPrefix + a.AccessKeyID), Value: aws.String(time.Now().Add(time.Minute).UTC().Format(time.RFC3339)),
	}}}); err != nil {
		t.Fatal(err)
	}
	fin, err = keyrotate.FinishRotation(ctx, c.IAM, w.user, grace, func(o *keyrotate.FinishOptions) { o.Now = later })
	if err != nil || !fin.Applied || fin.OldKeys[0].Outcome != keyrotate.OutcomeDeleted {
		t.Fatalf("after grace: %+v, %v", fin, err)
	}
	if w.authenticates(a) {
		t.Error("the deleted key still authenticates")
	}
	if tags := w.tags(); len(tags) != 0 {
		t.Errorf("tags left: %v", tags)
	}
	fin, err = keyrotate.FinishRotation(ctx, c.IAM, w.user, grace, func(o *keyrotate.FinishOptions) { o.Now = later })
	if err != nil || fin.Applied || len(fin.Actions) != 0 {
		t.Errorf("second run: %+v, %v", fin, err)
	}
}

// A batch rotates every user once, with per-user results.
func TestRotateAccessKeysAgainstMoto(t *testing.T) {
	ctx := context.Background()
	w := newRotWorld(t, "u0")
	users := []string{"u0", "u1", "u2", "u3", "u4"}
	for _, u := range users {
		if u != "u0" {
			if _, err := w.iam.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(u)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(u)}); err != nil && u != "u4" {
			t.Fatal(err)
		}
	}
	// u4 has two active keys: its rotation fails alone.
	if _, err := w.iam.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("u4")}); err != nil {
		t.Fatal(err)
	}
	res, err := keyrotate.RotateAccessKeys(ctx, w.clients(nil), users, func(o *keyrotate.BatchOptions) {
		o.Deliver, o.Verify, o.Concurrency = w.deliver, rotFast, 3
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Value.User != users[i] {
			t.Errorf("result %d is for %s", i, r.Value.User)
		}
		if wantErr := r.Value.User == "u4"; (r.Err != nil) != wantErr || (wantErr && !errors.Is(r.Err, keyrotate.ErrKeyLimit)) {
			t.Errorf("%s: err = %v", r.Value.User, r.Err)
		}
	}
	if len(w.store) != 4 {
		t.Errorf("delivered %d keys, want 4", len(w.store))
	}
	for _, k := range w.store {
		out, err := keyrotate.STSFromConfig(w.admin)(k).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || !strings.HasSuffix(aws.ToString(out.Arn), ":user/"+k.UserName) {
			t.Errorf("key of %s: %v", k.UserName, err)
		}
	}
}

// FinishRotation from fake state: what it deletes, records and clears.
func TestFinishRotationPlans(t *testing.T) {
	now := rotT0
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	deact := func(id string, at time.Time) types.Tag {
		return tag(keyrotate.TagDeactivatedPrefix+id, at.Format(time.RFC3339))
	}
	grace := 7 * 24 * time.Hour
	keys := []types.AccessKeyMetadata{
		rotMeta("AKIAOLDPASTGRACE0001", types.StatusTypeInactive, now.AddDate(0, -6, 0)),
		rotMeta("AKIAREACTIVATED00001", types.StatusTypeActive, now.AddDate(0, -3, 0)),
	}
	t.Run("past grace, reactivated, stale record", func(t *testing.T) {
		fake := rotFakeState(t, "bob", keys, []types.Tag{
			deact("AKIAOLDPASTGRACE0001", now.Add(-8*24*time.Hour)),
			deact("AKIAREACTIVATED00001", now.Add(-time.Hour)),
			deact("AKIAGONE000000000001", now.Add(-time.Hour)),
		})
		var deleted []string
		var untagged []string
		fake.getAccessKeyLastUsed = func(*iam.GetAccessKeyLastUsedInput) (*iam.GetAccessKeyLastUsedOutput, error) {
			return &iam.GetAccessKeyLastUsedOutput{AccessKeyLastUsed: &types.AccessKeyLastUsed{LastUsedDate: aws.Time(now.Add(-9 * 24 * time.Hour)), ServiceName: aws.String("s3")}}, nil
		}
		fake.deleteAccessKey = func(in *iam.DeleteAccessKeyInput) (*iam.DeleteAccessKeyOutput, error) {
			deleted = append(deleted, *in.AccessKeyId)
			return &iam.DeleteAccessKeyOutput{}, nil
		}
		fake.untagUser = func(in *iam.UntagUserInput) (*iam.UntagUserOutput, error) {
			untagged = append(untagged, in.TagKeys...)
			return &iam.UntagUserOutput{}, nil
		}
		fin, err := keyrotate.FinishRotation(context.Background(), fake, "bob", grace, func(o *keyrotate.FinishOptions) { o.Now = func() time.Time { return now } })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"AKIAOLDPASTGRACE0001"}, deleted); diff != "" {
			t.Errorf("deleted (-want +got):\n%s", diff)
		}
		wantUntag := []string{keyrotate.TagDeactivatedPrefix + "AKIAOLDPASTGRACE0001", keyrotate.TagDeactivatedPrefix + "AKIAREACTIVATED00001", keyrotate.TagDeactivatedPrefix + "AKIAGONE000000000001"}
		if diff := cmp.Diff(wantUntag, untagged, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("untagged (-want +got):\n%s", diff)
		}
		var outcomes []keyrotate.KeyOutcome
		for _, k := range fin.OldKeys {
			outcomes = append(outcomes, k.Outcome)
		}
		if diff := cmp.Diff([]keyrotate.KeyOutcome{keyrotate.OutcomeDeleted, keyrotate.OutcomeReactivated}, outcomes); diff != "" {
			t.Errorf("outcomes (-want +got):\n%s", diff)
		}
		if lu := fin.OldKeys[0].LastUsed; lu == nil || lu.AfterDeactivation || lu.Service != "s3" {
			t.Errorf("last use: %+v", lu)
		}
	})
	t.Run("inactive without record starts its grace", func(t *testing.T) {
		fake := rotFakeState(t, "bob", keys[:1], nil)
		var tagged []string
		fake.tagUser = func(in *iam.TagUserInput) (*iam.TagUserOutput, error) {
			tagged = append(tagged, *in.Tags[0].Key+"="+*in.Tags[0].Value)
			return &iam.TagUserOutput{}, nil
		}
		fin, err := keyrotate.FinishRotation(context.Background(), fake, "bob", grace, func(o *keyrotate.FinishOptions) { o.Now = func() time.Time { return now } })
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{keyrotate.TagDeactivatedPrefix + "AKIAOLDPASTGRACE0001=" + now.Format(time.RFC3339Nano)}, tagged); diff != "" {
			t.Errorf("tags (-want +got):\n%s", diff)
		}
		if k := fin.OldKeys[0]; k.Outcome != keyrotate.OutcomeInGrace || !k.DeleteAfter.Equal(now.Add(grace)) {
			t.Errorf("old key: %+v", k)
		}
	})
	t.Run("rotation in progress", func(t *testing.T) {
		fake := rotFakeState(t, "bob", keys, []types.Tag{tag(keyrotate.TagRotation, "old=AKIAREACTIVATED00001")})
		if _, err := keyrotate.FinishRotation(context.Background(), fake, "bob", grace); !errors.Is(err, keyrotate.ErrRotationInProgress) {
			t.Errorf("err = %v", err)
		}
	})
}
