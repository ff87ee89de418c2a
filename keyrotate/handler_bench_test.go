package keyrotate_test

import (
	"context"
	"testing"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/keyrotate"
)

// BenchmarkRotationSteps runs whole rotations (the four steps) against
// moto with authentication enforced and reports API calls per rotation.
func BenchmarkRotationSteps(b *testing.B) {
	w := newSMWorld(b)
	f := w.newCase(b, "bench", "bench/access-key")
	calls := apicalls.New()
	n := 0
	for b.Loop() {
		n++
		tok := smToken(1000 + n)
		h, _ := f.handler(tok, calls.APIOption)
		for _, s := range keyrotate.Steps {
			if _, err := h.Rotate(context.Background(), keyrotate.RotationEvent{Step: s, SecretID: f.secret, ClientRequestToken: tok}); err != nil {
				b.Fatalf("%s: %v", s, err)
			}
		}
	}
	b.ReportMetric(float64(calls.Total())/float64(n), "calls/op")
}
