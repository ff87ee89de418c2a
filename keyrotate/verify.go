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
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awsguard/awsguard/internal/awserr"
	"github.com/awsguard/awsguard/internal/poll"
)

// IsBadCredentials reports whether err says AWS rejected the credentials
// the call was signed with (InvalidClientTokenId, InvalidAccessKeyId,
// AuthFailure, SignatureDoesNotMatch, ..., or a bare 401/403). A decoded
// AccessDenied is not bad credentials: the key works and lacks
// permission. The classification lives in one place for the whole module;
// this is its exported door.
func IsBadCredentials(err error) bool { return awserr.IsBadCredentials(err) }

// VerifyOptions bound how long WaitForKey waits for a new key to become
// valid. IAM needs seconds, sometimes tens of seconds. The zero value
// waits up to 2 minutes, backing off from 1 s to 8 s with jitter.
type VerifyOptions struct {
	// MaxWait bounds the whole wait; default 2 minutes.
	MaxWait time.Duration
	// MinDelay and MaxDelay bound the exponential backoff between polls;
	// defaults 1 and 8 seconds.
	MinDelay, MaxDelay time.Duration
}

func (o VerifyOptions) validate(op, field string) error {
	if o.MaxWait < 0 || o.MinDelay < 0 || o.MaxDelay < 0 {
		return inputError(op, field, fmt.Sprintf("MaxWait %s, MinDelay %s, MaxDelay %s", o.MaxWait, o.MinDelay, o.MaxDelay), "durations of zero (the default) or more")
	}
	return nil
}

func (o VerifyOptions) poll() poll.Options {
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Minute
	}
	return poll.Options{MaxWait: o.MaxWait, MinDelay: o.MinDelay, MaxDelay: o.MaxDelay}
}

// ErrKeyNotValid is returned when a key does not authenticate within
// MaxWait.
var ErrKeyNotValid = errors.New("keyrotate: the access key did not authenticate in time")

// ErrWrongIdentity is returned when a key authenticates as someone other
// than the user it was made for.
var ErrWrongIdentity = errors.New("keyrotate: the access key belongs to another identity")

// WaitForKey polls sts:GetCallerIdentity signed with key until it succeeds,
// backing off between polls (internal/poll: bounded, with jitter), bounded
// by ctx and VerifyOptions.MaxWait. Bad-credential answers
// (IsBadCredentials) and retryable faults (throttling, 5xx, cut
// connections) are polled again; other errors end the wait. If wantARN is
// not empty the identity must be that ARN (else ErrWrongIdentity). It
// returns the number of polls made; a key that never authenticates gives
// ErrKeyNotValid.
//
// Permissions: sts:GetCallerIdentity (which needs no permission).
func WaitForKey(ctx context.Context, newSTS STSFactory, key AccessKey, wantARN string, optFns ...func(*VerifyOptions)) (int, error) {
	var o VerifyOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := o.validate("keyrotate.WaitForKey", "VerifyOptions"); err != nil {
		return 0, err
	}
	if newSTS == nil {
		return 0, inputError("keyrotate.WaitForKey", "newSTS", "nil", "an STS factory (STSFromConfig makes one)")
	}
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

// retryable reports whether a failed poll is worth another: the key is not
// valid yet, or the call met a transient fault.
func retryable(err error) bool {
	return awserr.IsBadCredentials(err) ||
		retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err).Bool() ||
		retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err).Bool()
}

// waitForKey is WaitForKey with the identity check as a function: want,
// if not nil, must accept the identity's ARN; wantDesc describes it in
// the error.
func waitForKey(ctx context.Context, newSTS STSFactory, key AccessKey, want func(string) bool, wantDesc string, o VerifyOptions) (int, error) {
	api := newSTS(key)
	var lastErr error
	polls, err := poll.Until(ctx, o.poll(), func(ctx context.Context, _ int) (bool, error) {
		out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		switch {
		case err == nil && want != nil && !want(aws.ToString(out.Arn)):
			return false, fmt.Errorf("%w: key %s is %s, want %s", ErrWrongIdentity, key.AccessKeyID, aws.ToString(out.Arn), wantDesc)
		case err == nil:
			return true, nil
		case ctx.Err() == nil && retryable(err):
			lastErr = err
			return false, nil
		}
		return false, fmt.Errorf("keyrotate: verify key %s: %w", key.AccessKeyID, err)
	})
	switch {
	case err == nil:
		return polls, nil
	case errors.Is(err, poll.ErrTimeout) && lastErr != nil:
		return polls, fmt.Errorf("%w: key %s after %s: %w", ErrKeyNotValid, key.AccessKeyID, o.poll().MaxWait, lastErr)
	case errors.Is(err, poll.ErrTimeout):
		return polls, fmt.Errorf("%w: key %s after %s", ErrKeyNotValid, key.AccessKeyID, o.poll().MaxWait)
	case err == ctx.Err(): // the caller's context ended
		return polls, fmt.Errorf("keyrotate: verify key %s: %w", key.AccessKeyID, err)
	}
	return polls, err
}
