package inspect_test

import (
	"context"
	"errors"
	"fmt"
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

func TestOrganizationFlowMoto(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	org := organizations.NewFromConfig(env.Config())
	if _, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: orgtypes.OrganizationFeatureSetAll}); err != nil {
		t.Fatal(err)
	}
	var accts []string
	for i := range 3 {
		out, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(fmt.Sprint("member-", i)), Email: aws.String(fmt.Sprintf("m%d@example.com", i))})
		if err != nil {
			t.Fatal(err)
		}
		st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, aws.ToString(st.CreateAccountStatus.AccountId))
	}
	admin, member, suspended := accts[0], accts[1], accts[2]
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(suspended)}); err != nil {
		t.Fatal(err)
	}
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
