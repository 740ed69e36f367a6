package echo

import (
	"context"
	"fmt"
	"sync"
)

// A Group is a drop-in replacement for golang.org/x/sync/errgroup.Group:
// the same methods with the same contract, so code can switch by changing
// the import. Each function passed to Go runs on its own goroutine, not on a
// pool, concurrently with all others, exactly as with errgroup; use a
// [Scope] or [Nursery] for pooled, prioritized children.
//
// The one difference: a panic in a function is recovered, cancels the
// context from [WithContext] and is returned by Wait as a [*PanicError]
// (if it was the first error), instead of crashing the program.
//
// A zero Group is valid, has no limit on active goroutines and does not
// cancel on error. As with errgroup, a Group is for one task and should not
// be reused after Wait.
type Group struct {
	cancel context.CancelCauseFunc // nil for a zero Group

	wg  sync.WaitGroup
	sem chan struct{} // SetLimit slots; nil for no limit

	errMu sync.Mutex
	err   error // the first non-nil error; never changes once set
}

// WithContext returns a new Group and a Context derived from ctx. The
// Context is cancelled, with the error as its cause, the first time a
// function passed to Go returns a non-nil error (or panics); otherwise it
// is cancelled when Wait first returns, with context.Canceled as cause.
func WithContext(ctx context.Context) (*Group, context.Context) {
	ctx, cancel := context.WithCancelCause(ctx)
	return &Group{cancel: cancel}, ctx
}

// Go calls f in a new goroutine. If a limit is set, Go first blocks until
// the number of active goroutines is below it. The first call to Go must
// happen before Wait. The first f to return a non-nil error (or panic)
// cancels the Group's context; Wait returns that error.
//
// Go panics if f is nil (errgroup would crash on the new goroutine instead;
// here the fault is reported where it is).
func (g *Group) Go(f func() error) {
	if f == nil {
		panic("echo: Group.Go called with a nil function")
	}
	if g.sem != nil {
		g.sem <- struct{}{}
	}
	g.start(f)
}

// TryGo calls f in a new goroutine only if the number of active goroutines
// is below the limit, and reports whether it did. It panics if f is nil.
func (g *Group) TryGo(f func() error) bool {
	if f == nil {
		panic("echo: Group.TryGo called with a nil function")
	}
	if g.sem != nil {
		select {
		case g.sem <- struct{}{}:
		default:
			return false
		}
	}
	g.start(f)
	return true
}

func (g *Group) start(f func() error) {
	g.wg.Add(1)
	go func() {
		// On return, panic (recovered in protect) or runtime.Goexit: free
		// the slot first, so a TryGo after Wait can already use it.
		defer g.wg.Done()
		defer g.release()
		if err := protect(context.Background(), func(context.Context) error { return f() }, g.fail); err != nil {
			g.fail(err)
		}
	}()
}

func (g *Group) release() {
	if g.sem != nil {
		<-g.sem
	}
}

// fail records err if it is the first, and then cancels the context with it.
func (g *Group) fail(err error) {
	g.errMu.Lock()
	first := g.err == nil
	if first {
		g.err = err
	}
	g.errMu.Unlock()
	if first && g.cancel != nil {
		g.cancel(err)
	}
}

// Wait blocks until every function passed to Go has returned, then returns
// the first non-nil error (identical, not wrapped), if any. It cancels the
// context from WithContext, with that error as cause (context.Canceled if
// none).
func (g *Group) Wait() error {
	g.wg.Wait()
	g.errMu.Lock()
	err := g.err
	g.errMu.Unlock()
	if g.cancel != nil {
		g.cancel(err)
	}
	return err
}

// SetLimit limits the number of active goroutines in the group to at most
// n; a negative n removes the limit, and n == 0 blocks every Go (TryGo
// returns false). Go then blocks until it can start a goroutine within the
// limit. The limit must not be changed while goroutines are active:
// SetLimit panics if any are.
func (g *Group) SetLimit(n int) {
	if n < 0 {
		g.sem = nil
		return
	}
	if active := len(g.sem); active != 0 {
		panic(fmt.Errorf("echo: Group.SetLimit called while %d goroutines of the group are active; change the limit only between Waits", active))
	}
	g.sem = make(chan struct{}, n)
}
