package pool

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDequeTaskNotStarvedByInjector: task A submits B to its own deque and
// waits for it without Block, while goroutines outside the pool keep about
// 500 short tasks of the same priority queued in the injector. On a pool
// that cannot grow, the other worker must still take B within the deque
// bound (see the package doc): at most fairEvery takes per other worker.
// (Before the steal turn every worker preferred the injector, and B waited
// until the flood stopped.)
func TestDequeTaskNotStarvedByInjector(t *testing.T) {
	const workers = 2
	p := New(WithWorkers(workers), WithMaxWorkers(workers))
	defer stop(t, p)
	var floodStarts atomic.Int64
	var stopFlood atomic.Bool
	var feeders sync.WaitGroup
	floodTask := func() { floodStarts.Add(1); spin(5 * time.Microsecond) }
	for range 2 { // two outside feeders keep the injector full
		feeders.Add(1)
		go func() {
			defer feeders.Done()
			deadline := time.Now().Add(10 * time.Second)
			for !stopFlood.Load() && time.Now().Before(deadline) {
				if p.s.q.Len() >= 500 {
					spin(10 * time.Microsecond)
					continue
				}
				if err := p.Submit(bg, Normal, floodTask); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	waitFor(t, "the flood is running", func() bool { return floodStarts.Load() > 1000 })
	type result struct{ submitted, started int64 }
	res := make(chan result, 1)
	if err := p.Go(bg, Normal, func(ctx context.Context) {
		bStarted := make(chan int64, 1)
		at := floodStarts.Load()
		if err := p.Go(ctx, Normal, func(context.Context) { bStarted <- floodStarts.Load() }); err != nil {
			t.Error(err)
			return
		}
		res <- result{at, <-bStarted} // A waits for B, holding its worker
	}); err != nil {
		t.Fatal(err)
	}
	r := recv(t, res, "task B, queued on A's own deque, to start during an injector flood")
	stopFlood.Store(true)
	feeders.Wait()
	n := r.started - r.submitted
	t.Logf("%d flood tasks started between queueing B and starting it", n)
	// One other worker takes B within fairEvery of its takes; allow the
	// flood tasks other workers started meanwhile and A's own start.
	if bound := int64(2 * workers * fairEvery); n > bound {
		t.Fatalf("%d injector tasks started while B waited in a blocked worker's deque; bound %d", n, bound)
	}
}
