package echo

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"sync/atomic"

	"github.com/echo-scheduler/echo/pool"
)

// errStreamStopped is the cause with which a Stream cancels its scope when
// the consumer stops early (break, return or panic in the loop body).
var errStreamStopped = errors.New("echo: Stream consumer stopped")

// Stream applies fn to the elements of in, with at most a bounded number in
// flight, and yields the results in input order as they become ready.
// Breaking out of the loop cancels and joins the rest. Memory is bounded by
// the window, not by the input.
//
// Each range over the returned sequence opens a scope on ctx (nested in
// ctx's scope, if any) with opts, and runs fn(ctx, v) as a child of priority
// p for each element v; the consumer waits at p. The window is how many elements may be taken from in
// and not yet yielded, running or finished and waiting for an earlier one:
// [WithLimit] sets it, and it defaults to 2×GOMAXPROCS, enough to keep every
// CPU busy while as many finished results wait behind a slower one, and
// small enough that what it holds is negligible. Work that blocks (I/O)
// rather than computes wants a larger window. in is pulled lazily, on the
// consumer's goroutine, only when the window has room. The consumer's loop
// body runs on its own goroutine, never concurrently with itself.
//
// An error from fn (a panic, as a [*PanicError]) is yielded at its
// position. By default it ends the stream after it (fail-fast): once any
// element has failed, no more input is taken, the elements before the
// failed one are yielded as usual, and when the consumer has seen the error
// the rest are cancelled and joined. With [WithCollectAll] the stream goes on
// after an error. If the scope is cancelled from outside (ctx, or
// [WithTimeout]), elements that had started finish and are yielded as
// usual; the first element that was kept from starting, or the input not
// yet taken, is reported once, as an error that is the cancellation's
// cause, and ends the stream.
//
// When the loop ends early (break, return, or a panic in its body, which
// then goes on), the elements in flight are cancelled and joined before the
// range statement ends: nothing outlives the loop. A consumer on a pool
// worker runs the element it waits for itself if no worker has started it,
// so Streams nest in Map and in each other on a small pool.
//
// An fn that calls runtime.Goexit fails its element like an error (the
// goroutine still exits). Stream panics if ctx, in or fn is nil, if p is not High, Normal or Low,
// or if an Option is nil.
func Stream[T, R any](ctx context.Context, p Priority, in iter.Seq[T], fn func(ctx context.Context, v T) (R, error), opts ...Option) iter.Seq2[R, error] {
	checkCall("Stream", ctx, p, fn == nil)
	if in == nil {
		panic("echo: Stream called with a nil in")
	}
	var cfg config
	for _, o := range opts {
		if o == nil {
			panic("echo: Stream called with a nil Option")
		}
		o(&cfg)
	}
	window := cfg.limit
	if window == 0 {
		window = 2 * runtime.GOMAXPROCS(0)
	}
	// The scope gets the caller's options but neither a limit (the window
	// bounds the children) nor WithCollectAll: children report no errors
	// (each element's goes to its slot), so the only failures the scope
	// sees are children its pool refused, and those must cancel it so that
	// the consumer stops waiting for them.
	// The scope (and so the consumer's waits) runs at p, as Map's does.
	sopts := append(append([]Option{WithPriority(p)}, opts...), func(c *config) { c.limit, c.collectAll = 0, false })
	return func(yield func(R, error) bool) {
		st := &stream[T, R]{
			ctx:        ctx,
			prio:       p,
			fn:         fn,
			collectAll: cfg.collectAll,
			s:          newScope(ctx, "Stream", sopts),
			slots:      make([]slot[T, R], window),
		}
		for i := range st.slots {
			sl := &st.slots[i]
			sl.done = make(chan struct{}, 1)
			sl.owner.Store(-1)
			sl.run = func(ctx context.Context) error { st.runSlot(ctx, sl); return nil }
		}
		st.run(in, yield)
	}
}

// stream is the state of one range over a Stream.
//
// Element k lives in slots[k%len(slots)] from the moment it is taken from
// the input until it is yielded; k - next < len(slots) keeps the window.
// Only the consumer's goroutine touches next, pulled and the other
// unsynchronised fields; a slot's v is handed to whoever claims the element,
// and its r and err back to the consumer through done.
type stream[T, R any] struct {
	ctx        context.Context // the Stream caller's: pool.Block learns the worker from it
	prio       Priority
	fn         func(ctx context.Context, v T) (R, error)
	collectAll bool
	s          *Scope
	slots      []slot[T, R]
	failed     atomic.Bool // an element failed (read only without collectAll)
	next       int64       // the next element to yield
	pulled     int64       // elements taken from the input
	ended      bool        // the consumer stopped, or an error ended the stream
	inline     context.Context
}

type slot[T, R any] struct {
	// owner is k while element k may still be claimed, -1 once it has been
	// (or while the slot is free). Whoever moves it from k to -1 with a CAS
	// runs fn or decides the element never runs, exactly once: a child of
	// the slot, the consumer helping (on a pool worker), or the consumer
	// settling an element of a cancelled scope. The consumer stores
	// owner = k after it has written v, so a successful CAS observes v.
	//
	// The slot's children all run the slot's one function, run, which
	// claims whichever element the slot holds at the time. A child left
	// queued after the consumer claimed its element itself may so run a
	// later element of the slot, and that element's own child then finds
	// nothing to claim: each element still runs once, and at most one
	// child per element is ever spawned.
	owner atomic.Int64
	run   func(ctx context.Context) error
	v     T
	r     R
	err   error
	// done gets one token per element, sent by the claimant after it wrote
	// r and err (a send happens before the receive that completes): the
	// consumer receives it before it reads them or reuses the slot, so the
	// buffer of one never overflows.
	done chan struct{}
}

