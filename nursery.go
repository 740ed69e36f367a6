package echo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/echo-scheduler/echo/pool"
)

// ErrNotReady is wrapped by the error [Start] returns when its child
// returned nil (or called runtime.Goexit) without calling ready.
var ErrNotReady = errors.New("echo: Start child returned without calling ready")

// errBodyGoexit is the cause with which Nursery cancels its children when
// the body calls runtime.Goexit (for example through testing.T.FailNow).
var errBodyGoexit = errors.New("echo: Nursery body called runtime.Goexit")

// Nursery opens a scope bound to ctx (see [NewScope] for nesting and
// options), runs body on the calling goroutine with the scope's context,
// then waits for every child as [Scope.Wait] does and returns its result.
//
// The body is a member of the scope: its error counts like a child's and,
// even with [WithCollectAll], cancels the children; its panic is returned as
// a [*PanicError] once the children are done. If the body calls
// runtime.Goexit, Nursery still cancels and waits for the children before
// the goroutine exits, so none outlives the scope.
//
// Nursery panics if ctx or body is nil.
func Nursery(ctx context.Context, body func(ctx context.Context) error, opts ...Option) error {
	if ctx == nil {
		panic("echo: Nursery called with a nil ctx")
	}
	if body == nil {
		panic("echo: Nursery called with a nil body")
	}
	s := newScope(ctx, "Nursery", opts)
	returned := false
	defer func() {
		if !returned { // runtime.Goexit in body (panics are recovered by call)
			s.Cancel(errBodyGoexit)
			s.Wait()
		}
	}()
	if err := s.call(s.ctx, s.creator, body); err != nil {
		s.report(err, true)
	}
	returned = true
	return s.Wait()
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

// Start spawns fn at priority p as a child of the innermost scope that ctx
// carries, and waits until fn calls ready(v); it then returns v and nil,
// while fn goes on running as an ordinary child of the scope (Trio's
// nursery.start). Use it for children that must finish setting up before
// the caller goes on, such as a server that must be listening.
//
// Until ready is called, fn belongs to the Start call:
//
//   - if fn returns an error (or panics) first, Start returns that error
//     (a panic as [*PanicError]) and the scope never sees it;
//   - if fn returns nil first, Start returns an error wrapping [ErrNotReady];
//   - if ctx is cancelled first, fn's context is cancelled, Start returns
//     ctx.Err(), and whatever fn returns later is dropped;
//   - if the scope is cancelled before fn starts, fn is not started and
//     Start returns the scope's cancellation cause.
//
// After ready, fn's context is no longer tied to ctx (only to the scope),
// and its error, like any child's, goes to the scope. Calling ready twice
// panics in fn, which the scope then reports as a *PanicError.
//
// Start blocks the caller; on a pool worker it blocks through [pool.Block].
// Start panics like [Go] on misuse.
func Start[T any](ctx context.Context, p Priority, fn func(ctx context.Context, ready func(T)) error) (T, error) {
	s := scopeFor(ctx, "Start", p, fn == nil)
	st := &starter[T]{ch: make(chan startResult[T], 1)}
	// The child keeps ctx's values but not its cancellation, which must
	// stop applying once the child is ready; the scope's cancellation is
	// forwarded to it (and to what it spawns) until Wait returns.
	cctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	s.forwardTo(cancel)
	child := func(cctx context.Context) error {
		returned := false
		defer func() {
			if !returned { // runtime.Goexit
				st.finish(fmt.Errorf("%w (it called runtime.Goexit)", ErrNotReady))
			}
		}()
		err := protect(cctx, func(ctx context.Context) error { return fn(ctx, st.ready) })
		returned = true
		if st.finish(err) {
			return nil // before ready: the error was Start's
		}
		return err
	}
	s.spawn(cctx, p, child, true, st.finish)

	var res startResult[T]
	pool.Block(ctx, func() {
		select {
		case res = <-st.ch:
		case <-ctx.Done():
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

// abandon marks the Start caller gone, unless an outcome was already sent.
func (st *starter[T]) abandon() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.readied || st.finished {
		return false
	}
	st.abandoned = true
	return true
}
