package pool

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// BenchmarkSubmitNoop: b.N no-op tasks submitted from one goroutine, then
// wait for all; ns/op is ns per task. The task only signals a WaitGroup.
func BenchmarkSubmitNoop(b *testing.B) {
	b.Run("pool", func(b *testing.B) {
		p := New()
		defer stop(b, p)
		var wg sync.WaitGroup
		done := wg.Done
		b.ReportAllocs()
		b.ResetTimer()
		wg.Add(b.N)
		for i := 0; i < b.N; i++ {
			if err := p.Submit(bg, Normal, done); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
		b.Logf("pool after the run: %d+%d workers", len(p.s.base), p.Stats().ExtraWorkers)
	})
	b.Run("goroutines", func(b *testing.B) {
		var wg sync.WaitGroup
		b.ReportAllocs()
		wg.Add(b.N)
		for i := 0; i < b.N; i++ {
			go func() { wg.Done() }()
		}
		wg.Wait()
	})
	b.Run("errgroup", func(b *testing.B) {
		var g errgroup.Group
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.Go(func() error { return nil })
		}
		g.Wait()
	})
	b.Run("errgroup-limit", func(b *testing.B) {
		var g errgroup.Group
		g.SetLimit(runtime.GOMAXPROCS(0))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.Go(func() error { return nil })
		}
		g.Wait()
	})
}

// BenchmarkForkJoin: a recursive parallel sum over 1<<20 ints: a task splits
// its range in halves, submitting both as new tasks, down to 256-int leaves
// (8,191 tasks per op). Pool tasks submit from workers with their ctx, so
// children go on the worker's own deque and idle workers steal them.
func BenchmarkForkJoin(b *testing.B) {
	const n, leaf = 1 << 20, 256
	data := make([]int64, n)
	for i := range data {
		data[i] = int64(i)
	}
	want := int64(n) * (n - 1) / 2
	sum := func(lo, hi int) int64 {
		s := int64(0)
		for _, v := range data[lo:hi] {
			s += v
		}
		return s
	}
	check := func(b *testing.B, got int64) {
		if got != want {
			b.Fatalf("sum = %d, want %d", got, want)
		}
	}
	b.Run("pool", func(b *testing.B) {
		p := New()
		defer stop(b, p)
		b.ReportAllocs()
		for b.Loop() {
			var total atomic.Int64
			var wg sync.WaitGroup
			var split func(lo, hi int) func(ctx context.Context)
			split = func(lo, hi int) func(ctx context.Context) {
				return func(ctx context.Context) {
					for hi-lo > leaf {
						mid := (lo + hi) / 2
						wg.Add(1)
						if err := p.Go(ctx, Normal, split(mid, hi)); err != nil {
							b.Error(err)
						}
						hi = mid
					}
					total.Add(sum(lo, hi))
					wg.Done()
				}
			}
			wg.Add(1)
			p.Go(bg, Normal, split(0, n))
			wg.Wait()
			check(b, total.Load())
		}
		b.Logf("pool after the run (extra workers are false positives of the liveness monitor):\n%v", p.Stats())
	})
	b.Run("goroutines", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var total atomic.Int64
			var wg sync.WaitGroup
			var split func(lo, hi int)
			split = func(lo, hi int) {
				for hi-lo > leaf {
					mid := (lo + hi) / 2
					wg.Add(1)
					go split(mid, hi)
					hi = mid
				}
				total.Add(sum(lo, hi))
				wg.Done()
			}
			wg.Add(1)
			go split(0, n)
			wg.Wait()
			check(b, total.Load())
		}
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var total atomic.Int64
			var g errgroup.Group
			var split func(lo, hi int) func() error
			split = func(lo, hi int) func() error {
				return func() error {
					for hi-lo > leaf {
						mid := (lo + hi) / 2
						g.Go(split(mid, hi))
						hi = mid
					}
					total.Add(sum(lo, hi))
					return nil
				}
			}
			g.Go(split(0, n))
			g.Wait()
			check(b, total.Load())
		}
	})
}

