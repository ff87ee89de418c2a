package awsguard_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// An organization of three member accounts, each holding different IAM
// users: every call made through ForEachAccount lands in its own account.
func TestForEachAccountOrganization(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg := env.Config()
	org := organizations.NewFromConfig(cfg)
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{}
	var members []string
	for i := range 3 {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{
			AccountName: aws.String(fmt.Sprintf("member-%d", i)), Email: aws.String(fmt.Sprintf("m%d@example.com", i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		id := aws.ToString(out.CreateAccountStatus.AccountId)
		members = append(members, id)
		// Seed each member account, through its own state, with i+1 users.
		api := iam.NewFromConfig(env.ConfigFor(id))
		for u := 0; u <= i; u++ {
			name := fmt.Sprintf("acct%d-user%d", i, u)
			if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
				t.Fatal(err)
			}
			want[id] = append(want[id], name)
		}
	}

	accounts, err := awsguard.OrganizationAccounts(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(members), awstest.DefaultAccount)
	slices.Sort(all)
	if diff := cmp.Diff(all, accounts); diff != "" {
		t.Fatalf("organization accounts (-want +got):\n%s", diff)
	}
	want[awstest.DefaultAccount] = nil // the management account has no users

	type seen struct {
		Caller string
		Users  []string
	}
	results, err := awsguard.ForEachAccount(ctx, cfg, sts.NewFromConfig(cfg), accounts,
		func(ctx context.Context, tg awsguard.Target) (seen, error) {
			id, err := sts.NewFromConfig(tg.Config).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return seen{}, err
			}
			out, err := iam.NewFromConfig(tg.Config).ListUsers(ctx, &iam.ListUsersInput{})
			if err != nil {
				return seen{}, err
			}
			s := seen{Caller: aws.ToString(id.Account)}
			for _, u := range out.Users {
				s.Users = append(s.Users, aws.ToString(u.UserName))
			}
			slices.Sort(s.Users)
			return s, nil
		}, func(o *awsguard.AccountOptions) { o.Self = awstest.DefaultAccount; o.Concurrency = 2 })
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(accounts) {
		t.Fatalf("%d results for %d accounts", len(results), len(accounts))
	}
	for i, r := range results {
		if r.Account != accounts[i] {
			t.Errorf("result %d is for %s, want %s (input order)", i, r.Account, accounts[i])
		}
		if r.Err != nil {
			t.Errorf("account %s: %v", r.Account, r.Err)
			continue
		}
		if r.Value.Caller != r.Account {
			t.Errorf("account %s: calls were made as account %s", r.Account, r.Value.Caller)
		}
		if diff := cmp.Diff(want[r.Account], r.Value.Users); diff != "" {
			t.Errorf("account %s users (-want +got):\n%s", r.Account, diff)
		}
	}
}

// One failing target (its role cannot be assumed) never stops the others.
func TestForEachAccountFailureIsPerTarget(t *testing.T) {
	calls := 0
	var mu sync.Mutex
	fake := assumeFunc(func(ctx context.Context, roleARN string) error {
		if strings.Contains(roleARN, "222222222222") {
			return errors.New("AccessDenied: not authorized to assume")
		}
		return nil
	})
	res, err := awsguard.ForEachAccount(context.Background(), aws.Config{Region: "ap-northeast-2"}, fake,
		[]string{"111111111111", "222222222222", "333333333333"},
		func(ctx context.Context, tg awsguard.Target) (string, error) {
			mu.Lock()
			calls++
			mu.Unlock()
			return tg.Account + "@" + tg.Region, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Errorf("fn called %d times, want 2", calls)
	}
	if res[0].Value != "111111111111@ap-northeast-2" || res[2].Value != "333333333333@ap-northeast-2" || res[0].Err != nil || res[2].Err != nil {
		t.Errorf("healthy targets: %+v %+v", res[0], res[2])
	}
	if res[1].Err == nil || !strings.Contains(res[1].Err.Error(), "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole") {
		t.Errorf("failing target error = %v, want it to name the role", res[1].Err)
	}
}

func TestForEachAccountPassesExternalIDAndSession(t *testing.T) {
	var got []string
	var mu sync.Mutex
	fake := assumeRecorder(func(in *sts.AssumeRoleInput) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("%s %s %s", aws.ToString(in.RoleArn), aws.ToString(in.RoleSessionName), aws.ToString(in.ExternalId)))
	})
	_, err := awsguard.ForEachAccount(context.Background(), aws.Config{}, fake, []string{"111111111111"},
		func(context.Context, awsguard.Target) (int, error) { return 0, nil },
		func(o *awsguard.AccountOptions) {
			o.RoleName, o.SessionName, o.ExternalID, o.Partition = "Auditor", "audit-run", "ext-123", "aws-cn"
		})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"arn:aws-cn:iam::111111111111:role/Auditor audit-run ext-123"}, got); diff != "" {
		t.Errorf("AssumeRole input (-want +got):\n%s", diff)
	}
}

