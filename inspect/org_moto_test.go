package inspect_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/inspector2"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/inspect"
	"github.com/awsguard/awsguard/internal/awstest"
)

// orgFake lists an organization's accounts (Organizations itself is
// covered by the root package; creating accounts on the emulator takes
// seconds each).
type orgFake struct{ accounts []orgtypes.Account }

func (f orgFake) ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, _ ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	return &organizations.ListAccountsOutput{Accounts: f.accounts}, ctx.Err()
}

// The organization flow on the emulator's Inspector: delegated
// administrator from the management account, then auto-enable and
// members from the administrator, a suspended account skipped.
func TestOrganizationFlowMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	admin, member, suspended := "111111111111", "222222222222", "333333333333"
	org := orgFake{accounts: []orgtypes.Account{
		{Id: aws.String(awstest.DefaultAccount), State: orgtypes.AccountStateActive},
		{Id: aws.String(admin), State: orgtypes.AccountStateActive},
		{Id: aws.String(member), State: orgtypes.AccountStateActive},
		{Id: aws.String(suspended), State: orgtypes.AccountStateSuspended},
	}}
	accts := []string{admin, member}
	fast := func(o *inspect.InspectorOptions) { o.Region = awstest.DefaultRegion }

	mgmt := inspector2.NewFromConfig(env.Config())
	plan, err := inspect.EnsureDelegatedAdmin(ctx, mgmt, admin, fast)
	if err != nil || !plan.Applied {
		t.Fatalf("delegate: %+v %v", plan, err)
	}
	plan, err = inspect.EnsureDelegatedAdmin(ctx, mgmt, admin, fast)
	if err != nil || plan.Applied || plan.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("delegate again: %+v %v", plan, err)
	}
	if _, err := inspect.EnsureDelegatedAdmin(ctx, mgmt, member, fast); !errors.Is(err, awsguard.ErrInvalidInput) {
		t.Fatalf("another admin: %v", err)
	}

	adminAPI := inspector2.NewFromConfig(env.ConfigFor(admin))
	plan, err = inspect.EnableOrganization(ctx, adminAPI, org, admin, fast)
	if err != nil {
		t.Fatalf("enable organization: %+v %v", plan, err)
	}
	var got []string
	for _, a := range plan.Actions {
		got = append(got, a.Kind+" "+a.Resource+" "+string(a.Outcome))
	}
	want := []string{"auto-enable inspector2/us-east-1 done"}
	for _, a := range append([]string{awstest.DefaultAccount}, accts[:2]...) {
		if a != admin {
			want = append(want, "associate-member "+a+" done")
		}
		want = append(want, "enable-member "+a+" done")
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("actions:\n got %q\nwant %q", got, want)
	}
	if len(plan.Warnings) != 1 || !contains(plan.Warnings[0], suspended) {
		t.Errorf("warnings %q, want the suspended account %s", plan.Warnings, suspended)
	}
	st, err := inspect.Status(ctx, adminAPI, fast, func(o *inspect.InspectorOptions) { o.Account = member })
	if err != nil || !st.Enabled(inspect.DefaultResourceTypes) {
		t.Errorf("member status %+v %v", st, err)
	}
	plan, err = inspect.EnableOrganization(ctx, adminAPI, org, admin, fast)
	if err != nil || !plan.NothingToDo() || plan.Reason != awsguard.ReasonAlreadyCompliant {
		t.Fatalf("second run: %+v %v", plan, err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
