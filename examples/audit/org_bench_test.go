package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/smithy-go/middleware"

	"github.com/awsguard/awsguard/internal/apicalls"
)

// BenchmarkOrgAudit runs audit -org (every provider, the default region)
// over an organization of 12 and 50 members plus the management account,
// one member without its role, with -concurrency 1 (one account at a
// time) beside the default, after one untimed run. It reports the API
// calls of one run (the emulation of the missing role's refusal,
// roleChecking's GetRole, is not counted). On moto: call counts carry
// over to AWS, times do not.
//
//	go test -run '^$' -bench OrgAudit -benchtime 1x ./examples/audit
func BenchmarkOrgAudit(b *testing.B) {
	env := orgMoto(b)
	for _, n := range []int{12, 50} {
		if err := env.Server.Reset(context.Background()); err != nil {
			b.Fatal(err)
		}
		seedOrg(b, env, n)
		// One run first, untimed: moto builds each account's and region's
		// backends on first use (seconds), which the first sub-benchmark
		// would otherwise pay alone.
		if r := runAudit(b, "-org", "-role", memberRole, "-format", "json", "-fail-on", "none"); r.code != 1 {
			b.Fatalf("warm-up: code %d: %s", r.code, r.stderr)
		}
		for _, conc := range []int{1, DefaultConcurrency} {
			b.Run(fmt.Sprintf("accounts=%d/concurrency=%d", n+1, conc), func(b *testing.B) {
				calls := apicalls.New()
				saved := apiOptions
				b.Cleanup(func() { apiOptions = saved })
				apiOptions = []func(*middleware.Stack) error{calls.APIOption}
				for b.Loop() {
					if r := runAudit(b, "-org", "-role", memberRole, "-format", "json", "-fail-on", "none", "-concurrency", fmt.Sprint(conc)); r.code != 1 {
						b.Fatalf("code %d, want 1 (one member has no role): %s", r.code, r.stderr)
					}
				}
				b.ReportMetric(float64(calls.Total())/float64(b.N), "calls/op")
			})
		}
	}
}
