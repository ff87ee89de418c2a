package awsguard

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// Redacted is what a [Secret] shows of itself.
const Redacted = "[REDACTED]"

// Secret holds a secret access key, a private key, an MFA seed or any other
// value that must not leak. It shows itself as [REDACTED] in every fmt verb
// (%v, %+v, %#v, %s, %q, %x), in JSON, in text encodings, in slog records and
// so in every error that formats it. [Secret.Reveal] is the one way to read
// the value.
//
// The value sits behind a pointer, so that even a struct that holds a Secret
// in an unexported field (which fmt prints without calling its methods) shows
// an address, never the value. The zero Secret holds nothing
// ([Secret.IsZero]); it marshals to "" in JSON, a non-empty one to
// "[REDACTED]". Compare two secrets with [Secret.Equal] (go-cmp uses it).
type Secret struct{ v *secretValue }

type secretValue struct{ b []byte }

// NewSecret wraps s. An empty s gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{v: &secretValue{b: []byte(s)}}
}

// NewSecretBytes wraps a copy of b (a private key, a QR code PNG). An empty
// b gives the zero Secret.
func NewSecretBytes(b []byte) Secret {
	if len(b) == 0 {
		return Secret{}
	}
	return Secret{v: &secretValue{b: bytes.Clone(b)}}
}

// Reveal returns the secret itself. Call it only where the value must leave
// the process: signing a request, or writing it to a store or a 0600 file
// the caller chose.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return string(s.v.b)
}

// IsZero reports whether the Secret holds nothing.
func (s Secret) IsZero() bool { return s.v == nil || len(s.v.b) == 0 }

// Len returns the length of the value in bytes: enough to check a format
// without revealing it.
func (s Secret) Len() int {
	if s.v == nil {
		return 0
	}
	return len(s.v.b)
}

// Equal reports whether s and o hold the same value, in constant time for
// values of equal length.
func (s Secret) Equal(o Secret) bool {
	var a, b []byte
	if s.v != nil {
		a = s.v.b
	}
	if o.v != nil {
		b = o.v.b
	}
	return subtle.ConstantTimeCompare(a, b) == 1
}

// String returns [REDACTED].
func (s Secret) String() string { return Redacted }

// GoString returns [REDACTED].
func (s Secret) GoString() string { return Redacted }

// Format writes [REDACTED] for every verb and flag.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON writes "[REDACTED]", or "" for the zero Secret.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.IsZero() {
		return []byte(`""`), nil
	}
	return []byte(`"` + Redacted + `"`), nil
}

// MarshalText writes [REDACTED].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue makes slog log [REDACTED].
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// ErrSecretInJSON is returned when JSON that should hold a redacted secret
// holds a value: secrets are never read from JSON, so a value put there by
// other means is refused rather than taken up silently.
var ErrSecretInJSON = errors.New("awsguard: a secret is never read from JSON")

// UnmarshalJSON decodes what MarshalJSON writes: "[REDACTED]", "" or null
// decode to the zero Secret, so a result written as JSON reads back. Any
// other value is refused with ErrSecretInJSON; the error never quotes it.
func (s *Secret) UnmarshalJSON(b []byte) error {
	*s = Secret{}
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("awsguard: secret: want a JSON string")
	}
	if v != "" && v != Redacted {
		return ErrSecretInJSON
	}
	return nil
}
