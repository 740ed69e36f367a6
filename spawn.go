package echo

import (
	"context"
	"errors"
	"fmt"

	"github.com/echo-scheduler/echo/pool"
)

// Go spawns fn as a child of the scope at priority p. fn gets a context that
// derives from the scope's and carries the child's priority, so [Go] and
// [Nursery] calls made with it spawn into this scope or nest under it.
//
// With [WithLimit], Go waits until fewer than the limit of children are
// active; on a pool worker it blocks through [pool.Block], so the worker
// lends its pool a spare. While it waits, the scope's queued children below
// the spawner's priority ([PriorityOf] its ctx) run at that priority (see
// [Scope.Wait]). Go does not run children itself while it waits:
// its caller goes on after Go returns, and a child could be waiting for
// that (a consumer the caller feeds next). Only when the pool cannot lend a
// worker (every worker busy, at WithMaxWorkers) does Go, on one of the
// scope's workers, run queued children of the scope itself, most urgent
// first, as Wait does; a child run that way that calls runtime.Goexit ends
// the goroutine calling Go. A child that calls Go on its own full scope
// waits while holding its own slot: if every slot holder does that, they
// wait until the scope is cancelled (errgroup behaves the same).
//
// fn is not started if the scope is cancelled (before or while Go waits),
// nor if the spawner's own ctx (the ctx given to [Go]) ends while Go waits
// for a slot or for room in the pool's queue: such a child is not a
// failure of the scope, Go just returns.
//
// Who may spawn during Wait: any goroutine, child or not, until Wait's
// join ends, which happens when every accepted child is done. A child
// spawns while it is itself pending, so its spawns are always joined. A
// goroutine that is not a child (a server's accept loop, the goroutine that
// opened the scope) races the end of the join: its Go either is accepted
// before the join ends, and then Wait runs the child before it returns, or
// panics as a Go after Wait does; it is never silently dropped. Stop such
// spawners before calling Wait to avoid the panic.
//
// Go panics if fn is nil, if p is not High, Normal or Low, or if Wait's
// join has ended (Wait has returned). Inside a child prefer the package
// function [Go] with the child's ctx: the pool then knows which worker
// spawns (the method uses the scope's own context for that).
func (s *Scope) Go(p Priority, fn func(ctx context.Context) error) {
	s.check("Scope.Go", p, fn == nil)
	s.spawn(s.ctx, p, fn, true, nil, "Scope.Go")
}

// TryGo is like [Scope.Go] but never waits: it reports whether fn was
// accepted. It returns false when a [WithLimit] limit is full, when the pool's
// queue is full, when the pool is stopped and when the scope is cancelled.
// It panics as Go does, also after Wait's join has ended.
func (s *Scope) TryGo(p Priority, fn func(ctx context.Context) error) bool {
	s.check("Scope.TryGo", p, fn == nil)
	return s.spawn(s.ctx, p, fn, false, nil, "Scope.TryGo") != nil
}

// check panics at the call site on misuse.
func (s *Scope) check(fname string, p Priority, nilFn bool) {
	s.made(fname)
	if nilFn {
		panic("echo: " + fname + " called with a nil fn")
	}
	if !p.Valid() {
		panic(fmt.Sprintf("echo: %s called with unknown priority %v; use echo.High, echo.Normal or echo.Low", fname, p))
	}
	if s.closed.Load() {
		panic("echo: " + fname + " called after Wait returned; a Scope is single-use")
	}
}

