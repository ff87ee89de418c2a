package keyrotate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
)

// badCredentialCodes are the error codes with which AWS services reject an
// access key that does not exist (yet) or a secret that does not match:
// IAM and STS say InvalidClientTokenId, S3 InvalidAccessKeyId, EC2
// AuthFailure, JSON services UnrecognizedClientException.
var badCredentialCodes = []string{
	"InvalidClientTokenId",
	"InvalidAccessKeyId",
	"AuthFailure",
	"SignatureDoesNotMatch",
	"UnrecognizedClientException",
}

// IsBadCredentials reports whether err says AWS rejected the credentials
// the call was signed with. This is the one place that classifies them.
//
// A 401 or 403 whose body has no error code the SDK could decode counts
// too: some endpoints (and emulators) answer an unknown key with a bare
// status. A decoded AccessDenied is not bad credentials: the key works and
// lacks permission.
func IsBadCredentials(err error) bool {
	if err == nil {
		return false
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		for _, c := range badCredentialCodes {
			if strings.EqualFold(code, c) {
				return true
			}
		}
		if code != "" && code != "UnknownError" {
			return false
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		s := re.HTTPStatusCode()
		return s == 401 || s == 403
	}
	return false
}

// CallerIdentityAPI is the part of *sts.Client that key verification calls.
// It needs no IAM permission: any valid key may call it.
type CallerIdentityAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ CallerIdentityAPI = (*sts.Client)(nil)

// STSFactory returns an STS client signed with the given key. Verification
// builds one per key it checks.
type STSFactory func(key AccessKey) CallerIdentityAPI

// STSFromConfig returns an STSFactory that uses cfg (region, endpoint,
// HTTP client, retryer, API options) with the key's credentials in place of
// cfg's own.
func STSFromConfig(cfg aws.Config) STSFactory {
	return func(key AccessKey) CallerIdentityAPI {
		c := cfg.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret.Reveal(), "")
		return sts.NewFromConfig(c)
	}
}

// VerifyOptions bound how long WaitForKey waits for a new key to become
// valid. IAM needs seconds, sometimes tens of seconds.
type VerifyOptions struct {
	// MaxWait bounds the whole wait; default 2 minutes.
	MaxWait time.Duration
	// MinDelay and MaxDelay bound the exponential backoff between polls;
	// defaults 1 and 8 seconds.
	MinDelay, MaxDelay time.Duration
}

func (o VerifyOptions) withDefaults() VerifyOptions {
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Minute
	}
	if o.MinDelay <= 0 {
		o.MinDelay = time.Second
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = max(8*time.Second, o.MinDelay)
	}
	return o
}

// ErrKeyNotValid is returned when a key does not authenticate within
// MaxWait.
var ErrKeyNotValid = errors.New("keyrotate: the access key did not authenticate in time")

// ErrWrongIdentity is returned when a key authenticates as someone other
// than the user it was made for.
var ErrWrongIdentity = errors.New("keyrotate: the access key belongs to another identity")

// WaitForKey polls sts:GetCallerIdentity signed with key until it succeeds,
// backing off between polls, bounded by ctx and o.MaxWait. Bad-credential
// answers (IsBadCredentials) and retryable faults (throttling, 5xx, cut
// connections) are polled again; other errors end the wait. If wantARN is
// not empty the identity must be that ARN. It returns the number of polls
// made.
func WaitForKey(ctx context.Context, newSTS STSFactory, key AccessKey, wantARN string, o VerifyOptions) (int, error) {
	var want func(string) bool
	if wantARN != "" {
		want = func(got string) bool { return got == wantARN }
	}
	return waitForKey(ctx, newSTS, key, want, wantARN, o)
}

// isUserARN reports whether identity is the ARN of the IAM user named
// user, under any path (arn:PARTITION:iam::ACCOUNT:user/PATH/NAME).
func isUserARN(identity, user string) bool {
	a, err := arn.Parse(identity)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "user/") {
		return false
	}
	return user != "" && a.Resource[strings.LastIndex(a.Resource, "/")+1:] == user
}

// waitForKey is WaitForKey with the identity check as a function: want,
// if not nil, must accept the identity's ARN; wantDesc describes it in
// the error.
func waitForKey(ctx context.Context, newSTS STSFactory, key AccessKey, want func(string) bool, wantDesc string, o VerifyOptions) (int, error) {
	o = o.withDefaults()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.MaxWait)
	defer cancel()
	api := newSTS(key)
	delay := o.MinDelay
	polls := 0
	var lastErr error
	for {
		polls++
		out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			if want != nil && !want(aws.ToString(out.Arn)) {
				return polls, fmt.Errorf("%w: key %s is %s, want %s", ErrWrongIdentity, key.AccessKeyID, aws.ToString(out.Arn), wantDesc)
			}
			return polls, nil
		}
		if ctx.Err() != nil {
			break
		}
		if !IsBadCredentials(err) && !retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() &&
			!retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool() {
			return polls, fmt.Errorf("keyrotate: verify key %s: %w", key.AccessKeyID, err)
		}
		lastErr = err
		if smithytime.SleepWithContext(ctx, delay) != nil {
			break
		}
		delay = min(delay*2, o.MaxDelay)
	}
	if parent.Err() != nil {
		return polls, fmt.Errorf("keyrotate: verify key %s: %w", key.AccessKeyID, parent.Err())
	}
	if lastErr == nil {
		return polls, fmt.Errorf("%w: key %s after %s", ErrKeyNotValid, key.AccessKeyID, o.MaxWait)
	}
	return polls, fmt.Errorf("%w: key %s after %s: %w", ErrKeyNotValid, key.AccessKeyID, o.MaxWait, lastErr)
}
