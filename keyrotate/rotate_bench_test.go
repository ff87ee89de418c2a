package keyrotate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/keyrotate"
)

// BenchmarkRotateAccessKeys rotates 200 users on moto (authentication
// enforced) with RotateAccessKeys at several concurrencies, and reports
// API calls and wall time per rotation. Run it with
//
//	go test -run '^$' -bench RotateAccessKeys -benchtime 3x ./keyrotate/
func BenchmarkRotateAccessKeys(b *testing.B) {
	const n = 200
	ctx := context.Background()
	env := awstest.New(b)
	admin := env.EnforceAuth()
	api := iam.NewFromConfig(admin)
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("bench-%03d", i)
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(users[i])}); err != nil {
			b.Fatal(err)
		}
		if _, err := api.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(users[i])}); err != nil {
			b.Fatal(err)
		}
	}
	deliver := func(context.Context, keyrotate.AccessKey) error { return nil }
	for _, conc := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("users=%d/concurrency=%d", n, conc), func(b *testing.B) {
			counter := apicalls.New()
			cfg := admin.Copy()
			cfg.APIOptions = append(cfg.APIOptions, counter.APIOption)
			c := keyrotate.ClientsFromConfig(cfg)
			b.ResetTimer()
			for b.Loop() {
				res, err := keyrotate.RotateAccessKeys(ctx, c, users, func(o *keyrotate.BatchOptions) {
					o.Deliver, o.Concurrency = deliver, conc
					o.Verify = keyrotate.VerifyOptions{MinDelay: 10 * time.Millisecond, MaxDelay: 100 * time.Millisecond}
				})
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range res {
					if r.Err != nil {
						b.Fatalf("%s: %v", r.Value.User, r.Err)
					}
				}
			}
			rotations := float64(b.N * n)
			b.ReportMetric(float64(counter.Total())/rotations, "calls/rotation")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/rotations, "ms/rotation")
			b.Logf("calls for %d rotations: %s", b.N*n, counter)
		})
	}
}
