package pool

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// TestInSynctestBubble: a pool made inside a testing/synctest bubble works
// there. Tasks queue while both workers sleep on the bubble's timers, so the
// pool must add workers; no goroutine of the pool may spin on the clock, or
// the bubble's clock never advances and the test hangs. All 20 sleeps of
// one (fake) second overlap: the fan-out takes about one second of bubble
// time.
func TestInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(WithWorkers(2))
		const n = 20
		var wg sync.WaitGroup
		wg.Add(n)
		start := time.Now()
		for range n {
			if err := p.Submit(context.Background(), Normal, func() { time.Sleep(time.Second); wg.Done() }); err != nil {
				t.Fatal(err)
			}
		}
		wg.Wait()
		took := time.Since(start)
		if err := p.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d tasks of 1s sleep took %v of bubble time", n, took)
		if took > 3*time.Second {
			t.Fatalf("%d overlapping 1s sleeps took %v of bubble time, want about 1s (the pool did not grow)", n, took)
		}
	})
}
