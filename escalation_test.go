package echo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// highCtx returns a context of a High member of a scope on r, as a High
// child's ctx would be, and that scope (to Wait on at the end).
func highCtx(r runner) (context.Context, *Scope) {
	outer, _ := NewScope(context.Background(), withRunner(r))
	return context.WithValue(outer.Context(), memberKey{}, &member{s: outer, prio: High}), outer
}

// When High code waits on a scope, the scope's queued Low children are
// resubmitted to the pool as High proxies, run as High (their ctx says so,
// so scopes they open are High too), and children spawned afterwards go to
// the pool at High. The fake pool makes the order deterministic: the waiter
// is kept busy inline in the first child while the test plays the pool and
// runs the High tasks.
func TestPriorityEscalation(t *testing.T) {
	f := &fakePool{}
	hctx, outer := highCtx(f)
	s, _ := NewScope(hctx)
	if s.creator != High {
		t.Fatalf("scope opened in a High ctx has creator %v; want high", s.creator)
	}
	const n = 3
	var prio [n + 1]Priority
	release := make(chan struct{})
	inFirst := make(chan struct{})
	for i := range n {
		s.Go(Low, func(ctx context.Context) error {
			prio[i] = PriorityOf(ctx)
			if i == 0 {
				close(inFirst)
				<-release
				Go(ctx, Low, func(ctx context.Context) error { // spawned after escalation
					prio[n] = PriorityOf(ctx)
					return nil
				})
			}
			return nil
		})
	}
	if got := len(f.take(Low)); got != n {
		t.Fatalf("fake pool got %d Low tasks; want %d", got, n) // the Low copies: dropped, as if still queued behind a Low backlog
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Wait() }()
	<-inFirst // the waiter runs child 0 inline and is stuck there
	waitUntil(t, "Wait resubmits the queued Low children as High", func() bool { return f.count(High) == n })
	highs := f.take(High)
	if len(highs) != n {
		t.Fatalf("fake pool got %d High proxies; want %d", len(highs), n)
	}
	for _, task := range highs { // the pool runs the High work first
		task.fn(task.ctx)
	}
	// The waiter is still stuck in child 0, so only the High proxies can
	// have run children 1 and 2.
	for i := 1; i < n; i++ {
		if prio[i] != High {
			t.Fatalf("child %d did not run (as High) from its High proxy; recorded %v", i, prio[i])
		}
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	for i, p := range prio {
		if p != High {
			t.Errorf("child %d ran at %v; want high", i, p)
		}
	}
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
}

// The spawned-after-escalation child was handed to the pool at High.
func TestEscalatedScopeSpawnsHigh(t *testing.T) {
	f := &fakePool{}
	hctx, outer := highCtx(f)
	s, ctx := NewScope(hctx)
	s.beginWait(High) // what Wait does first on a High scope
	Go(ctx, Low, func(context.Context) error { return nil })
	if got := len(f.take(High)); got != 1 {
		t.Fatalf("after escalation a Low child went to the pool at another priority (High tasks: %d)", got)
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
}

// A waiter lifts only children below its priority: Wait on a scope opened
// by Low code leaves a Low child at Low and hands the pool no proxy.
func TestNoLiftForAWaiterAtTheChildsPriority(t *testing.T) {
	f := &fakePool{}
	s, _ := NewScope(context.Background(), withRunner(f), WithPriority(Low))
	var got Priority
	s.Go(Low, func(ctx context.Context) error { got = PriorityOf(ctx); return nil })
	if err := s.Wait(); err != nil { // runs the child inline
		t.Fatal(err)
	}
	if n := f.len(); got != Low || n != 1 {
		t.Fatalf("child ran at %v with %d pool tasks; want low and 1 (no proxy)", got, n)
	}
	f.runAll() // the pool's copy finds the child claimed and does nothing
}

// spin keeps the CPU busy for d (a task that takes time without blocking).
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// The same on a real bounded pool with one worker, where escalation
// decides the order: a High task T queues a Low backlog, then opens a scope,
// spawns Low children after the backlog and waits. Wait runs child 0 itself,
// which blocks (without telling the pool) until the other children are done,
// so the pool has to add a worker; that worker takes the highest lane
// first. With escalation that is the children's High proxies, so they run
// before the backlog; without it, the older backlog would run first.
//
// If the pool had started the children before Wait (as a pool that gives
// every task its own goroutine would), nothing was queued to escalate and
// the test skips.
func TestPriorityEscalationOnBoundedPool(t *testing.T) {
	p := newPool(t, 1)
	outer, octx := NewScope(context.Background(), WithPool(p))
	const backlog, children = 200, 4
	var backlogStarted atomic.Int64
	var seen [children]int64
	var prio [children]Priority
	var childrenStarted atomic.Int64
	var startedBeforeWait, backlogBeforeWait int64
	othersDone := make(chan struct{})
	var others atomic.Int64
	tDone := make(chan error, 1)
	Go(octx, High, func(ctx context.Context) error {
		for range backlog {
			if err := p.Go(ctx, Low, func(context.Context) { backlogStarted.Add(1); spin(20 * time.Microsecond) }); err != nil {
				return err
			}
		}
		s, _ := NewScope(ctx)
		for i := range children {
			s.Go(Low, func(ctx context.Context) error {
				childrenStarted.Add(1)
				seen[i] = backlogStarted.Load()
				prio[i] = PriorityOf(ctx)
				if i == 0 {
					select {
					case <-othersDone:
					case <-time.After(10 * time.Second):
						return errors.New("the other children did not run within 10s while child 0 blocked")
					}
					return nil
				}
				if others.Add(1) == children-1 {
					close(othersDone)
				}
				return nil
			})
		}
		startedBeforeWait = childrenStarted.Load()
		backlogBeforeWait = backlogStarted.Load()
		err := s.Wait()
		tDone <- err
		return err
	})
	if err := <-tDone; err != nil {
		t.Fatal(err)
	}
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
	if startedBeforeWait > 0 {
		t.Skipf("%d children started before Wait began: the pool did not queue them, so there is nothing to escalate", startedBeforeWait)
	}
	// The pool may have added a worker that started on the backlog before
	// Wait; only the backlog left at Wait can be overtaken.
	left := backlog - backlogBeforeWait
	if left < backlog/2 {
		t.Skipf("%d of %d backlog tasks had started before Wait: too little left to overtake", backlogBeforeWait, backlog)
	}
	for i := 1; i < children; i++ {
		if prio[i] != High {
			t.Errorf("child %d ran at %v; want high", i, prio[i])
		}
		if after := seen[i] - backlogBeforeWait; after >= left/2 {
			t.Errorf("child %d ran after %d of the %d older Low backlog tasks left at Wait had started; want it ahead of them", i, after, left)
		}
	}
}

// Wait's help runs the queued children most urgent first.
func TestHelpRunsHighFirst(t *testing.T) {
	f := &fakePool{} // never runs anything: Wait runs every child itself
	s, _ := NewScope(context.Background(), withRunner(f))
	var order []Priority
	for _, p := range []Priority{Low, Normal, High, Low, High} {
		s.Go(p, func(context.Context) error { order = append(order, p); return nil })
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	want := []Priority{High, High, Normal, Low, Low}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("help ran %v; want %v", order, want)
	}
}
