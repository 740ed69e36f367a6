package pool

import "context"

// Block runs fn, which is about to block (waiting on a channel, a scope, a
// lock, I/O), and returns when fn returns. If ctx is a task's ctx from
// [Pool.Go] (or derived from one), the task's pool counts its worker as
// blocked while fn runs and, if tasks are queued, lends a spare worker at
// once: it wakes a parked worker or starts an extra one (within
// WithMaxWorkers), as Java's ForkJoinPool.managedBlock and Tokio's
// block_in_place do. Work that arrives later while fn blocks is covered by
// the pool's liveness monitor, which also counts declared blocks. Extra
// workers retire after the idle timeout. From any other ctx Block just calls
// fn. It panics if fn is nil.
func Block(ctx context.Context, fn func()) {
	if fn == nil {
		panic("pool: Block called with a nil function")
	}
	w := workerOf(ctx)
	if w == nil {
		fn()
		return
	}
	s := w.s
	s.blocked.Add(1)
	defer s.blocked.Add(-1)
	if s.count() > 0 {
		s.lend()
	}
	fn()
}

// lend makes sure a worker other than the caller's is available to run
// queued work.
func (s *state) lend() {
	if s.spinning.Load() > 0 {
		return // a worker is already searching for work
	}
	if s.nidle.Load() > 0 && s.wakeOne() {
		return
	}
	s.spawnExtras(1, false)
}

// OnWorker reports whether ctx is the ctx of a task running on one of p's
// workers (see [Pool.Go]), or derives from one. Code that holds such a ctx
// runs on that worker unless it handed ctx to another goroutine. The root
// package uses it to decide whether a goroutine that waits for its children
// may run them itself: on a worker that keeps the pool's bound (the worker
// is busy either way); elsewhere it would run work beyond the bound and out
// of priority order.
func (p *Pool) OnWorker(ctx context.Context) bool {
	w := workerOf(ctx)
	return w != nil && w.s == p.s
}

// CanLend reports whether [Block] called now on one of p's workers could
// lend p a worker: one is parked or searching for work, or p may still
// start an extra one (within WithMaxWorkers). The root package uses it to
// decide whether a goroutine on a worker that waits for a queued task to
// start must run that task itself: only when no worker could come for it.
// The answer may be stale by the time the caller acts on it, and a worker
// between two tasks counts as busy.
func (p *Pool) CanLend() bool {
	s := p.state("CanLend")
	return s.spinning.Load() > 0 || s.nidle.Load() > 0 || int(s.workers.Load()) < s.cfg.maxWorkers
}
