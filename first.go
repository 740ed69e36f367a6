package echo

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// errWon is the cause with which First and Hedge cancel the losers once a
// function has returned a result.
var errWon = errors.New("echo: another function returned first")

// errGoexit stands for the result of a function given to Map, First, Hedge
// or Stream that called runtime.Goexit instead of returning (for example
// through testing.T.FailNow): it has no result, so it counts as failed.
var errGoexit = errors.New("echo: the function called runtime.Goexit instead of returning")

// First runs fns concurrently and returns the first successful result; the
// others are cancelled and joined before First returns. If all fail, every
// error.
//
// Each function runs as a child of priority p in a scope opened on ctx
// (nested in ctx's scope, if any), and First waits at p. The winner, the first function to return
// a nil error, is never cancelled while it runs: the others' contexts are
// cancelled as soon as it has returned, and First returns once every one of
// them has returned too, so nothing outlives the call. Their results are
// dropped. When First returns, the winner's ctx is cancelled as well, so
// a result that still needs its ctx, such as an *http.Response whose Body
// is read after First returns, is broken by then: consume it inside fn (read
// and close the body there and return the bytes), as the Example shows.
// Losers must likewise release what they hold before returning.
//
// If no function succeeds, First returns the zero T and every function's
// error, in the order of fns, combined with multierr (multierr.Errors lists
// them; errors.Is and errors.As see each). If ctx is cancelled before every
// function has returned an error, the functions that had not started add
// ctx's cause. A panic in any function is a bug, not an attempt that
// failed: it cancels the others, and First returns the zero T and the
// [*PanicError], even if another function succeeded.
//
// A caller on a pool worker runs queued functions itself while it waits,
// as [Scope.Wait] does, so First nests in children, [Map] and [Stream] on a
// small pool. On a pool that cannot add a worker while that one runs a slow
// function, the others wait for a worker: First then answers when that
// function returns, so a function that only ends when it is cancelled needs
// a pool that can grow (the default). See [Hedge] to start the functions one after
// another instead of all at once. First panics if ctx or a function is nil,
// if fns is empty, or if p is not High, Normal or Low.
func First[T any](ctx context.Context, p Priority, fns ...func(ctx context.Context) (T, error)) (T, error) {
	return first(ctx, "First", p, 0, fns)
}

// Hedge is [First] for hedged requests: it starts fns[0] at once, and each
// next function only when the previous one has not answered within d, or
// as soon as every function started so far has failed. Once one succeeds,
// no more are started, the others are cancelled and joined, and Hedge
// returns its result. Everything else, including that a result needing its
// ctx must be consumed inside fn, is as for First.
//
// Use it to ask a second replica only when the first is slow, typically with
// d near the 95th percentile of the replica's latency: the extra load is then
// about 5%, where First would double it. Hedge panics as First does, and
// if d is negative; Hedge with d = 0 is First.
func Hedge[T any](ctx context.Context, p Priority, d time.Duration, fns ...func(ctx context.Context) (T, error)) (T, error) {
	if d < 0 {
		panic(fmt.Sprintf("echo: Hedge called with d = %v; need d >= 0", d))
	}
	return first(ctx, "Hedge", p, d, fns)
}

// race is one First or Hedge call's shared state.
type race[T any] struct {
	s      *Scope
	won    atomic.Bool
	v      T             // the winner's result; written once, by the winner, before Wait returns
	errs   []error       // errs[i] is written by function i's child only, read after Wait
	failed chan struct{} // one token per failed function (buffered len(fns)), for Hedge
}

func first[T any](ctx context.Context, fname string, p Priority, d time.Duration, fns []func(ctx context.Context) (T, error)) (T, error) {
	checkCall(fname, ctx, p, false)
	if len(fns) == 0 {
		panic("echo: " + fname + " called with no functions")
	}
	for i, fn := range fns {
		if fn == nil {
			panic(fmt.Sprintf("echo: %s called with a nil function (fns[%d])", fname, i))
		}
	}
	// The scope, and so First's own wait, runs at p: a waiter above p would
	// lift the functions to its priority (see Scope.Wait), and p is the
	// caller's word for how urgent this race is.
	r := &race[T]{s: newScope(ctx, fname, []Option{WithPriority(p)}), errs: make([]error, len(fns))}
	started := len(fns)
	if d == 0 {
		for i := range fns {
			r.s.Go(p, r.attempt(fns[i], i))
		}
	} else {
		r.failed = make(chan struct{}, len(fns))
		started = r.hedge(ctx, p, d, fns)
	}
	err := r.s.Wait()
	var zero T
	if err != nil && !errors.Is(err, errWon) { // a *SkippedError for losers never started matches errWon too
		// A panic (or a child the pool refused, or ctx's cause for the
		// children that it kept from starting).
		if r.won.Load() {
			return zero, err
		}
		return zero, multierr.Combine(append(r.errs, err)...)
	}
	if r.won.Load() {
		return r.v, nil
	}
	if started < len(fns) {
		// ctx was cancelled while Hedge waited to start the rest.
		return zero, multierr.Combine(append(r.errs, context.Cause(ctx))...)
	}
	return zero, multierr.Combine(r.errs...)
}

// attempt is the child that runs fn, function i. It returns nil whatever fn
// returns: a failed attempt must not cancel the others (errors are kept in
// errs), and the winner's return cancels them with errWon, which the scope
// does not report. A panic goes to the scope and cancels everyone.
func (r *race[T]) attempt(fn func(ctx context.Context) (T, error), i int) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		returned := false
		defer func() {
			if !returned { // runtime.Goexit: the attempt failed, say so
				r.fail(i, errGoexit)
			}
		}()
		v, err := fn(ctx)
		returned = true
		if err != nil {
			r.fail(i, err)
			return nil
		}
		if r.won.CompareAndSwap(false, true) {
			r.v = v
			r.s.Cancel(errWon)
		}
		return nil
	}
}

// fail records that function i failed with err.
func (r *race[T]) fail(i int, err error) {
	r.errs[i] = err
	if r.failed != nil {
		r.failed <- struct{}{} // never blocks: one token per function
	}
}

// hedge starts fns one after another (see Hedge) on the calling goroutine,
// and returns how many it started: fewer than len(fns) once one has won or
// the scope was cancelled.
func (r *race[T]) hedge(ctx context.Context, p Priority, d time.Duration, fns []func(ctx context.Context) (T, error)) int {
	r.s.Go(p, r.attempt(fns[0], 0))
	t := time.NewTimer(d)
	defer t.Stop()
	failures := 0
	for i := 1; i < len(fns); i++ {
		// Wait for d to pass since fns[i-1] started, or for every started
		// function to have failed; stop at a winner or a cancelled scope.
		// On a pool worker, through pool.Block: the running attempts may
		// need the worker this goroutine holds.
		next := false
		pool.Block(ctx, func() {
			for !next {
				select {
				case <-t.C:
					next = true
				case <-r.failed:
					failures++
					next = failures == i
				case <-r.s.ctx.Done():
					return
				}
			}
		})
		if !next {
			return i
		}
		r.s.Go(p, r.attempt(fns[i], i))
		t.Reset(d)
	}
	return len(fns)
}