func TestForEachRegion(t *testing.T) {
	regions := []string{"us-east-1", "ap-northeast-2", "eu-west-1"}
	res, err := awsguard.ForEachRegion(context.Background(), aws.Config{Region: "us-west-2"}, regions,
		func(ctx context.Context, tg awsguard.Target) (string, error) {
			if tg.Region == "eu-west-1" {
				return "", errors.New("boom")
			}
			return tg.Config.Region, nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, fmt.Sprintf("%s=%s/%v", r.Region, r.Value, r.Err))
	}
	want := []string{"us-east-1=us-east-1/<nil>", "ap-northeast-2=ap-northeast-2/<nil>", "eu-west-1=/boom"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestFanoutRejectsBadInput(t *testing.T) {
	noop := func(context.Context, awsguard.Target) (int, error) {
		t.Error("fn called on invalid input")
		return 0, nil
	}
	for name, call := range map[string]func() error{
		"bad region": func() error {
			_, err := awsguard.ForEachRegion(context.Background(), aws.Config{}, []string{"moon-1"}, noop)
			return err
		},
		"dup region": func() error {
			_, err := awsguard.ForEachRegion(context.Background(), aws.Config{}, []string{"us-east-1", "us-east-1"}, noop)
			return err
		},
		"bad account": func() error {
			_, err := awsguard.ForEachAccount(context.Background(), aws.Config{}, nil, []string{"12345"}, noop)
			return err
		},
		"bad role": func() error {
			_, err := awsguard.ForEachAccount(context.Background(), aws.Config{}, nil, []string{"111111111111"}, noop, func(o *awsguard.AccountOptions) { o.RoleName = "a/b" })
			return err
		},
		"bad external": func() error {
			_, err := awsguard.ForEachAccount(context.Background(), aws.Config{}, nil, []string{"111111111111"}, noop, func(o *awsguard.AccountOptions) { o.ExternalID = "x" })
			return err
		},
	} {
		if err := call(); !errors.Is(err, awsguard.ErrInvalidTarget) {
			t.Errorf("%s: err = %v, want ErrInvalidTarget", name, err)
		}
	}
}

// The bound is never exceeded: each call blocks until the test releases
// it, one at a time, so an unbounded fan-out would have every target in
// flight at once.
func TestConcurrencyBound(t *testing.T) {
	const limit, n = 3, 20
	var inFlight, peak atomic.Int32
	entered := make(chan struct{}, n)
	release := make(chan struct{})
	regions := make([]string, n)
	for i := range regions {
		regions[i] = fmt.Sprintf("xx-test%c-1", 'a'+i)
	}
	done := make(chan []awsguard.Result[int])
	go func() {
		res, err := awsguard.ForEachRegion(context.Background(), aws.Config{}, regions,
			func(ctx context.Context, tg awsguard.Target) (int, error) {
				now := inFlight.Add(1)
				for {
					p := peak.Load()
					if now <= p || peak.CompareAndSwap(p, now) {
						break
					}
				}
				entered <- struct{}{}
				<-release
				inFlight.Add(-1)
				return 1, nil
			}, func(o *awsguard.FanoutOptions) { o.Concurrency = limit })
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	for range limit {
		<-entered
	}
	for range n - limit {
		release <- struct{}{}
		<-entered
	}
	for range limit {
		release <- struct{}{}
	}
	res := <-done
	if got := peak.Load(); got != limit {
		t.Errorf("peak concurrency = %d, want exactly %d", got, limit)
	}
	for _, r := range res {
		if r.Err != nil || r.Value != 1 {
			t.Errorf("%s: %v %v", r.Region, r.Value, r.Err)
		}
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	res, err := awsguard.ForEachRegion(ctx, aws.Config{}, []string{"us-east-1", "us-east-2", "us-west-1"},
		func(ctx context.Context, tg awsguard.Target) (int, error) {
			cancel() // the first target cancels the run
			return 7, nil
		}, func(o *awsguard.FanoutOptions) { o.Concurrency = 1 })
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Value != 7 || res[0].Err != nil {
		t.Errorf("first target: %+v", res[0])
	}
	for _, r := range res[1:] {
		if !errors.Is(r.Err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", r.Region, r.Err)
		}
	}
}

type assumeFunc func(ctx context.Context, roleARN string) error

func (f assumeFunc) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if err := f(ctx, aws.ToString(in.RoleArn)); err != nil {
		return nil, err
	}
	return assumed(), nil
}

type assumeRecorder func(*sts.AssumeRoleInput)

func (f assumeRecorder) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, _ ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	f(in)
	return assumed(), nil
}
