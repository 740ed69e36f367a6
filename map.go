package echo

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Map calls fn for every element of in, concurrently within the scope's
// options, and returns the results in input order, or the first failure
// (fail-fast).
//
// Map opens a scope on ctx (nested in ctx's scope, if any, as [NewScope]
// does) with opts, spawns one child of priority p per element, and waits
// for them all at p (as if opened [WithPriority](p), so a caller of higher
// priority does not lift them), so it has every property of a scope: [WithLimit] bounds how
// many elements are in flight, [WithTimeout] and [WithName] apply, the first
// error or panic cancels the remaining elements (elements not yet started
// are not started), a panic comes back as a [*PanicError], and a caller on a
// pool worker runs queued elements itself while it waits, so Map nests in
// children, [Stream]s and other Maps on a small pool.
//
// If any element fails, Map returns a nil slice and the error that
// [Scope.Wait] returns: the first failure, and any that happened at the same
// time, combined with multierr; with [WithCollectAll] every element runs and
// the error lists every failure. (For each element's own result or error,
// in order, use [Stream] with WithCollectAll.) If ctx is cancelled first,
// the error matches ctx's cause with errors.Is (a [*SkippedError] with the
// cause if elements were never started). Otherwise the slice has len(in) results, and on
// an empty in it is empty and non-nil.
//
// The result of fn(ctx, in[i]) is the i'th result. Map panics if ctx or fn is nil, if p is not High, Normal or
// Low, or if an Option is nil. An fn that calls runtime.Goexit fails Map
// like an error.
func Map[T, R any](ctx context.Context, p Priority, in []T, fn func(ctx context.Context, v T) (R, error), opts ...Option) ([]R, error) {
	checkCall("Map", ctx, p, fn == nil)
	if len(in) == 0 {
		for _, o := range opts {
			if o == nil {
				panic("echo: Map called with a nil Option")
			}
		}
		return []R{}, nil
	}
	// The scope, and so Map's own wait, runs at p unless an option says
	// otherwise: a waiter above p would lift the children to its priority
	// (see Scope.Wait), and p is the caller's word for how urgent they are.
	s := newScope(ctx, "Map", append([]Option{WithPriority(p)}, opts...))
	m := &mapping[T, R]{s: s, in: in, out: make([]R, len(in)), fn: fn}
	child := m.child // one function value for every element
	for range in {
		cancelled := s.ctx.Err() != nil
		s.Go(p, child)
		if cancelled {
			// An element failed, or ctx was cancelled: Go starts no more
			// children. The one it just skipped marks the scope cut
			// short, so Wait reports the cause if nothing failed; the
			// rest need not be offered.
			break
		}
	}
	if err := s.Wait(); err != nil {
		return nil, err
	}
	if m.exited.Load() {
		return nil, errGoexit // a child with no result, and no error the scope reports
	}
	return m.out, nil
}

// mapping is one Map call's shared state. Map spawns one child per element
// (at most len(in)), all running child, and each child takes the next
// element with next: so every spawned child maps exactly one element, in
// about the order in which children start, and an element costs no
// allocation besides the scope's child record. A child reads in[i] and
// writes out[i] only, and Wait's join orders those writes before Map
// returns out.
type mapping[T, R any] struct {
	s    *Scope
	in   []T
	out  []R
	fn   func(ctx context.Context, v T) (R, error)
	next atomic.Int64 // the next element to take
	// exited is set by an element whose fn called runtime.Goexit: the
	// scope counts such a child done with no error, but Map has no result
	// for it.
	exited atomic.Bool
}

func (m *mapping[T, R]) child(ctx context.Context) error {
	i := m.next.Add(1) - 1
	returned := false
	defer func() {
		if !returned {
			m.exited.Store(true)
			m.s.Cancel(errGoexit) // fail-fast, as for an error
		}
	}()
	r, err := m.fn(ctx, m.in[i])
	returned = true
	if err != nil {
		return err
	}
	m.out[i] = r
	return nil
}

// checkCall panics, naming fname, on a nil ctx, a nil function or an
// unknown priority: the misuse common to Map, First, Hedge and Stream.
func checkCall(fname string, ctx context.Context, p Priority, nilFn bool) {
	if ctx == nil {
		panic("echo: " + fname + " called with a nil ctx")
	}
	if nilFn {
		panic("echo: " + fname + " called with a nil fn")
	}
	if !p.Valid() {
		panic(fmt.Sprintf("echo: %s called with unknown priority %v; use echo.High, echo.Normal or echo.Low", fname, p))
	}
}
