package keyrotate

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// The user tags in which a rotation records its progress, so that a run
// interrupted at any point is finished or undone by the next one.
const (
	// TagRotation marks a rotation in progress. Its value is "old=KEYID"
	// from just before the new key is created, "old=KEYID new=KEYID
	// pending" right after it is created (before it is delivered), and
	// "old=KEYID new=KEYID" once its delivery is confirmed, each followed
	// by " at=TIME", when the intent was recorded (RFC 3339, UTC). The last
	// step removes it, as does a CreateKey that surely created nothing.
	TagRotation = "awsguard:rotation"
	// TagDeactivatedPrefix followed by a key ID holds the time (RFC 3339)
	// at which a rotation deactivated that key; FinishRotation counts the
	// grace period from it.
	TagDeactivatedPrefix = "awsguard:deactivated:"
)

// orphanSkew is how far from the recorded intent a key's creation may be
// and the key still be taken for the interrupted run's orphan: it absorbs
// the difference between the caller's clock and AWS's.
const orphanSkew = 5 * time.Minute

// lastUseSlack is how much later than the recorded deactivation a key's
// last use must be to count as use after deactivation: it absorbs the
// difference between the caller's clock and AWS's.
const lastUseSlack = 5 * time.Second

// record is the parsed TagRotation value. Pending marks a New key that
// was created but whose delivery is not confirmed. At is when the intent
// was recorded (zero in records written before it was kept).
type record struct {
	Old, New string
	Pending  bool
	At       time.Time
}

func (r record) String() string {
	s := "old=" + r.Old
	if r.New != "" {
		s += " new=" + r.New
		if r.Pending {
			s += " pending"
		}
	}
	if !r.At.IsZero() {
		s += " at=" + r.At.UTC().Format(time.RFC3339)
	}
	return s
}

func parseRecord(v string) *record {
	r := &record{}
	for _, f := range strings.Fields(v) {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "old":
			r.Old = val
		case "new":
			r.New = val
		case "pending":
			r.Pending = true
		case "at":
			if t, err := time.Parse(time.RFC3339, val); err == nil {
				r.At = t
			}
		}
	}
	return r
}

// liveKey is a key as ListAccessKeys shows it.
type liveKey struct {
	ID      string
	Status  types.StatusType
	Created time.Time
}

func (k liveKey) active() bool { return k.Status == types.StatusTypeActive }

// live is the state a plan is made from: the user's ARN, its keys (oldest
// first), the rotation record and the deactivation records.
type live struct {
	arn         string
	keys        []liveKey
	rec         *record
	deactivated map[string]time.Time
	tagKeys     []string
}

func (l *live) key(id string) (liveKey, bool) {
	for _, k := range l.keys {
		if k.ID == id {
			return k, true
		}
	}
	return liveKey{}, false
}

// complete reports whether the rotation the record describes is done and
// only the record itself was left behind (its removal failed): the new key
// is active and the old one gone or inactive with its deactivation recorded.
func (l *live) complete() bool {
	if l.rec == nil || l.rec.New == "" || l.rec.Pending {
		return false
	}
	if n, ok := l.key(l.rec.New); !ok || !n.active() {
		return false
	}
	o, ok := l.key(l.rec.Old)
	_, tagged := l.deactivated[l.rec.Old]
	return !ok || (!o.active() && tagged)
}

// describeKeys lists the keys as "ID (Status)", or "none".
func (l *live) describeKeys() string {
	var ks []string
	for _, k := range l.keys {
		ks = append(ks, fmt.Sprintf("%s (%s)", k.ID, k.Status))
	}
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

// readLive reads the user, its keys and its tags.
func readLive(ctx context.Context, api ReadUserAPI, user string) (*live, error) {
	u, err := api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(user)})
	if err != nil {
		return nil, fmt.Errorf("keyrotate: get user %s: %w", user, err)
	}
	l := &live{arn: aws.ToString(u.User.Arn), deactivated: map[string]time.Time{}}
	kp := iam.NewListAccessKeysPaginator(api, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for kp.HasMorePages() {
		page, err := kp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("keyrotate: list access keys of %s: %w", user, err)
		}
		for _, k := range page.AccessKeyMetadata {
			l.keys = append(l.keys, liveKey{ID: aws.ToString(k.AccessKeyId), Status: k.Status, Created: aws.ToTime(k.CreateDate)})
		}
	}
	slices.SortFunc(l.keys, func(a, b liveKey) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	tp := iam.NewListUserTagsPaginator(api, &iam.ListUserTagsInput{UserName: aws.String(user)})
	for tp.HasMorePages() {
		page, err := tp.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("keyrotate: list tags of %s: %w", user, err)
		}
		for _, t := range page.Tags {
			l.addTag(aws.ToString(t.Key), aws.ToString(t.Value))
		}
	}
	return l, nil
}

func (l *live) addTag(k, v string) {
	switch {
	case k == TagRotation:
		l.rec = parseRecord(v)
		l.tagKeys = append(l.tagKeys, k)
	case strings.HasPrefix(k, TagDeactivatedPrefix):
		// An unreadable time counts as no record: FinishRotation records a
		// new one, so the grace period starts over rather than being
		// skipped.
		l.tagKeys = append(l.tagKeys, k)
		if ts, err := time.Parse(time.RFC3339Nano, v); err == nil {
			l.deactivated[strings.TrimPrefix(k, TagDeactivatedPrefix)] = ts
		}
	}
}
