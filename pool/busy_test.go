package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// busyProcess keeps every P of the process busy with goroutines outside any
// pool, as other request handlers doing CPU work do in a loaded server,
// until the returned stop is called. Each spinner checks a flag in its loop,
// so the runtime preempts it only by force (every ~10 ms).
func busyProcess(t testing.TB) (stop func()) {
	t.Helper()
	var done atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(1)
			for !done.Load() {
				x = x*6364136223846793005 + 1442695040888963407
			}
			sink.Store(x)
		}()
	}
	return func() { done.Store(true); wg.Wait() }
}

var sink atomic.Uint64

// overcommitted reports whether the process has more Ps than the machine
// has CPUs (go test -cpu 8 on a 2-CPU machine): the OS then deschedules
// worker threads in the middle of short tasks for milliseconds, which the
// pool cannot tell from a task that blocks, and a guard on the number of
// extra workers can only be logged.
func overcommitted() bool { return runtime.GOMAXPROCS(0) > runtime.NumCPU() }

// TestSleepFanoutInBusyProcess: while goroutines outside the pool keep every
// P busy, 100 tasks that each sleep 50 ms on a default pool complete in
// about one sleep time, as 100 goroutines would: blocked workers must not
// make the rest of the fan-out wait in line. (Before the pool judged
// blocking from its own progress it never grew here: 100/2 sleeps in a row,
// 2.5 s.) The bound is generous; the figures are in BenchmarkBusyIOFanout.
func TestSleepFanoutInBusyProcess(t *testing.T) {
	p := New()
	defer stop(t, p)
	defer busyProcess(t)()
	const n, sleep = 100, 50 * time.Millisecond
	var wg sync.WaitGroup
	wg.Add(n)
	start := time.Now()
	for range n {
		if err := p.Submit(bg, Normal, func() { time.Sleep(sleep); wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	took := time.Since(start)
	t.Logf("%d tasks of %v sleep in a busy process: %v; %v", n, sleep, took, p.Stats())
	if bound := 25 * sleep; took > bound { // in a row they take 50 sleeps
		t.Fatalf("%d sleeping tasks took %v in a busy process, want < %v: blocked workers held up the queue (the pool did not grow)", n, took, bound)
	}
}

// TestBarrierInBusyProcess: 24 tasks that can only finish when all 24 run
// at once complete on 2 workers while goroutines outside the pool keep every
// P busy.
func TestBarrierInBusyProcess(t *testing.T) {
	p := New(WithWorkers(2))
	defer stop(t, p)
	defer busyProcess(t)()
	const n = 24
	var arrived sync.WaitGroup
	arrived.Add(n)
	done := make(chan struct{}, n)
	for range n {
		if err := p.Submit(bg, Normal, func() {
			arrived.Done()
			arrived.Wait() // the barrier
			done <- struct{}{}
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		recv(t, done, "all 24 barrier tasks to finish in a busy process (the pool did not add workers)")
	}
}

// TestCPUBacklogKeepsBaseWorkers: the priority workload (2 workers, a
// backlog of Low tasks of 100 µs of CPU, a High task about every 1 ms) does
// not grow the pool: the extra workers counted by every High task, and
// Stats read about every millisecond by the test, never exceed 2. Run both
// in a quiet process and in a busy one. (The High tasks read the counter,
// not Stats: under -race, Stats takes long enough to make them long tasks,
// which may be given stand-ins.)
func TestCPUBacklogKeepsBaseWorkers(t *testing.T) {
	for _, busy := range []bool{false, true} {
		name := "quiet"
		if busy {
			name = "busy"
		}
		t.Run(name, func(t *testing.T) {
			p := New(WithWorkers(2))
			defer stop(t, p)
			if busy {
				defer busyProcess(t)()
			}
			const lows = 2000
			var wg sync.WaitGroup
			var last atomic.Int64
			var maxExtra atomic.Int64
			last.Store(now())
			high := func() {
				maxExtra.Store(max(maxExtra.Load(), int64(p.s.extras.Load())))
				wg.Done()
			}
			wg.Add(lows)
			for range lows {
				if err := p.Submit(bg, Low, func() {
					if l := last.Load(); now()-l >= int64(time.Millisecond) && last.CompareAndSwap(l, now()) {
						wg.Add(1)
						if err := p.Submit(bg, High, high); err != nil {
							t.Error(err)
							wg.Done()
						}
					}
					spin(100 * time.Microsecond)
					wg.Done()
				}); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for sampling := true; sampling; {
				select {
				case <-done:
					sampling = false
				case <-time.After(time.Millisecond): // a sampling period, not synchronisation
					maxExtra.Store(max(maxExtra.Load(), int64(p.Stats().ExtraWorkers)))
				}
			}
			t.Logf("max extra workers seen: %d; %v", maxExtra.Load(), p.Stats())
			if m := maxExtra.Load(); m > 2 {
				if raceEnabled || overcommitted() {
					// The race detector on a loaded machine, or more Ps
					// than CPUs, stretch 100 µs tasks to milliseconds of
					// wall time now and then: they are no longer short
					// tasks. CI runs this guard without -race.
					t.Skipf("under -race or with more Ps than CPUs: a CPU-bound backlog grew the pool to 2+%d workers", m)
				}
				t.Fatalf("a CPU-bound backlog grew the pool to 2+%d workers, want at most 2+2", m)
			}
		})
	}
}

// TestBlockInLoopDoesNotInflate: a task that calls Block 2,000 times in a
// row while a CPU-bound backlog is queued borrows at most one spare at a
// time: each loan is returned when Block returns.
func TestBlockInLoopDoesNotInflate(t *testing.T) {
	p := New(WithWorkers(2), WithIdleTimeout(time.Hour))
	defer stop(t, p)
	var backlog sync.WaitGroup
	const lows = 1000
	backlog.Add(lows)
	for range lows {
		if err := p.Submit(bg, Low, func() { spin(50 * time.Microsecond); backlog.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	maxExtra := 0
	done := make(chan struct{})
	if err := p.Go(bg, High, func(ctx context.Context) {
		defer close(done)
		for i := range 2000 {
			Block(ctx, func() { time.Sleep(10 * time.Microsecond) })
			if i%10 == 0 {
				maxExtra = max(maxExtra, p.Stats().ExtraWorkers)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	recv(t, done, "the task that calls Block in a loop")
	backlog.Wait()
	t.Logf("max extra workers during 2,000 Blocks: %d; %v", maxExtra, p.Stats())
	if maxExtra > 3 && overcommitted() {
		t.Skipf("with more Ps than CPUs: Block in a loop grew the pool to 2+%d workers (stand-ins for descheduled threads)", maxExtra)
	}
	if maxExtra > 3 {
		t.Fatalf("Block in a loop grew the pool to 2+%d workers, want at most one spare per blocked worker (2+1, +2 for the monitor)", maxExtra)
	}
}
