package keyrotate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/fault"
	"github.com/awsguard/awsguard/keyrotate"
)

// mailbox is a Deliver that keeps every key it was handed.
type mailbox struct {
	mu   sync.Mutex
	keys []keyrotate.AccessKey
	fail error // returned (once) instead of keeping the key
}

func (m *mailbox) deliver(_ context.Context, k keyrotate.AccessKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fail; err != nil {
		m.fail = nil
		return err
	}
	m.keys = append(m.keys, k)
	return nil
}

func (m *mailbox) last() (keyrotate.AccessKey, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.keys) == 0 {
		return keyrotate.AccessKey{}, false
	}
	return m.keys[len(m.keys)-1], true
}

var fastVerify = keyrotate.VerifyOptions{MaxWait: 5 * time.Second, MinDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond}

// replaceClients returns ReplaceClients signed with the admin key, the
// injector (if any) on both IAM and STS.
func (w *leakWorld) replaceClients(inj *fault.Injector) keyrotate.ReplaceClients {
	cfg := w.admin.Copy()
	if inj != nil {
		cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	}
	return keyrotate.ReplaceClients{IAM: iam.NewFromConfig(cfg), STS: keyrotate.STSFromConfig(cfg)}
}

// containedAlone seeds user holding only its leaked key, contained with
// every step.
func (w *leakWorld) containedAlone(user string) *leakWorld {
	w.t.Helper()
	ctx := context.Background()
	s := w.seed(user)
	if _, err := w.iam.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(s.other.AccessKeyID)}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, s.leaked.AccessKeyID, leakAll); err != nil {
		w.t.Fatal(err)
	}
	return s
}

func replaceWith(m *mailbox, more ...func(*keyrotate.ReplaceOptions)) []func(*keyrotate.ReplaceOptions) {
	return append([]func(*keyrotate.ReplaceOptions){func(o *keyrotate.ReplaceOptions) {
		o.Deliver, o.Verify, o.AllowWeaken = m.deliver, fastVerify, true
	}}, more...)
}

