package keyrotate_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/keyrotate"
)

// A dry run reads the live state and returns the plan without changing
// anything. Here the user holds an old Inactive key besides the one in use,
// so the plan first deletes it to make room. (The IAM client is a fake
// holding that state; a program passes keyrotate.ClientsFromConfig(cfg).)
func ExampleRotateAccessKey_dryRun() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	api := rotFakeState(nil, "alice", []types.AccessKeyMetadata{
		rotMeta("AKIAOLDINACTIVE00001", types.StatusTypeInactive, t0),
		rotMeta("AKIAINUSE00000000001", types.StatusTypeActive, t0.AddDate(0, 3, 0)),
	}, nil)
	rot, err := keyrotate.RotateAccessKey(context.Background(), keyrotate.Clients{IAM: api}, "alice",
		func(o *keyrotate.Options) { o.DryRun = true })
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range rot.Actions {
		fmt.Println(strings.TrimSpace(a.Kind + " " + a.Resource))
	}
	fmt.Println(rot.Applied)
	// Output:
	// delete-key AKIAOLDINACTIVE00001
	// record-intent AKIAINUSE00000000001
	// create-key
	// record-new-key
	// verify-key
	// deliver-key
	// record-delivery
	// deactivate-key AKIAINUSE00000000001
	// record-deactivation AKIAINUSE00000000001
	// clear-record alice
	// false
}

// Rotating only keys older than 90 days, writing the new key somewhere
// before the old one is deactivated, and deleting the old one after a
// week with FinishRotation.
func ExampleRotateAccessKey() {
	ctx := context.Background()
	var clients keyrotate.Clients // keyrotate.ClientsFromConfig(cfg)
	if clients.IAM == nil {
		return // (no AWS here)
	}
	rot, err := keyrotate.RotateAccessKey(ctx, clients, "alice", func(o *keyrotate.Options) {
		o.MaxAge = 90 * 24 * time.Hour
		o.Deliver = func(ctx context.Context, k keyrotate.AccessKey) error {
			// Store k.AccessKeyID and k.Secret.Reveal() where the software
			// reads its credentials.
			return nil
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // never shows the secret
		return
	}
	fmt.Println(rot.Summary)
	// Days later, on a schedule:
	fin, err := keyrotate.FinishRotation(ctx, clients.IAM, "alice", 7*24*time.Hour)
	if err == nil {
		fmt.Println(fin.Summary)
	}
}
