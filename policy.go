package awsguard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// PolicyVersion2012 is the current IAM policy language version. Policies
// using ${aws:username} need it.
const PolicyVersion2012 = "2012-10-17"

// PolicyDocument is an IAM policy document. Parse reads one; json.Marshal
// writes it back with the same shape: an element written as a single
// string (or a single statement object) stays single, a list stays a list.
type PolicyDocument struct {
	Version   string     `json:"Version,omitempty"`
	ID        string     `json:"Id,omitempty"`
	Statement Statements `json:"Statement"`
}

// Statements is the Statement element: one statement object or a list.
type Statements struct {
	List []Statement
	// Single is true when the document held one object, not a list.
	Single bool
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       Strings    `json:"Action,omitzero"`
	NotAction    Strings    `json:"NotAction,omitzero"`
	Resource     Strings    `json:"Resource,omitzero"`
	NotResource  Strings    `json:"NotResource,omitzero"`
	// Condition maps a condition operator ("BoolIfExists") to condition
	// keys and their values.
	Condition map[string]map[string]Strings `json:"Condition,omitempty"`
}

// Strings is a policy element that is a string or a list of strings
// (Action, Resource, condition values). Booleans and numbers in condition
// values are kept in their JSON text ("false", "10") and written back as
// strings, which IAM treats the same.
type Strings struct {
	Values []string
	// Single is true when the element was (or is to be written as) one
	// string rather than a list. It is ignored unless len(Values) == 1.
	Single bool
}

// StringValue returns a Strings written as the single string s.
func StringValue(s string) Strings { return Strings{Values: []string{s}, Single: true} }

// StringList returns a Strings written as a list, even of one item.
func StringList(s ...string) Strings {
	if s == nil {
		s = []string{}
	}
	return Strings{Values: s}
}

// IsZero reports whether the element is absent.
func (s Strings) IsZero() bool { return s.Values == nil && !s.Single }

// Contains reports whether v is one of the values.
func (s Strings) Contains(v string) bool { return slices.Contains(s.Values, v) }

// MarshalJSON writes one string when Single and one value, else a list.
func (s Strings) MarshalJSON() ([]byte, error) {
	if s.Single && len(s.Values) == 1 {
		return json.Marshal(s.Values[0])
	}
	if s.Values == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.Values)
}

// UnmarshalJSON reads a string, a boolean, a number or a list of them.
func (s *Strings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var raw []json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			return err
		}
		vals := make([]string, 0, len(raw))
		for _, r := range raw {
			v, err := scalarText(r)
			if err != nil {
				return err
			}
			vals = append(vals, v)
		}
		*s = Strings{Values: vals}
		return nil
	}
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = Strings{Values: []string{v}, Single: true}
	return nil
}

func scalarText(b json.RawMessage) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", fmt.Errorf("empty value")
	}
	switch b[0] {
	case '"':
		var v string
		err := json.Unmarshal(b, &v)
		return v, err
	case 't', 'f':
		var v bool
		if err := json.Unmarshal(b, &v); err != nil {
			return "", err
		}
		return fmt.Sprint(v), nil
	case '[', '{', 'n':
		return "", fmt.Errorf("want a string, boolean or number, got %.20s", b)
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&n); err != nil {
		return "", err
	}
	return n.String(), nil
}

// Principal is the Principal (or NotPrincipal) element: "*" or a map from
// principal type ("AWS", "Service", "Federated", "CanonicalUser") to IDs.
// Identity policies (those of users, groups and roles) have none.
type Principal struct {
	// Wildcard is true for "Principal": "*".
	Wildcard bool
	IDs      map[string]Strings
}

// MarshalJSON writes "*" or the map.
func (p Principal) MarshalJSON() ([]byte, error) {
	if p.Wildcard {
		return []byte(`"*"`), nil
	}
	if p.IDs == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(p.IDs)
}

// UnmarshalJSON reads "*" or a map of principal types.
func (p *Principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s != "*" {
			return fmt.Errorf(`principal %q: want "*" or an object`, s)
		}
		*p = Principal{Wildcard: true}
		return nil
	}
	var m map[string]Strings
	if err := decodeStrict(b, &m); err != nil {
		return err
	}
	if m == nil {
		m = map[string]Strings{}
	}
	*p = Principal{IDs: m}
	return nil
}

// MarshalJSON writes one object when Single and one statement, else a list.
func (s Statements) MarshalJSON() ([]byte, error) {
	if s.Single && len(s.List) == 1 {
		return json.Marshal(s.List[0])
	}
	if s.List == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(s.List)
}