// spawn accepts fn as a child spawned with ctx (a descendant of the scope's
// ctx, whose end also ends Go's waits) and hands it to the pool. wait says
// whether a full limit or queue may be waited for (Go) or refuses (TryGo).
// It returns the child if fn was accepted, else nil. fname names the
// caller in the panic for a spawn that comes after the join has ended.
func (s *Scope) spawn(ctx context.Context, p Priority, fn func(ctx context.Context) error, wait bool, abort func(error) bool, fname string) *child {
	if s.sem != nil && !s.acquire(ctx, wait) {
		s.refuseAfterJoin(fname)
		if wait {
			// The scope was cancelled, or the spawner's ctx ended, while
			// Go waited for a slot.
			s.gaveUp(ctx, abort)
		}
		return nil
	}
	if !s.admit() {
		s.release()
		s.refuseAfterJoin(fname)
	}
	if s.ctx.Err() != nil {
		if wait {
			s.skip(abort)
		}
		s.childDone() // frees the slot and the count admit took
		return nil
	}
	// While someone waits on the scope, children below the waiter's
	// priority go to the pool at it (enqueue catches a waiter that arrives
	// from here on).
	p = liftOf(p, s.lift.Load())
	c := &child{Context: ctx, m: member{s: s, prio: p}, prio: p, fn: fn, abort: abort}
	var err error
	if wait {
		err = s.run.Go(c, p, runChild)
	} else {
		err = s.run.TryGo(c, p, runChild)
	}
	if err != nil {
		// The pool did not accept the task. Nobody else has c yet, except
		// that it is not in the help queue either: claim it to be sure.
		c.state.Store(childClaimed)
		switch {
		case !wait:
			// TryGo: the caller is told by the false result.
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			// The pool gave up waiting for room because the scope was
			// cancelled or the spawner's ctx ended.
			s.gaveUp(ctx, abort)
		case abort == nil || !abort(&notStartedError{err: err}):
			s.report(&notStartedError{scope: s.named(), err: err}, false)
		}
		s.childDone()
		return nil
	}
	if !s.cfg.blocking {
		// A WithBlocking child has a goroutine of its own from now on: no
		// waiter needs to find it (its goroutine skips it if the scope is
		// cancelled) and no priority orders it, so it is not listed for
		// help or escalation (which spared BenchmarkColdSleepFanout's
		// scope-blocking a lock and the list's growth per child).
		s.enqueue(c)
	}
	if s.track != nil { // the live tree (tree.go)
		s.track.accepted.Add(1)
	}
	return c
}

// refuseAfterJoin panics if Wait's join has ended: from then on the scope
// takes no more children from anyone, and a spawn that lost the race with
// the end of the join panics as one after Wait does (see Scope.Go), rather
// than being dropped silently.
func (s *Scope) refuseAfterJoin(fname string) {
	if s.pending.Load()&joined != 0 {
		panic("echo: " + fname + " called after Wait returned; a Scope is single-use")
	}
}

// gaveUp records a child that Go (or Start) stopped waiting to hand over:
// if the scope was cancelled, it is a skipped child (see skip); otherwise
// the spawner's own ctx ended, and the child is not started without that
// being a failure of the scope (abort, if set, is told why).
func (s *Scope) gaveUp(ctx context.Context, abort func(error) bool) {
	if s.ctx.Err() != nil {
		s.skip(abort)
		return
	}
	s.notStarted.Add(1)
	if abort != nil {
		abort(context.Cause(ctx))
	}
}

// acquire takes a WithLimit slot. With wait, while the limit is full the
// spawner waits on the scope: its queued children (which hold the slots)
// are lifted to the spawner's priority (see escalate.go), and it blocks
// (through pool.Block, so a waiting worker lends its pool a spare) until a
// slot is free, the scope is cancelled or ctx ends; it reports whether it
// got a slot.
//
// The help rule: the caller of Go runs on after Go returns, so a queued
// child it ran inline could be waiting for what the caller does next (a
// consumer it feeds): running it would deadlock where errgroup does not.
// So a waiting spawner never runs children while its pool can lend a
// worker (a parked or searching one, or an extra within WithMaxWorkers):
// the children holding the slots then run on the pool, as on errgroup's
// goroutines. Only on a pool that cannot lend one (every worker busy, at
// WithMaxWorkers), where nothing else could run them, does a spawner on
// one of the scope's workers run queued children itself, most urgent
// first, as Wait does.
func (s *Scope) acquire(ctx context.Context, wait bool) bool {
	select {
	case s.sem <- struct{}{}:
		return true
	default:
	}
	if !wait {
		return false
	}
	w := PriorityOf(ctx)
	s.beginWait(w)
	defer s.endWait(w)
	for s.helps {
		select {
		case s.sem <- struct{}{}:
			return true
		default:
		}
		if ctx.Err() != nil || s.run.CanLend() || !s.helpOne() {
			break
		}
	}
	got := false
	pool.Block(ctx, func() {
		select {
		case s.sem <- struct{}{}:
			got = true
		case <-s.ctx.Done():
		case <-ctx.Done():
		}
	})
	return got
}

