package echo

import (
	"context"
	"fmt"
	"sync"

	"github.com/echo-scheduler/echo/pool"
)

// Start spawns fn at priority p as a child of the innermost scope that ctx
// carries, and waits until fn calls ready(v); it then returns v and nil,
// while fn goes on running as an ordinary child of the scope (Trio's
// nursery.start). Use it for children that must finish setting up before
// the caller goes on, such as a server that must be listening.
//
// fn's context carries ctx's values, and the scope's deadline and
// cancellation exactly as a [Go] child's does; until ready is called, the
// end of ctx cancels it too. When fn returns, its context is cancelled
// (so a Start child holds nothing once it is done); children it spawned
// with that context see that, as with any context a spawner cancels.
//
// Until ready is called, fn belongs to the Start call:
//
//   - if fn returns an error (or panics) first, Start returns that error
//     (a panic as [*PanicError]) and the scope never sees it;
//   - if fn returns nil first, Start returns an error wrapping [ErrNotReady];
//   - if ctx ends first, fn's context is cancelled, Start returns
//     ctx.Err(), and whatever fn returns later is dropped;
//   - if the scope is cancelled before fn starts, fn is not started and
//     Start returns the scope's cancellation cause.
//
// While Start waits to hand fn over (for a [WithLimit] slot or for room in
// a pool's queue, as [Go] does), the end of ctx ends the wait: fn is not
// started, Start returns ctx.Err(), and that is not a failure of the scope.
//
// After ready, fn's error, like any child's, goes to the scope. Calling
// ready twice panics in fn, which the scope then reports as a *PanicError.
//
// Start blocks the caller; on a pool worker it blocks through [pool.Block].
// If its pool cannot lend a worker (every worker busy, at WithMaxWorkers),
// a Start on one of its workers runs fn itself if no worker has taken it,
// as Wait runs queued children, so Starts from every worker of such a pool
// make progress; Start then returns when fn returns (and if fn calls
// runtime.Goexit, the goroutine calling Start ends, as with [Scope.Go]).
// While Start waits, the scope's queued children below the caller's
// priority ([PriorityOf] ctx), fn among them, run at that priority (see
// [Scope.Wait]). Start panics like [Go] on misuse, also when it races the end of Wait's
// join (see [Scope.Go]).
func Start[T any](ctx context.Context, p Priority, fn func(ctx context.Context, ready func(T)) error) (T, error) {
	s := scopeFor(ctx, "Start", p, fn == nil)
	st := &starter[T]{ch: make(chan startResult[T], 1)}
	// The child's ctx takes cancellation and deadline from the scope's
	// ctx, values from ctx; cancel adds the end of ctx until ready, and
	// releases the child's registration in the scope's ctx when it returns.
	cctx, cancel := context.WithCancelCause(startCtx{Context: s.ctx, values: ctx})
	stop := context.AfterFunc(ctx, func() {
		// A cancelled scope reaches cctx by itself, and its rule (fn not
		// started, Start returns the scope's cause) wins over ctx's: ctx
		// usually derives from the scope's ctx and ends with it.
		if s.ctx.Err() == nil && st.abandon() {
			cancel(context.Cause(ctx))
		}
	})
	defer stop()
	child := func(cctx context.Context) error {
		defer cancel(context.Canceled)
		returned := false
		defer func() {
			if !returned { // runtime.Goexit
				st.finish(fmt.Errorf("%w (it called runtime.Goexit)", ErrNotReady))
			}
		}()
		err := protect(cctx, func(ctx context.Context) error { return fn(ctx, st.ready) }, func(pe error) {
			// A panic during Goexit: Start's, or else the scope's.
			if !st.finish(pe) {
				s.report(pe, false)
			}
		})
		returned = true
		if st.finish(err) {
			return nil // before ready: the error was Start's
		}
		return err
	}
	// The caller waits on the scope from here: the scope's queued children
	// below its priority, the Start child among them, run at its priority.
	w := PriorityOf(ctx)
	s.beginWait(w)
	defer s.endWait(w)
	c := s.spawn(cctx, p, child, true, st.finish, "Start")
	if c == nil {
		cancel(context.Canceled) // never runs: release cctx now
	} else if s.run.OnWorker(ctx) && !s.run.CanLend() && c.state.CompareAndSwap(childQueued, childClaimed) {
		// No worker can come for c: run it here, as Wait would (see the
		// help rule in acquire). Its outcome is in st.ch when it returns.
		s.execute(c, c)
	}

	var res startResult[T]
	pool.Block(ctx, func() {
		select {
		case res = <-st.ch:
		case <-ctx.Done():
			if s.ctx.Err() != nil && c != nil && c.state.CompareAndSwap(childQueued, childClaimed) {
				// The scope is cancelled and fn is still queued: settle
				// it as not started here (execute runs no user code for
				// a cancelled scope), which hands Start the scope's
				// cause, instead of waiting for a worker to reach it.
				s.execute(c, c)
			}
			if st.abandon() {
				cancel(context.Cause(ctx))
				res.err = ctx.Err()
			} else {
				res = <-st.ch // ready or finish sent under st.mu
			}
		}
	})
	return res.v, res.err
}

// startCtx is the parent of a Start child's context: the scope's ctx for
// Done, Err and Deadline, the Start caller's ctx for values. The caller's
// ctx derives from the scope's, so context.WithCancelCause on a startCtx
// normally finds the scope's own cancelCtx through Value and registers
// with it directly; otherwise AfterFunc below keeps it from starting a
// goroutine.
type startCtx struct {
	context.Context
	values context.Context
}

func (c startCtx) Value(key any) any { return c.values.Value(key) }

// AfterFunc makes context.WithCancelCause register with the scope's ctx
// instead of watching it from a goroutine.
func (c startCtx) AfterFunc(f func()) func() bool { return context.AfterFunc(c.Context, f) }

type startResult[T any] struct {
	v   T
	err error
}

// starter hands a Start child's first outcome (ready or an early return)
// to the Start caller, exactly once.
type starter[T any] struct {
	ch        chan startResult[T] // buffered 1; sent to at most once, under mu
	mu        sync.Mutex
	readied   bool // ready was called (before any abandon)
	finished  bool // fn's outcome before ready was sent
	abandoned bool // the Start caller gave up (its ctx was cancelled)
}

func (st *starter[T]) ready(v T) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.readied {
		panic("echo: ready called more than once by a Start child")
	}
	if st.abandoned || st.finished {
		return
	}
	st.readied = true
	st.ch <- startResult[T]{v: v}
}

// finish hands err (nil meaning "returned without ready") to the Start
// caller unless ready was called first; it reports whether it took err.
func (st *starter[T]) finish(err error) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.readied {
		return false
	}
	if st.finished {
		return true
	}
	st.finished = true
	if !st.abandoned {
		if err == nil {
			err = ErrNotReady
		}
		st.ch <- startResult[T]{err: err}
	}
	return true
}

// abandon marks the Start caller gone, unless an outcome was already sent;
// it reports whether the caller is gone (again true on later calls).
func (st *starter[T]) abandon() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.abandoned {
		return true
	}
	if st.readied || st.finished {
		return false
	}
	st.abandoned = true
	return true
}
