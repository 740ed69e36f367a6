package echo

import (
	"context"
	"fmt"
	"runtime/pprof"
	"runtime/trace"
	"sync/atomic"
)

// Child states. A child is handed to the pool and may also be run by a
// waiter (help-while-waiting) or by a proxy (priority inheritance); the
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
	// up is the urgency+1 of the priority a waiter lifted the child to
	// (see escalate.go), 0 if none. Written under the scope's mu, read by
	// the claimant: a lift that lands after the claim does not matter, the
	// child is no longer queued.
	up atomic.Int32
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
// child's priority, and maybe again at a waiter's as a proxy). ctx is the pool's:
// it derives from the child and carries the worker running it.
func runChild(ctx context.Context) {
	c, ok := ctx.(*child) // a WithBlocking scope's goroutine gets the child itself
	if !ok {
		c = ctx.Value(childKey{}).(*child)
	}
	if c.state.CompareAndSwap(childQueued, childClaimed) {
		c.m.s.execute(c, ctx)
	}
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
	if u := c.up.Load(); u > 0 {
		c.m.prio = liftOf(c.m.prio, u) // ctx derives from c, so fn sees its lifted priority
	}
	if s.track != nil { // the live tree (tree.go): c is running until it returns
		defer s.track.end(c, s.track.begin(c))
	}
	if err := s.call(ctx, c.m.prio, fn, false); err != nil {
		s.report(err, false)
	}
}

// call runs fn under the scope's pprof labels and trace region, if any,
// turning a panic into a *PanicError. body says fn is the Nursery body,
// whose failure cancels the scope even under WithCollectAll. A panic raised
// during a runtime.Goexit is reported to the scope here, since the
// goroutine goes on exiting and nothing can return it.
//
// The common case (no name, no tracing) is a small frame of its own: a child
// that runs on a new goroutine (a WithBlocking child, or the first task of a
// new extra worker) starts on a 2 KB stack, and every byte of this chain's
// frames counts towards the one that makes it grow (runtime.copystack was a
// third of the CPU time of BenchmarkColdSleepFanout).
func (s *Scope) call(ctx context.Context, prio Priority, fn func(ctx context.Context) error, body bool) error {
	if s.cfg.name != "" || trace.IsEnabled() {
		return s.callLabelled(ctx, prio, fn, body)
	}
	if body {
		return protect(ctx, fn, s.reportBody)
	}
	return protect(ctx, fn, s.reportChild)
}

// callLabelled is call under the scope's pprof labels and trace region.
func (s *Scope) callLabelled(ctx context.Context, prio Priority, fn func(ctx context.Context) error, body bool) (err error) {
	if trace.IsEnabled() {
		defer trace.StartRegion(ctx, "echo.child "+prio.String()).End()
	}
	exiting := s.reportChild
	if body {
		exiting = s.reportBody
	}
	if s.cfg.name == "" {
		return protect(ctx, fn, exiting)
	}
	pprof.Do(ctx, pprof.Labels("echo.scope", s.cfg.name, "echo.priority", prio.String()), func(ctx context.Context) {
		err = protect(ctx, fn, exiting)
	})
	return err
}

func (s *Scope) reportChild(err error) { s.report(err, false) }
func (s *Scope) reportBody(err error)  { s.report(err, true) }

// childDone marks one child done: it frees the child's slot, then wakes a
// waiter if that was the last child.
func (s *Scope) childDone() {
	s.release()
	if s.owed.Load() != nil {
		s.repay() // a worker is about to take its next task: there may be room
	}
	if s.pending.Add(-1) == 0 {
		s.mu.Lock()
		if s.wake != nil {
			close(s.wake)
			s.wake = nil
		}
		s.mu.Unlock()
	}
}
