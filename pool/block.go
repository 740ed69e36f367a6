package pool

import (
	"context"
	"runtime"
)

// Block runs fn, which is about to block (waiting on a channel, a scope, a
// lock, I/O), and returns when fn returns. Correct code does not need it:
// the pool notices a task that blocks by itself (see the package doc). Block
// only says so at once. If ctx is a task's ctx from [Pool.Go] (or derived
// from one), the task's worker counts as blocked while fn runs and, if
// tasks are queued and fewer tasks than GOMAXPROCS are running on the CPU
// meanwhile, the pool lends it one spare worker for as long as fn runs: a
// parked worker, or an extra one (within WithMaxWorkers), as Java's
// ForkJoinPool.managedBlock and Tokio's block_in_place do. When fn returns
// the loan is returned: a spare started for it exits at its next task
// boundary (or is lent again by the worker's next Block). At most one spare
// stands in for a worker at a time, so Block in a loop does not grow the
// pool; a Block nested in another (or called at the same time from another
// goroutine with the same task's ctx) just calls fn. From any other ctx
// Block just calls fn. It panics if fn is nil.
func Block(ctx context.Context, fn func()) {
	if fn == nil {
		panic("pool: Block called with a nil function")
	}
	w := workerOf(ctx)
	if w == nil || !w.inBlock.CompareAndSwap(false, true) {
		fn()
		return
	}
	s := w.s
	w.subs.Add(1) // entering and leaving Block is progress of the task (see the monitor)
	s.blocked.Add(1)
	var spare *worker
	defer func() {
		// Return the loan. The CAS fails only if the spare has exited
		// meanwhile (retired as surplus: see worker.exit); the spare's
		// own CAS loanBack -> loanGone decides whether it exits or is lent
		// again by our next Block.
		if spare != nil {
			spare.loan.CompareAndSwap(loanOut, loanBack)
		}
		s.blocked.Add(-1)
		w.subs.Add(1)
		w.inBlock.Store(false) // releases w.lent to the next Block (happens-before through the CAS)
	}()
	spare = s.lend(w)
	fn()
}

// Loan states of an extra worker started by Block.
const (
	loanNone = iota // not a loan
	loanOut         // lent to a blocked worker
	loanBack        // returned: exit at the next task boundary, unless lent again
	loanGone        // exiting
)

// lend makes sure a worker other than w is available to run queued work
// while w's task blocks, and returns the spare if it is a loan to give back
// (nil if none was needed, or a parked worker was woken).
func (s *state) lend(w *worker) *worker {
	if s.count() == 0 || s.spinning.Load() > 0 {
		return nil // nothing queued, or a worker is already searching for it
	}
	// Workers not parked or searching, less the blocked ones, approximate
	// the tasks running on the CPU. When they are GOMAXPROCS or more, the
	// CPUs are busy without a spare.
	running := s.workers.Load() - s.nidle.Load() - s.spinning.Load() - s.blocked.Load()
	if int(running) >= runtime.GOMAXPROCS(0) {
		return nil
	}
	if p := w.lent; p != nil && p.loan.CompareAndSwap(loanBack, loanOut) {
		return p // our previous spare has not exited yet: lend it again
	}
	if s.nidle.Load() > 0 && s.wakeOne() {
		return nil
	}
	if p := s.spawnExtras(1, true); p != nil {
		w.lent = p
		return p
	}
	return nil
}

// loanReturned reports whether this extra worker is a returned loan and
// must exit now (it claims the exit, so a Block cannot lend it again).
func (w *worker) loanReturned() bool {
	return w.loan.Load() == loanBack && w.loan.CompareAndSwap(loanBack, loanGone)
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
