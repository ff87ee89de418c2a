package ec2recover_test

import (
	"strings"
	"testing"

	"github.com/awsguard/awsguard/ec2recover"
)

// ParsePublicKey takes outside input: it never panics, and what it accepts
// is one line without the characters the scripts quote.
func FuzzParsePublicKey(f *testing.F) {
	f.Add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOKQ3S2y1n5kEtq2vvT9fJv0q3YwLk1xYbDq4i8bV5rQ me@host")
	f.Add("ssh-rsa AAAA x")
	f.Add("command=\"x\" ssh-ed25519 AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ec2recover.ParsePublicKey(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(k.PublicKey, "\n\r'\\\x00") || k.Fingerprint == "" {
			t.Errorf("accepted %q as %q", s, k.PublicKey)
		}
	})
}

// ParseScriptOutput reads what an instance printed: it never panics.
func FuzzParseScriptOutput(f *testing.F) {
	f.Add("ec2recover-result: ok user=ec2-user uid=1000 gid=1000\n")
	f.Add("noise\nec2recover-result: fail step=mount msg=no filesystem")
	f.Fuzz(func(t *testing.T, s string) {
		r, found := ec2recover.ParseScriptOutput(s)
		if !found && (r.OK || r.Step != "") {
			t.Errorf("%q: result %+v without a report line", s, r)
		}
	})
}
