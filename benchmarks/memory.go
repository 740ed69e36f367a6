package main

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	"golang.org/x/sync/errgroup"
)

// Scenario 5, memory: N tasks pending at once. Each task waits on one gate
// channel; the gate opens after every task has been submitted. Each library
// runs in the configuration that accepts N pending tasks without blocking the
// submitter: a pool of MemWorkers workers with an unbounded queue where the
// library has one (echo, pond), a goroutine per task otherwise (errgroup,
// conc, ants' unlimited pool, plain goroutines; a limit there would block the
// submitter instead of holding tasks). A sampler reads runtime/metrics every
// millisecond (and once more when submission is complete): the peak of heap
// in use (objects + unused parts of in-use spans, ~MemStats.HeapInuse) plus
// goroutine stacks (~StackInuse), above the baseline before the run, and the
// peak goroutine count above the baseline.

var memMetrics = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/stacks:bytes"},
	{Name: "/sched/goroutines:goroutines"},
}

// memRead returns heap-in-use + stacks and the goroutine count.
func memRead(s []metrics.Sample) (bytes, goroutines float64) {
	metrics.Read(s)
	for _, m := range s[:3] {
		bytes += float64(m.Value.Uint64())
	}
	return bytes, float64(s[3].Value.Uint64())
}

// pendingTarget submits n tasks that each run wait, and returns a function
// that waits for all of them (called after the gate opens) and releases the
// library.
type pendingTarget func(n int, wait func()) (join func() error, err error)

func measurePending(sz *Sizes, t pendingTarget) (Sample, error) {
	runtime.GC()
	own := make([]metrics.Sample, len(memMetrics))
	copy(own, memMetrics)
	baseB, baseG := memRead(own)

	var mu sync.Mutex
	peakB, peakG := baseB, baseG
	note := func(b, g float64) {
		mu.Lock()
		peakB, peakG = max(peakB, b), max(peakG, g)
		mu.Unlock()
	}
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		s := make([]metrics.Sample, len(memMetrics))
		copy(s, memMetrics)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				note(memRead(s))
			}
		}
	})

	gate := make(chan struct{})
	join, err := t(sz.MemTasks, func() { <-gate })
	if err == nil {
		note(memRead(own)) // every task is submitted: all are pending now
	}
	close(gate)
	if join != nil {
		if jerr := join(); err == nil {
			err = jerr
		}
	}
	close(stop)
	sampler.Wait()
	if err != nil {
		return nil, err
	}
	return Sample{
		"peak MiB":   (peakB - baseB) / (1 << 20),
		"B/task":     (peakB - baseB) / float64(sz.MemTasks),
		"goroutines": peakG - baseG,
	}, nil
}

func init() {
	register("memory/pending", Impl{"errgroup", "errgroup.Group, no limit (a goroutine per task)", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			var g errgroup.Group
			task := func() error { wait(); return nil }
			for range n {
				g.Go(task)
			}
			return g.Wait, nil
		})
	}})
	register("memory/pending", Impl{"conc", "conc.WaitGroup (a goroutine per task)", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			var wg conc.WaitGroup
			for range n {
				wg.Go(wait)
			}
			return func() error { wg.Wait(); return nil }, nil
		})
	}})
	register("memory/pending", Impl{"ants", "ants.NewPool(-1) (unlimited: a worker per pending task)", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			p, err := ants.NewPool(-1)
			if err != nil {
				return nil, err
			}
			var wg sync.WaitGroup
			join := func() error { wg.Wait(); p.Release(); return nil }
			task := func() { defer wg.Done(); wait() }
			for range n {
				wg.Add(1)
				if err := p.Submit(task); err != nil {
					wg.Done()
					return join, err
				}
			}
			return join, nil
		})
	}})
	register("memory/pending", Impl{"pond", "pond.NewPool(MemWorkers), unbounded queue", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			p := pond.NewPool(sz.MemWorkers)
			g := p.NewGroup()
			for range n {
				g.Submit(wait)
			}
			return func() error { err := g.Wait(); p.StopAndWait(); return err }, nil
		})
	}})
	register("memory/pending", Impl{"goroutines", "go + sync.WaitGroup.Go (a goroutine per task)", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			var wg sync.WaitGroup
			for range n {
				wg.Go(wait)
			}
			return func() error { wg.Wait(); return nil }, nil
		})
	}})
}
