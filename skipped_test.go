package echo

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// isSkipped reports whether err is a *SkippedError of n children that
// matches cause.
func isSkipped(err, cause error, n int) bool {
	var se *SkippedError
	return errors.As(err, &se) && se.Skipped == n && errors.Is(err, cause)
}

// A scope cancelled at shutdown says how many accepted children it skipped:
// Wait returns a *SkippedError with the count, which still matches the
// cancellation (errors.Is context.Canceled, and the cause given to Cancel).
// Started + skipped = accepted, so no child is lost silently.
func TestShutdownSaysHowManyChildrenItSkipped(t *testing.T) {
	errShutdown := errors.New("echo_test: shutting down")
	for _, tc := range []struct {
		name   string
		cancel func(*Scope, context.CancelFunc)
		is     []error
	}{
		{"Cancel(nil)", func(s *Scope, _ context.CancelFunc) { s.Cancel(nil) }, []error{context.Canceled}},
		{"Cancel(cause)", func(s *Scope, _ context.CancelFunc) { s.Cancel(errShutdown) }, []error{context.Canceled, errShutdown}},
		{"parent ctx", func(_ *Scope, cancel context.CancelFunc) { cancel() }, []error{context.Canceled}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1))
			defer stopPool(t, p)
			gate, busy := make(chan struct{}), make(chan struct{})
			if err := p.Go(context.Background(), High, func(context.Context) { close(busy); <-gate }); err != nil {
				t.Fatal(err)
			}
			<-busy
			parent, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, _ := NewScope(parent, WithPool(p))
			const n = 500
			var started atomic.Int64
			for range n {
				s.Go(Normal, func(context.Context) error { started.Add(1); return nil })
			}
			tc.cancel(s, cancel)
			close(gate)
			var err error
			within(t, timeoutLong, "Wait after the shutdown", func() { err = s.Wait() })
			var se *SkippedError
			if !errors.As(err, &se) {
				t.Fatalf("Wait = %v; want a *SkippedError", err)
			}
			for _, target := range tc.is {
				if !errors.Is(err, target) {
					t.Errorf("Wait = %v; errors.Is(err, %v) is false", err, target)
				}
			}
			if got := started.Load() + int64(se.Skipped); got != n || se.Skipped == 0 {
				t.Fatalf("started %d + skipped %d = %d; want %d, with some skipped", started.Load(), se.Skipped, got, n)
			}
		})
	}
}

// With a deadline, the count comes with context.DeadlineExceeded; and a
// scope whose cancellation skipped nothing returns the bare cause.
func TestSkippedErrorDeadlineAndNoneSkipped(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		for range 3 {
			Go(ctx, Normal, func(context.Context) error { return nil })
		}
		return nil
	}, WithTimeout(-time.Second))
	var se *SkippedError
	if !errors.As(err, &se) || se.Skipped != 3 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Nursery with an expired deadline = %v; want a *SkippedError of 3 that is context.DeadlineExceeded", err)
	}
	err = Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		return nil
	}, WithTimeout(time.Millisecond))
	if err != context.DeadlineExceeded {
		t.Fatalf("Nursery whose deadline skipped no child = %v; want context.DeadlineExceeded itself", err)
	}
}
