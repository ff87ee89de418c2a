package fault_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/awsguard/awsguard/internal/apicalls"
	"github.com/awsguard/awsguard/internal/awstest"
	"github.com/awsguard/awsguard/internal/fault"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func iamWith(env *awstest.Env, inj *fault.Injector) *iam.Client {
	cfg := env.Config()
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	return iam.NewFromConfig(cfg)
}

func userExists(t *testing.T, api *iam.Client, name string) bool {
	t.Helper()
	_, err := api.GetUser(context.Background(), &iam.GetUserInput{UserName: aws.String(name)})
	var nse *types.NoSuchEntityException
	if errors.As(err, &nse) {
		return false
	}
	if err != nil {
		t.Fatalf("GetUser: %v", err)
	}
	return true
}

func TestKindsAgainstMoto(t *testing.T) {
	env := awstest.New(t)
	plain := iam.NewFromConfig(env.Config())
	ctx := context.Background()
	create := func(api *iam.Client, name string) error {
		_, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
		return err
	}

	tests := []struct {
		name       string
		rule       fault.Rule
		check      func(t *testing.T, err error)
		tookEffect bool
	}{
		{"throttle", fault.Rule{Kind: fault.Throttle}, func(t *testing.T, err error) {
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
				t.Fatalf("err = %v, want Throttling API error", err)
			}
			if !retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
				t.Errorf("the SDK does not see %v as throttling", err)
			}
		}, false},
		{"server error", fault.Rule{Kind: fault.ServerError}, func(t *testing.T, err error) {
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
				t.Fatalf("err = %v, want HTTP 500", err)
			}
			if re.ServiceRequestID() != "awsguard-fault-injected" {
				t.Errorf("request ID = %q", re.ServiceRequestID())
			}
		}, false},
		{"connection reset", fault.Rule{Kind: fault.ConnectionReset}, func(t *testing.T, err error) {
			var se *smithyhttp.RequestSendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a RequestSendError", err)
			}
			if !retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() {
				t.Errorf("the SDK does not retry %v", err)
			}
		}, false},
		{"api error typed", fault.Rule{Kind: fault.APIError, Code: "EntityAlreadyExists", Status: 409}, func(t *testing.T, err error) {
			var ee *types.EntityAlreadyExistsException
			if !errors.As(err, &ee) {
				t.Fatalf("err = %v, want *types.EntityAlreadyExistsException", err)
			}
		}, false},
		{"response lost", fault.Rule{Kind: fault.ResponseLost}, func(t *testing.T, err error) {
			var se *smithyhttp.RequestSendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a RequestSendError", err)
			}
		}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Service, tt.rule.Operation, tt.rule.Nth = "IAM", "CreateUser", 1
			inj := fault.New(tt.rule)
			name := "user-" + string(rune('a'+i))
			err := create(iamWith(env, inj), name)
			tt.check(t, err)
			if got := userExists(t, plain, name); got != tt.tookEffect {
				t.Errorf("user exists after the fault = %v, want %v", got, tt.tookEffect)
			}
			if !fault.IsInjected(err) {
				t.Errorf("IsInjected(%v) = false", err)
			}
			if got := inj.Injected(); len(got) != 1 || got[0].Fault != tt.rule.Kind || got[0].Operation != "CreateUser" {
				t.Errorf("Injected() = %+v", got)
			}
		})
	}
}

func TestNthAndTimes(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "CreateUser", Nth: 2, Times: 2, Kind: fault.ServerError})
	api := iamWith(env, inj)
	var failed []int
	for n := 1; n <= 5; n++ {
		// ListUsers calls between must not count towards the CreateUser rule.
		if _, err := api.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		if _, err := api.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u" + string(rune('0'+n)))}); err != nil {
			failed = append(failed, n)
		}
	}
	if len(failed) != 2 || failed[0] != 2 || failed[1] != 3 {
		t.Errorf("failed CreateUser calls = %v, want [2 3]", failed)
	}
	if got := len(inj.Calls()); got != 10 {
		t.Errorf("calls seen = %d, want 10", got)
	}
}

// The sweep pattern: learn the calls, then fail each one in turn.
func TestSweepAnyCall(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	work := func(api *iam.Client) error {
		if _, err := api.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}); err != nil {
			return err
		}
		_, err := api.ListGroups(ctx, &iam.ListGroupsInput{})
		return err
	}
	probe := fault.New()
	if err := work(iamWith(env, probe)); err != nil {
		t.Fatal(err)
	}
	n := len(probe.Calls())
	if n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
	for k := 1; k <= n; k++ {
		awstest.New(t) // fresh state
		inj := fault.New(fault.Rule{Nth: k, Kind: fault.Throttle})
		if err := work(iamWith(env, inj)); err == nil {
			t.Errorf("call %d: no error", k)
		}
		if got := inj.Injected(); len(got) != 1 || got[0].Seq != k {
			t.Errorf("call %d: injected %+v", k, got)
		}
	}
}

// JSON protocol services decode the synthetic error into their typed
// exceptions too; STS (query) sees its own throttling code.
func TestOtherProtocols(t *testing.T) {
	env := awstest.New(t)
	ctx := context.Background()
	cfg := env.Config()
	inj := fault.New(
		fault.Rule{Service: "Secrets Manager", Kind: fault.APIError, Code: "ResourceNotFoundException"},
		fault.Rule{Service: "STS", Kind: fault.Throttle},
	)
	cfg.APIOptions = append(cfg.APIOptions, inj.APIOption)
	_, err := secretsmanager.NewFromConfig(cfg).ListSecrets(ctx, &secretsmanager.ListSecretsInput{})
	var rnf *smtypes.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Errorf("Secrets Manager err = %v, want *ResourceNotFoundException", err)
	}
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "Throttling" {
		t.Errorf("STS err = %v, want Throttling", err)
	}
}

// The client's own retryer sees injected faults and retries past them,
// and the counter counts every attempt.
func TestRetryerRecoversAndCounterCountsAttempts(t *testing.T) {
	env := awstest.New(t)
	cfg := env.Config()
	cfg.RetryMaxAttempts = 3
	inj := fault.New(fault.Rule{Service: "IAM", Operation: "ListUsers", Nth: 1, Times: 2, Kind: fault.ServerError})
	c := apicalls.New()
	cfg.APIOptions = append(cfg.APIOptions, c.APIOption, inj.APIOption)
	api := iam.NewFromConfig(cfg, func(o *iam.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		})
	})
	if _, err := api.ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Fatalf("ListUsers after two 500s with 3 attempts: %v", err)
	}
	if got := c.Count("IAM", "ListUsers"); got != 3 {
		t.Errorf("attempts counted = %d, want 3", got)
	}
}
