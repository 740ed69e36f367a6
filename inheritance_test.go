package echo

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// backlog is n tasks of one priority queued on a pool, each spinning for
// taskLen, that a test wants to overtake. started counts the tasks that
// have begun; drain makes the rest return at once and waits for all.
type backlog struct {
	started atomic.Int64
	stop    atomic.Bool
	wg      sync.WaitGroup

	atWait, atChild atomic.Int64 // see markWait, markChild
}

const backlogTask = 50 * time.Microsecond

func newBacklog(t *testing.T, p *pool.Pool, prio Priority, n int) *backlog {
	t.Helper()
	b := &backlog{}
	b.atWait.Store(-1) // not marked yet
	b.atChild.Store(-1)
	b.wg.Add(n)
	for range n {
		if err := p.Submit(context.Background(), prio, func() {
			defer b.wg.Done()
			b.started.Add(1)
			if !b.stop.Load() {
				spin(backlogTask)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(b.drain)
	return b
}

func (b *backlog) drain() {
	b.stop.Store(true)
	b.wg.Wait()
}

// markWait records how many backlog tasks had begun when the wait began
// (tests call it just before the waiting call).
func (b *backlog) markWait() { b.atWait.Store(b.started.Load()) }

// markChild records, for a child that should be lifted, how many backlog
// tasks had begun when it started (the latest of several children counts).
func (b *backlog) markChild() {
	v := b.started.Load()
	for {
		old := b.atChild.Load()
		if v <= old || b.atChild.CompareAndSwap(old, v) {
			return
		}
	}
}

// overtakes runs f, which waits on lifted children (marking when its wait
// begins and when they start), and fails the test unless the children
// started within maxLag backlog tasks of the wait (a few task lengths;
// waiting behind the backlog would take thousands). The lag is measured
// from the children's side so that it does not count the scheduling
// latency of the waiting goroutine, which competes for the CPUs with the
// spinning workers (at GOMAXPROCS 1 it can wait 100 ms to run). As a
// sanity bound, f must also return before half of the backlog left began.
func (b *backlog) overtakes(t *testing.T, what string, n int, f func() error) {
	t.Helper()
	before := b.started.Load()
	left := int64(n) - before
	if left < int64(n)/2 {
		t.Skipf("%d of %d backlog tasks began before %s: too few left to overtake (machine overloaded?)", before, n, what)
	}
	var err error
	within(t, timeoutLong, what, func() { err = f() })
	ran := b.started.Load() - before
	if err != nil {
		t.Fatalf("%s returned %v, want nil", what, err)
	}
	atWait, atChild := b.atWait.Load(), b.atChild.Load()
	if atWait < 0 || atChild < 0 {
		t.Fatalf("%s: the test did not mark the wait (%d) or the child (%d)", what, atWait, atChild)
	}
	lag := atChild - atWait
	t.Logf("%s: the lifted children started %d backlog tasks after the wait began; it returned after %d (of %d left)", what, lag, ran, left)
	if lag > maxLag || ran > left/2 {
		t.Fatalf("%s: the children started %d backlog tasks after the wait began, and it returned after %d of the %d left: they waited behind the backlog instead of running at their waiter's priority",
			what, lag, ran, left)
	}
}

// twoWorkers returns a 2-worker pool that cannot add workers, so that the
// backlog counts measure start order: a pool that may grow can judge a
// CPU-bound backlog blocked (under -race, at GOMAXPROCS 8 it was seen adding
// thousands of extras, each handed a backlog task at once, which inflates
// the count whatever the order).
func twoWorkers(t *testing.T) *pool.Pool {
	p := pool.New(pool.WithWorkers(2), pool.WithMaxWorkers(2))
	t.Cleanup(func() { stopPool(t, p) })
	return p
}

const (
	backlogLen = 20_000
	// maxLag: typically 0-100; the goroutine that marks the wait can still
	// be descheduled between the mark and the wait, for a 10 ms slice (200
	// tasks of 50 µs per worker) at GOMAXPROCS 1. Old code: ~19,000.
	maxLag = 1000
)

// The README's Quick Start shape: a handler off the pool opens a Nursery
// with a High child and a Low child, behind 20,000 queued Low tasks on a
// 2-worker pool, with no option set. The Nursery's wait runs at the
// handler's priority (Normal), so its Low child runs at Normal and overtakes
// the Low backlog.
func TestWaitLiftsLowChildrenToTheWaitersPriority(t *testing.T) {
	p := twoWorkers(t)
	b := newBacklog(t, p, Low, backlogLen)
	var childPrio atomic.Value
	b.overtakes(t, "Nursery with a High and a Low child", backlogLen, func() error {
		return Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, High, func(context.Context) error { return nil })
			Go(ctx, Low, func(ctx context.Context) error { b.markChild(); childPrio.Store(PriorityOf(ctx)); return nil })
			b.markWait() // the Nursery waits next
			return nil
		}, WithPool(p))
	})
	if got := childPrio.Load(); got != Normal {
		t.Errorf("the Low child waited for at Normal ran at %v, want normal", got)
	}
}

// With WithPriority(High) the waiter is High: Normal and Low children
// overtake a Normal backlog too, and run at High.
func TestWithPriorityHighLiftsChildrenPastANormalBacklog(t *testing.T) {
	p := twoWorkers(t)
	b := newBacklog(t, p, Normal, backlogLen)
	var prios [2]atomic.Value
	b.overtakes(t, "WithPriority(High) Nursery with a Normal and a Low child", backlogLen, func() error {
		return Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(ctx context.Context) error { b.markChild(); prios[0].Store(PriorityOf(ctx)); return nil })
			Go(ctx, Low, func(ctx context.Context) error { b.markChild(); prios[1].Store(PriorityOf(ctx)); return nil })
			b.markWait()
			return nil
		}, WithPool(p), WithPriority(High))
	})
	for i := range prios {
		if got := prios[i].Load(); got != High {
			t.Errorf("child %d ran at %v, want high", i, got)
		}
	}
}

