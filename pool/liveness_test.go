package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestTasksThatOnlyFinishTogetherCompleteOnTwoWorkers runs 24 tasks on 2
// workers that can only finish when all 24 run at once: the pool must add
// workers.
func TestTasksThatOnlyFinishTogetherCompleteOnTwoWorkers(t *testing.T) {
	p := New(WithWorkers(2))
	defer stop(t, p)
	const n = 24
	var arrived sync.WaitGroup
	arrived.Add(n)
	done := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		if err := p.Submit(bg, Normal, func() {
			arrived.Done()
			arrived.Wait() // the barrier
			done <- struct{}{}
		}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		recv(t, done, "all 24 barrier tasks to finish (the pool did not add workers)")
	}
}

// TestChildrenWaitOnEachOther: a chain of tasks submitted in order, each
// waiting for the next one; the last one starts the unwinding. Run both from
// outside and from inside a task that waits for its children with Block.
func TestChildrenWaitOnEachOther(t *testing.T) {
	const n = 50
	chain := func(p *Pool, ctx context.Context) (wait func()) {
		done := make([]chan struct{}, n)
		for i := range done {
			done[i] = make(chan struct{})
		}
		for i := 0; i < n; i++ {
			err := p.Go(ctx, Normal, func(context.Context) {
				if i+1 < n {
					<-done[i+1]
				}
				close(done[i])
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return func() { <-done[0] }
	}
	t.Run("outside", func(t *testing.T) {
		p := New(WithWorkers(2))
		defer stop(t, p)
		wait := chain(p, bg)
		finished := make(chan struct{})
		go func() { wait(); close(finished) }()
		recv(t, finished, "the chain of waiting tasks to unwind")
	})
	t.Run("nested", func(t *testing.T) {
		p := New(WithWorkers(2))
		defer stop(t, p)
		finished := make(chan struct{})
		err := p.Go(bg, Normal, func(ctx context.Context) {
			wait := chain(p, ctx)
			Block(ctx, wait)
			close(finished)
		})
		if err != nil {
			t.Fatal(err)
		}
		recv(t, finished, "the parent task to see its children unwind")
	})
}

// TestExtrasRetire: the extra workers added for a barrier of 16 tasks on 2
// workers (Stats shows them while the tasks wait at the barrier) all exit
// once the work is done.
func TestExtrasRetire(t *testing.T) {
	p := New(WithWorkers(2), WithIdleTimeout(20*time.Millisecond))
	defer stop(t, p)
	const n = 16
	var arrived, finished sync.WaitGroup
	arrived.Add(n)
	finished.Add(n)
	var seen atomic.Int64
	for i := 0; i < n; i++ {
		if err := p.Submit(bg, Normal, func() {
			arrived.Done()
			arrived.Wait()
			seen.Store(max(seen.Load(), int64(p.Stats().ExtraWorkers)))
			finished.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	finished.Wait()
	if seen.Load() == 0 {
		t.Fatalf("Stats showed no extra workers during a %d-task barrier on 2 workers", n)
	}
	waitFor(t, "extra workers retire after the work is done", func() bool {
		st := p.Stats()
		return st.ExtraWorkers == 0 && st.Workers == 2
	})
}

// TestBlockLendsWorker: a task waiting inside Block for a task queued
// before it lets that task run at once: Block lent a spare worker. Inside a
// synctest bubble no timer fires while a goroutine of the bubble can run,
// so the child runs before the monitor's first check could: the bubble's
// clock has not moved.
func TestBlockLendsWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(WithWorkers(1))
		start := time.Now()
		finished := make(chan struct{})
		err := p.Go(bg, Normal, func(ctx context.Context) {
			child := make(chan struct{})
			if err := p.Submit(ctx, Normal, func() { close(child) }); err != nil {
				t.Error(err)
			}
			Block(ctx, func() {
				if st := p.Stats(); st.Blocked != 1 {
					t.Errorf("Stats.Blocked = %d inside Block, want 1", st.Blocked)
				}
				<-child
				if d := time.Since(start); d != 0 {
					t.Errorf("the child queued before Block ran after %v of bubble time, want at once (Block did not lend a worker)", d)
				}
			})
			close(finished)
		})
		if err != nil {
			t.Fatal(err)
		}
		<-finished
		if st := p.Stats(); st.Blocked != 0 {
			t.Fatalf("after Block: Blocked = %d, want 0", st.Blocked)
		}
		if err := p.Stop(bg); err != nil {
			t.Fatal(err)
		}
	})
}

func TestBlockOutsideWorkerJustRuns(t *testing.T) {
	ran := false
	Block(bg, func() { ran = true })
	if !ran {
		t.Fatal("Block did not run fn")
	}
}

// TestGoexitOnExtraWorker: Goexit on an extra worker replaces it too.
func TestGoexitOnExtraWorker(t *testing.T) {
	p := New(WithWorkers(1))
	defer stop(t, p)
	exited := make(chan struct{})
	err := p.Go(bg, Normal, func(ctx context.Context) {
		// Queue a task that calls Goexit, then Block: the lent (extra)
		// worker runs it.
		if err := p.Go(ctx, Normal, func(ctx context.Context) {
			defer close(exited)
			if w := workerOf(ctx); w == nil || !w.extra {
				t.Error("the Goexit task did not run on an extra worker")
			}
			runtime.Goexit()
		}); err != nil {
			t.Error(err)
		}
		Block(ctx, func() { <-exited })
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, exited, "the Goexit task on the extra worker")
	waitFor(t, "Goexit counted", func() bool { return p.Stats().Goexits == 1 })
	if st := p.Stats(); st.Workers != 1 {
		t.Fatalf("after Goexit on an extra: %d base workers, want 1", st.Workers)
	}
	ran := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	recv(t, ran, "a task after Goexit")
}

// TestSurplusExtrasRetire: extra workers that are not needed (a CPU-bound
// backlog keeps the queue non-empty and no task blocks) retire at a task
// boundary without waiting for the idle timeout.
func TestSurplusExtrasRetire(t *testing.T) {
	p := New(WithWorkers(2), WithIdleTimeout(time.Hour))
	defer stop(t, p)
	if p.s.spawnExtras(4, false) == nil || p.Stats().ExtraWorkers != 4 {
		t.Fatalf("spawnExtras(4) did not start 4 extra workers: %v", p.Stats())
	}
	var wg sync.WaitGroup
	stopFlood := make(chan struct{})
	var flood func()
	flood = func() { // a CPU-bound backlog of short tasks that lasts until the extras retire
		for start := time.Now(); time.Since(start) < 20*time.Microsecond; {
		}
		select {
		case <-stopFlood:
			wg.Done()
		default:
			if err := p.Submit(bg, Normal, flood); err != nil {
				t.Error(err)
				wg.Done()
			}
		}
	}
	for i := 0; i < 32; i++ { // more than the workers at any GOMAXPROCS: the queue never empties
		wg.Add(1)
		if err := p.Submit(bg, Normal, flood); err != nil {
			t.Fatal(err)
		}
	}
	if overcommitted() {
		// Worker threads descheduled mid-task look held: wait for the
		// idle timeout path instead (below, after the flood).
		close(stopFlood)
		wg.Wait()
		t.Skip("more Ps than CPUs: held-looking workers keep surplus extras; they retire when the queue empties")
	}
	waitFor(t, "surplus extra workers retire under a CPU-bound backlog", func() bool {
		return p.Stats().ExtraWorkers == 0
	})
	close(stopFlood)
	wg.Wait()
}

// CanLend says whether Block could lend a worker: yes while a worker is
// parked or the pool may grow; no when every worker of a pool at
// WithMaxWorkers is busy.
func TestCanLendOnlyWhileAWorkerCouldCome(t *testing.T) {
	p := New(WithWorkers(2), WithMaxWorkers(2))
	defer stop(t, p)
	waitFor(t, "CanLend on an idle pool (its workers parked)", p.CanLend)
	release := make(chan struct{})
	var running sync.WaitGroup
	running.Add(2)
	for range 2 {
		if err := p.Submit(bg, Normal, func() { running.Done(); <-release }); err != nil {
			t.Fatal(err)
		}
	}
	running.Wait()
	waitFor(t, "no worker is searching for work", func() bool { return !p.CanLend() })
	close(release)
	waitFor(t, "a worker is idle again", p.CanLend)
	grow := New(WithWorkers(1), WithMaxWorkers(4))
	defer stop(t, grow)
	rel := gate(t, grow)
	defer rel()
	if !grow.CanLend() {
		t.Fatalf("CanLend = false on a pool below WithMaxWorkers")
	}
}
