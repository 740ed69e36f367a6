package echo

import (
	"context"
	"fmt"
	"runtime/trace"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// runner is what a scope runs its children on: a *pool.Pool, or the
// goroutine per child of a WithBlocking scope. (Tests substitute fakes to
// decide when, and in which order, queued children run.)
type runner interface {
	Go(ctx context.Context, prio Priority, fn func(ctx context.Context)) error
	TryGo(ctx context.Context, prio Priority, fn func(ctx context.Context)) error
	OnWorker(ctx context.Context) bool
	CanLend() bool
}

// A Scope is a group of children that must all finish before the work that
// opened the scope can finish: the structured-concurrency nursery. Children
// run on a [pool.Pool] with a [Priority]; [Scope.Wait] joins them, cancels
// the rest when one fails (unless [WithCollectAll]) and turns panics into
// [*PanicError].
//
// A Scope is single-use: once Wait has returned, Go and TryGo panic. Most
// code uses the block form [Nursery] and the context-based [Go] instead of a
// Scope value. A Scope must be created with [NewScope]: Go, TryGo, Wait
// and Cancel panic on a zero Scope.
type Scope struct {
	cfg    config
	ctx    context.Context // the scope's ctx, tagged with {s, creator}
	cancel context.CancelCauseFunc
	stop   context.CancelFunc // releases the WithTimeout timer; nil without it
	parent context.Context    // the ctx NewScope got; Wait blocks through pool.Block with it
	run    runner
	task   *trace.Task   // nil unless named or tracing was on at NewScope
	sem    chan struct{} // WithLimit slots; nil for no limit
	track  *scopeTrack   // the live tree's record (tree.go); nil unless EnableTree

	// helps says whether waiting goroutines (Wait; Go waiting for a
	// WithLimit slot only when the pool cannot lend a worker, see acquire)
	// run queued children themselves. Only when the scope was opened on
	// one of its pool's workers: that worker is taken either
	// way, so running a child on it keeps the pool's bound and is what makes
	// nested scopes on a small pool progress. Anywhere else it would add a
	// runner beyond the bound that ignores priorities (a background job's
	// waiting goroutine would run its Low children next to the pool's High
	// work), and it is not needed for progress: that goroutine holds no
	// worker.
	helps   bool
	creator Priority // priority of the code that opened the scope (packed with helps)

	// self is the scope's own context: its base tagged with the creator's
	// priority. It lives in the Scope, so it costs no allocation.
	self taggedCtx
	// small is the help queue's first backing array: scopes with few
	// children never allocate one.
	small [2]*child

	// pending counts accepted children not yet done, plus the joined bit.
	// The count rises only in admit, before the child can run, and falls
	// once per child in childDone, so it is zero exactly when every
	// accepted child is done. The join ends by setting joined with a CAS
	// from exactly 0, and admit adds only with a CAS from a word without
	// joined: so a spawn from any goroutine, child or not, is either
	// counted before the join ends (and joined) or refused; none slips in
	// after it. Happens-before: a child's writes precede its Add(-1); the
	// join's CAS reads the word those adds wrote, and sync/atomic
	// operations are sequentially consistent and synchronise, so
	// everything children wrote is visible to Wait's caller.
	pending atomic.Int64
	lift    atomic.Int32 // urgency+1 of the most urgent waiter (see escalate.go); 0: none
	// owed lists lifted children whose proxy the full queue refused (see
	// escalate.go); nil when none. Written under mu, read without it to
	// skip repay cheaply.
	owed       atomic.Pointer[[]*child]
	cutShort   atomic.Bool  // a child was skipped, or returned only the scope's cancellation
	closed     atomic.Bool  // Wait has returned
	notStarted atomic.Int64 // children skipped because the scope was cancelled (SkippedError)

	mu        sync.Mutex
	queue     []*child      // children possibly still queued, for help-while-waiting
	compactAt int           // compact queue when it grows to this length
	wake      chan struct{} // non-nil while a waiter blocks; closed to wake it
	errs      []error       // reported errors, in report order
	waiters   [3]int32      // waiters now waiting on the scope, by urgency (see escalate.go)

	handlerMu sync.Mutex // serialises calls of the WithErrorHandler handler

	finishOnce sync.Once
	result     error
}

// NewScope opens a scope bound to ctx and returns it with its context, which
// children (and code that spawns them with [Go]) should use. The scope's
// context is cancelled when ctx is, when a child fails (fail-fast, unless
// [WithCollectAll]), when [Scope.Cancel] is called, when a [WithTimeout]
// deadline passes, and once [Scope.Wait] returns.
//
// If ctx carries a scope (it is a child's or a scope's context), the new
// scope is nested in it: it uses the same pool unless [WithPool] says
// otherwise, and the outer scope's cancellation reaches it through ctx
// (other options are not inherited). Otherwise children run on
// [pool.Default]. Waiting on the scope lifts its queued children to the
// waiter's priority; see Wait.
//
// The caller must call Wait. NewScope panics if ctx is nil.
func NewScope(ctx context.Context, opts ...Option) (*Scope, context.Context) {
	if ctx == nil {
		panic("echo: NewScope called with a nil ctx")
	}
	s := newScope(ctx, "NewScope", opts)
	if treeOn.Load() { // the live tree (tree.go): its only cost while off
		s.track = openTrack(s, ctx, nil)
	}
	return s, s.ctx
}

func newScope(ctx context.Context, fname string, opts []Option) *Scope {
	s := &Scope{parent: ctx, creator: Normal}
	cfg := &s.cfg // in the Scope: options get a pointer, which would make a local escape
	for _, o := range opts {
		if o == nil {
			panic("echo: " + fname + " called with a nil Option")
		}
		o(cfg)
	}
	outer := memberOf(ctx)
	switch {
	case cfg.runner != nil:
		s.run = cfg.runner
	case outer != nil:
		s.run = unblocking(outer.s.run)
	default:
		s.run = pool.Default()
	}
	if cfg.blocking {
		s.run = goroutines{s.run}
	}
	switch {
	case cfg.hasPrio:
		s.creator = cfg.prio
	case outer != nil:
		s.creator = outer.prio
	}
	s.helps = s.run.OnWorker(ctx)
	if cfg.limit > 0 {
		s.sem = make(chan struct{}, cfg.limit)
	}
	sctx := ctx
	if cfg.name != "" || trace.IsEnabled() {
		kind := "echo.scope"
		if cfg.name != "" {
			kind = "echo.scope " + cfg.name
		}
		sctx, s.task = trace.NewTask(sctx, kind)
	}
	sctx, s.cancel = context.WithCancelCause(sctx)
	if cfg.hasTimeout {
		sctx, s.stop = context.WithTimeoutCause(sctx, cfg.timeout, context.DeadlineExceeded)
	}
	s.self = taggedCtx{Context: sctx, m: member{s: s, prio: s.creator}}
	s.ctx = &s.self
	s.queue = s.small[:0]
	return s
}

// Context returns the scope's context (the one NewScope returned).
func (s *Scope) Context() context.Context { return s.ctx }

// Cancel cancels the scope's context with cause (context.Canceled if cause
// is nil). Children still queued are not started; running children see
// their context cancelled. Cancel does not wait: call [Scope.Wait]. What Wait
// then returns is described there: a [*SkippedError] counts the children
// that never started.
//
// Cancel is for abandoning work. To shut down without losing any accepted
// child, stop spawning (stop the accept loop or the feeding goroutine) and
// call Wait without Cancel: Wait runs every child already accepted. (Plain
// jobs with no scope to join can go to a [pool.Pool] with Submit, and
// [pool.Pool.Stop] runs every accepted task before it returns.)
func (s *Scope) Cancel(cause error) {
	s.made("Scope.Cancel")
	s.cancel(cause)
}

// made panics, naming fname, if s is not a Scope made by NewScope (a zero
// Scope has no context, pool or cancel function to work with).
func (s *Scope) made(fname string) {
	if s.ctx == nil {
		panic("echo: " + fname + " called on a Scope not made by NewScope")
	}
}

// Wait blocks until every child of the scope has returned, including
// children spawned by children while it waits, and returns what the scope
// reports. When Wait returns, the scope's context is cancelled and the scope
// is closed: Go, TryGo and Start on it panic. Wait may be called from any
// goroutine, and more than once: later calls return the same result.
//
// The return of every child, and everything it wrote before returning,
// happens before Wait returns, as with sync.WaitGroup.
//
// What Wait returns:
//
//   - the errors children returned (and panics, as [*PanicError]), combined
//     with multierr in the order they were reported; a single error is
//     returned as itself. After a failure has cancelled the scope, results
//     that are only that cancellation (an error that errors.Is the cause or
//     the scope context's Err) are not reported again; a panic always is;
//   - otherwise, if the scope was cancelled by something else (its parent
//     ctx, its [WithTimeout] deadline, or [Scope.Cancel]) and that cut some
//     child short: a [*SkippedError] carrying how many accepted children
//     were never started, if any were, else the cancellation's cause itself
//     (a child returned only the cancellation). Either way errors.Is
//     matches context.Canceled or context.DeadlineExceeded, and the cause;
//   - otherwise nil.
//
// So nothing a scope accepted is lost silently: every child ran, or was
// reported as not started, or counted in a [*SkippedError]. (With
// [WithErrorHandler], failures go to the handler instead; see there.)
//
// Who may spawn while Wait runs: children, always (their spawns are
// joined), and any other goroutine until Wait has seen every child done;
// after that Go panics as after Wait (see [Scope.Go]).
//
// Waiting cannot deadlock where a goroutine per child would not. On one of
// its pool's workers (inside a child, or a task started with
// [pool.Pool.Go]), Wait runs the scope's queued children itself, most
// urgent first (help-while-waiting): the caller does nothing else until
// they are done, so none of them can be waiting for it. Anywhere else (a
// request handler, main) Wait just waits, and the children run on the pool
// within its bound and in priority order. [Scope.Go] and [Start] wait
// differently; see there.
//
// Wait runs at the priority of the code that opened the scope
// ([WithPriority], else the priority its ctx carries, else [Normal]), and
// while it waits, the scope's queued children below that priority run at it
// (priority inheritance, as Swift's task groups do), and so do children
// spawned from then on ([PriorityOf] in their ctx says so). A request is
// thus never stuck behind a backlog because of its own Low children. This
// never waits for room in a full pool queue.
//
// If a child that Wait runs on the calling goroutine calls
// runtime.Goexit, that goroutine ends as if it had called Goexit, but first
// it joins every other child and closes the scope, and a failure of the
// scope goes to the enclosing scope (the one the ctx given to NewScope
// belongs to); a later Wait returns the result. A [Nursery] whose body
// calls Goexit follows the same rule.
//
// A child must not call Wait on its own scope: it would wait for itself.
func (s *Scope) Wait() error {
	s.made("Scope.Wait")
	if s.closed.Load() {
		return s.finish()
	}
	// Lift the queued children to the creator's priority: they are handed
	// to the pool again at it (whichever copy a worker claims first runs),
	// without waiting for queue room (see beginWait). Never ended: the
	// scope closes.
	s.beginWait(s.creator)
	// join blocks through pool.Block with the ctx given to NewScope, so a
	// waiting worker lends its pool a spare. The pool learns which worker
	// blocks from that ctx: a scope opened in a pool task is best waited
	// for by that task, as Nursery does; from another goroutine Wait is
	// still correct, the pool is just told about the wrong worker.
	s.join()
	return s.finish()
}

// join returns once every child of s is done, running queued children on
// the calling goroutine meanwhile (see Wait).
func (s *Scope) join() {
	for {
		// Off the pool, help only once the scope is cancelled: then it runs
		// no user code (execute skips every child of a cancelled scope), it
		// just settles the queued children as not started, so Wait does not
		// wait for the pool to reach them.
		cancelled := s.ctx.Err() != nil
		helping := s.helps || cancelled
		if helping {
			s.help()
		}
		s.mu.Lock()
		if n := s.pending.Load(); n == joined || n == 0 && s.pending.CompareAndSwap(0, joined) {
			// Every child is done and none can be added any more (see
			// pending). A failed CAS means a spawn came in: go round.
			s.mu.Unlock()
			break
		}
		if helping && len(s.queue) > 0 {
			s.mu.Unlock()
			continue
		}
		if s.wake == nil {
			s.wake = make(chan struct{})
		}
		wake := s.wake
		s.mu.Unlock()
		var done <-chan struct{}
		if !helping {
			done = s.ctx.Done() // cancellation: go round once more to settle the queue
		}
		pool.Block(s.parent, func() {
			select {
			case <-wake:
			case <-done:
			}
		})
	}
}

// joined is the bit of Scope.pending that the join sets when it ends.
const joined = 1 << 62

// admit counts one more pending child, unless the join has ended; it
// reports whether it did.
func (s *Scope) admit() bool {
	for {
		n := s.pending.Load()
		if n&joined != 0 {
			return false
		}
		if s.pending.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// live returns the number of accepted children not yet done.
func (s *Scope) live() int64 { return s.pending.Load() &^ joined }

// leave is the Goexit rule, the same wherever a goroutine leaves a scope
// through runtime.Goexit: while it waits in Wait (a child run inline
// called Goexit) or runs the scope's Nursery body (the body, or a child
// that Go or Start ran inline for it, called Goexit). Before the goroutine
// ends it joins every other child of s and closes s, and s's result, if it
// is a failure, goes to the enclosing scope (the one the ctx given to
// NewScope belongs to, whose member the exiting goroutine is): no child
// outlives s and no failure vanishes with the goroutine. The body's own
// Goexit cancellation is not a failure. A further Goexit during the join
// aborts this call, and the deferred call of the child that exited then
// takes over.
func (s *Scope) leave() {
	s.join()
	err := s.finish()
	if err == nil || err == errBodyGoexit {
		return
	}
	if m := memberOf(s.parent); m != nil && !m.s.closed.Load() {
		m.s.report(err, false)
	}
}

// finish computes Wait's result once, then cancels and closes the scope.
func (s *Scope) finish() error {
	s.finishOnce.Do(func() {
		s.mu.Lock()
		errs := s.errs
		s.mu.Unlock()
		switch {
		case len(errs) > 0:
			s.result = multierr.Combine(errs...)
		case s.cutShort.Load():
			s.result = context.Cause(s.ctx)
			if n := s.notStarted.Load(); n > 0 {
				s.result = &SkippedError{Skipped: int(n), Cause: s.result, err: s.ctx.Err()}
			}
		}
		s.closed.Store(true)
		s.cancel(nil)
		if s.stop != nil {
			s.stop()
		}
		if s.task != nil {
			s.task.End()
		}
		if s.track != nil { // the live tree (tree.go): leave it
			s.track.close()
		}
	})
	return s.result
}

// named returns " (scope NAME)" for error messages of named scopes.
func (s *Scope) named() string {
	if s.cfg.name == "" {
		return ""
	}
	return fmt.Sprintf(" (scope %q)", s.cfg.name)
}
