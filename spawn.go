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
// active. While it waits, on a scope opened on one of its pool's workers
// (see Wait), it runs the scope's queued children itself (they hold slots);
// otherwise it blocks through [pool.Block], so a caller on a pool worker
// lends the pool a spare worker. If the scope is cancelled
// meanwhile, fn is not started. (A child run that way that calls
// runtime.Goexit ends the goroutine calling Go, as with Wait.)
// fn is not started either if the scope is already cancelled. A child that
// calls Go on its own full scope waits while holding its own slot: if every
// slot holder does that, they wait until the scope is cancelled (errgroup
// behaves the same).
//
// Go may be called from any goroutine, including from children while
// another goroutine is in Wait. It panics if fn is nil, if p is not High,
// Normal or Low, or if Wait has returned. Inside a child prefer the package
// function [Go] with the child's ctx: the pool then knows which worker
// spawns (the method uses the scope's own context for that).
func (s *Scope) Go(p Priority, fn func(ctx context.Context) error) {
	s.check("Scope.Go", p, fn == nil)
	s.spawn(s.ctx, p, fn, true, nil)
}

// TryGo is like [Scope.Go] but never waits: it reports whether fn was
// accepted. It returns false when a [WithLimit] limit is full, when the pool's
// queue is full, when the pool is stopped and when the scope is cancelled.
func (s *Scope) TryGo(p Priority, fn func(ctx context.Context) error) bool {
	s.check("Scope.TryGo", p, fn == nil)
	return s.spawn(s.ctx, p, fn, false, nil)
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
// ctx) and hands it to the pool. wait says whether a full limit or queue may
// be waited for (Go) or refuses (TryGo). It reports whether fn was accepted.
func (s *Scope) spawn(ctx context.Context, p Priority, fn func(ctx context.Context) error, wait bool, abort func(error) bool) bool {
	if s.sem != nil && !s.acquire(ctx, wait) {
		if wait {
			// The scope was cancelled while Go waited for a slot.
			s.skip(abort)
		}
		return false
	}
	if s.ctx.Err() != nil {
		s.release()
		if wait {
			s.skip(abort)
		}
		return false
	}
	if s.escalated.Load() {
		// Wait has begun on a High scope: later children are High.
		p = High
	}
	c := &child{Context: ctx, m: member{s: s, prio: p}, prio: p, fn: fn, abort: abort}
	s.pending.Add(1) // before the pool can run c, so Wait cannot miss it
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
		case s.ctx.Err() != nil && errors.Is(err, s.ctx.Err()):
			// The pool gave up waiting because the scope was cancelled.
			s.skip(abort)
		case abort == nil || !abort(&notStartedError{err: err}):
			s.report(&notStartedError{scope: s.named(), err: err}, false)
		}
		s.childDone()
		return false
	}
	s.enqueue(c)
	return true
}

// acquire takes a WithLimit slot. With wait, while the limit is full it
// runs the scope's queued children itself (each holds a slot, which it
// frees), so a spawner on a busy pool does not need a spare worker; when
// none is queued it blocks (through pool.Block, so a waiting worker lends
// a spare) until a slot is free or the scope is cancelled. It reports
// whether it got a slot.
func (s *Scope) acquire(ctx context.Context, wait bool) bool {
	for {
		select {
		case s.sem <- struct{}{}:
			return true
		default:
		}
		if !wait || !s.helps || s.ctx.Err() != nil || !s.helpOne() {
			break
		}
	}
	if !wait {
		return false
	}
	got := false
	pool.Block(ctx, func() {
		select {
		case s.sem <- struct{}{}:
			got = true
		case <-s.ctx.Done():
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
	s.mu.Unlock()
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
	s.spawn(ctx, p, fn, true, nil)
}

// TryGo is [Go] without waiting; it reports whether fn was accepted, as
// [Scope.TryGo] does.
func TryGo(ctx context.Context, p Priority, fn func(ctx context.Context) error) bool {
	s := scopeFor(ctx, "TryGo", p, fn == nil)
	return s.spawn(ctx, p, fn, false, nil)
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
