package poll

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntilDone(t *testing.T) {
	n, err := Until(context.Background(), Options{MinDelay: time.Millisecond, MaxWait: time.Second}, func(_ context.Context, attempt int) (bool, error) {
		return attempt == 3, nil
	})
	if err != nil || n != 3 {
		t.Fatalf("Until = %d, %v; want 3, nil", n, err)
	}
}

func TestUntilCheckError(t *testing.T) {
	boom := errors.New("boom")
	n, err := Until(context.Background(), Options{MinDelay: time.Millisecond}, func(context.Context, int) (bool, error) { return false, boom })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Until = %d, %v; want 1, boom", n, err)
	}
}

func TestUntilMaxAttempts(t *testing.T) {
	n, err := Until(context.Background(), Options{MinDelay: time.Millisecond, MaxAttempts: 4}, func(context.Context, int) (bool, error) { return false, nil })
	if !errors.Is(err, ErrTimeout) || n != 4 {
		t.Fatalf("Until = %d, %v; want 4, ErrTimeout", n, err)
	}
}

func TestUntilMaxWait(t *testing.T) {
	start := time.Now()
	_, err := Until(context.Background(), Options{MinDelay: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond}, func(context.Context, int) (bool, error) { return false, nil })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %s, want about 50ms", el)
	}
}

// A check cut short by the wait's own deadline is a timeout, not the
// check's error.
func TestUntilDeadlineInsideCheck(t *testing.T) {
	_, err := Until(context.Background(), Options{MinDelay: time.Millisecond, MaxWait: 20 * time.Millisecond}, func(ctx context.Context, _ int) (bool, error) {
		<-ctx.Done()
		return false, ctx.Err()
	})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
}

func TestUntilParentCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Until(ctx, Options{MinDelay: time.Millisecond}, func(_ context.Context, attempt int) (bool, error) {
		if attempt == 2 {
			cancel()
		}
		return false, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestUntilBackoffWithJitterBounded(t *testing.T) {
	var delays []time.Duration
	o := Options{MinDelay: 4 * time.Millisecond, MaxDelay: 16 * time.Millisecond, MaxAttempts: 6,
		OnWait: func(_ int, d time.Duration) { delays = append(delays, d) }}
	if _, err := Until(context.Background(), o, func(context.Context, int) (bool, error) { return false, nil }); !errors.Is(err, ErrTimeout) {
		t.Fatal(err)
	}
	want := []time.Duration{4, 8, 16, 16, 16}
	if len(delays) != len(want) {
		t.Fatalf("delays = %v, want %d of them", delays, len(want))
	}
	for i, d := range delays {
		hi := want[i] * time.Millisecond
		if d < hi/2 || d > hi {
			t.Errorf("delay %d = %s, want within [%s, %s]", i, d, hi/2, hi)
		}
	}
}