// spin burns about d of CPU.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// BenchmarkPriorityLatency: 2 workers saturated by 5,000 Low tasks of
// ~100 µs of CPU each; about every 1 ms an urgent (High) task is submitted
// from outside (to the injector), until the backlog drains. Reports p50/p99
// of the urgent tasks' submit→start. "fifo" is the same pool with the
// urgent tasks at Low too: what a FIFO pool gives.
//
// The urgent tasks are submitted by whichever backlog task, as it starts,
// first sees that 1 ms has passed since the last one (with pool.Submit and a background
// ctx, so they go to the injector exactly as from an outside goroutine). A
// separate submitting goroutine would measure the Go scheduler instead: with
// both Ps held by workers that never block, it runs only when the scheduler
// preempts a worker, every ~10 ms.
func BenchmarkPriorityLatency(b *testing.B) {
	for _, tc := range []struct {
		name   string
		urgent Priority
	}{{"priority", High}, {"fifo", Low}} {
		b.Run(tc.name, func(b *testing.B) {
			p := New(WithWorkers(2), WithMaxWorkers(2))
			defer stop(b, p)
			var mu sync.Mutex
			var lat []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				var wg sync.WaitGroup
				var last atomic.Int64
				last.Store(now())
				urgent := func() {
					t0 := now()
					wg.Add(1)
					p.Submit(bg, tc.urgent, func() {
						d := time.Duration(now() - t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
						wg.Done()
					})
				}
				wg.Add(5000)
				for i := 0; i < 5000; i++ {
					p.Submit(bg, Low, func() {
						// Submit before the work, so that both workers stay
						// busy: the urgent task waits for whichever finishes
						// its current task first.
						if l := last.Load(); now()-l >= int64(time.Millisecond) && last.CompareAndSwap(l, now()) {
							urgent()
						}
						spin(100 * time.Microsecond)
						wg.Done()
					})
				}
				wg.Wait()
			}
			slices.Sort(lat)
			b.ReportMetric(float64(len(lat))/float64(b.N), "urgent/op")
			b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100])/1e3, "p99-µs")
		})
	}
}

// BenchmarkWakeLatency: submit→start of one task on a parked pool (every
// worker and the monitor parked), against starting a goroutine.
func BenchmarkWakeLatency(b *testing.B) {
	report := func(b *testing.B, lat []time.Duration) {
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
	b.Run("pool", func(b *testing.B) {
		p := New()
		defer stop(b, p)
		workers := int32(len(p.s.base))
		lat := make([]time.Duration, 0, b.N)
		started := make(chan time.Time)
		b.ReportAllocs()
		for b.Loop() {
			for p.s.nidle.Load() != workers || !p.s.mon.parked.Load() {
				runtime.Gosched() // wait until the pool is fully parked
			}
			t0 := time.Now()
			p.Submit(bg, Normal, func() { started <- time.Now() })
			lat = append(lat, (<-started).Sub(t0))
		}
		report(b, lat)
	})
	b.Run("goroutine", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		started := make(chan time.Time)
		b.ReportAllocs()
		for b.Loop() {
			t0 := time.Now()
			go func() { started <- time.Now() }()
			lat = append(lat, (<-started).Sub(t0))
		}
		report(b, lat)
	})
}

// BenchmarkSleepFanout: 2,000 tasks that each sleep 1 ms (an I/O fan-out),
// then wait for all. "pool" is a fresh pool per op (2 base workers: it must
// grow); "pool-warm" reuses one pool, whose extra workers from the previous
// op are still parked (idle timeout 1 s).
func BenchmarkSleepFanout(b *testing.B) {
	const n = 2000
	fanout := func(b *testing.B, p *Pool) {
		var wg sync.WaitGroup
		wg.Add(n)
		for i := 0; i < n; i++ {
			if err := p.Submit(bg, Normal, func() { time.Sleep(time.Millisecond); wg.Done() }); err != nil {
				b.Fatal(err)
			}
		}
		wg.Wait()
	}
	b.Run("pool", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := New()
			fanout(b, p)
			b.StopTimer()
			stop(b, p)
			b.StartTimer()
		}
	})
	b.Run("pool-warm", func(b *testing.B) {
		p := New()
		defer stop(b, p)
		fanout(b, p)
		b.ReportAllocs()
		for b.Loop() {
			fanout(b, p)
		}
	})
	b.Run("goroutines", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(n)
			for i := 0; i < n; i++ {
				go func() { time.Sleep(time.Millisecond); wg.Done() }()
			}
			wg.Wait()
		}
	})
}

