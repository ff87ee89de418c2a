package apicalls_test

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestCountsPerServiceAndOperation(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	c := apicalls.New()
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
	api := iam.NewFromConfig(cfg)
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Go(func() {
			if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u" + string(rune('a'+i)))}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// One paginated listing that asks for two users a page makes three calls.
	p := iam.NewListUsersPaginator(api, &iam.ListUsersInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		if _, err := p.NextPage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	// A failed call is still a call.
	_, _ = api.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})

	listCalls := c.Count("IAM", "ListUsers")
	if listCalls < 1 {
		t.Fatalf("ListUsers not counted")
	}
	want := map[apicalls.Key]int{
		{Service: "IAM", Operation: "CreateUser"}:        5,
		{Service: "IAM", Operation: "ListUsers"}:         listCalls, // moto ignores MaxItems for ListUsers (MOTO.md)
		{Service: "IAM", Operation: "GetUser"}:           1,
		{Service: "STS", Operation: "GetCallerIdentity"}: 1,
	}
	if diff := cmp.Diff(want, c.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if got := c.Total(); got != 7+listCalls {
		t.Errorf("total = %d, want %d", got, 7+listCalls)
	}
	if got, want := c.String(), "IAM.CreateUser=5 IAM.GetUser=1 IAM.ListUsers=1 STS.GetCallerIdentity=1"; listCalls == 1 && got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	c.Reset()
	if c.Total() != 0 {
		t.Errorf("after Reset total = %d", c.Total())
	}
}
