package awsguard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/awsguard/awsguard/internal/fanout"
)

// Target is where one fan-out call runs: an account, a region, and the
// configuration (credentials and region) to reach it.
type Target struct {
	Account string
	Region  string
	Config  aws.Config
}

// Result is one target's outcome. Exactly one of Value and Err is
// meaningful: Err is non-nil when the target failed, was never reached
// (credentials could not be had) or was not started before cancellation.
type Result[T any] struct {
	Account string
	Region  string
	Value   T
	Err     error
}

// FanoutOptions bound a fan-out.
type FanoutOptions struct {
	// Concurrency is the most targets worked on at once; default 4.
	Concurrency int
	// Logger receives one line per failed target; default discards.
	Logger *slog.Logger
}

// AccountOptions configure ForEachAccount.
type AccountOptions struct {
	FanoutOptions
	// RoleName is the role assumed in each account; default
	// OrganizationAccountAccessRole, the role Organizations creates in the
	// accounts it creates.
	RoleName string
	// SessionName names the assumed-role sessions (CloudTrail shows it);
	// default "awsguard".
	SessionName string
	// ExternalID is passed to AssumeRole when the role's trust policy asks
	// for one.
	ExternalID string
	// Duration of the role sessions; default the SDK's (15 minutes).
	Duration time.Duration
	// Partition of the role ARNs; default "aws".
	Partition string
	// Self is the caller's own account: work for it runs with the
	// configuration's own credentials instead of an assumed role.
	Self string
}

// ErrInvalidTarget is returned, wrapped, for targets that cannot be valid.
var ErrInvalidTarget = errors.New("awsguard: invalid fan-out target")

var (
	accountRE  = regexp.MustCompile(`^\d{12}$`)
	regionRE   = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	sessionRE  = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	externalRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
)

// ForEachRegion calls fn once per region with cfg set to that region, at
// most Concurrency at a time, and returns one result per region in the
// order given. A failing region never stops the others. When ctx is
// cancelled, regions not yet started get ctx's error. The error return is
// for invalid input only (an unknown region name, a duplicate): then fn is
// never called.
func ForEachRegion[T any](ctx context.Context, cfg aws.Config, regions []string, fn func(context.Context, Target) (T, error), optFns ...func(*FanoutOptions)) ([]Result[T], error) {
	var o FanoutOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := checkList("region", regions, regionRE); err != nil {
		return nil, err
	}
	targets := make([]Result[T], len(regions))
	for i, r := range regions {
		targets[i].Region = r
	}
	run(ctx, targets, o, func(ctx context.Context, res *Result[T]) {
		c := cfg.Copy()
		c.Region = res.Region
		res.Value, res.Err = fn(ctx, Target{Region: res.Region, Config: c})
	})
	return targets, nil
}

// AssumeRoleAPI is the part of *sts.Client that ForEachAccount calls
// (sts:AssumeRole on each account's role).
type AssumeRoleAPI = stscreds.AssumeRoleAPIClient