// BenchmarkCPUBacklogWithTicker: the goroutine that submitted 5,000 tasks
// of 100 µs CPU to GOMAXPROCS workers then waits on a 1 ms ticker 200 times
// (as the priority demo's request loop does) while the backlog drains. On
// this 2-CPU machine (count 3): pool 255-258 ms; the pool without the yield
// between tasks (yield.go) 456-458 ms, its two workers sharing one P; plain
// goroutines looping over a channel, which never yield either, 454-456 ms.
func BenchmarkCPUBacklogWithTicker(b *testing.B) {
	b.ReportAllocs()
	workers := runtime.GOMAXPROCS(0)
	for _, impl := range []string{"pool", "goroutines-loop"} {
		b.Run(impl, func(b *testing.B) {
			for b.Loop() {
				var wg sync.WaitGroup
				wg.Add(5000)
				task := func() { spin(100 * time.Microsecond); wg.Done() }
				var p *Pool
				if impl == "pool" {
					p = New(WithWorkers(workers))
					for range 5000 {
						p.Submit(context.Background(), Low, task)
					}
				} else {
					ch := make(chan func(), 5000)
					for range 5000 {
						ch <- task
					}
					close(ch)
					for range workers {
						go func() {
							for f := range ch {
								f()
							}
						}()
					}
				}
				t := time.NewTicker(time.Millisecond)
				for range 200 {
					<-t.C
				}
				t.Stop()
				wg.Wait()
				if p != nil {
					p.Stop(context.Background())
				}
			}
		})
	}
}

// BenchmarkBusyIOFanout: 100 tasks that each sleep 5 ms, submitted from one
// goroutine, while GOMAXPROCS goroutines outside the pool spin on the CPU
// (a loaded server's other handlers): wall time per fan-out. "pool" is the
// default configuration (reused across ops), "pool-100" a pool of 100 base
// workers; "errgroup" is one goroutine per task.
func BenchmarkBusyIOFanout(b *testing.B) {
	const n, sleep = 100, 5 * time.Millisecond
	task := func(wg *sync.WaitGroup) func() { return func() { time.Sleep(sleep); wg.Done() } }
	run := func(b *testing.B, p *Pool) {
		defer busyProcess(b)()
		b.ReportAllocs()
		for b.Loop() {
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				if err := p.Submit(bg, Normal, task(&wg)); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
		}
	}
	b.Run("pool", func(b *testing.B) {
		p := New()
		defer stop(b, p)
		run(b, p)
	})
	b.Run("pool-cold", func(b *testing.B) {
		defer busyProcess(b)()
		b.ReportAllocs()
		for b.Loop() {
			p := New()
			var wg sync.WaitGroup
			wg.Add(n)
			for range n {
				if err := p.Submit(bg, Normal, task(&wg)); err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			b.StopTimer()
			stop(b, p)
			b.StartTimer()
		}
	})
	b.Run("pool-100", func(b *testing.B) {
		p := New(WithWorkers(n))
		defer stop(b, p)
		run(b, p)
	})
	b.Run("errgroup", func(b *testing.B) {
		defer busyProcess(b)()
		b.ReportAllocs()
		for b.Loop() {
			var g errgroup.Group
			for range n {
				g.Go(func() error { time.Sleep(sleep); return nil })
			}
			g.Wait()
		}
	})
}

// BenchmarkLongCPUBacklog shows the growth rule's known limit: a default
// pool kept busy with 64 Low tasks in flight, each burning work of CPU,
// while a High task is submitted every millisecond. Tasks under about
// 500 µs add no workers; longer ones look blocked to the pool (it cannot
// tell a CPU-bound task from a blocked one), extras are added, and a High
// task, though started first, then shares the CPUs with them. Reported:
// the most extra workers seen and the High start latency (mean, max).
//
//	go test -run '^$' -bench LongCPUBacklog -benchtime 1x ./pool
func BenchmarkLongCPUBacklog(b *testing.B) {
	for _, work := range []time.Duration{100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond} {
		b.Run(work.String(), func(b *testing.B) {
			for b.Loop() {
				p := New()
				sem := make(chan struct{}, 64)
				stop := make(chan struct{})
				fed := make(chan struct{})
				go func() {
					defer close(fed)
					for {
						select {
						case <-stop:
							return
						case sem <- struct{}{}:
						}
						p.Submit(bg, Low, func() { spin(work); <-sem })
					}
				}()
				maxExtra := 0
				var sum, worst time.Duration
				const highs = 200
				for range highs {
					time.Sleep(time.Millisecond)
					t0 := time.Now()
					started := make(chan time.Duration, 1)
					p.Submit(bg, High, func() { started <- time.Since(t0) })
					d := <-started
					sum += d
					worst = max(worst, d)
					maxExtra = max(maxExtra, p.Stats().ExtraWorkers)
				}
				close(stop)
				<-fed
				p.Stop(bg)
				b.ReportMetric(float64(maxExtra), "max-extras")
				b.ReportMetric(float64(sum.Microseconds())/highs, "high-mean-µs")
				b.ReportMetric(float64(worst.Microseconds()), "high-max-µs")
			}
		})
	}
}
