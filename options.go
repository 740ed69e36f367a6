package echo

import (
	"fmt"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// An Option configures a scope opened by [NewScope] or [Nursery].
type Option func(*config)

type config struct {
	runner     runner
	limit      int // 0: no limit
	collectAll bool
	hasTimeout bool
	timeout    time.Duration
	name       string
	hasPrio    bool
	prio       Priority
	blocking   bool            // WithBlocking (blocking.go)
	onError    func(err error) // WithErrorHandler; nil: keep failures for Wait
}

// WithPool runs the scope's children on p. Without it a scope uses the pool
// of the scope it is nested in, or [pool.Default] at the top level.
// WithPool panics if p is nil.
func WithPool(p *pool.Pool) Option {
	if p == nil {
		panic("echo: WithPool called with a nil pool")
	}
	return func(c *config) { c.runner = p }
}

// WithLimit allows at most n children of the scope to be active at once:
// a child is active from the moment Go accepts it (queued or running) until
// it returns, as in errgroup. Go waits for a free slot and TryGo returns
// false when none is free. A negative n means no limit (as errgroup's
// SetLimit); WithLimit panics if n is 0, since such a scope could never run
// a child.
func WithLimit(n int) Option {
	if n == 0 {
		panic("echo: WithLimit called with n = 0; a scope needs n >= 1 slots (or n < 0 for no limit)")
	}
	return func(c *config) {
		c.limit = max(n, 0)
	}
}

// WithCollectAll makes the scope a supervisor: a child's error (or panic)
// does not cancel its siblings; Wait reports every failure once all
// children are done. An error from a [Nursery] body still cancels the
// children, since the body has given up on them.
func WithCollectAll() Option {
	return func(c *config) { c.collectAll = true }
}

// WithTimeout gives the scope a deadline d from now: when it passes, the
// scope's context is cancelled with context.DeadlineExceeded as its cause,
// and Wait returns context.DeadlineExceeded if that cut any child short.
// A d <= 0 gives a scope that is cancelled from the start, as
// context.WithTimeout does.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.hasTimeout, c.timeout = true, d }
}

// WithName names the scope. The name appears in errors the scope makes
// itself, and the scope's children run under the pprof labels
// "echo.scope" (the name) and "echo.priority" ("high", "normal" or "low"),
// so a CPU profile can be split with, for example,
// go tool pprof -tagfocus=echo.priority=high. A named scope is also a
// runtime/trace task "echo.scope NAME" (children are regions in it while
// tracing). Unnamed scopes do no label work at all. WithName panics if name
// is empty.
func WithName(name string) Option {
	if name == "" {
		panic(fmt.Sprintf("echo: WithName called with name = %q; a name must not be empty", name))
	}
	return func(c *config) { c.name = name }
}

// WithPriority sets the priority of the code that opens the scope: its
// [Nursery] body and its Wait run at p, and scopes nested under its context
// inherit p (see [PriorityOf]). Without it the scope takes the priority that
// its ctx carries (a child's context carries the child's), else [Normal].
// Use it where work enters the process, such as a request handler that knows
// how urgent its request is: while the scope's Wait (or the end of its
// Nursery) waits, its queued children below p run at p. WithPriority panics if p is not High, Normal or
// Low.
func WithPriority(p Priority) Option {
	if !p.Valid() {
		panic(fmt.Sprintf("echo: WithPriority called with unknown priority %v; use echo.High, echo.Normal or echo.Low", p))
	}
	return func(c *config) { c.hasPrio, c.prio = true, p }
}

// WithErrorHandler sends each failure of a child (an error it returned, a
// panic as [*PanicError], a child its pool refused) to fn as it happens,
// instead of keeping it for Wait: a scope that lives as long as a server
// then holds no memory for the failures it has seen. fn is called on the
// failing child's goroutine, one failure at a time; it must not panic, and
// while it runs other failing children wait for it.
//
// What Wait then returns: nil for the failures fn got, so with
// [WithCollectAll] (a supervisor) Wait returns nil unless the scope was
// cancelled from outside (its parent ctx, [WithTimeout], [Scope.Cancel]),
// which it reports as usual. Without WithCollectAll the first failure still
// cancels the scope and Wait returns that one failure, the scope's cause
// (fn got it too); nothing else is kept. A [Nursery] body's error is not a
// child's failure: fn does not get it and Nursery returns it. WithErrorHandler
// panics if fn is nil.
func WithErrorHandler(fn func(err error)) Option {
	if fn == nil {
		panic("echo: WithErrorHandler called with a nil fn")
	}
	return func(c *config) { c.onError = fn }
}
