package keyrotate

import (
	"errors"
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
)

const (
	stA = "AKIAAAAAAAAAAAAAAAAA"
	stB = "AKIABBBBBBBBBBBBBBBB"
	stC = "AKIACCCCCCCCCCCCCCCC"
)

var stT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// stLive builds a live state: keys as "ID:Active" or "ID:Inactive", the
// rotation record (or ""), and the keys carrying a deactivation record.
func stLive(rec string, keys []string, deactivated ...string) *live {
	l := &live{arn: "arn:aws:iam::123456789012:user/alice", deactivated: map[string]time.Time{}}
	for i, k := range keys {
		id, status, _ := strings.Cut(k, ":")
		l.keys = append(l.keys, liveKey{ID: id, Status: types.StatusType(status), Created: stT0.Add(time.Duration(i) * time.Hour)})
	}
	if rec != "" {
		l.addTag(TagRotation, rec)
	}
	for _, id := range deactivated {
		l.addTag(TagDeactivatedPrefix+id, stT0.Format(time.RFC3339))
	}
	return l
}

// stCases covers every state: the classifier's table.
var stCases = []struct {
	name  string
	l     *live
	inUse string
	want  situation
}{
	{"no record", stLive("", []string{stA + ":Active"}), "", situation{State: StateIdle}},
	{"no record, key named", stLive("", []string{stA + ":Active", stB + ":Active"}), stA, situation{State: StateIdle}},
	{"intent", stLive("old="+stA, []string{stA + ":Active", stB + ":Active"}), "", situation{StateIntent, stA, ""}},
	{"intent, old named", stLive("old="+stA, []string{stA + ":Active"}), stA, situation{StateIntent, stA, ""}},
	{"intent, other named", stLive("old="+stA, []string{stA + ":Active", stB + ":Active"}), stB, situation{StateIntentNamed, stA, stB}},
	{"intent, old inactive", stLive("old="+stA, []string{stA + ":Inactive", stB + ":Active"}), "", situation{StateOldTouched, stA, ""}},
	{"intent, old inactive and named", stLive("old="+stA, []string{stA + ":Inactive", stB + ":Active"}), stA, situation{StateOldTouched, stA, ""}},
	{"intent, unknown key named", stLive("old="+stA, []string{stA + ":Active"}), stC, situation{StateInUseConflict, stA, ""}},
	{"pending", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Active"}), "", situation{StatePending, stA, stB}},
	{"pending, old named", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Active"}), stA, situation{StatePendingRejected, stA, stB}},
	{"pending, new named", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Active"}), stB, situation{StatePendingConfirmed, stA, stB}},
	{"pending, old inactive", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Inactive", stB + ":Active"}), "", situation{StatePendingConfirmed, stA, stB}},
	{"pending, new gone", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active"}), "", situation{StatePendingGone, stA, stB}},
	{"pending, new gone, old inactive", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Inactive"}), "", situation{StateOldTouched, stA, stB}},
	{"pending, third key named", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Active"}), stC, situation{StateInUseConflict, stA, stB}},
	{"pending, new named but inactive", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Inactive"}), stB, situation{StateDeliveredLost, stA, stB}},
	{"delivered", stLive("old="+stA+" new="+stB, []string{stA + ":Active", stB + ":Active"}), "", situation{StateDelivered, stA, stB}},
	{"delivered, new named", stLive("old="+stA+" new="+stB, []string{stA + ":Active", stB + ":Active"}), stB, situation{StateDelivered, stA, stB}},
	{"delivered, old gone", stLive("old="+stA+" new="+stB, []string{stB + ":Active"}), "", situation{StateComplete, stA, stB}},
	{"delivered, old inactive unrecorded", stLive("old="+stA+" new="+stB, []string{stA + ":Inactive", stB + ":Active"}), "", situation{StateDelivered, stA, stB}},
	{"complete", stLive("old="+stA+" new="+stB, []string{stA + ":Inactive", stB + ":Active"}, stA), "", situation{StateComplete, stA, stB}},
	{"delivered, new gone", stLive("old="+stA+" new="+stB, []string{stA + ":Active"}), "", situation{StateDeliveredLost, stA, stB}},
	{"delivered, new inactive", stLive("old="+stA+" new="+stB, []string{stA + ":Active", stB + ":Inactive"}), "", situation{StateDeliveredLost, stA, stB}},
	{"delivered, old named", stLive("old="+stA+" new="+stB, []string{stA + ":Active", stB + ":Active"}), stA, situation{StateInUseConflict, stA, stB}},
	{"delivered, old reactivated", stLive("old="+stA+" new="+stB, []string{stA + ":Active", stB + ":Active"}, stA), "", situation{StateReactivated, stA, stB}},
	{"pending named, old reactivated", stLive("old="+stA+" new="+stB+" pending", []string{stA + ":Active", stB + ":Active"}, stA), stB, situation{StateReactivated, stA, stB}},
}

// The classifier names every documented state, and never changes the
// caller's InUseKeyID (it takes it by value and returns a situation).
func TestClassify(t *testing.T) {
	seen := map[State]bool{}
	for _, tt := range stCases {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.l, tt.inUse)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("classify (-want +got):\n%s", diff)
			}
			seen[got.State] = true
		})
	}
	for _, s := range States() {
		if !seen[s] {
			t.Errorf("state %s has no case in the classifier's table", s)
		}
	}
}

func stKinds(p *rotationPlan) []string {
	var out []string
	for _, a := range p.actions {
		k := a.Kind
		if a.Resource != "" {
			k += " " + a.Resource
		}
		out = append(out, k)
	}
	return out
}

// Every state's plan function, from the classifier's cases: the actions
// (kind and resource) or the refusal, with no AWS.
func TestPlanners(t *testing.T) {
	fresh := func(old string) []string {
		return []string{ActionRecordIntent + " " + old, ActionCreateKey, ActionRecordNewKey, ActionVerifyKey, ActionDeliverKey, ActionRecordDelivery,
			ActionDeactivateKey + " " + old, ActionRecordDeactivation + " " + old, ActionClearRecord + " alice"}
	}
	finish := []string{ActionDeactivateKey + " " + stA, ActionRecordDeactivation + " " + stA, ActionClearRecord + " alice"}
	want := map[string]struct {
		kinds   []string
		resumed bool
		err     error
	}{
		"no record":                          {kinds: fresh(stA)},
		"no record, key named":               {err: ErrKeyLimit},
		"intent":                             {err: ErrKeyLimit}, // the key is outside the skew of a record without at=
		"intent, old named":                  {kinds: fresh(stA)},
		"intent, other named":                {kinds: append([]string{ActionRecordDelivery + " " + stB}, finish...), resumed: true},
		"intent, old inactive":               {err: ErrRotationInProgress},
		"intent, old inactive and named":     {err: ErrRotationInProgress},
		"intent, unknown key named":          {err: ErrRotationInProgress},
		"pending":                            {err: ErrRotationInProgress},
		"pending, old named":                 {kinds: append([]string{ActionDeleteKey + " " + stB}, fresh(stA)...)},
		"pending, new named":                 {kinds: append([]string{ActionRecordDelivery + " " + stB}, finish...), resumed: true},
		"pending, old inactive":              {kinds: []string{ActionRecordDelivery + " " + stB, ActionRecordDeactivation + " " + stA, ActionClearRecord + " alice"}, resumed: true},
		"pending, new gone":                  {kinds: fresh(stA)},
		"pending, new gone, old inactive":    {err: ErrRotationInProgress},
		"pending, third key named":           {err: ErrRotationInProgress},
		"pending, new named but inactive":    {err: ErrRotationInProgress},
		"delivered":                          {kinds: finish, resumed: true},
		"delivered, new named":               {kinds: finish, resumed: true},
		"delivered, old gone":                {kinds: []string{ActionClearRecord + " alice"}, resumed: true},
		"delivered, old inactive unrecorded": {kinds: []string{ActionRecordDeactivation + " " + stA, ActionClearRecord + " alice"}, resumed: true},
		"complete":                           {kinds: []string{ActionClearRecord + " alice"}, resumed: true},
		"delivered, new gone":                {err: ErrRotationInProgress},
		"delivered, new inactive":            {err: ErrRotationInProgress},
		"delivered, old named":               {err: ErrRotationInProgress},
		"delivered, old reactivated":         {err: ErrRotationInProgress},
		"pending named, old reactivated":     {err: ErrRotationInProgress},
	}
	for _, tt := range stCases {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := want[tt.name]
			if !ok {
				t.Fatal("no expectation")
			}
			sit := classify(tt.l, tt.inUse)
			p, err := planners[sit.State](planInput{user: "alice", l: tt.l, sit: sit, inUse: tt.inUse, now: stT0.Add(48 * time.Hour)})
			if !errors.Is(err, w.err) {
				t.Fatalf("err = %v, want %v", err, w.err)
			}
			if err != nil {
				if p != nil {
					t.Errorf("a refusal planned %v", stKinds(p))
				}
				return
			}
			if diff := cmp.Diff(w.kinds, stKinds(p)); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if p.resumed != w.resumed {
				t.Errorf("resumed = %v", p.resumed)
			}
			for _, a := range p.actions {
				if a.Outcome != awsguard.OutcomePlanned || a.Call != actionCalls[a.Kind] || a.Detail == "" {
					t.Errorf("action %+v: want planned, Call %q and a Detail", a, actionCalls[a.Kind])
				}
			}
		})
	}
	for _, s := range States() {
		if planners[s] == nil {
			t.Errorf("state %s has no plan function", s)
		}
	}
}

// A record with a time makes a key created right after it the orphan; a
// key younger than MaxAge is not due.
func TestPlannerOrphanAndNotDue(t *testing.T) {
	l := stLive("old="+stA+" at="+stT0.Add(time.Hour-time.Second).Format(time.RFC3339), []string{stA + ":Active", stB + ":Active"})
	sit := classify(l, "")
	p, err := planners[sit.State](planInput{user: "alice", l: l, sit: sit, now: stT0.Add(48 * time.Hour)})
	if err != nil || sit.State != StateIntent || !slices.Equal(p.orphans, []string{stB}) || p.actions[0].Kind != ActionDeleteKey {
		t.Fatalf("orphan: %v %+v, %v", sit, p, err)
	}
	l = stLive("", []string{stA + ":Active"})
	p, err = planIdle(planInput{user: "alice", l: l, now: stT0.Add(24 * time.Hour), maxAge: 90 * 24 * time.Hour})
	if err != nil || len(p.actions) != 0 || p.reason != awsguard.ReasonNotDue || !strings.Contains(p.summary, "under the maximum age") {
		t.Fatalf("not due: %+v, %v", p, err)
	}
}

// FinishRotation's plan function: grace over, in grace, unrecorded.
func TestPlanGrace(t *testing.T) {
	l := stLive("", []string{stA + ":Inactive", stB + ":Inactive", stC + ":Active"}, stA)
	l.deactivated[stB] = stT0.Add(47 * time.Hour)
	p := planGrace(l, "alice", 24*time.Hour, stT0.Add(48*time.Hour))
	if diff := cmp.Diff([]string{ActionDeleteOldKey + " " + stA, ActionClearRecord + " alice"}, stKinds(p)); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	p = planGrace(stLive("", []string{stC + ":Active"}), "alice", time.Hour, stT0)
	if len(p.actions) != 0 || p.reason != awsguard.ReasonNothingToRemove {
		t.Errorf("nothing: %+v", p)
	}
}

// doc.go's table of interrupted runs lists exactly the states of the enum,
// in order.
func TestDocStateTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	_, sec, ok := strings.Cut(doc, "Interrupted runs")
	if !ok {
		t.Fatal("doc.go has no Interrupted runs section")
	}
	row := regexp.MustCompile(`(?m)^\t([a-z][a-z-]*) {2,}`)
	var got []string
	for _, m := range row.FindAllStringSubmatch(sec, -1) {
		got = append(got, m[1])
	}
	var want []string
	for _, s := range States() {
		want = append(want, s.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("doc.go's state table (-enum +doc):\n%s", diff)
	}
}
