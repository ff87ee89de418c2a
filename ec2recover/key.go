package ec2recover

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"golang.org/x/crypto/ssh"

	"github.com/awsguard/awsguard"
)

// KeyType is the algorithm of a generated key pair.
type KeyType string

// The key types GenerateKey makes.
const (
	// KeyEd25519 is the default: short keys, accepted by every current
	// OpenSSH server.
	KeyEd25519 KeyType = "ed25519"
	// KeyRSA is RSA 4096, for servers older than OpenSSH 6.5.
	KeyRSA KeyType = "rsa"
)

// RSABits is the size of generated RSA keys.
const RSABits = 4096

// KeyPair is a key pair generated on this machine: the private key never
// passes through AWS. PrivateKey is the OpenSSH private key file's content
// in a redacting awsguard.Secret.
type KeyPair struct {
	Type KeyType `json:"type"`
	// PublicKey is the authorized_keys line: "ssh-ed25519 AAAA... comment".
	PublicKey string `json:"public_key"`
	// Fingerprint is the SHA256 fingerprint, as ssh-keygen -l shows it.
	Fingerprint string `json:"fingerprint"`
	// PrivateKey is the OpenSSH private key (PEM, "OPENSSH PRIVATE KEY").
	PrivateKey awsguard.Secret `json:"private_key"`
}

// GenerateKey makes a key pair of type t (KeyEd25519 when empty) whose
// public key line ends with comment (no newline or control characters).
func GenerateKey(t KeyType, comment string) (*KeyPair, error) {
	if t == "" {
		t = KeyEd25519
	}
	if strings.ContainsFunc(comment, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return nil, &awsguard.InputError{Operation: "ec2recover.GenerateKey", Field: "comment", Value: comment, Allowed: "text without control characters"}
	}
	var priv any
	switch t {
	case KeyEd25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("ec2recover: generate ed25519 key: %w", err)
		}
		priv = k
	case KeyRSA:
		k, err := rsa.GenerateKey(rand.Reader, RSABits)
		if err != nil {
			return nil, fmt.Errorf("ec2recover: generate RSA key: %w", err)
		}
		priv = k
	default:
		return nil, &awsguard.InputError{Operation: "ec2recover.GenerateKey", Field: "type", Value: string(t), Allowed: "ed25519 or rsa"}
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, fmt.Errorf("ec2recover: encode private key: %w", err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, fmt.Errorf("ec2recover: public key: %w", err)
	}
	pub := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(signer.PublicKey())), "\n")
	if comment != "" {
		pub += " " + comment
	}
	return &KeyPair{
		Type:        t,
		PublicKey:   pub,
		Fingerprint: ssh.FingerprintSHA256(signer.PublicKey()),
		PrivateKey:  awsguard.NewSecretBytes(pem.EncodeToMemory(block)),
	}, nil
}

// ParsePublicKey checks an authorized_keys line (one key, no options) and
// returns it as a KeyPair without a private key, for a caller who brings
// a key of their own (Options.PublicKey).
func ParsePublicKey(line string) (*KeyPair, error) {
	line = strings.TrimSpace(line)
	bad := &awsguard.InputError{Operation: "ec2recover.ParsePublicKey", Field: "Options.PublicKey", Value: shorten(line), Allowed: "one OpenSSH public key line (ssh-ed25519 or ssh-rsa ...)"}
	if line == "" || strings.ContainsAny(line, "\n\r'\\\x00") {
		return nil, bad
	}
	pk, comment, opts, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil || len(opts) > 0 || len(rest) > 0 {
		return nil, bad
	}
	t := KeyType("")
	switch pk.Type() {
	case ssh.KeyAlgoED25519:
		t = KeyEd25519
	case ssh.KeyAlgoRSA:
		t = KeyRSA
	}
	pub := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(pk)), "\n")
	if comment != "" {
		pub += " " + comment
	}
	return &KeyPair{Type: t, PublicKey: pub, Fingerprint: ssh.FingerprintSHA256(pk)}, nil
}