// ForEachAccount calls fn once per account with a configuration whose
// credentials come from sts:AssumeRole into that account's role (see
// AccountOptions), at most Concurrency at a time, and returns one result
// per account in the order given. Credentials are fetched before fn runs:
// an account whose role cannot be assumed gets that error as its result
// and never stops the others. When ctx is cancelled, accounts not yet
// started get ctx's error. The error return is for invalid input only.
//
// To reach every account of an organization, pass OrganizationAccounts'
// answer.
func ForEachAccount[T any](ctx context.Context, cfg aws.Config, stsAPI AssumeRoleAPI, accounts []string, fn func(context.Context, Target) (T, error), optFns ...func(*AccountOptions)) ([]Result[T], error) {
	o := AccountOptions{RoleName: "OrganizationAccountAccessRole", SessionName: "awsguard", Partition: "aws"}
	for _, f := range optFns {
		f(&o)
	}
	if err := checkList("account", accounts, accountRE); err != nil {
		return nil, err
	}
	if !roleNameRE.MatchString(o.RoleName) {
		return nil, fmt.Errorf("%w: RoleName %q must be 1-64 characters of letters, digits and +=,.@_-", ErrInvalidTarget, o.RoleName)
	}
	if !sessionRE.MatchString(o.SessionName) {
		return nil, fmt.Errorf("%w: SessionName %q must be 2-64 characters of letters, digits and +=,.@_-", ErrInvalidTarget, o.SessionName)
	}
	if o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !externalRE.MatchString(o.ExternalID)) {
		return nil, fmt.Errorf("%w: ExternalID must be 2-1224 characters of letters, digits and +=,.@:/_-", ErrInvalidTarget)
	}
	if o.Duration != 0 && (o.Duration < 15*time.Minute || o.Duration > 12*time.Hour) {
		return nil, fmt.Errorf("%w: Duration %s must be between 15m and 12h", ErrInvalidTarget, o.Duration)
	}
	if stsAPI == nil && slices.ContainsFunc(accounts, func(a string) bool { return a != o.Self }) {
		return nil, fmt.Errorf("%w: an STS client is needed to assume roles in other accounts", ErrInvalidTarget)
	}
	targets := make([]Result[T], len(accounts))
	for i, a := range accounts {
		targets[i].Account, targets[i].Region = a, cfg.Region
	}
	run(ctx, targets, o.FanoutOptions, func(ctx context.Context, res *Result[T]) {
		c := cfg.Copy()
		if res.Account != o.Self {
			roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", o.Partition, res.Account, o.RoleName)
			provider := stscreds.NewAssumeRoleProvider(stsAPI, roleARN, func(ao *stscreds.AssumeRoleOptions) {
				ao.RoleSessionName = o.SessionName
				if o.ExternalID != "" {
					ao.ExternalID = aws.String(o.ExternalID)
				}
				if o.Duration != 0 {
					ao.Duration = o.Duration
				}
			})
			c.Credentials = aws.NewCredentialsCache(provider)
			if _, err := c.Credentials.Retrieve(ctx); err != nil {
				res.Err = fmt.Errorf("awsguard: account %s: assume role %s: %w", res.Account, roleARN, err)
				return
			}
		}
		res.Value, res.Err = fn(ctx, Target{Account: res.Account, Region: c.Region, Config: c})
	})
	return targets, nil
}

// ListAccountsAPI is the part of *organizations.Client that
// OrganizationAccounts calls (organizations:ListAccounts, from the
// management account or a delegated administrator).
type ListAccountsAPI interface {
	ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

var _ ListAccountsAPI = (*organizations.Client)(nil)

// OrganizationAccounts returns the IDs of the organization's ACTIVE
// accounts, sorted.
func OrganizationAccounts(ctx context.Context, api ListAccountsAPI) ([]string, error) {
	var ids []string
	p := organizations.NewListAccountsPaginator(api, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("awsguard: list organization accounts: %w", err)
		}
		for _, a := range page.Accounts {
			// Status is deprecated in favour of State, which not every endpoint fills yet.
			if a.State == orgtypes.AccountStateActive || (a.State == "" && a.Status == orgtypes.AccountStatusActive) {
				ids = append(ids, aws.ToString(a.Id))
			}
		}
	}
	slices.Sort(ids)
	return ids, nil
}

func checkList(kind string, items []string, re *regexp.Regexp) error {
	seen := map[string]bool{}
	for i, s := range items {
		if !re.MatchString(s) {
			return fmt.Errorf("%w: %s %d (%q) is malformed", ErrInvalidTarget, kind, i, s)
		}
		if seen[s] {
			return fmt.Errorf("%w: %s %q is listed twice", ErrInvalidTarget, kind, s)
		}
		seen[s] = true
	}
	return nil
}

// run works on every target with at most o.Concurrency goroutines at once.
func run[T any](ctx context.Context, targets []Result[T], o FanoutOptions, work func(context.Context, *Result[T])) {
	n := o.Concurrency
	if n <= 0 {
		n = 4
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fanout.Each(ctx, len(targets), n, func(ctx context.Context, i int) {
		res := &targets[i]
		work(ctx, res)
		if res.Err != nil {
			log.Warn("fan-out target failed", "account", res.Account, "region", res.Region, "error", res.Err)
		}
	}, func(i int, err error) { targets[i].Err = err })
}
