package echo

import (
	"context"
	"errors"
)

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
// runtime.Goexit (or a child that Go or Start ran on the body's goroutine
// did), Nursery still cancels and waits for the children before the
// goroutine exits, so none outlives the scope, and a failure of the scope
// goes to the enclosing scope, the one ctx belongs to (as for a Goexit in
// a child that Wait runs, see [Scope.Wait]); the Goexit itself is not a
// failure.
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
	if treeOn.Load() { // the live tree (tree.go): its only cost while off
		s.track = openTrack(s, ctx, &body)
	}
	returned := false
	defer func() {
		if !returned { // runtime.Goexit in body (panics are recovered by call)
			s.cancel(errBodyGoexit)
			s.leave()
		}
	}()
	if err := s.call(s.ctx, s.creator, body, true); err != nil {
		s.report(err, true)
	}
	returned = true
	return s.Wait()
}
