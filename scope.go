package echo

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"sync/atomic"

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// Priority is the urgency of a child: [High], [Normal] or [Low]. It is the
// pool's priority type, so the same values work with package pool.
type Priority = pool.Priority

const (
	// High is for latency-sensitive children: the pool starts them before
	// Normal and Low work.
	High = pool.High
	// Normal is for ordinary children.
	Normal = pool.Normal
	// Low is for background children.
	Low = pool.Low
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

// runner is the part of *pool.Pool that a scope uses. Tests substitute a
// fake to decide when, and in which order, queued tasks run.
type runner interface {
	Go(ctx context.Context, prio Priority, fn func(ctx context.Context)) error
	TryGo(ctx context.Context, prio Priority, fn func(ctx context.Context)) error
	OnWorker(ctx context.Context) bool
}

// memberKey is the context key under which a *member is stored.
type memberKey struct{}

// member tags a context with the scope its holder belongs to and the priority
// its holder runs at. Children's contexts carry one, and so does a scope's own
// context (with the creator's priority), so the innermost scope and the
// current priority are a single ctx.Value away.
type member struct {
	s    *Scope
	prio Priority
}

func memberOf(ctx context.Context) *member {
	m, _ := ctx.Value(memberKey{}).(*member)
	return m
}

// priorityOf reports the priority the holder of ctx runs at, if ctx comes
// from a scope.
func priorityOf(ctx context.Context) (Priority, bool) {
	if m := memberOf(ctx); m != nil {
		return m.prio, true
	}
	return 0, false
}

// Child states. A child is handed to the pool and may also be run by a
// waiter (help-while-waiting) or by a High proxy (priority escalation); the
// copy whose CAS moves it from childQueued to childClaimed runs it, the
// others do nothing. So every child runs at most once, and the claimant alone
// touches its fn and run tag afterwards.
const (
	childQueued uint32 = iota
	childClaimed
)

// childKey is the context key under which a *child finds itself.
type childKey struct{}

// child is one spawned function. It is also the context the child is
// submitted to the pool with: the spawner's ctx plus the child's member tag.
// The pool hands a ctx derived from it back to runChild, which finds the
// child through childKey; so a child costs one allocation here, and the
// task function is a static one.
type child struct {
	context.Context // the spawner's ctx: fn's ctx derives from it
	// m tags fn's ctx with the scope and the priority fn runs at. Only the
	// claimant writes m.prio (escalation), on its own goroutine before it
	// calls fn; fn and whatever fn hands its ctx to read it later (program
	// order, then go statements or pool submission order it). The pool
	// reads c only through Done, Err, Deadline and other keys of Value.
	m     member
	prio  Priority // the priority the child was submitted at; immutable
	fn    func(ctx context.Context) error
	state atomic.Uint32
	// abort, if set, is told why the child will never run; it returns true
	// if it took charge of that error (Start hands it to its caller).
	abort func(err error) bool
}

func (c *child) Value(key any) any {
	switch key.(type) {
	case memberKey:
		return &c.m
	case childKey:
		return c
	}
	return c.Context.Value(key)
}

func (c *child) String() string {
	return fmt.Sprintf("%v.WithValue(echo child, priority %v)", c.Context, c.prio)
}

// runChild is the task given to the pool for every child (once at the
// child's priority, and maybe again at High as a proxy). ctx is the pool's:
// it derives from the child and carries the worker running it.
func runChild(ctx context.Context) {
	c := ctx.Value(childKey{}).(*child)
	if c.state.CompareAndSwap(childQueued, childClaimed) {
		c.m.s.execute(c, ctx)
	}
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
	cfg     config
	ctx     context.Context // the scope's ctx, tagged with {s, creator}
	cancel  context.CancelCauseFunc
	stop    context.CancelFunc // releases the WithTimeout timer; nil without it
	parent  context.Context    // the ctx NewScope got; Wait blocks through pool.Block with it
	run     runner
	creator Priority      // priority of the code that opened the scope
	task    *trace.Task   // nil unless named or tracing was on at NewScope
	sem     chan struct{} // WithLimit slots; nil for no limit

	// helps says whether waiting goroutines (Wait, and Go waiting for a
	// WithLimit slot) run queued children themselves. Only when the scope
	// was opened on one of its pool's workers: that worker is taken either
	// way, so running a child on it keeps the pool's bound and is what makes
	// nested scopes on a small pool progress. Anywhere else it would add a
	// runner beyond the bound that ignores priorities (a background job's
	// waiting goroutine would run its Low children next to the pool's High
	// work), and it is not needed for progress: that goroutine holds no
	// worker.
	helps bool

	// self is the scope's own context: its base tagged with the creator's
	// priority. It lives in the Scope, so it costs no allocation.
	self taggedCtx
	// small is the help queue's first backing array: scopes with few
	// children never allocate one.
	small [2]*child

	// pending counts accepted children not yet done. It rises only in
	// spawn, before the child can run, and falls once per child in
	// childDone, so it is zero exactly when every accepted child is done.
	// Happens-before: a child's writes precede its Add(-1); Wait returns
	// only after a Load that observes 0, which (sync/atomic operations are
	// sequentially consistent and synchronise) follows every Add(-1), so
	// everything children wrote is visible to Wait's caller. A child may
	// spawn (Add(+1)) only while it is itself pending, so the count cannot
	// reach 0 and rise again while Wait is joining.
	pending    atomic.Int64
	escalated  atomic.Bool  // set by Wait on a High scope: Go uses High from then on
	cutShort   atomic.Bool  // a child was skipped, or returned only the scope's cancellation
	closed     atomic.Bool  // Wait has returned
	notStarted atomic.Int64 // children skipped because the scope was cancelled (read by tests)
	proxies    atomic.Int64 // High proxies submitted by escalation (read by tests)

	mu        sync.Mutex
	queue     []*child      // children possibly still queued, for help-while-waiting
	compactAt int           // compact queue when it grows to this length
	wake      chan struct{} // non-nil while a waiter blocks; closed to wake it
	errs      []error       // reported errors, in report order

	forwards []forward      // Start children's cancellation forwarders, under mu
	fwd      sync.WaitGroup // forwarder goroutines started by context.AfterFunc

	finishOnce sync.Once
	result     error
}

// forward is the link that cancels a Start child's context (which does not
// derive from the scope's, see Start) when the scope's context is cancelled.
type forward struct {
	stop   func() bool
	cancel context.CancelCauseFunc
}

// forwardTo cancels cancel's context whenever the scope's context is
// cancelled, until Wait returns; Wait then cancels it itself and waits for
// any forwarding goroutine, so none outlives the scope.
func (s *Scope) forwardTo(cancel context.CancelCauseFunc) {
	s.fwd.Add(1)
	stop := context.AfterFunc(s.ctx, func() {
		defer s.fwd.Done()
		cancel(context.Cause(s.ctx))
	})
	s.mu.Lock()
	s.forwards = append(s.forwards, forward{stop, cancel})
	s.mu.Unlock()
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
// [pool.Default]. A scope opened by High code (a High child, or one
// escalated to High) escalates its children when waited for; see Wait.
//
// The caller must call Wait. NewScope panics if ctx is nil.
func NewScope(ctx context.Context, opts ...Option) (*Scope, context.Context) {
	if ctx == nil {
		panic("echo: NewScope called with a nil ctx")
	}
	s := newScope(ctx, "NewScope", opts)
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
		s.run = outer.s.run
	default:
		s.run = pool.Default()
	}
	if outer != nil {
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
// then returns is described there.
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

// Go spawns fn as a child of the scope at priority p. fn gets a context that
// derives from the scope's and carries the child's priority, so [Go] and
// [Nursery] calls made with it spawn into this scope or nest under it.
//
// With [WithLimit], Go waits until fewer than the limit of children are
// active. While it waits, on a scope opened on one of its pool's workers
// (see Wait), it runs the scope's queued children itself (they hold slots);
// otherwise it blocks through [pool.Block], so a caller on a pool worker
// lends the pool a spare worker. If the scope is cancelled
// meanwhile, fn is not started. (A child run that way that calls
// runtime.Goexit ends the goroutine calling Go, as with Wait.)
// fn is not started either if the scope is already cancelled. A child that
// calls Go on its own full scope waits while holding its own slot: if every
// slot holder does that, they wait until the scope is cancelled (errgroup
// behaves the same).
//
// Go may be called from any goroutine, including from children while
// another goroutine is in Wait. It panics if fn is nil, if p is not High,
// Normal or Low, or if Wait has returned. Inside a child prefer the package
// function [Go] with the child's ctx: the pool then knows which worker
// spawns (the method uses the scope's own context for that).
func (s *Scope) Go(p Priority, fn func(ctx context.Context) error) {
	s.check("Scope.Go", p, fn == nil)
	s.spawn(s.ctx, p, fn, true, nil)
}

// TryGo is like [Scope.Go] but never waits: it reports whether fn was
// accepted. It returns false when a [WithLimit] limit is full, when the pool's
// queue is full, when the pool is stopped and when the scope is cancelled.
func (s *Scope) TryGo(p Priority, fn func(ctx context.Context) error) bool {
	s.check("Scope.TryGo", p, fn == nil)
	return s.spawn(s.ctx, p, fn, false, nil)
}

// check panics at the call site on misuse.
func (s *Scope) check(fname string, p Priority, nilFn bool) {
	s.made(fname)
	if nilFn {
		panic("echo: " + fname + " called with a nil fn")
	}
	if !p.Valid() {
		panic(fmt.Sprintf("echo: %s called with unknown priority %v; use echo.High, echo.Normal or echo.Low", fname, p))
	}
	if s.closed.Load() {
		panic("echo: " + fname + " called after Wait returned; a Scope is single-use")
	}
}

// taggedCtx is a scope's context with a member tag: context.WithValue with
// the tag inline, so that it can live inside the Scope.
type taggedCtx struct {
	context.Context
	m member
}

func (c *taggedCtx) Value(key any) any {
	if key == (memberKey{}) {
		return &c.m
	}
	return c.Context.Value(key)
}

func (c *taggedCtx) String() string {
	return fmt.Sprintf("%v.WithValue(echo scope, priority %v)", c.Context, c.m.prio)
}

// spawn accepts fn as a child spawned with ctx (a descendant of the scope's
// ctx) and hands it to the pool. wait says whether a full limit or queue may
// be waited for (Go) or refuses (TryGo). It reports whether fn was accepted.
func (s *Scope) spawn(ctx context.Context, p Priority, fn func(ctx context.Context) error, wait bool, abort func(error) bool) bool {
	if s.sem != nil && !s.acquire(ctx, wait) {
		if wait {
			// The scope was cancelled while Go waited for a slot.
			s.skip(abort)
		}
		return false
	}
	if s.ctx.Err() != nil {
		s.release()
		if wait {
			s.skip(abort)
		}
		return false
	}
	if s.escalated.Load() {
		// Wait has begun on a High scope: later children are High.
		p = High
	}
	c := &child{Context: ctx, m: member{s: s, prio: p}, prio: p, fn: fn, abort: abort}
	s.pending.Add(1) // before the pool can run c, so Wait cannot miss it
	var err error
	if wait {
		err = s.run.Go(c, p, runChild)
	} else {
		err = s.run.TryGo(c, p, runChild)
	}
	if err != nil {
		// The pool did not accept the task. Nobody else has c yet, except
		// that it is not in the help queue either: claim it to be sure.
		c.state.Store(childClaimed)
		switch {
		case !wait:
			// TryGo: the caller is told by the false result.
		case s.ctx.Err() != nil && errors.Is(err, s.ctx.Err()):
			// The pool gave up waiting because the scope was cancelled.
			s.skip(abort)
		case abort == nil || !abort(&notStartedError{err: err}):
			s.report(&notStartedError{scope: s.named(), err: err}, false)
		}
		s.childDone()
		return false
	}
	s.enqueue(c)
	return true
}

// acquire takes a WithLimit slot. With wait, while the limit is full it
// runs the scope's queued children itself (each holds a slot, which it
// frees), so a spawner on a busy pool does not need a spare worker; when
// none is queued it blocks (through pool.Block, so a waiting worker lends
// a spare) until a slot is free or the scope is cancelled. It reports
// whether it got a slot.
func (s *Scope) acquire(ctx context.Context, wait bool) bool {
	for {
		select {
		case s.sem <- struct{}{}:
			return true
		default:
		}
		if !wait || !s.helps || s.ctx.Err() != nil || !s.helpOne() {
			break
		}
	}
	if !wait {
		return false
	}
	got := false
	pool.Block(ctx, func() {
		select {
		case s.sem <- struct{}{}:
			got = true
		case <-s.ctx.Done():
		}
	})
	return got
}

func (s *Scope) release() {
	if s.sem != nil {
		<-s.sem
	}
}

// skip records a child that will not run because the scope is cancelled.
func (s *Scope) skip(abort func(error) bool) {
	s.notStarted.Add(1)
	if abort == nil || !abort(context.Cause(s.ctx)) {
		s.cutShort.Store(true)
	}
}

// enqueue lists c for help-while-waiting and wakes a blocked waiter so that
// it can run c itself.
func (s *Scope) enqueue(c *child) {
	s.mu.Lock()
	if len(s.queue) >= s.compactAt {
		// Drop children that have been claimed, so the list stays about
		// as long as the number actually queued (amortised O(1) per child).
		q := s.queue[:0]
		for _, x := range s.queue {
			if x.state.Load() == childQueued {
				q = append(q, x)
			}
		}
		clear(s.queue[len(q):])
		s.queue = q
		s.compactAt = max(64, 2*len(q))
	}
	s.queue = append(s.queue, c)
	if s.helps && s.wake != nil {
		close(s.wake)
		s.wake = nil
	}
	s.mu.Unlock()
}

// execute runs claimed child c with ctx on the current goroutine.
func (s *Scope) execute(c *child, ctx context.Context) {
	defer s.childDone() // also when fn calls runtime.Goexit
	fn := c.fn
	c.fn = nil // let the help list drop what fn captured (only the claimant reads fn)
	if s.ctx.Err() != nil {
		s.skip(c.abort)
		return
	}
	if c.m.prio != High && s.escalated.Load() {
		c.m.prio = High // ctx derives from c, so fn sees High
	}
	if err := s.call(ctx, c.m.prio, fn); err != nil {
		s.report(err, false)
	}
}

// call runs fn under the scope's pprof labels and trace region, if any,
// turning a panic into a *PanicError.
func (s *Scope) call(ctx context.Context, prio Priority, fn func(ctx context.Context) error) (err error) {
	if trace.IsEnabled() {
		defer trace.StartRegion(ctx, "echo.child "+prio.String()).End()
	}
	if s.cfg.name == "" {
		return protect(ctx, fn)
	}
	pprof.Do(ctx, pprof.Labels("echo.scope", s.cfg.name, "echo.priority", prio.String()), func(ctx context.Context) {
		err = protect(ctx, fn)
	})
	return err
}

// childDone marks one child done: it frees the child's slot, then wakes a
// waiter if that was the last child.
func (s *Scope) childDone() {
	s.release()
	if s.pending.Add(-1) == 0 {
		s.mu.Lock()
		if s.wake != nil {
			close(s.wake)
			s.wake = nil
		}
		s.mu.Unlock()
	}
}

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

// Wait blocks until every child has returned, including children spawned
// by children while Wait runs, and returns what the scope reports:
//
//   - the errors children returned (and panics, as [*PanicError]), combined
//     with multierr in the order they were reported; a single error is
//     returned as itself. After a failure has cancelled the scope, results
//     that are only that cancellation (the cause itself, or an error that
//     errors.Is the scope context's Err) are not reported again;
//   - otherwise, if the scope was cancelled by something else (its parent
//     ctx, its [WithTimeout] deadline, or [Scope.Cancel]) and that cut some
//     child short (the child was not started, or returned only the
//     cancellation), the cancellation's cause, such as context.Canceled or
//     context.DeadlineExceeded;
//   - otherwise nil.
//
// If the scope was opened on one of its pool's workers (inside a child, or
// any task of the pool started with [pool.Pool.Go]), Wait first runs the
// scope's still-queued children itself on the calling goroutine, most urgent
// first, so nested scopes on a small pool make progress without extra
// workers; then it blocks through [pool.Block] with the ctx given to
// NewScope, so that the waiting worker lends its pool a spare worker. A
// scope opened anywhere else (a request handler, main) just waits: its
// children run on the pool, within its bound and in priority order (once
// such a scope is cancelled, Wait settles its queued children as not
// started itself, which runs no user code).
//
// A child that calls runtime.Goexit while Wait runs it inline ends the
// calling goroutine (a pool worker), as if the caller had called Goexit;
// but first that goroutine joins every other child and closes the scope,
// and if the scope failed, its result goes to the enclosing scope (the one
// the ctx given to NewScope belongs to), so neither a child nor a failure is
// lost. A later Wait call from another goroutine returns the result too.
//
// If the code that opened the scope runs at High priority (it is a High
// child, or a child escalated to High), Wait escalates: children still queued
// are resubmitted at High, and children spawned from then on run at High, so
// a High request is never stuck behind its own Low children.
//
// A child must not call Wait on its own scope: it would wait for itself.
//
// When Wait returns, the scope's context is cancelled and the scope is
// closed. Wait may be called from any goroutine, and more than once: later
// calls return the same result. (The pool learns which worker blocks from
// the ctx given to NewScope, so a scope opened inside a pool task is best
// waited for by that task, as [Nursery] does; from elsewhere Wait is still
// correct, the pool is just told about the wrong worker.)
func (s *Scope) Wait() error {
	s.made("Scope.Wait")
	if s.closed.Load() {
		return s.finish()
	}
	if s.creator == High && !s.escalated.Load() {
		s.escalate()
	}
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
		if s.pending.Load() == 0 {
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

// runInline runs claimed child c on the calling goroutine of Wait
// (help-while-waiting).
//
// If c calls runtime.Goexit, nothing can stop the calling goroutine from
// ending (see Wait). Before it ends, the deferred call below finishes the
// waiter's job: it joins every other child of s (running queued ones inline,
// each guarded in turn: a further Goexit aborts this deferred call, and the
// deferred call of the child that exited takes over), finishes the scope,
// and hands the scope's result to the enclosing scope, if any, whose member
// the exiting goroutine is. So no child outlives its scope and no failure
// is dropped, even when the goroutine that should have reported it is gone.
func (s *Scope) runInline(c *child) {
	returned := false
	defer func() {
		if !returned {
			s.join()
			if err := s.finish(); err != nil {
				if m := memberOf(s.parent); m != nil && !m.s.closed.Load() {
					m.s.report(err, false)
				}
			}
		}
	}()
	s.execute(c, c)
	returned = true
}

// help runs queued children of s on the calling goroutine, most urgent
// first, until none is left in the list.
func (s *Scope) help() {
	for {
		s.mu.Lock()
		q := s.queue
		s.queue, s.compactAt = nil, 0
		s.mu.Unlock()
		if len(q) == 0 {
			return
		}
		// Most urgent first, as the pool would; oldest first within a
		// priority.
		for _, p := range [...]Priority{High, Normal, Low} {
			for _, c := range q {
				if c.prio == p && c.state.CompareAndSwap(childQueued, childClaimed) {
					s.runInline(c)
				}
			}
		}
	}
}

// helpOne runs the oldest still-queued child of s on the calling
// goroutine, if there is one, and reports whether it ran one.
func (s *Scope) helpOne() bool {
	var c *child
	s.mu.Lock()
	for c == nil && len(s.queue) > 0 {
		// Taking from the front is safe: help swaps the whole list out
		// under mu, so no snapshot shares what s.queue points to now.
		x := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if x.state.CompareAndSwap(childQueued, childClaimed) {
			c = x
		}
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	// Not runInline: the spawner may be a child of s, so joining s here
	// after a Goexit would wait for the spawner itself. Whoever runs the
	// spawner handles its Goexit (the pool, or a waiter's runInline).
	s.execute(c, c)
	return true
}

// escalate marks the scope High and resubmits its queued lower-priority
// children as High proxies: whichever copy claims a child first runs it.
func (s *Scope) escalate() {
	s.mu.Lock()
	s.escalated.Store(true)
	var low []*child
	for _, c := range s.queue {
		if c.prio != High && c.state.Load() == childQueued {
			low = append(low, c)
		}
	}
	s.mu.Unlock()
	for _, c := range low {
		// c stays counted in pending until some copy claims and finishes
		// it, and the original copy is still in the pool, so a refused
		// proxy loses nothing.
		if s.run.Go(c, High, runChild) == nil {
			s.proxies.Add(1)
		}
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
		}
		s.closed.Store(true)
		s.mu.Lock()
		forwards := s.forwards
		s.forwards = nil
		s.mu.Unlock()
		for _, f := range forwards {
			if f.stop() { // the scope was not cancelled: the goroutine never ran
				f.cancel(context.Canceled)
				s.fwd.Done()
			}
		}
		s.fwd.Wait()
		s.cancel(nil)
		if s.stop != nil {
			s.stop()
		}
		if s.task != nil {
			s.task.End()
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
