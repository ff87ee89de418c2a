package keyrotate

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

// rpLive is a contained user (leaked key stA Inactive, quarantine and
// sessions deny in effect) holding the keys given, with the replacement
// record rep ("" for none).
func rpLive(keys map[string]types.StatusType, rep string) *containLive {
	tags := map[string]string{TagContainKey: stA + " deactivated at=x", TagContainPolicy: ctQ, TagContainSessions: "s"}
	if rep != "" {
		tags[TagContainReplace] = rep
	}
	l := ctLive(keys[stA], []string{ctQ}, true, false, tags)
	l.keys = keys
	return l
}

// The replacement plan in every situation a run (or an interrupted one)
// leaves, with no AWS: the leaked key is never reactivated, a key never
// delivered is deleted before a new one, the lift comes after delivery.
func TestPlanReplace(t *testing.T) {
	in := types.StatusTypeInactive
	act := types.StatusTypeActive
	create := []string{ActionReplaceCreate, ActionReplaceVerify, ActionReplaceDeliver}
	cases := []struct {
		name    string
		l       *containLive
		w       replaceWant
		actions []string
		err     error
	}{
		{"fresh", rpLive(map[string]types.StatusType{stA: in}, ""), replaceWant{}, append(create, ActionReplaceLift), nil},
		{"fresh, keep quarantine", rpLive(map[string]types.StatusType{stA: in}, ""), replaceWant{keep: true}, create, nil},
		{"fresh, delete leaked last", rpLive(map[string]types.StatusType{stA: in}, ""), replaceWant{deleteLeaked: true},
			append(create, ActionReplaceLift, ActionReplaceDeleteLeaked), nil},
		{"two keys, not confirmed", rpLive(map[string]types.StatusType{stA: in, stB: act}, ""), replaceWant{}, nil, ErrNoKeySlot},
		{"two keys, delete leaked first", rpLive(map[string]types.StatusType{stA: in, stB: act}, ""), replaceWant{deleteLeaked: true},
			append([]string{ActionReplaceDeleteLeaked}, append(create, ActionReplaceLift)...), nil},
		{"create answer lost", rpLive(map[string]types.StatusType{stA: in, stC: act}, "intent keys="+stA+" at=x"), replaceWant{},
			append([]string{ActionReplaceDeleteOrphan}, append(create, ActionReplaceLift)...), nil},
		{"pending, never delivered", rpLive(map[string]types.StatusType{stA: in, stC: act}, stC+" pending at=x"), replaceWant{},
			append([]string{ActionReplaceDeleteOrphan}, append(create, ActionReplaceLift)...), nil},
		{"delivered, lift left", rpLive(map[string]types.StatusType{stA: in, stC: act}, stC+" delivered at=x"), replaceWant{}, []string{ActionReplaceLift}, nil},
		{"delivered key deleted since", rpLive(map[string]types.StatusType{stA: in}, stC+" delivered at=x"), replaceWant{}, append(create, ActionReplaceLift), nil},
		{"lifted, new key deleted since", rpLive(map[string]types.StatusType{stA: in}, stC+" lifted at=x"), replaceWant{}, append(create, ActionReplaceLift), nil},
		{"done", rpLive(map[string]types.StatusType{stA: in, stC: act}, stC+" lifted at=x"), replaceWant{}, nil, nil},
		{"done, leaked deleted", rpLive(map[string]types.StatusType{stC: act}, stC+" lifted at=x"), replaceWant{deleteLeaked: true}, nil, nil},
		{"leaked key active again", rpLive(map[string]types.StatusType{stA: act}, ""), replaceWant{}, nil, ErrNotContained},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p, err := planReplace(tt.l, tt.w)
			if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			var got []string
			for _, a := range p.Actions {
				got = append(got, a.Kind)
				if a.Call != containCalls[a.Kind] || a.Weakening != (a.Kind == ActionReplaceLift) {
					t.Errorf("%s: call %q weakening %v", a.Kind, a.Call, a.Weakening)
				}
			}
			if diff := cmp.Diff(tt.actions, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	l := ctLive("", nil, false, false, nil)
	l.keys = map[string]types.StatusType{}
	if _, err := planReplace(l, replaceWant{}); !errors.Is(err, ErrNotContained) {
		t.Errorf("no containment: %v", err)
	}
}
