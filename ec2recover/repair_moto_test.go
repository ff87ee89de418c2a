package ec2recover_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/ec2recover"
)

// The root-volume repair, end to end on moto: Auto picks it (moto cannot
// tell whether SSM manages the instance), the key lands in a 0600 file,
// and the instance ends as it began with the same root volume.
func TestRepairMoto(t *testing.T) {
	for _, tc := range []struct {
		name, state string
		keep        bool
	}{
		{"running, snapshot deleted", "running", false},
		{"stopped, snapshot kept", "stopped", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.state)
			keyFile := filepath.Join(w.dir, "key")
			var events []awsguard.Progress
			rec, err := ec2recover.RecoverLostKeyPair(context.Background(), w.clients(), w.target, w.opts(func(o *ec2recover.Options) {
				o.Strategy = ec2recover.StrategyRepair
				o.KeyFile, o.KeepSnapshot = keyFile, tc.keep
				o.Progress = func(p awsguard.Progress) { events = append(events, p) }
			})...)
			if err != nil {
				t.Fatalf("recover: %v", err)
			}
			t.Logf("plan: %s", strings.Join(rec.Describe(), "; "))
			if rec.Strategy != ec2recover.StrategyRepair || !rec.Applied || rec.Reason != awsguard.ReasonApplied {
				t.Errorf("strategy %s applied %v reason %s", rec.Strategy, rec.Applied, rec.Reason)
			}
			if !rec.NewPublicIP && tc.state == "running" {
				t.Errorf("NewPublicIP false for a running instance without an Elastic IP")
			}
			if len(rec.Considered) != 4 || rec.Considered[0].Possible || !rec.Considered[2].Possible {
				t.Errorf("considered: %+v", rec.Considered)
			}
			w.checkRestored("after the repair", tc.state, tc.keep)
			if tc.keep && rec.SnapshotID == "" {
				t.Errorf("kept snapshot not reported")
			}
			st, err := os.Stat(keyFile)
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("key file: %v %v", st, err)
			}
			kp, err := ec2recover.ReadKeyFile(keyFile)
			if err != nil || kp.PublicKey != strings.Join(strings.Fields(rec.Key.PublicKey)[:2], " ") {
				t.Errorf("key file holds %v (%v), want the key of %s", kp, err, rec.Key.PublicKey)
			}
			if len(events) == 0 || events[len(events)-1].Done != events[len(events)-1].Total {
				t.Errorf("progress events: %v", events)
			}
			// A second recovery of the same instance starts afresh and
			// finishes the same way: nothing of the first is in its way.
			if tc.keep {
				rec2, err := ec2recover.RecoverLostKeyPair(context.Background(), w.clients(), w.target, w.opts(repair)...)
				if err != nil || rec2.ID == rec.ID {
					t.Fatalf("second recovery: %v", err)
				}
			}
			w.checkRestored("after the second repair", tc.state, tc.keep)
		})
	}
}

func repair(o *ec2recover.Options) { o.Strategy = ec2recover.StrategyRepair }
