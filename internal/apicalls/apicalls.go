// Package apicalls counts the API calls an SDK client makes, per service and
// operation, through a middleware added with APIOptions:
//
//	c := apicalls.New()
//	cfg.APIOptions = append(cfg.APIOptions, c.APIOption)
//	... run the workflow ...
//	b.ReportMetric(float64(c.Total())/float64(b.N), "calls/op")
//
// Every attempt that reaches the wire counts, retries included: that is what
// a workflow costs in requests and in API rate.
package apicalls

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// Key names one operation of one service, as the SDK names them
// ("IAM", "ListAccessKeys").
type Key struct {
	Service   string
	Operation string
}

// String returns "Service.Operation".
func (k Key) String() string { return k.Service + "." + k.Operation }

// Counter counts calls. Its zero value is not ready; use New. It is safe
// for concurrent use.
type Counter struct {
	mu     sync.Mutex
	counts map[Key]int
}

// New returns an empty counter.
func New() *Counter { return &Counter{counts: map[Key]int{}} }

// APIOption adds the counting middleware to a client's stack. Append it to
// aws.Config.APIOptions or to a client's Options.APIOptions.
func (c *Counter) APIOption(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("awsguardAPICallCounter",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			k := Key{Service: awsmiddleware.GetServiceID(ctx), Operation: awsmiddleware.GetOperationName(ctx)}
			c.mu.Lock()
			c.counts[k]++
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		}), middleware.After) // after the retry middleware: every attempt counts
}

// Total returns the number of calls counted.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.counts {
		n += v
	}
	return n
}

// Count returns the calls of one operation.
func (c *Counter) Count(service, operation string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[Key{service, operation}]
}

// Counts returns a copy of all counts.
func (c *Counter) Counts() map[Key]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}

// String lists the counts sorted by key, such as "IAM.ListUsers=1 STS.GetCallerIdentity=2".
func (c *Counter) String() string {
	counts := c.Counts()
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b Key) int {
		if a.Service != b.Service {
			if a.Service < b.Service {
				return -1
			}
			return 1
		}
		switch {
		case a.Operation < b.Operation:
			return -1
		case a.Operation > b.Operation:
			return 1
		}
		return 0
	})
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s=%d", k, counts[k])
	}
	return s
}
