package keyrotate

import (
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"
)

const ctQ = "arn:aws:iam::aws:policy/" + QuarantinePolicyName

// ctLive builds a containment state: the key's status, the policies
// attached, whether the sessions policy and a password exist, the tags.
func ctLive(status types.StatusType, attached []string, inline, login bool, tags map[string]string) *containLive {
	l := &containLive{keyID: stA, user: "alice", arn: "arn:aws:iam::123456789012:user/alice", status: status, attached: map[string]bool{}, inline: inline, login: login}
	for _, a := range attached {
		l.attached[a] = true
	}
	for _, k := range []string{TagContainKey, TagContainPolicy, TagContainSessions, TagContainLogin, TagContainReplace} {
		if v, ok := tags[k]; ok {
			l.rec.addTag(k, v)
		}
	}
	return l
}

var ctAll = containWant{policyARN: ctQ, revokeSessions: true, disableConsole: true, now: stT0}

var ctDone = map[string]string{
	TagContainKey: stA + " deactivated at=x", TagContainPolicy: ctQ, TagContainSessions: "s", TagContainLogin: "deleted",
}

// ctReplaced is ctDone with a replacement record at stage.
func ctReplaced(stage string) map[string]string {
	m := map[string]string{TagContainReplace: stB + " " + stage + " at=x"}
	for k, v := range ctDone {
		m[k] = v
	}
	return m
}

// The classifier and the containment plan, for every state, with no AWS.
func TestClassifyAndPlanContain(t *testing.T) {
	cases := []struct {
		name    string
		l       *containLive
		w       containWant
		state   ContainState
		actions []string
	}{
		{"fresh, all steps", ctLive(types.StatusTypeActive, nil, false, true, nil), ctAll, ContainNone,
			[]string{ActionContainDeactivate, ActionContainRecordKey, ActionContainQuarantine, ActionContainSessions, ActionContainLogin}},
		{"fresh, default steps", ctLive(types.StatusTypeActive, nil, false, true, nil), containWant{policyARN: ctQ}, ContainNone,
			[]string{ActionContainDeactivate, ActionContainRecordKey, ActionContainQuarantine}},
		{"inactive key, policy attached before", ctLive(types.StatusTypeInactive, []string{ctQ}, false, false, nil), containWant{policyARN: ctQ}, ContainNone,
			[]string{ActionContainRecordKey}},
		{"interrupted after deactivation", ctLive(types.StatusTypeInactive, nil, false, true, map[string]string{TagContainKey: stA + " deactivated"}), ctAll, ContainPartial,
			[]string{ActionContainQuarantine, ActionContainSessions, ActionContainLogin}},
		{"reactivated by hand", ctLive(types.StatusTypeActive, []string{ctQ}, false, false, map[string]string{TagContainKey: stA + " deactivated", TagContainPolicy: ctQ}), containWant{policyARN: ctQ}, ContainPartial,
			[]string{ActionContainDeactivate}},
		{"complete", ctLive(types.StatusTypeInactive, []string{ctQ}, true, false, ctDone), ctAll, ContainComplete, nil},
		{"other key", ctLive(types.StatusTypeActive, nil, false, false, map[string]string{TagContainKey: stB + " deactivated"}), ctAll, ContainOtherKey,
			[]string{ActionContainDeactivate, ActionContainQuarantine, ActionContainSessions}},
		{"replaced and lifted: no re-quarantine", ctLive(types.StatusTypeInactive, nil, false, false, ctReplaced(replaceLifted)), ctAll, ContainReplaced, nil},
		{"replaced, quarantine kept", ctLive(types.StatusTypeInactive, []string{ctQ}, true, false, ctReplaced(replaceDelivered)), ctAll, ContainReplaced, nil},
	}
	seen := map[ContainState]bool{}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyContain(tt.l, tt.w); got != tt.state {
				t.Errorf("state %s, want %s", got, tt.state)
			}
			seen[tt.state] = true
			var got []string
			for _, a := range planContain(tt.l, tt.w).Actions {
				got = append(got, a.Kind)
				if a.Call != containCalls[a.Kind] || a.Weakening {
					t.Errorf("%s: call %q weakening %v", a.Kind, a.Call, a.Weakening)
				}
			}
			if diff := cmp.Diff(tt.actions, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
	for _, s := range ContainStates() {
		if !seen[s] {
			t.Errorf("state %s has no case", s)
		}
	}
}

// The release plan undoes exactly what the records name.
func TestPlanRelease(t *testing.T) {
	cases := []struct {
		name    string
		l       *containLive
		actions []string
		weak    bool
	}{
		{"everything", ctLive(types.StatusTypeInactive, []string{ctQ}, true, false, ctDone),
			[]string{ActionReleaseQuarantine, ActionReleaseSessions, ActionReleaseReactivate, ActionReleaseClear}, true},
		{"was inactive, policy attached before", ctLive(types.StatusTypeInactive, []string{ctQ}, false, false, map[string]string{TagContainKey: stA + " was-inactive"}),
			[]string{ActionReleaseClear}, false},
		{"policy recorded, attach never made", ctLive(types.StatusTypeInactive, nil, false, false, map[string]string{TagContainKey: stA + " deactivated", TagContainPolicy: ctQ}),
			[]string{ActionReleaseReactivate, ActionReleaseClear}, true},
		{"key already active again", ctLive(types.StatusTypeActive, []string{ctQ}, false, false, map[string]string{TagContainKey: stA + " deactivated", TagContainPolicy: ctQ}),
			[]string{ActionReleaseQuarantine, ActionReleaseClear}, false},
		{"no record", ctLive(types.StatusTypeInactive, []string{ctQ}, true, false, nil), nil, false},
		{"replaced: the leaked key is never reactivated", ctLive(types.StatusTypeInactive, nil, false, false, ctReplaced(replaceLifted)),
			[]string{ActionReleaseClear}, false},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			p := planRelease(tt.l)
			var got []string
			for _, a := range p.Actions {
				got = append(got, a.Kind)
			}
			if diff := cmp.Diff(tt.actions, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			if w := len(p.Weakening()) > 0; w != tt.weak {
				t.Errorf("weakening %v, want %v", w, tt.weak)
			}
			if len(p.Actions) == 0 && p.Reason != "nothing to remove" {
				t.Errorf("reason %q", p.Reason)
			}
		})
	}
}

