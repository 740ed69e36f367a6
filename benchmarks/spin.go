package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// spinSink keeps the compiler from deleting the spin loop.
var spinSink atomic.Uint64

// spin burns CPU for iters rounds of an xorshift step: a stand-in for a
// CPU-bound task that, unlike time.Sleep, occupies its worker.
func spin(iters int) {
	x := uint64(88172645463325252)
	for range iters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	spinSink.Add(x)
}

// calibrateSpin returns spin iterations per microsecond on this machine: the
// best of several timed rounds, so a preempted round does not skew it.
func calibrateSpin() float64 {
	const iters = 2_000_000
	best := time.Duration(1 << 62)
	for range 7 {
		t0 := time.Now()
		spin(iters)
		if d := time.Since(t0); d < best {
			best = d
		}
	}
	return iters / (float64(best.Nanoseconds()) / 1000)
}

// parallelSpeedup runs the same total spin work on one goroutine and split
// over n goroutines and returns the ratio of the times (best of three each).
func parallelSpeedup(n int) float64 {
	const total = 100_000_000
	best := func(k int) time.Duration {
		b := time.Duration(1 << 62)
		for range 3 {
			t0 := time.Now()
			var wg sync.WaitGroup
			for range k {
				wg.Go(func() { spin(total / k) })
			}
			wg.Wait()
			b = min(b, time.Since(t0))
		}
		return b
	}
	return float64(best(1)) / float64(best(n))
}

func spinFor(sz *Sizes, d time.Duration) int {
	return max(1, int(sz.SpinPerMicros*float64(d.Nanoseconds())/1000))
}
