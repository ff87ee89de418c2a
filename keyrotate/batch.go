package keyrotate

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/awsguard/awsguard"
	"github.com/awsguard/awsguard/internal/fanout"
)

// BatchOptions adjust RotateAccessKeys: the shared Settings and the
// concurrency. A batch takes no InUseKeyID (it names one user's key) and
// no DeliveredKey: a user whose record needs either fails alone with
// ErrRotationInProgress; finish it with RotateAccessKey.
type BatchOptions struct {
	Settings
	// Concurrency bounds the users rotated at once; default 4.
	Concurrency int
}

// RotateAccessKeys rotates the keys of many users, at most
// BatchOptions.Concurrency at once, and returns one awsguard.Result per
// user in the order given: Value is the user's Rotation (its User names
// the user), Account the user's account once read, Region "global". Deliver
// receives each user's key (AccessKey.UserName says whose), from several
// goroutines at once: it must be safe for concurrent use. The error is
// non-nil only for bad input, before any call; each user's own failure is
// in its Result.
//
// Permissions: iam:GetUser, iam:ListAccessKeys, iam:ListUserTags,
// iam:CreateAccessKey, iam:UpdateAccessKey, iam:DeleteAccessKey,
// iam:GetAccessKeyLastUsed, iam:TagUser, iam:UntagUser on each user;
// sts:GetCallerIdentity (which needs no permission).
func RotateAccessKeys(ctx context.Context, c Clients, users []string, optFns ...func(*BatchOptions)) ([]awsguard.Result[*Rotation], error) {
	const op = "keyrotate.RotateAccessKeys"
	var o BatchOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	o.defaults()
	seen := map[string]bool{}
	for i, u := range users {
		field := fmt.Sprintf("users[%d]", i)
		if err := validateUser(op, field, u); err != nil {
			return nil, err
		}
		if seen[u] {
			return nil, inputError(op, field, u, "each user listed once")
		}
		seen[u] = true
	}
	if o.Concurrency < 1 {
		return nil, inputError(op, "BatchOptions.Concurrency", fmt.Sprint(o.Concurrency), "0 (the default, 4) or more")
	}
	if err := o.validate(op); err != nil {
		return nil, err
	}
	if err := c.validate(op, o.DryRun); err != nil {
		return nil, err
	}
	out := make([]awsguard.Result[*Rotation], len(users))
	fanout.Each(ctx, len(users), o.Concurrency, func(ctx context.Context, i int) {
		res := &out[i]
		res.Region = "global"
		res.Value, res.Err = rotate(ctx, c, users[i], Options{Settings: o.Settings})
		if a, err := arn.Parse(res.Value.UserARN); err == nil {
			res.Account = a.AccountID
		}
	}, func(i int, err error) {
		out[i] = awsguard.Result[*Rotation]{Region: "global", Value: newRotation("keyrotate.RotateAccessKey", users[i], o.DryRun),
			Err: fmt.Errorf("keyrotate: user %s not started: %w", users[i], err)}
	})
	return out, nil
}