func (s *Scope) release() {
	if s.sem != nil {
		<-s.sem
	}
}

// skip records a child that will not run because the scope is cancelled.
func (s *Scope) skip(abort func(error) bool) {
	s.notStarted.Add(1)
	if abort == nil || !abort(context.Cause(s.ctx)) {
		s.cutShort.Store(true)
	}
}

// enqueue lists c for help-while-waiting and wakes a blocked waiter so that
// it can run c itself.
func (s *Scope) enqueue(c *child) {
	s.mu.Lock()
	if len(s.queue) >= s.compactAt {
		// Drop children that have been claimed, so the list stays about
		// as long as the number actually queued (amortised O(1) per child).
		q := s.queue[:0]
		for _, x := range s.queue {
			if x.state.Load() == childQueued {
				q = append(q, x)
			}
		}
		clear(s.queue[len(q):])
		s.queue = q
		s.compactAt = max(64, 2*len(q))
	}
	s.queue = append(s.queue, c)
	if s.helps && s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
	// A waiter that arrived after spawn read lift did not see c in the
	// queue (beginWait scans it under mu): lift c here. Either this check
	// or that scan sees the other, since both run under mu.
	l := s.lift.Load()
	lifted := l > 0 && urgency(c.prio) < l-1 && c.up.Load() < l
	if lifted {
		c.up.Store(l)
	}
	s.mu.Unlock()
	if lifted && !s.proxy(c, byUrgency[l-1]) {
		s.owe([]*child{c})
	} else if s.owed.Load() != nil {
		s.repay()
	}
}

// Go spawns fn at priority p as a child of the innermost scope that ctx
// carries (ctx is a [Nursery] body's, a [NewScope]'s or a child's context).
// fn's context derives from ctx, so it sees ctx's values and cancellation,
// and carries p. Everything else is as for [Scope.Go]: with [WithLimit] Go may
// wait; fn is not started if the scope is cancelled.
//
// Go panics at the call site if ctx is nil, carries no scope, fn is nil, p
// is not High, Normal or Low, or the scope's Wait has returned.
func Go(ctx context.Context, p Priority, fn func(ctx context.Context) error) {
	s := scopeFor(ctx, "Go", p, fn == nil)
	s.spawn(ctx, p, fn, true, nil, "Go")
}

// TryGo is [Go] without waiting; it reports whether fn was accepted, as
// [Scope.TryGo] does.
func TryGo(ctx context.Context, p Priority, fn func(ctx context.Context) error) bool {
	s := scopeFor(ctx, "TryGo", p, fn == nil)
	return s.spawn(ctx, p, fn, false, nil, "TryGo") != nil
}

// scopeFor returns the innermost scope in ctx, panicking with fname on misuse.
func scopeFor(ctx context.Context, fname string, p Priority, nilFn bool) *Scope {
	if ctx == nil {
		panic("echo: " + fname + " called with a nil ctx")
	}
	m := memberOf(ctx)
	if m == nil {
		panic("echo: " + fname + " called with a context that carries no scope; open one with echo.Nursery or echo.NewScope")
	}
	m.s.check(fname, p, nilFn)
	return m.s
}
