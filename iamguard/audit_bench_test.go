package iamguard_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/awsguard/awsguard/iamguard"
	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

// auditBenchUser is a lighter mix than auditMixedUser, so that seeding 5,000 users
// stays within a minute: half with a console password, a tenth with MFA,
// a third with one active key, a third with an inactive one, a sixth with
// an inline policy, the rest in the group.
func auditBenchUser(i int) auditSeedUser {
	u := auditSeedUser{name: fmt.Sprintf("bench-%05d", i), password: i%2 == 0, mfa: i%10 == 0, policies: 4}
	u.keys = []int{0, 1, 2}[i%3]
	if i%6 == 0 {
		u.policies = 2
	}
	return u
}

const auditBenchUsers = 5000

// BenchmarkAudit compares Audit with the per-user approach on an account
// of 5,000 users. Seeding takes a while; run it on its own:
//
//	go test -run '^$' -bench Audit -benchtime 1x ./iamguard/
func BenchmarkAudit(b *testing.B) {
	env := awstest.New(b)
	ctx := context.Background()
	seedStart := time.Now()
	if err := auditSeedUsers(ctx, iam.NewFromConfig(env.Config()), auditBenchUsers, 16, auditBenchUser); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d users in %v", auditBenchUsers, time.Since(seedStart).Round(time.Millisecond))

	client := func(c *apicalls.Counter) *iam.Client {
		cfg := env.Config()
		cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
		return iam.NewFromConfig(cfg)
	}
	b.Run("Audit", func(b *testing.B) {
		c := apicalls.New()
		api := client(c)
		for b.Loop() {
			rep, err := iamguard.Audit(ctx, api, func(o *iamguard.AuditOptions) { o.PollMinDelay = 10 * time.Millisecond })
			if err != nil {
				b.Fatal(err)
			}
			if len(rep.Findings) < auditBenchUsers*5 {
				b.Fatalf("findings = %d", len(rep.Findings))
			}
		}
		perOp := float64(c.Total()) / float64(b.N)
		b.ReportMetric(perOp, "calls/op")
		b.Logf("Audit: %s", c)
		if perOp >= 20 {
			b.Errorf("Audit made %.0f calls for %d users, want < 20", perOp, auditBenchUsers)
		}
	})
	b.Run("PerUser", func(b *testing.B) {
		c := apicalls.New()
		api := client(c)
		for b.Loop() {
			if n, err := auditPerUserScan(ctx, api, 16); err != nil || n != auditBenchUsers {
				b.Fatalf("per-user scan: %d users, %v", n, err)
			}
		}
		b.ReportMetric(float64(c.Total())/float64(b.N), "calls/op")
		b.Logf("per user: %s", c)
	})
}

// auditPerUserScan is the approach Audit replaces: ListUsers, then for each user
// ListMFADevices, ListAccessKeys, GetAccessKeyLastUsed per key and
// GetLoginProfile, with the given number of workers.
func auditPerUserScan(ctx context.Context, api *iam.Client, workers int) (int, error) {
	var users []types.User
	p := iam.NewListUsersPaginator(api, &iam.ListUsersInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		users = append(users, page.Users...)
	}
	next := make(chan string)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range next {
				if err := auditPerUserOne(ctx, api, name); err != nil {
					mu.Lock()
					firstErr = errors.Join(firstErr, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, u := range users {
		next <- aws.ToString(u.UserName)
	}
	close(next)
	wg.Wait()
	return len(users), firstErr
}

func auditPerUserOne(ctx context.Context, api *iam.Client, name string) error {
	user := aws.String(name)
	if _, err := api.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: user}); err != nil {
		return err
	}
	keys, err := api.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: user})
	if err != nil {
		return err
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k.AccessKeyId}); err != nil {
			return err
		}
	}
	var nse *types.NoSuchEntityException
	if _, err := api.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: user}); err != nil && !errors.As(err, &nse) {
		return err
	}
	return nil
}