// Start waits too: the Start caller's priority (Normal, the body's) lifts
// its Low Start child past a Low backlog.
func TestStartLiftsItsChildToTheCallersPriority(t *testing.T) {
	p := twoWorkers(t)
	b := newBacklog(t, p, Low, backlogLen)
	err := Nursery(context.Background(), func(ctx context.Context) error {
		b.overtakes(t, "Start of a Low child", backlogLen, func() error {
			b.markWait()
			_, err := Start(ctx, Low, func(ctx context.Context, ready func(int)) error {
				b.markChild()
				ready(1)
				return nil
			})
			return err
		})
		return nil
	}, WithPool(p))
	if err != nil {
		t.Fatal(err)
	}
}

// A Go waiting for a WithLimit slot waits on the scope: the Low child that
// holds the slot runs at the spawner's priority, so the Go returns before
// the Low backlog.
func TestGoWaitingForASlotLiftsTheSlotHolders(t *testing.T) {
	p := twoWorkers(t)
	b := newBacklog(t, p, Low, backlogLen)
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Low, func(context.Context) error { b.markChild(); return nil }) // takes the one slot, queued behind the backlog
		b.overtakes(t, "Go waiting for the slot of a Low child", backlogLen, func() error {
			b.markWait()
			Go(ctx, Low, func(context.Context) error { return nil })
			return nil
		})
		return nil
	}, WithPool(p), WithLimit(1))
	if err != nil {
		t.Fatal(err)
	}
}

// A child nobody waits on keeps its priority: a Low child of a background
// scope runs at Low, after the older Low work.
func TestChildNobodyWaitsOnKeepsItsPriority(t *testing.T) {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1))
	defer p.Stop(context.Background())
	gate := make(chan struct{})
	busy := make(chan struct{})
	if err := p.Go(context.Background(), Normal, func(context.Context) { close(busy); <-gate }); err != nil {
		t.Fatal(err)
	}
	<-busy
	var older atomic.Int64
	const n = 50
	for range n {
		if err := p.Submit(context.Background(), Low, func() { older.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	bg, bgctx := NewScope(context.Background(), WithPool(p))
	ran := make(chan struct{})
	var prio Priority
	var olderBefore int64
	Go(bgctx, Low, func(ctx context.Context) error {
		prio, olderBefore = PriorityOf(ctx), older.Load()
		close(ran)
		return nil
	})
	close(gate)
	within(t, timeoutLong, "the background scope's Low child", func() { <-ran })
	if prio != Low || olderBefore != n {
		t.Errorf("a Low child nobody waited on ran at %v after %d of the %d older Low tasks; want low, after all", prio, olderBefore, n)
	}
	if err := bg.Wait(); err != nil {
		t.Fatal(err)
	}
}

// Issue 10, case 4: a scope opened by a High child on a pool that cannot
// grow and whose queue is full. Lifting its Low children must not wait for
// queue space: Wait gets to run them itself.
func TestLiftingNeverWaitsForQueueSpace(t *testing.T) {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1), pool.WithQueueCapacity(2))
	defer p.Stop(context.Background())
	within(t, 10*time.Second, "a High child's Nursery with Low children filling the queue", func() {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, High, func(ctx context.Context) error {
				return Nursery(ctx, func(ctx context.Context) error {
					for range 2 {
						Go(ctx, Low, func(context.Context) error { return nil })
					}
					return nil
				})
			})
			return nil
		}, WithPool(p))
		if err != nil {
			t.Error(err)
		}
	})
}

// A child spawned while Wait waits is at the waiter's priority from the
// start: a running child's Low spawn, made after the Nursery's Wait began,
// runs at Normal (and goes to the pool at Normal).
func TestChildSpawnedWhileWaitWaitsIsLifted(t *testing.T) {
	p := newPool(t, 2)
	var got Priority
	err := Nursery(context.Background(), func(ctx context.Context) error {
		s := memberOf(ctx).s
		Go(ctx, Normal, func(ctx context.Context) error {
			for deadline := time.Now().Add(timeoutLong); s.lift.Load() == 0; runtime.Gosched() {
				if time.Now().After(deadline) {
					return errors.New("the Nursery's Wait did not begin within 30s")
				}
			}
			Go(ctx, Low, func(ctx context.Context) error { got = PriorityOf(ctx); return nil })
			return nil
		})
		return nil
	}, WithPool(p))
	if err != nil {
		t.Fatal(err)
	}
	if got != Normal {
		t.Fatalf("a Low child spawned while a Normal Wait waited ran at %v, want normal", got)
	}
}
