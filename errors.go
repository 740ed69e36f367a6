package echo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// ErrNotStarted is wrapped by the error a scope reports for a child that it
// accepted but could not hand to its pool (for example because the pool was
// stopped: the error then also wraps [pool.ErrClosed]). Such a child never
// runs. Children skipped because their scope was cancelled are not reported
// with it; see [Scope.Wait].
var ErrNotStarted = errors.New("echo: child not started")

// notStartedError is the error for a child its pool refused: it matches
// ErrNotStarted (through Is) and wraps the pool's error. It has a single
// Unwrap, unlike fmt.Errorf with two %w: multierr.Errors splits an error
// that wraps several into its parts, so Wait's result for one refused child
// would list two errors, neither saying which scope.
type notStartedError struct {
	scope string // " (scope NAME)" for named scopes, else ""
	err   error  // the pool's error, such as pool.ErrClosed
}

func (e *notStartedError) Error() string {
	return ErrNotStarted.Error() + e.scope + ": " + e.err.Error()
}

func (e *notStartedError) Is(target error) bool { return target == ErrNotStarted }

func (e *notStartedError) Unwrap() error { return e.err }

// report records err from a child or the body. Unless it is only the
// scope's own cancellation (see noise), it is kept for Wait (or, for a
// child's failure in a scope WithErrorHandler, handed to the handler) and,
// fail-fast, cancels the scope with err as the cause. force marks the
// Nursery body's error: it cancels even under WithCollectAll, and is always
// kept.
func (s *Scope) report(err error, force bool) {
	if s.noise(err) {
		s.cutShort.Store(true)
		return
	}
	if h := s.cfg.onError; h != nil && !force {
		if !s.cfg.collectAll {
			s.cancel(err)
			// The scope ended: Wait returns its cause (this failure, or
			// whatever cancelled the scope first), as for cut-short children.
			s.cutShort.Store(true)
		}
		s.handlerMu.Lock()
		defer s.handlerMu.Unlock()
		h(err)
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	if force || !s.cfg.collectAll {
		s.cancel(err)
	}
}

// noise is the one cancellation-noise rule: once the scope is cancelled, an
// error that matches (errors.Is) the scope's cancellation cause or its
// ctx's Err is only that cancellation coming back, not a failure: the cause
// returned again, wrapped with %w, or ctx.Err(). An uncomparable cause,
// which errors.Is never matches, matches an equal value in err's chain. A
// panic is never noise, even panic(ctx.Err()), unless it is the very panic
// that cancelled the scope coming back (a nested scope's Wait returns the
// cause that cut it short).
func (s *Scope) noise(err error) bool {
	if s.ctx.Err() == nil {
		return false
	}
	cause := context.Cause(s.ctx)
	var pe *PanicError
	if errors.As(err, &pe) {
		var cpe *PanicError
		return errors.As(cause, &cpe) && cpe == pe
	}
	return errors.Is(err, s.ctx.Err()) || isCause(err, cause)
}

// isCause reports whether err matches cause as errors.Is does, and for an
// uncomparable cause whether err's chain holds an equal value (== on such
// interfaces panics, so errors.Is skips them).
func isCause(err, cause error) bool {
	if cause == nil {
		return false
	}
	if errors.Is(err, cause) {
		return true
	}
	t := reflect.TypeOf(cause)
	if t.Comparable() {
		return false
	}
	var walk func(error) bool
	walk = func(e error) bool {
		for e != nil {
			if reflect.TypeOf(e) == t && reflect.DeepEqual(e, cause) {
				return true
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					if walk(x) {
						return true
					}
				}
				return false
			default:
				return false
			}
		}
		return false
	}
	return walk(err)
}

// ErrNotReady is wrapped by the error [Start] returns when its child
// returned nil (or called runtime.Goexit) without calling ready.
var ErrNotReady = errors.New("echo: Start child returned without calling ready")

// SkippedError is what Wait returns when the scope was cancelled from
// outside (its parent ctx, its [WithTimeout] deadline, or [Scope.Cancel])
// before some children it had accepted could start, and no child failed:
// those children never ran, and Skipped says how many. It matches the
// cancellation: errors.Is(err, context.Canceled) (or
// context.DeadlineExceeded) holds, as does errors.Is with the cause given to
// Cancel, which Unwrap returns. A cancellation that skipped no child is
// returned as its bare cause.
type SkippedError struct {
	// Skipped is the number of children spawned into the scope that never
	// started: skipped because the scope was cancelled, including [Start]
	// children (whose callers were told) and children whose spawner's ctx
	// ended while Go waited to hand them over (Go returned).
	Skipped int
	// Cause is the cancellation's cause: context.Cause of the scope's ctx.
	Cause error

	err error // the scope ctx's Err: context.Canceled or context.DeadlineExceeded
}

func (e *SkippedError) Error() string {
	if e.Skipped == 1 {
		return fmt.Sprintf("echo: 1 child not started: %v", e.Cause)
	}
	return fmt.Sprintf("echo: %d children not started: %v", e.Skipped, e.Cause)
}

// Is reports whether target is the scope context's Err (context.Canceled or
// context.DeadlineExceeded), so that it matches even when Cause is another
// error.
func (e *SkippedError) Is(target error) bool { return target == e.err }

// Unwrap returns Cause.
func (e *SkippedError) Unwrap() error { return e.Cause }
