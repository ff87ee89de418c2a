package keyrotate

import (
	"fmt"
	"log/slog"
	"time"
)

// Redacted is what a Secret shows of itself.
const Redacted = "[REDACTED]"

// Secret holds a secret access key. It shows itself as [REDACTED] in %v,
// %s, %q, %#v, JSON and slog output; Reveal returns the value.
type Secret string

// Reveal returns the secret itself. Call it only where the value must leave
// the process: signing, or handing it to a store the caller chose.
func (s Secret) Reveal() string { return string(s) }

// String returns [REDACTED].
func (s Secret) String() string { return Redacted }

// GoString returns [REDACTED].
func (s Secret) GoString() string { return Redacted }

// Format writes [REDACTED] for every verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// MarshalJSON writes "[REDACTED]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText writes [REDACTED].
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue makes slog log [REDACTED].
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// AccessKey is an IAM access key pair. Its secret half redacts itself.
type AccessKey struct {
	UserName    string
	AccessKeyID string
	Secret      Secret
	CreateDate  time.Time
}
