package echo

import (
	"context"
	"errors"
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
// scope's own cancellation, it is kept for Wait and, fail-fast, cancels the
// scope with err as the cause. force cancels even under WithCollectAll
// (a failing Nursery body).
func (s *Scope) report(err error, force bool) {
	if s.ctx.Err() != nil && (sameError(err, context.Cause(s.ctx)) || errors.Is(err, s.ctx.Err())) {
		s.cutShort.Store(true)
		return
	}
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
	if force || !s.cfg.collectAll {
		s.cancel(err)
	}
}

// sameError reports a == b without panicking on error values of an
// uncomparable type (== on such interfaces panics).
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	t := reflect.TypeOf(a)
	return t == reflect.TypeOf(b) && t.Comparable() && a == b
}

// ErrNotReady is wrapped by the error [Start] returns when its child
// returned nil (or called runtime.Goexit) without calling ready.
var ErrNotReady = errors.New("echo: Start child returned without calling ready")
