// Package poll is the one wait loop of the project: call a check until it
// says done, backing off with jitter between calls, bounded by a deadline,
// an attempt count and the context. The credential report wait and the new
// access key's verification both use it.
package poll

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	smithytime "github.com/aws/smithy-go/time"
)

// ErrTimeout is returned when the check did not say done within MaxWait or
// MaxAttempts.
var ErrTimeout = errors.New("not done in time")

// Options bound a wait. The zero value waits up to a minute, backing off
// from 1 s to 8 s.
type Options struct {
	// MaxWait bounds the whole wait; default 1 minute.
	MaxWait time.Duration
	// MaxAttempts, if positive, bounds the number of checks.
	MaxAttempts int
	// MinDelay and MaxDelay bound the exponential backoff between checks;
	// defaults 1 s and max(8 s, MinDelay).
	MinDelay, MaxDelay time.Duration
	// NoJitter turns off the jitter (each delay is otherwise drawn from
	// [delay/2, delay]).
	NoJitter bool
	// OnWait, if set, is called before each pause with the attempt just
	// made and the pause to come.
	OnWait func(attempt int, delay time.Duration)
}

func (o Options) withDefaults() Options {
	if o.MaxWait <= 0 {
		o.MaxWait = time.Minute
	}
	if o.MinDelay <= 0 {
		o.MinDelay = time.Second
	}
	if o.MaxDelay < o.MinDelay {
		o.MaxDelay = max(8*time.Second, o.MinDelay)
	}
	return o
}

// Until calls check until it returns done or an error, the context ends,
// MaxWait passes or MaxAttempts checks were made. check gets a context
// bounded by MaxWait and the attempt number (1 first).
//
// It returns the number of checks made and: nil when check said done;
// check's error when it returned one; the parent context's error (wrapped)
// when that ended; otherwise an error matching ErrTimeout.
func Until(ctx context.Context, o Options, check func(ctx context.Context, attempt int) (done bool, err error)) (int, error) {
	o = o.withDefaults()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, o.MaxWait)
	defer cancel()
	delay := o.MinDelay
	attempt := 0
	for {
		attempt++
		done, err := check(ctx, attempt)
		if err != nil {
			if parent.Err() != nil {
				return attempt, parent.Err()
			}
			if ctx.Err() == nil {
				return attempt, err
			}
			// The wait's own deadline cut the check short: a timeout.
			break
		}
		if done {
			return attempt, nil
		}
		if o.MaxAttempts > 0 && attempt >= o.MaxAttempts {
			break
		}
		d := delay
		if !o.NoJitter {
			d = delay/2 + rand.N(delay/2+1)
		}
		if o.OnWait != nil {
			o.OnWait(attempt, d)
		}
		if smithytime.SleepWithContext(ctx, d) != nil {
			break
		}
		delay = min(delay*2, o.MaxDelay)
	}
	if parent.Err() != nil {
		return attempt, parent.Err()
	}
	return attempt, ErrTimeout
}