// Replacement on moto with authentication enforced: refused without
// AllowWeaken, then a new key delivered and working under the user's own
// policies, the quarantine lifted, the leaked key Inactive; a re-run makes
// no mutating call; the leaked key deleted on confirmation (and then
// rejected); a release by user name never reactivates anything.
func replaceLeakedKeyCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	w := base.containedAlone("leaky-replaced")
	contained := w.state()
	m := &mailbox{}

	dry, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, func(o *keyrotate.ReplaceOptions) { o.DryRun, o.AllowWeaken = true, true })
	if err != nil || dry.Reason != awsguard.ReasonDryRun || len(dry.Actions) != 4 || len(dry.Weakening()) != 1 {
		t.Fatalf("dry run: %v, %v", dry.Describe(), err)
	}
	if _, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, func(o *keyrotate.ReplaceOptions) {
		o.Deliver = m.deliver
	}); !errors.Is(err, awsguard.ErrWeakening) {
		t.Fatalf("without AllowWeaken: %v", err)
	}
	if diff := cmp.Diff(contained, w.state()); diff != "" || len(m.keys) != 0 {
		t.Fatalf("dry run or refusal changed the user (-before +after), %d delivered:\n%s", len(m.keys), diff)
	}

	r, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, replaceWith(m)...)
	if err != nil || r.Reason != awsguard.ReasonApplied || r.NewKey == nil {
		t.Fatalf("replace: %+v, %v", r, err)
	}
	nk, ok := m.last()
	if !ok || nk.AccessKeyID != r.NewKey.AccessKeyID || nk.Secret.IsZero() {
		t.Fatalf("delivered %+v, returned %+v", m.keys, r.NewKey)
	}
	s := w.state()
	if s.Keys[w.leaked.AccessKeyID] != types.StatusTypeInactive || s.Keys[nk.AccessKeyID] != types.StatusTypeActive || len(s.Keys) != 2 ||
		!cmp.Equal(s.Attached, []string{adminPolicy}) || len(s.Inline) != 0 {
		t.Errorf("after replace: %+v", s)
	}
	// The new key works per the user's own policies (AdministratorAccess).
	if _, err := w.signedWith(nk).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-new-key")}); err != nil {
		t.Errorf("new key CreateUser: %v", err)
	}

	counter := apicalls.New()
	cfg := w.admin.Copy()
	cfg.APIOptions = append(cfg.APIOptions, counter.APIOption)
	again, err := keyrotate.ReplaceLeakedKey(ctx, keyrotate.ReplaceClients{IAM: iam.NewFromConfig(cfg), STS: keyrotate.STSFromConfig(cfg)}, w.user, w.leaked.AccessKeyID, replaceWith(m)...)
	if err != nil || again.Applied || len(again.Actions) != 0 || again.State != keyrotate.ContainReplaced || mutating(counter) != 0 {
		t.Errorf("re-run: %v, %v, %d mutating calls", again.Describe(), err, mutating(counter))
	}
	// A re-run of the containment keeps the user released.
	if c, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID, leakAll); err != nil || len(c.Actions) != 0 {
		t.Errorf("contain after replace: %v, %v", c.Describe(), err)
	}

	del, err := keyrotate.DeleteLeakedKey(ctx, w.iam, w.user, w.leaked.AccessKeyID)
	if err != nil || len(del.Actions) != 1 {
		t.Fatalf("delete leaked: %+v, %v", del, err)
	}
	if _, err := w.signedWith(w.leaked).GetUser(ctx, &iam.GetUserInput{}); !denied(err) {
		t.Errorf("deleted leaked key: %v, want rejected", err)
	}
	if d, err := keyrotate.DeleteLeakedKey(ctx, w.iam, w.user, w.leaked.AccessKeyID); err != nil || len(d.Actions) != 0 || d.Reason != awsguard.ReasonNothingToRemove {
		t.Errorf("second delete: %v, %v", d.Describe(), err)
	}
	rel, err := keyrotate.ReleaseContainment(ctx, w.iam, w.leaked.AccessKeyID, func(o *keyrotate.ReleaseOptions) { o.User = w.user })
	if err != nil || len(rel.Weakening()) != 0 {
		t.Fatalf("release by user: %v, %v", rel.Describe(), err)
	}
	s = w.state()
	if len(s.Tags) != 0 || len(s.Keys) != 1 || s.Keys[nk.AccessKeyID] != types.StatusTypeActive {
		t.Errorf("after release: %+v", s)
	}
}

// A user holding two keys: without the leaked key's deletion confirmed
// the replacement is refused and changes nothing; with it, the leaked key
// goes first to make room and the other key is untouched; a kept
// quarantine denies the new key as well.
func replaceNeedsSlotCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	w := base.seed("twokeys")
	if _, err := keyrotate.ContainLeakedKey(ctx, w.iam, w.leaked.AccessKeyID); err != nil {
		t.Fatal(err)
	}
	before := w.state()
	m := &mailbox{}
	if _, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, replaceWith(m)...); !errors.Is(err, keyrotate.ErrNoKeySlot) {
		t.Fatalf("unconfirmed: %v", err)
	}
	if diff := cmp.Diff(before, w.state()); diff != "" {
		t.Fatalf("refusal changed the user:\n%s", diff)
	}
	r, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, replaceWith(m, func(o *keyrotate.ReplaceOptions) { o.DeleteLeaked, o.KeepQuarantine = true, true })...)
	if err != nil || r.Actions[0].Kind != keyrotate.ActionReplaceDeleteLeaked || len(r.Warnings) != 1 {
		t.Fatalf("confirmed: %v, %v", r.Describe(), err)
	}
	// The quarantine covers the whole user: kept, it denies the new key too.
	if _, err := w.signedWith(*r.NewKey).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("blocked")}); !denied(err) {
		t.Errorf("new key under kept quarantine: %v, want denied", err)
	}
	s := w.state()
	if _, ok := s.Keys[w.leaked.AccessKeyID]; ok || s.Keys[w.other.AccessKeyID] != types.StatusTypeActive || s.Keys[r.NewKey.AccessKeyID] != types.StatusTypeActive {
		t.Errorf("keys %v", s.Keys)
	}
}

