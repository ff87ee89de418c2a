package ec2recover_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
	"github.com/awsguard/awsguard/internal/apicalls"
)

// BenchmarkRecoverLostKeyPair recovers a running instance's lost key pair
// on moto with each strategy the emulator can carry out (SSM cannot be
// told apart from an unmanaged instance there: see MOTO.md), and reports
// the API calls of one recovery; the seeding of each run is not timed or
// counted. Waits poll every few milliseconds, so the times are the
// emulator's and the client's, not EC2's (stopping, starting and
// snapshotting take minutes on AWS); the call counts carry over, less the
// waiters' polls, which depend on how long EC2 takes.
//
//	go test -run '^$' -bench RecoverLostKeyPair -benchtime 1x ./ec2recover
func BenchmarkRecoverLostKeyPair(b *testing.B) {
	for _, tc := range []struct {
		strategy ec2recover.Strategy
		boot     bool // the user-data boot faked (see bootEC2)
	}{
		{ec2recover.StrategyRepair, false},
		{ec2recover.StrategyUserData, true},
		{ec2recover.StrategyRelaunch, true},
	} {
		b.Run(string(tc.strategy), func(b *testing.B) {
			ctx := context.Background()
			total := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := newWorld(b, "running")
				if tc.boot {
					w.setUserData(originalUserData)
				}
				c := apicalls.New()
				clients := w.clients(c.APIOption)
				if tc.boot {
					clients = w.bootClients(c.APIOption)
				}
				b.StartTimer()
				rec, err := ec2recover.RecoverLostKeyPair(ctx, clients, w.target, w.opts(func(o *ec2recover.Options) {
					o.Strategy, o.KeyFile = tc.strategy, filepath.Join(w.dir, "key")
				})...)
				b.StopTimer()
				if err != nil || rec.Strategy != tc.strategy || rec.Reason != awsguard.ReasonApplied {
					b.Fatalf("recover: %v (%+v)", err, rec)
				}
				total += c.Total()
			}
			b.ReportMetric(float64(total)/float64(b.N), "calls/op")
		})
	}
}
