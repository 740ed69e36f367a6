package pool

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
)

// idleExit is the idle period of the tests' pools: short, so that the tests
// race submits against the exit often.
const idleExit = time.Millisecond

// runTasks submits n tasks to p (half from outside, half as children
// submitted with a task's ctx, onto that worker's own deque) and waits for
// them to run.
func runTasks(t *testing.T, p *Pool, n int) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(2 * n)
	for range n {
		err := p.Go(bg, Normal, func(ctx context.Context) {
			if err := p.Submit(ctx, Normal, wg.Done); err != nil {
				t.Errorf("Submit from a task: %v", err)
				wg.Done()
			}
			wg.Done()
		})
		if err != nil {
			t.Fatalf("Go: %v", err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, "the submitted tasks to run")
}

// TestIdleExitPoolLeavesNoGoroutinesAndRestartsOnSubmit: a pool with idle
// exit that has nothing to do for the idle period keeps no goroutine (goleak
// with its default retries finds none), also after an extra worker was lent
// by Block; the next submit starts it again, and Stop joins it.
func TestIdleExitPoolLeavesNoGoroutinesAndRestartsOnSubmit(t *testing.T) {
	before := goleak.IgnoreCurrent()
	p := New(WithWorkers(2), withIdleExit(idleExit))
	runTasks(t, p, 100)
	goleak.VerifyNone(t, before)

	// Restart, with a Block that lends an extra worker (which parks, and
	// must exit too).
	var wg sync.WaitGroup
	wg.Add(20)
	release := make(chan struct{})
	for range 20 {
		if err := p.Go(bg, Normal, func(ctx context.Context) {
			Block(ctx, func() { <-release })
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(release)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	recv(t, done, "the blocking tasks to run after the idle exit")
	goleak.VerifyNone(t, before)

	for range 5 {
		runTasks(t, p, 10)
		goleak.VerifyNone(t, before)
	}
	stop(t, p)
	goleak.VerifyNone(t, before)
	if err := p.Submit(bg, Normal, func() {}); err != ErrClosed {
		t.Fatalf("Submit after Stop of an idle-exited pool: got %v, want ErrClosed", err)
	}
}

// TestStopAfterIdleExitReturnsAndLeavesNothing: Stop of a pool whose
// goroutines have exited for idleness returns, and nothing is left.
func TestStopAfterIdleExitReturnsAndLeavesNothing(t *testing.T) {
	before := goleak.IgnoreCurrent()
	p := New(WithWorkers(3), withIdleExit(idleExit))
	runTasks(t, p, 10)
	waitFor(t, "the idle pool's goroutines exit", func() bool { return p.s.live.Load() == 1 })
	stop(t, p)
	select {
	case <-p.s.done:
	default:
		t.Fatal("Stop returned but the pool is not done")
	}
	goleak.VerifyNone(t, before)
}

// TestSubmitsRacingIdleExitRunOnce: submits from several goroutines (from
// outside and with task ctxs, onto workers' own deques) race the idle exit
// and the restart; every accepted task runs exactly once, and Stop, racing
// the last idle exit, joins everything.
func TestSubmitsRacingIdleExitRunOnce(t *testing.T) {
	before := goleak.IgnoreCurrent()
	rng := rand.New(rand.NewPCG(testSeed(t), 0))
	for _, workers := range []int{1, 2, 4} {
		p := New(WithWorkers(workers), withIdleExit(time.Nanosecond))
		const rounds, submitters, per = 100, 3, 8
		counts := make([]atomic.Int32, rounds*submitters*per*2)
		var next atomic.Int64
		for r := range rounds {
			var wg sync.WaitGroup
			// Vary when the round starts: at once, after a few yields, or
			// once the pool has exited (jitter, not synchronisation).
			switch rng.IntN(3) {
			case 1:
				for range rng.IntN(50) {
					runtime.Gosched()
				}
			case 2:
				waitFor(t, "the idle pool's goroutines exit", func() bool { return p.s.live.Load() == 1 })
			}
			// Besides the timer, call doze while the round's submits run
			// (it re-checks everything, so any call is legal), so that
			// dozes land inside submits.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range per {
					p.s.doze()
					runtime.Gosched()
				}
			}()
			for range submitters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range per {
						i := next.Add(2) - 2
						wg.Add(2)
						err := p.Go(bg, Normal, func(ctx context.Context) {
							counts[i].Add(1)
							if err := p.Submit(ctx, Normal, func() { counts[i+1].Add(1); wg.Done() }); err != nil {
								t.Errorf("round %d: Submit from a task: %v", r, err)
								counts[i+1].Add(1)
								wg.Done()
							}
							wg.Done()
						})
						if err != nil {
							t.Errorf("round %d: Go: %v", r, err)
							counts[i].Add(1)
							counts[i+1].Add(1)
							wg.Add(-2)
						}
					}
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			recv(t, done, "a round's tasks to run")
		}
		stop(t, p)
		for i := range counts[:next.Load()] {
			if c := counts[i].Load(); c != 1 {
				t.Fatalf("%d workers: task %d ran %d times, want exactly once", workers, i, c)
			}
		}
	}
	goleak.VerifyNone(t, before)
}

// TestStopRacingIdleExit: Stop called at any moment around the idle exit
// (before it, during it, after it) returns once every accepted task ran.
func TestStopRacingIdleExit(t *testing.T) {
	before := goleak.IgnoreCurrent()
	rng := rand.New(rand.NewPCG(testSeed(t), 1))
	for range 200 {
		p := New(WithWorkers(2), withIdleExit(time.Nanosecond))
		var ran atomic.Int32
		accepted := 0
		for range 10 {
			if p.Submit(bg, Normal, func() { ran.Add(1) }) == nil {
				accepted++
			}
		}
		for range rng.IntN(200) {
			runtime.Gosched()
		}
		stop(t, p)
		if int(ran.Load()) != accepted {
			t.Fatalf("Stop returned with %d of %d accepted tasks run", ran.Load(), accepted)
		}
	}
	goleak.VerifyNone(t, before)
}

// TestIdleExitInSynctestBubble: the idle exit needs no goroutine polling
// the clock. In a bubble (where time advances only when every goroutine is
// durably blocked) the pool's goroutines exit after the idle period, start
// again for the next task and are joined by Stop.
func TestIdleExitInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := New(WithWorkers(2), withIdleExit(10*time.Millisecond))
		for range 3 {
			runTasks(t, p, 10)
			time.Sleep(time.Second)
			synctest.Wait()
			if n := p.s.live.Load(); n != 1 {
				p.Stop(context.Background()) // a bubble must end with no goroutine left
				t.Fatalf("after a second idle, the pool counts %d live goroutines, want none (1: the idle exit's own count)", n-1)
			}
		}
		if err := p.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}