// Every call of ReplaceLeakedKey fails in turn (every kind at mutating
// calls, one at reads), and the delivery fails once: the leaked key is
// never Active again, a key once delivered is still Active after the
// fault, and a re-run completes with the last delivered key working and
// the quarantine lifted.
func replaceFaultSweepCase(t *testing.T, base *leakWorld) {
	ctx := context.Background()
	pw := base.containedAlone("rp-probe")
	probe := fault.New()
	if _, err := keyrotate.ReplaceLeakedKey(ctx, pw.replaceClients(probe), pw.user, pw.leaked.AccessKeyID, replaceWith(&mailbox{})...); err != nil {
		t.Fatalf("probe: %v", err)
	}
	names := callNames(probe)
	if len(names) == 0 {
		t.Fatal("the probe saw no calls: the sweep would test nothing")
	}
	runs := 0
	sweep := func(label string, rule *fault.Rule, m *mailbox) {
		runs++
		w := base.containedAlone(fmt.Sprintf("rp-%d", runs))
		inj := fault.New()
		if rule != nil {
			inj = fault.New(*rule)
		}
		_, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(inj), w.user, w.leaked.AccessKeyID, replaceWith(m)...)
		if err == nil && (rule == nil || names[rule.Nth-1] != "STS.GetCallerIdentity") { // verification polls again
			t.Errorf("%s: no error", label)
		}
		checkReplaceConverges(t, w, label, m)
	}
	for k := 1; k <= len(names); k++ {
		for _, kind := range kindsFor(names[k-1]) {
			sweep(fmt.Sprintf("call %d (%s) %s", k, names[k-1], kind), &fault.Rule{Nth: k, Kind: kind}, &mailbox{})
		}
	}
	sweep("delivery fails", nil, &mailbox{fail: errors.New("vault unreachable")})
	t.Logf("%d fault points, %d runs", len(names)+1, runs)
}

// checkReplaceConverges checks the state a failed replacement left, then
// re-runs it and checks it complete.
func checkReplaceConverges(t *testing.T, w *leakWorld, label string, m *mailbox) {
	t.Helper()
	ctx := context.Background()
	s := w.state()
	if st := s.Keys[w.leaked.AccessKeyID]; st != types.StatusTypeInactive {
		t.Errorf("%s: leaked key %q after the fault", label, st)
	}
	if k, ok := m.last(); ok && s.Keys[k.AccessKeyID] != types.StatusTypeActive {
		t.Errorf("%s: delivered key %s is %q after the fault", label, k.AccessKeyID, s.Keys[k.AccessKeyID])
	}
	if _, err := keyrotate.ReplaceLeakedKey(ctx, w.replaceClients(nil), w.user, w.leaked.AccessKeyID, replaceWith(m)...); err != nil {
		t.Errorf("%s: re-run: %v", label, err)
		return
	}
	k, ok := m.last()
	s = w.state()
	if !ok || len(s.Keys) != 2 || s.Keys[k.AccessKeyID] != types.StatusTypeActive || s.Keys[w.leaked.AccessKeyID] != types.StatusTypeInactive ||
		len(s.Attached) != 1 || len(s.Inline) != 0 {
		t.Errorf("%s: after the re-run: %+v, delivered %v", label, s, ok)
		return
	}
	if _, err := w.signedWith(k).ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(w.user)}); err != nil {
		t.Errorf("%s: the delivered key: %v", label, err)
	}
}
