// Package fanout runs one function per item with bounded concurrency. The
// root package's ForEachRegion and ForEachAccount fan out over regions and
// accounts with their own credentials; this is the plain per-item form a
// package uses for a list of its own (keyrotate.RotateAccessKeys: users).
package fanout

import (
	"context"
	"sync"
)

// Each calls fn(ctx, i) for every i in [0, n), at most limit at once
// (limit < 1 means 1), and returns when all calls have returned. An item
// not started when ctx ends is not run: skipped(i, ctx.Err()) is called for
// it instead. fn and skipped must be safe for concurrent use; each call
// gets its own i, so writing to the i-th element of a slice needs no lock.
func Each(ctx context.Context, n, limit int, fn func(ctx context.Context, i int), skipped func(i int, err error)) {
	if limit < 1 {
		limit = 1
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			skipped(i, ctx.Err())
			continue
		}
		if err := ctx.Err(); err != nil {
			<-sem
			skipped(i, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn(ctx, i)
		}()
	}
	wg.Wait()
}
