package ec2recover_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

func TestGenerateKey(t *testing.T) {
	for _, typ := range []ec2recover.KeyType{ec2recover.KeyEd25519, ec2recover.KeyRSA} {
		k, err := ec2recover.GenerateKey(typ, "me@host")
		if err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.ParsePrivateKey([]byte(k.PrivateKey.Reveal()))
		if err != nil {
			t.Fatalf("%s: private key does not parse: %v", typ, err)
		}
		if got := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " me@host"; got != k.PublicKey {
			t.Errorf("%s: public key %q, want %q", typ, k.PublicKey, got)
		}
		if typ == ec2recover.KeyRSA {
			if bits := signer.PublicKey().(ssh.CryptoPublicKey).CryptoPublicKey(); fmt.Sprintf("%T", bits) != "*rsa.PublicKey" {
				t.Errorf("rsa key is %T", bits)
			}
		}
		// The private key never shows in %v, %+v, %#v or JSON.
		secret := k.PrivateKey.Reveal()[40:80]
		j, _ := json.Marshal(k)
		for _, s := range []string{fmt.Sprintf("%v", k), fmt.Sprintf("%+v", *k), fmt.Sprintf("%#v", *k), string(j)} {
			if strings.Contains(s, secret) || strings.Contains(s, "PRIVATE KEY") {
				t.Errorf("%s: the private key shows: %s", typ, s)
			}
		}
	}
	if _, err := ec2recover.GenerateKey("dsa", ""); !errors.Is(err, awsguard.ErrInvalidInput) {
		t.Errorf("dsa: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	k, err := ec2recover.GenerateKey("", "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "key")
	if err := k.WriteFile(p, false); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %o", st.Mode().Perm())
	}
	k2, _ := ec2recover.GenerateKey("", "")
	if err := k2.WriteFile(p, false); !errors.Is(err, ec2recover.ErrKeyFileExists) {
		t.Errorf("overwrite without asking: %v", err)
	}
	if got, _ := ec2recover.ReadKeyFile(p); got.Fingerprint != k.Fingerprint {
		t.Errorf("the existing file was touched")
	}
	must(t, os.Chmod(p, 0o644))
	if err := k2.WriteFile(p, true); err != nil {
		t.Fatal(err)
	}
	got, err := ec2recover.ReadKeyFile(p)
	if err != nil || got.Fingerprint != k2.Fingerprint {
		t.Errorf("after overwrite: %v %v", got, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode after overwrite %o", st.Mode().Perm())
	}
	pub, _ := ec2recover.ParsePublicKey(k.PublicKey)
	if err := pub.WriteFile(filepath.Join(dir, "nokey"), false); err == nil {
		t.Error("wrote a key pair without a private key")
	}
}

func TestParsePublicKey(t *testing.T) {
	k, _ := ec2recover.GenerateKey("", "c")
	if got, err := ec2recover.ParsePublicKey(k.PublicKey); err != nil || got.Fingerprint != k.Fingerprint {
		t.Errorf("%v %v", got, err)
	}
	for _, bad := range []string{"", "ssh-ed25519", "command=\"x\" " + k.PublicKey, k.PublicKey + "\n" + k.PublicKey, "ssh-ed25519 AAAA'x"} {
		if _, err := ec2recover.ParsePublicKey(bad); !errors.Is(err, awsguard.ErrInvalidInput) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// Bad input is refused before any call, with the field named.
func TestRecoverInput(t *testing.T) {
	c := ec2recover.Clients{EC2: nil, SSM: nil}
	for _, tc := range []struct {
		id    string
		opt   func(*ec2recover.Options)
		field string
	}{
		{"i-xyz", nil, "instanceID"},
		{"i-0123456789abcdef0", nil, "Clients.EC2"},
	} {
		var fns []func(*ec2recover.Options)
		if tc.opt != nil {
			fns = append(fns, tc.opt)
		}
		_, err := ec2recover.RecoverLostKeyPair(context.Background(), c, tc.id, fns...)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%s: %v, want an InputError on %s", tc.id, err, tc.field)
		}
	}
	full := ec2recover.Clients{EC2: noEC2{}, SSM: noSSM{}}
	for _, tc := range []struct {
		opt   func(*ec2recover.Options)
		field string
	}{
		{func(o *ec2recover.Options) { o.Strategy = "reboot" }, "Options.Strategy"},
		{func(o *ec2recover.Options) { o.KeyType = "dsa" }, "Options.KeyType"},
		{func(o *ec2recover.Options) { o.LoginUser = "Root;rm" }, "Options.LoginUser"},
		{func(o *ec2recover.Options) { o.ParameterName = "/x" }, "Clients.ParameterStore"},
		{func(o *ec2recover.Options) { o.PublicKey = "not a key" }, "Options.PublicKey"},
		{func(o *ec2recover.Options) { o.HelperSubnetID = "sn-1" }, "Options.HelperSubnetID"},
	} {
		_, err := ec2recover.RecoverLostKeyPair(context.Background(), full, "i-0123456789abcdef0", tc.opt)
		var ie *awsguard.InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%v, want an InputError on %s", err, tc.field)
		}
	}
}

// noEC2 and noSSM fail the test's expectations if called: validation
// comes before any call. Their methods are never reached.
type noEC2 struct{ ec2recover.RecoverEC2 }
type noSSM struct{ ec2recover.RecoverSSM }
