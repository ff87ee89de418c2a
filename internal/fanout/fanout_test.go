package fanout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestEachBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	got := make([]int, 20)
	Each(context.Background(), len(got), 3, func(_ context.Context, i int) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		got[i] = i * 2
		running.Add(-1)
	}, func(int, error) { t.Error("skipped") })
	if p := peak.Load(); p > 3 || p < 1 {
		t.Errorf("peak concurrency %d, want 1..3", p)
	}
	for i, v := range got {
		if v != i*2 {
			t.Errorf("item %d: %d", i, v)
		}
	}
}

func TestEachSkipsAfterCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var mu sync.Mutex
	var skipped []int
	Each(ctx, 3, 2, func(context.Context, int) { t.Error("ran after cancel") }, func(i int, err error) {
		mu.Lock()
		defer mu.Unlock()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
		skipped = append(skipped, i)
	})
	if len(skipped) != 3 {
		t.Errorf("skipped %v", skipped)
	}
}
