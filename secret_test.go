package awsguard_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
)

const secretValue = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

// TestSecretRedactsEverywhere: the value never shows in any fmt verb, JSON,
// text, slog or an error that wraps it, also inside structs, exported or
// not.
func TestSecretRedactsEverywhere(t *testing.T) {
	s := awsguard.NewSecret(secretValue)
	type outer struct {
		Key    awsguard.Secret
		hidden awsguard.Secret
		Ptr    *awsguard.Secret
	}
	o := outer{Key: s, hidden: s, Ptr: &s}
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s"} {
		out = append(out, fmt.Sprintf(verb, s), fmt.Sprintf(verb, o), fmt.Sprintf(verb, &o), fmt.Sprintf(verb, []awsguard.Secret{s}))
	}
	out = append(out, s.String(), s.GoString(), fmt.Errorf("wrap %v: %w", s, errors.New("x")).Error())
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(j))
	txt, _ := s.MarshalText()
	out = append(out, string(txt))
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("m", "secret", s, "outer", o)
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("m", "secret", s, "outer", o)
	out = append(out, logBuf.String())
	for _, got := range out {
		if strings.Contains(got, secretValue) || strings.Contains(got, "wJalr") || strings.Contains(got, fmt.Sprintf("%x", secretValue)[:16]) {
			t.Errorf("secret leaked: %s", got)
		}
	}
	if !strings.Contains(string(j), `"Key":"[REDACTED]"`) {
		t.Errorf("JSON = %s, want Key [REDACTED]", j)
	}
	if s.Reveal() != secretValue {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestSecretZeroAndEqual(t *testing.T) {
	var z awsguard.Secret
	if !z.IsZero() || z.Reveal() != "" || z.Len() != 0 || !awsguard.NewSecret("").IsZero() || !awsguard.NewSecretBytes(nil).IsZero() {
		t.Fatal("zero Secret not zero")
	}
	j, _ := json.Marshal(z)
	if string(j) != `""` {
		t.Errorf("zero JSON = %s, want \"\"", j)
	}
	a, b := awsguard.NewSecret("abc"), awsguard.NewSecretBytes([]byte("abc"))
	if !a.Equal(b) || a.Equal(awsguard.NewSecret("abd")) || a.Equal(z) || a.Len() != 3 {
		t.Error("Equal wrong")
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("cmp.Diff of equal secrets: %s", diff)
	}
	raw := []byte("xyz")
	c := awsguard.NewSecretBytes(raw)
	raw[0] = 'q'
	if c.Reveal() != "xyz" {
		t.Error("NewSecretBytes does not copy")
	}
}

func TestSecretUnmarshalJSON(t *testing.T) {
	for _, in := range []string{`"[REDACTED]"`, `""`, `null`} {
		s := awsguard.NewSecret("old")
		if err := json.Unmarshal([]byte(in), &s); err != nil || !s.IsZero() {
			t.Errorf("Unmarshal(%s) = %v, zero %v; want nil, zero", in, err, s.IsZero())
		}
	}
	var s awsguard.Secret
	err := json.Unmarshal([]byte(`"`+secretValue+`"`), &s)
	if !errors.Is(err, awsguard.ErrSecretInJSON) || strings.Contains(err.Error(), secretValue) {
		t.Errorf("Unmarshal(value) = %v, want ErrSecretInJSON without the value", err)
	}
	if err := json.Unmarshal([]byte(`12`), &s); err == nil {
		t.Error("Unmarshal(12) = nil, want error")
	}
}
