package main

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Scenario 2, priority latency. W workers are saturated by a backlog of Low
// tasks that each burn ~PrioLowWork of CPU (a calibrated spin, not a sleep);
// then High tasks arrive every PrioInterval. Latency is measured from just
// before the High submit call to the first instruction of the High task.
//
// Every submit call is made by its own caller goroutine, as independent
// requests would make them. That matters for libraries whose Go blocks at the
// limit (errgroup, conc, ants): their backlog is held by blocked callers,
// which a free slot serves in arrival order (channel senders and sync.Cond
// waiters are FIFO), so a High call waits behind every Low call made before
// it. Libraries with a queue (echo, pond) accept the backlog at once.

// prioTarget is one library set up with W workers: submit runs task on it as
// High (high == true) or Low; wait returns once every accepted task has run;
// stop releases the library's workers.
type prioTarget struct {
	submit func(high bool, task func())
	wait   func() error
	stop   func()
}

func runPriority(sz *Sizes, t prioTarget) (Sample, error) {
	defer t.stop()
	// One P more than workers: with GOMAXPROCS = W, workers that run CPU-bound
	// tasks back to back without a scheduling point (a pool's worker loop)
	// starve the goroutines that submit tasks for up to the runtime's 10 ms
	// preemption slice: the backlog would drain before it is submitted, the
	// High submits would be late, and the latency would look small. "submit
	// lag" reports how late the High submits were against their schedule.
	prev := runtime.GOMAXPROCS(sz.PrioWorkers + 1)
	defer runtime.GOMAXPROCS(prev)
	lowIters := spinFor(sz, sz.PrioLowWork)
	lowTask := func() { spin(lowIters) }

	t0 := time.Now()
	var entered, callers sync.WaitGroup
	entered.Add(sz.PrioLow)
	for range sz.PrioLow {
		callers.Go(func() {
			entered.Done()
			t.submit(false, lowTask)
		})
	}
	// Every Low caller has made its submit call, and has blocked there or
	// returned, before the first High arrives. Thanks to the spare P this
	// takes a few milliseconds, during which the workers run a few dozen of
	// the thousands of Low tasks.
	entered.Wait()
	if err := waitSettled(sz.PrioWorkers+2, 5*time.Second); err != nil {
		callers.Wait()
		t.wait()
		return nil, err
	}

	submitted := make([]time.Time, sz.PrioHigh)
	started := make([]time.Time, sz.PrioHigh)
	// Open loop: High i is due at highT0 + (i+1)*interval whatever happened
	// before; a late loop catches up at once instead of shifting every later
	// arrival (a Ticker would drop ticks and accumulate the delay).
	highT0 := time.Now()
	for i := range sz.PrioHigh {
		due := highT0.Add(time.Duration(i+1) * sz.PrioInterval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		callers.Go(func() {
			submitted[i] = time.Now()
			t.submit(true, func() { started[i] = time.Now() })
		})
	}
	callers.Wait()
	if err := t.wait(); err != nil {
		return nil, err
	}
	total := time.Since(t0)

	lat := make([]float64, sz.PrioHigh)
	lag := make([]float64, sz.PrioHigh)
	for i := range lat {
		if started[i].IsZero() {
			return nil, fmt.Errorf("High task %d never started", i)
		}
		lat[i] = float64(started[i].Sub(submitted[i]).Nanoseconds()) / 1e3
		due := highT0.Add(time.Duration(i+1) * sz.PrioInterval)
		lag[i] = float64(submitted[i].Sub(due).Nanoseconds()) / 1e3
	}
	return Sample{
		"p50 µs":            percentile(lat, 50),
		"p99 µs":            percentile(lat, 99),
		"max µs":            percentile(lat, 100),
		"total ms":          float64(total.Nanoseconds()) / 1e6,
		"submit lag p99 µs": percentile(lag, 99),
	}, nil
}

// waitSettled polls the scheduler until at most n goroutines are running or
// runnable (the W workers, this goroutine, one spare, e.g. a caller woken by a
// freed slot): the callers have all blocked or finished. It fails after timeout, saying so.
func waitSettled(n int, timeout time.Duration) error {
	s := []metrics.Sample{
		{Name: "/sched/goroutines/runnable:goroutines"},
		{Name: "/sched/goroutines/running:goroutines"},
	}
	deadline := time.Now().Add(timeout)
	for {
		metrics.Read(s)
		busy := s[0].Value.Uint64() + s[1].Value.Uint64()
		if busy <= uint64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("backlog callers did not settle within %v: %d goroutines still running or runnable, want <= %d", timeout, busy, n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

func init() {
	register("priority/saturated", Impl{"errgroup", "errgroup.Group, SetLimit(2); FIFO", func(sz *Sizes) (Sample, error) {
		var g errgroup.Group
		g.SetLimit(sz.PrioWorkers)
		return runPriority(sz, prioTarget{
			submit: func(_ bool, task func()) { g.Go(func() error { task(); return nil }) },
			wait:   g.Wait,
			stop:   func() {},
		})
	}})
	register("priority/saturated", Impl{"conc", "pool.New().WithMaxGoroutines(2); FIFO", func(sz *Sizes) (Sample, error) {
		p := concpool.New().WithMaxGoroutines(sz.PrioWorkers)
		return runPriority(sz, prioTarget{
			submit: func(_ bool, task func()) { p.Go(task) },
			wait:   func() error { p.Wait(); return nil },
			stop:   func() {},
		})
	}})
	register("priority/saturated", Impl{"ants", "ants.NewPool(2) + sync.WaitGroup; FIFO", func(sz *Sizes) (Sample, error) {
		p, err := ants.NewPool(sz.PrioWorkers)
		if err != nil {
			return nil, err
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var submitErr error
		return runPriority(sz, prioTarget{
			submit: func(_ bool, task func()) {
				wg.Add(1)
				if err := p.Submit(func() { defer wg.Done(); task() }); err != nil {
					wg.Done()
					mu.Lock()
					submitErr = err
					mu.Unlock()
				}
			},
			wait: func() error { wg.Wait(); mu.Lock(); defer mu.Unlock(); return submitErr },
			stop: p.Release,
		})
	}})
	register("priority/saturated", Impl{"pond", "pond.NewPool(2), NewGroup; FIFO", func(sz *Sizes) (Sample, error) {
		p := pond.NewPool(sz.PrioWorkers)
		g := p.NewGroup()
		return runPriority(sz, prioTarget{
			submit: func(_ bool, task func()) { g.Submit(task) },
			wait:   g.Wait,
			stop:   p.StopAndWait,
		})
	}})
	register("priority/saturated", Impl{"goroutines", "go + semaphore channel of 2 + sync.WaitGroup; FIFO", func(sz *Sizes) (Sample, error) {
		sem := make(chan struct{}, sz.PrioWorkers)
		var wg sync.WaitGroup
		return runPriority(sz, prioTarget{
			submit: func(_ bool, task func()) {
				sem <- struct{}{}
				wg.Go(func() { defer func() { <-sem }(); task() })
			},
			wait: func() error { wg.Wait(); return nil },
			stop: func() {},
		})
	}})
}