// UnmarshalJSON reads one statement object or a list of them.
func (s *Statements) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '{' {
		var st Statement
		if err := decodeStrict(b, &st); err != nil {
			return err
		}
		*s = Statements{List: []Statement{st}, Single: true}
		return nil
	}
	var l []Statement
	if err := decodeStrict(b, &l); err != nil {
		return err
	}
	if l == nil {
		l = []Statement{}
	}
	*s = Statements{List: l}
	return nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// elements so that nothing is dropped on a round trip.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err == nil {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// ParsePolicyDocument reads a policy document. It accepts the URL-encoded
// form that IAM's Get*Policy and GetPolicyVersion calls return. Unknown
// elements are refused. The error matches ErrPolicyDocument.
func ParsePolicyDocument(s string) (*PolicyDocument, error) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		u, err := url.PathUnescape(t)
		if err != nil {
			return nil, fmt.Errorf("awsguard: %w: %v", ErrPolicyDocument, err)
		}
		t = strings.TrimSpace(u)
	}
	var d PolicyDocument
	if err := decodeStrict([]byte(t), &d); err != nil {
		return nil, fmt.Errorf("awsguard: %w: %v", ErrPolicyDocument, err)
	}
	return &d, nil
}

// JSON returns the document as compact JSON, as IAM takes it.
func (d *PolicyDocument) JSON() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("awsguard: %w: %v", ErrPolicyDocument, err)
	}
	return string(b), nil
}

// Validate checks the grammar IAM enforces on identity policies (those of
// users, groups and roles, and managed policies): version, at least one
// statement, an Effect of Allow or Deny, exactly one of Action and
// NotAction, exactly one of Resource and NotResource, no Principal, and
// unique Sids. The error matches ErrPolicyDocument.
func (d *PolicyDocument) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("awsguard: %w: %s", ErrPolicyDocument, fmt.Sprintf(format, a...))
	}
	if d.Version != PolicyVersion2012 && d.Version != "2008-10-17" {
		return bad("Version %q: want %q", d.Version, PolicyVersion2012)
	}
	if len(d.Statement.List) == 0 {
		return bad("no statement")
	}
	sids := map[string]bool{}
	for i, st := range d.Statement.List {
		where := fmt.Sprintf("Statement[%d]", i)
		if st.Sid != "" {
			if sids[st.Sid] {
				return bad("%s: duplicate Sid %q", where, st.Sid)
			}
			sids[st.Sid] = true
		}
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return bad("%s: Effect %q: want Allow or Deny", where, st.Effect)
		}
		if st.Principal != nil || st.NotPrincipal != nil {
			return bad("%s: an identity policy has no Principal", where)
		}
		if st.Action.IsZero() == st.NotAction.IsZero() {
			return bad("%s: want exactly one of Action and NotAction", where)
		}
		if st.Resource.IsZero() == st.NotResource.IsZero() {
			return bad("%s: want exactly one of Resource and NotResource", where)
		}
		for _, v := range [][]string{st.Action.Values, st.NotAction.Values, st.Resource.Values, st.NotResource.Values} {
			if v != nil && len(v) == 0 {
				return bad("%s: empty list", where)
			}
		}
	}
	return nil
}

// Equivalent reports whether two documents say the same: equal after
// forgetting whether an element was written as one string or as a list of
// one, and whether Statement was one object or a list of one.
func (d *PolicyDocument) Equivalent(o *PolicyDocument) bool {
	if d == nil || o == nil {
		return d == o
	}
	a, err1 := json.Marshal(d.normalized())
	b, err2 := json.Marshal(o.normalized())
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func (d *PolicyDocument) normalized() *PolicyDocument {
	n := &PolicyDocument{Version: d.Version, ID: d.ID, Statement: Statements{List: make([]Statement, len(d.Statement.List))}}
	norm := func(s Strings) Strings {
		if s.IsZero() {
			return s
		}
		return Strings{Values: slices.Clone(s.Values)}
	}
	normP := func(p *Principal) *Principal {
		if p == nil || p.Wildcard {
			return p
		}
		q := &Principal{IDs: map[string]Strings{}}
		for k, v := range p.IDs {
			q.IDs[k] = norm(v)
		}
		return q
	}
	for i, st := range d.Statement.List {
		c := st
		c.Action, c.NotAction, c.Resource, c.NotResource = norm(st.Action), norm(st.NotAction), norm(st.Resource), norm(st.NotResource)
		c.Principal, c.NotPrincipal = normP(st.Principal), normP(st.NotPrincipal)
		if st.Condition != nil {
			c.Condition = map[string]map[string]Strings{}
			for op, kv := range st.Condition {
				m := map[string]Strings{}
				for k, v := range kv {
					m[k] = norm(v)
				}
				c.Condition[op] = m
			}
		}
		n.Statement.List[i] = c
	}
	return n
}