// run is the range loop over in, on the consumer's goroutine.
func (st *stream[T, R]) run(in iter.Seq[T], yield func(R, error) bool) {
	normal := false
	defer func() {
		if !normal { // the loop body or in panicked
			st.s.Cancel(errStreamStopped)
		}
		// Wait's result is in the slots already: children report no
		// errors, and a refused child cancels the scope, which the
		// consumer has seen.
		st.s.Wait()
	}()
	w := int64(len(st.slots))
	interrupted := false
	for v := range in {
		if st.s.ctx.Err() != nil {
			interrupted = true // ctx or WithTimeout: report the rest as not started
			break
		}
		st.spawn(v)
		// Yield what is ready, and wait for the head while the window is
		// full, so that the next element is taken only when it fits.
		for !st.ended && st.next < st.pulled && st.yieldNext(yield, st.pulled-st.next >= w) {
		}
		if st.ended || (!st.collectAll && st.failed.Load()) {
			break // the stream ends at or before an element already taken
		}
	}
	for !st.ended && st.next < st.pulled {
		st.yieldNext(yield, true)
	}
	if !st.ended && interrupted {
		var zero R
		yield(zero, context.Cause(st.s.ctx))
		st.ended = true
	}
	if st.ended {
		st.s.Cancel(errStreamStopped)
	}
	normal = true
}

// yieldNext yields the next element's result if it is ready, or once it is
// if wait, and reports whether it did. It ends the stream if the consumer
// stops, at an error (unless collectAll), and at an element that never ran.
func (st *stream[T, R]) yieldNext(yield func(R, error) bool, wait bool) bool {
	sl := &st.slots[st.next%int64(len(st.slots))]
	started := true
	if wait {
		started = st.await(sl)
	} else {
		select {
		case <-sl.done:
		default:
			return false
		}
	}
	r, err := sl.r, sl.err
	var zero R
	sl.r, sl.err = zero, nil // the slot keeps no result once it is yielded
	st.next++
	if !yield(r, err) || !started || (err != nil && !st.collectAll) {
		st.ended = true
	}
	return true
}

// spawn takes v as the next element into its slot and spawns a child to
// run it.
func (st *stream[T, R]) spawn(v T) {
	k := st.pulled
	sl := &st.slots[k%int64(len(st.slots))]
	sl.v = v
	sl.owner.Store(k)
	st.pulled++
	st.s.Go(st.prio, sl.run)
}

// runSlot is a slot's child function: it runs the element the slot holds,
// unless another claimant has taken it (see slot.owner).
func (st *stream[T, R]) runSlot(ctx context.Context, sl *slot[T, R]) {
	for {
		k := sl.owner.Load()
		if k < 0 {
			return
		}
		if sl.owner.CompareAndSwap(k, -1) {
			st.compute(ctx, sl)
			return
		}
	}
}

// compute runs fn on the element claimed in sl and hands its result to the
// consumer, also if fn calls runtime.Goexit (the element then failed).
func (st *stream[T, R]) compute(ctx context.Context, sl *slot[T, R]) {
	v := sl.v
	var zeroT T
	sl.v = zeroT // the slot holds no input once it runs
	var r R
	err := errGoexit // unless fn returns
	defer func() {
		if err != nil {
			var zero R
			r = zero
			st.failed.Store(true)
		}
		sl.r, sl.err = r, err
		sl.done <- struct{}{}
	}()
	err = protect(ctx, func(ctx context.Context) (err error) {
		r, err = st.fn(ctx, v)
		return err
	}, nil)
}

// await waits until the result of element next, in sl, is there, and
// reports whether the element ran. If the scope was cancelled before the
// element started, it settles it as not started: err is the cause.
func (st *stream[T, R]) await(sl *slot[T, R]) (started bool) {
	k := st.next
	select {
	case <-sl.done:
		return true
	default:
	}
	if st.s.helps && sl.owner.CompareAndSwap(k, -1) {
		// On a pool worker, and no worker has started the element: run
		// it here (help-while-waiting), as Scope.Wait runs queued
		// children, so nested Streams progress on a pool that cannot
		// grow.
		st.compute(st.inlineCtx(), sl)
		<-sl.done
		return true
	}
	got := false
	pool.Block(st.ctx, func() {
		select {
		case <-sl.done:
			got = true
		case <-st.s.ctx.Done():
		}
	})
	if got {
		return true
	}
	// The scope was cancelled from outside (the consumer has not ended
	// it), or its pool refused a child. An element nobody has claimed will
	// not run: settle it. A claimed one runs with its ctx cancelled, or has
	// finished: wait for its result.
	if sl.owner.CompareAndSwap(k, -1) {
		var zeroT T
		var zero R
		sl.v, sl.r, sl.err = zeroT, zero, context.Cause(st.s.ctx)
		return false
	}
	pool.Block(st.ctx, func() { <-sl.done })
	return true
}

// inlineCtx is the ctx for elements the consumer runs itself: the scope's,
// tagged as a child of priority p, as a child's ctx would be.
func (st *stream[T, R]) inlineCtx() context.Context {
	if st.inline == nil {
		st.inline = &taggedCtx{Context: st.s.ctx, m: member{s: st.s, prio: st.prio}}
	}
	return st.inline
}
