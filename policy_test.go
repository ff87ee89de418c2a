package awsguard_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
)

const policyDocAWSExample = `{
  "Version": "2012-10-17",
  "Id": "example",
  "Statement": [
    {"Sid": "One", "Effect": "Allow", "Action": "iam:GetUser", "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
    {"Sid": "Two", "Effect": "Deny", "NotAction": ["iam:ChangePassword", "sts:GetSessionToken"], "NotResource": "arn:aws:s3:::x",
     "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": false}, "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                   "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "ap-northeast-2"]}}},
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root", "Service": ["ec2.amazonaws.com"]}, "Action": "sts:AssumeRole", "Resource": "*"},
    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
  ]
}`

func TestParsePolicyDocument(t *testing.T) {
	d, err := awsguard.ParsePolicyDocument(policyDocAWSExample)
	if err != nil {
		t.Fatal(err)
	}
	st := d.Statement.List
	want := []awsguard.Statement{
		{Sid: "One", Effect: "Allow", Action: awsguard.StringValue("iam:GetUser"), Resource: awsguard.StringList("arn:aws:iam::*:user/${aws:username}")},
		{Sid: "Two", Effect: "Deny", NotAction: awsguard.StringList("iam:ChangePassword", "sts:GetSessionToken"), NotResource: awsguard.StringValue("arn:aws:s3:::x"),
			Condition: map[string]map[string]awsguard.Strings{
				"BoolIfExists":    {"aws:MultiFactorAuthPresent": awsguard.StringValue("false")},
				"NumericLessThan": {"aws:MultiFactorAuthAge": awsguard.StringValue("3600")},
				"StringEquals":    {"aws:RequestedRegion": awsguard.StringList("eu-west-1", "ap-northeast-2")},
			}},
		{Effect: "Allow", Principal: &awsguard.Principal{IDs: map[string]awsguard.Strings{
			"AWS": awsguard.StringValue("arn:aws:iam::111122223333:root"), "Service": awsguard.StringList("ec2.amazonaws.com")}},
			Action: awsguard.StringValue("sts:AssumeRole"), Resource: awsguard.StringValue("*")},
		{Effect: "Allow", Principal: &awsguard.Principal{Wildcard: true}, Action: awsguard.StringValue("s3:GetObject"), Resource: awsguard.StringValue("*")},
	}
	if d := cmp.Diff(want, st); d != "" {
		t.Errorf("statements (-want +got):\n%s", d)
	}
	if d.Version != "2012-10-17" || d.ID != "example" || d.Statement.Single {
		t.Errorf("document = %+v", d)
	}
	// Round trip keeps string-vs-list.
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, frag := range []string{`"Action":"iam:GetUser"`, `"Resource":["arn:aws:iam::*:user/${aws:username}"]`, `"NotResource":"arn:aws:s3:::x"`,
		`"Service":["ec2.amazonaws.com"]`, `"Principal":"*"`, `"aws:RequestedRegion":["eu-west-1","ap-northeast-2"]`} {
		if !strings.Contains(string(b), frag) {
			t.Errorf("marshalled document lacks %s:\n%s", frag, b)
		}
	}
	again, err := awsguard.ParsePolicyDocument(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(d, again); d != "" {
		t.Errorf("round trip (-first +second):\n%s", d)
	}
}

func TestParsePolicyDocumentForms(t *testing.T) {
	single := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::a+b c"}}`
	enc := "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Aa%2Bb%20c%22%7D%7D"
	a := must(awsguard.ParsePolicyDocument(single))(t)
	b := must(awsguard.ParsePolicyDocument(enc))(t)
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("URL-encoded form differs (-raw +encoded):\n%s", d)
	}
	if !a.Statement.Single || a.Statement.List[0].Resource.Values[0] != "arn:aws:s3:::a+b c" {
		t.Errorf("parsed = %+v", a)
	}
	if got := must(a.JSON())(t); got != single {
		t.Errorf("JSON() = %s, want %s", got, single)
	}
	list := must(awsguard.ParsePolicyDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::a+b c"}]}`))(t)
	if !a.Equivalent(list) || !list.Equivalent(a) {
		t.Error("one statement as object and as list of one should be equivalent")
	}
	other := must(awsguard.ParsePolicyDocument(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["s3:*"],"Resource":"arn:aws:s3:::a+b c"}]}`))(t)
	if a.Equivalent(other) {
		t.Error("Allow and Deny are equivalent?")
	}

	for name, bad := range map[string]string{
		"unknown element":  `{"Version":"2012-10-17","Statement":[],"Extra":1}`,
		"unknown in stmt":  `{"Statement":[{"Effect":"Allow","Actions":"s3:*"}]}`,
		"object action":    `{"Statement":[{"Effect":"Allow","Action":{"a":1}}]}`,
		"nested list":      `{"Statement":[{"Effect":"Allow","Action":[["a"]]}]}`,
		"principal string": `{"Statement":[{"Effect":"Allow","Principal":"me"}]}`,
		"not json":         `{"Statement":`,
		"trailing":         `{"Statement":[]} {}`,
		"bad escape":       `%ZZ`,
		"statement string": `{"Statement":"x"}`,
	} {
		if _, err := awsguard.ParsePolicyDocument(bad); !errors.Is(err, awsguard.ErrPolicyDocument) {
			t.Errorf("%s: err = %v, want ErrPolicyDocument", name, err)
		}
	}
}

func TestPolicyDocumentValidate(t *testing.T) {
	ok := func() *awsguard.PolicyDocument {
		return &awsguard.PolicyDocument{Version: awsguard.PolicyVersion2012, Statement: awsguard.Statements{List: []awsguard.Statement{
			{Sid: "A", Effect: "Allow", Action: awsguard.StringValue("s3:GetObject"), Resource: awsguard.StringValue("*")}}}}
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := map[string]func(d *awsguard.PolicyDocument){
		"old version":  func(d *awsguard.PolicyDocument) { d.Version = "2010-01-01" },
		"no version":   func(d *awsguard.PolicyDocument) { d.Version = "" },
		"no statement": func(d *awsguard.PolicyDocument) { d.Statement.List = nil },
		"bad effect":   func(d *awsguard.PolicyDocument) { d.Statement.List[0].Effect = "allow" },
		"both actions": func(d *awsguard.PolicyDocument) { d.Statement.List[0].NotAction = awsguard.StringValue("s3:*") },
		"no action":    func(d *awsguard.PolicyDocument) { d.Statement.List[0].Action = awsguard.Strings{} },
		"no resource":  func(d *awsguard.PolicyDocument) { d.Statement.List[0].Resource = awsguard.Strings{} },
		"empty list":   func(d *awsguard.PolicyDocument) { d.Statement.List[0].Action = awsguard.StringList() },
		"principal":    func(d *awsguard.PolicyDocument) { d.Statement.List[0].Principal = &awsguard.Principal{Wildcard: true} },
		"duplicate sid": func(d *awsguard.PolicyDocument) {
			d.Statement.List = append(d.Statement.List, d.Statement.List[0])
		},
	}
	for name, mutate := range tests {
		d := ok()
		mutate(d)
		if err := d.Validate(); !errors.Is(err, awsguard.ErrPolicyDocument) {
			t.Errorf("%s: err = %v, want ErrPolicyDocument", name, err)
		}
	}
}

// FuzzPolicyDocument: whatever parses marshals to JSON that parses to
// the same document, and marshalling is then stable (string-vs-list kept).
func FuzzPolicyDocument(f *testing.F) {
	for _, s := range []string{
		policyDocAWSExample,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`,
		`{"Statement":[{"Effect":"Deny","NotAction":[],"Resource":null,"Condition":{}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":[1, true, -2.5e3, "x"],"Condition":{"Bool":{"k":[false]}}}]}`,
		`{"Statement":[{"Principal":{"AWS":[]},"NotPrincipal":{}}]}`,
		`{"statement":{"effect":"Allow","action":"a"}}`,
		"%7B%22Statement%22%3A%5B%5D%7D",
		`{"Statement":[{"Action":"\u00e9\ud800"}]}`,
		`{}`, `[]`, `null`, ``, `"x"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := awsguard.ParsePolicyDocument(in)
		if err != nil {
			if !errors.Is(err, awsguard.ErrPolicyDocument) {
				t.Fatalf("error %v does not match ErrPolicyDocument", err)
			}
			return
		}
		_ = d.Validate() // must not panic
		b1, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		d2, err := awsguard.ParsePolicyDocument(string(b1))
		if err != nil {
			t.Fatalf("reparse of %s: %v", b1, err)
		}
		b2, err := json.Marshal(d2)
		if err != nil {
			t.Fatalf("marshal again: %v", err)
		}
		if string(b1) != string(b2) {
			t.Fatalf("not stable:\n%s\n%s", b1, b2)
		}
		if !d.Equivalent(d2) {
			t.Fatalf("round trip not equivalent:\n%s", b1)
		}
		if d.Statement.Single != d2.Statement.Single && len(d.Statement.List) == 1 {
			t.Fatalf("statement form changed: %s", b1)
		}
	})
}

// must turns a (value, error) pair into the value, failing the test on
// error: must(awsguard.ParsePolicyDocument(s))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
