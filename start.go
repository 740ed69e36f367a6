package echo

import (
	"context"
	"fmt"
	"sync"

	"github.com/echo-scheduler/echo/pool"
)

// forward is the link that cancels a Start child's context (which does not
// derive from the scope's, see Start) when the scope's context is cancelled.
type forward struct {
	stop   func() bool
	cancel context.CancelCauseFunc
}

// forwardTo cancels cancel's context whenever the scope's context is
// cancelled, until Wait returns; Wait then cancels it itself and waits for
// any forwarding goroutine, so none outlives the scope.
func (s *Scope) forwardTo(cancel context.CancelCauseFunc) {
	s.fwd.Add(1)
	stop := context.AfterFunc(s.ctx, func() {
		defer s.fwd.Done()
		cancel(context.Cause(s.ctx))
	})
	s.mu.Lock()
	s.forwards = append(s.forwards, forward{stop, cancel})
	s.mu.Unlock()
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
