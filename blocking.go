package echo

import "context"

// WithBlocking declares that the scope's children block (backend calls,
// I/O): each child runs on a goroutine of its own, as with errgroup, instead
// of on the pool's workers. The scope still joins, cancels and counts its
// children, turns their panics into errors and honours [WithLimit], but
// priorities no longer order them: they all start at once. Correct code does
// not need it: the pool notices workers blocked in their tasks and adds
// workers (see package pool). WithBlocking saves, for code that knows, the
// milliseconds the pool takes to notice and the cost of its extra workers.
// Nested scopes do not inherit it.
func WithBlocking() Option {
	return func(c *config) { c.blocking = true }
}

// goroutines is the runner of a WithBlocking scope: a goroutine per child.
// pool is the runner the scope would have used otherwise, which scopes
// nested in it use.
type goroutines struct{ pool runner }

func (goroutines) Go(ctx context.Context, _ Priority, fn func(ctx context.Context)) error {
	go fn(ctx)
	return nil
}

func (goroutines) TryGo(ctx context.Context, _ Priority, fn func(ctx context.Context)) error {
	go fn(ctx)
	return nil
}

// OnWorker is false: a waiter never runs the scope's children itself.
func (goroutines) OnWorker(context.Context) bool { return false }

// CanLend is true: every child gets a goroutine.
func (goroutines) CanLend() bool { return true }

// unblocking returns the runner that scopes nested in a scope with runner r
// use: WithBlocking is not inherited.
func unblocking(r runner) runner {
	if g, ok := r.(goroutines); ok {
		return g.pool
	}
	return r
}
