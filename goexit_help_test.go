package echo

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"

	"go.uber.org/multierr"
)

// A child that calls runtime.Goexit while Wait runs it inline ends the
// waiting goroutine (documented on Wait), but not before the scope is
// joined: every other child has run when the goroutine is gone, none runs
// later, and the scope's failures reach the enclosing scope (or a later
// Wait) instead of vanishing with the goroutine. Before the fix, the
// Nursery's goroutine exited with most children still queued (measured:
// 118 of 1,000 had run) and their errors were lost.
func TestGoexitInHelpedChildJoinsScope(t *testing.T) {
	p := newPool(t, 2)
	const n = 1000
	errBoom := errors.New("boom")
	var ran atomic.Int64
	var afterExit atomic.Bool
	var late atomic.Int64
	exited := make(chan struct{})
	returned := make(chan error, 1)
	outer, octx := NewScope(context.Background(), WithPool(p), WithCollectAll())
	outer.Go(Normal, func(ctx context.Context) error {
		err := Nursery(ctx, func(ctx context.Context) error {
			for i := range n {
				Go(ctx, Normal, func(context.Context) error {
					if afterExit.Load() {
						late.Add(1)
					}
					ran.Add(1)
					switch i % 10 {
					case 0:
						return errBoom
					default:
						runtime.Goexit()
					}
					return nil
				})
			}
			return nil
		}, WithCollectAll())
		returned <- err
		return err
	})
	_ = octx
	go func() {
		defer close(exited)
		outer.Wait()
	}()
	within(t, timeoutLong, "the outer waiter", func() { <-exited })
	afterExit.Store(true)
	err := outer.Wait() // the first waiter may have exited with a child: Wait again
	if got := ran.Load(); got != n {
		t.Fatalf("%d of %d children had run when the scope was joined", got, n)
	}
	select {
	case err := <-returned:
		// The Nursery returned normally (no Goexit child ran inline on it).
		if got := len(multierr.Errors(err)); got != n/10 {
			t.Fatalf("Nursery returned %d errors; want %d", got, n/10)
		}
	default:
		// Its goroutine exited: the failures went to the outer scope.
		if got := len(multierr.Errors(err)); got != n/10 {
			t.Fatalf("outer Wait = %d errors; want the inner scope's %d", got, n/10)
		}
	}
	if !errors.Is(err, errBoom) {
		t.Fatalf("outer Wait = %v; want errBoom", err)
	}
	if late.Load() != 0 {
		t.Fatalf("%d children ran after their scope's waiter exited", late.Load())
	}
}