// The key record says what containment found: deactivated or was-inactive.
func TestContainRecordRoundTrip(t *testing.T) {
	for _, st := range []types.StatusType{types.StatusTypeActive, types.StatusTypeInactive} {
		l := ctLive(st, nil, false, false, nil)
		var r containRecord
		r.addTag(TagContainKey, l.keyRecord(stT0))
		if r.KeyID != stA || r.Deactivated != (st == types.StatusTypeActive) {
			t.Errorf("%s: %+v", st, r)
		}
	}
}

// doc.go's Leaked keys section lists exactly the containment states, in
// order, and every containment action with its call.
func TestDocContainTables(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(f.Doc.Text(), "Leaked keys\n")
	sec, _, _ = strings.Cut(sec, "Interrupted runs")
	if !ok {
		t.Fatal("doc.go has no Leaked keys section")
	}
	var states, actions []string
	for _, m := range regexp.MustCompile(`(?m)^\t([a-z][a-z-]*) {2,}(\S*)`).FindAllStringSubmatch(sec, -1) {
		if strings.HasPrefix(m[1], "replace-") {
			if containCalls[m[1]] != m[2] {
				t.Errorf("%s: doc says call %q, code %q", m[1], m[2], containCalls[m[1]])
			}
			continue
		}
		if strings.HasPrefix(m[1], "contain-") {
			actions = append(actions, m[1])
			if containCalls[m[1]] != m[2] {
				t.Errorf("%s: doc says call %q, code %q", m[1], m[2], containCalls[m[1]])
			}
			continue
		}
		states = append(states, m[1])
	}
	var want []string
	for _, s := range ContainStates() {
		want = append(want, s.String())
	}
	if diff := cmp.Diff(want, states); diff != "" {
		t.Errorf("states (-enum +doc):\n%s", diff)
	}
	wantActions := []string{ActionContainDeactivate, ActionContainRecordKey, ActionContainQuarantine, ActionContainSessions, ActionContainLogin}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("actions (-code +doc):\n%s", diff)
	}
}