// ReadKeyFile reads an OpenSSH private key file (as WriteFile writes it)
// back into a KeyPair, for a Resume after the process that generated it
// ended. The error never quotes the file's content.
func ReadKeyFile(path string) (*KeyPair, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ec2recover: read key file: %w", err)
	}
	raw, err := ssh.ParseRawPrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("ec2recover: key file %s is not an unencrypted OpenSSH private key", path)
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, fmt.Errorf("ec2recover: key file %s: unsupported key", path)
	}
	t := KeyRSA
	if signer.PublicKey().Type() == ssh.KeyAlgoED25519 {
		t = KeyEd25519
	}
	return &KeyPair{
		Type:        t,
		PublicKey:   strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(signer.PublicKey())), "\n"),
		Fingerprint: ssh.FingerprintSHA256(signer.PublicKey()),
		PrivateKey:  awsguard.NewSecretBytes(b),
	}, nil
}

// WriteFile writes the private key to path with mode 0600. It creates the
// file exclusively (O_EXCL), so an existing file is never touched unless
// overwrite is true; then the old file is replaced through a new one
// renamed over it. Without a private key (a KeyPair from ParsePublicKey)
// it fails.
func (k *KeyPair) WriteFile(path string, overwrite bool) error {
	if path == "" {
		return &awsguard.InputError{Operation: "ec2recover.KeyPair.WriteFile", Field: "path", Value: "", Allowed: "a file path"}
	}
	if k.PrivateKey.IsZero() {
		return errors.New("ec2recover: the key pair holds no private key to write")
	}
	data := []byte(k.PrivateKey.Reveal())
	if !overwrite {
		return writeExclusive(path, data)
	}
	tmp := path + ".tmp-ec2recover"
	_ = os.Remove(tmp)
	if err := writeExclusive(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	return nil
}

func writeExclusive(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s (allow overwriting to replace it)", ErrKeyFileExists, path)
	}
	if err != nil {
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	// The umask cannot widen 0600, but a chmod makes the mode exact.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("ec2recover: write key file: %w", err)
	}
	return nil
}

// StoreKey puts the private key into SSM Parameter Store as a SecureString
// named name (encrypted with keyID, or the account's aws/ssm key when
// empty). An existing parameter is replaced only when overwrite is true.
// Permission: ssm:PutParameter (and kms:Encrypt on a customer key).
func StoreKey(ctx context.Context, api ParameterStore, name, keyID string, k *KeyPair, overwrite bool) error {
	if !validParameterName(name) {
		return &awsguard.InputError{Operation: "ec2recover.StoreKey", Field: "name", Value: name, Allowed: "an SSM parameter name: 1 to 1011 of letters, digits and _.-/, starting with /"}
	}
	if k == nil || k.PrivateKey.IsZero() {
		return &awsguard.InputError{Operation: "ec2recover.StoreKey", Field: "key", Value: "", Allowed: "a key pair with a private key"}
	}
	in := &ssm.PutParameterInput{
		Name:        aws.String(name),
		Type:        ssmtypes.ParameterTypeSecureString,
		Value:       aws.String(k.PrivateKey.Reveal()),
		Overwrite:   aws.Bool(overwrite),
		Description: aws.String("SSH private key " + k.Fingerprint + " made by ec2recover"),
		Tier:        ssmtypes.ParameterTierAdvanced, // an RSA 4096 key is longer than the 4 KB of the standard tier
	}
	if k.Type == KeyEd25519 {
		in.Tier = ssmtypes.ParameterTierStandard
	}
	if keyID != "" {
		in.KeyId = aws.String(keyID)
	}
	if _, err := api.PutParameter(ctx, in); err != nil {
		return fmt.Errorf("ec2recover: store private key in parameter %s: %w", name, err)
	}
	return nil
}

func validParameterName(s string) bool {
	if len(s) < 2 || len(s) > 1011 || s[0] != '/' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.-/", r)) {
			return false
		}
	}
	return true
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
