package echo

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// ready(v): Start returns v; the child keeps running as a member of the
// scope, and its later error goes to the scope.
func TestStartReadyThenScopeMember(t *testing.T) {
	proceed := make(chan struct{})
	var got int
	err := Nursery(context.Background(), func(ctx context.Context) error {
		v, err := Start(ctx, High, func(ctx context.Context, ready func(int)) error {
			ready(42)
			<-proceed
			return errA
		})
		got = v
		close(proceed)
		return err
	})
	if got != 42 {
		t.Fatalf("Start returned %d; want 42", got)
	}
	if err != errA {
		t.Fatalf("Nursery = %v; want errA (the started child's error goes to the scope)", err)
	}
}

// An error before ready goes to the Start caller only.
func TestStartErrorBeforeReadyGoesToCaller(t *testing.T) {
	var startErr, scopeErr error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		_, startErr = Start(ctx, Normal, func(ctx context.Context, ready func(string)) error {
			return errB
		})
		scopeErr = ctx.Err()
		return nil
	})
	if startErr != errB {
		t.Fatalf("Start = %v; want errB itself", startErr)
	}
	if scopeErr != nil || err != nil {
		t.Fatalf("scope ctx.Err() = %v, Nursery = %v; want nil, nil (the scope never sees the error)", scopeErr, err)
	}
}

// Returning nil without ready, or calling Goexit, is ErrNotReady; a panic
// before ready is the caller's *PanicError.
func TestStartReturnWithoutReady(t *testing.T) {
	cases := []struct {
		name  string
		fn    func(ctx context.Context, ready func(int)) error
		check func(error) bool
	}{
		{"nil", func(context.Context, func(int)) error { return nil }, func(err error) bool { return errors.Is(err, ErrNotReady) }},
		{"panic", func(context.Context, func(int)) error { panic("early") }, func(err error) bool {
			var pe *PanicError
			return errors.As(err, &pe) && pe.Value == "early"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var startErr error
			err := Nursery(context.Background(), func(ctx context.Context) error {
				_, startErr = Start(ctx, Normal, tc.fn)
				return nil
			})
			if !tc.check(startErr) {
				t.Fatalf("Start = %v", startErr)
			}
			if err != nil {
				t.Fatalf("Nursery = %v; want nil", err)
			}
		})
	}
}

// Calling ready twice panics in the child; the scope reports the panic.
func TestStartReadyTwice(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		_, err := Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
			ready(1)
			ready(2)
			return nil
		})
		return err
	})
	var pe *PanicError
	if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "ready called more than once") {
		t.Fatalf("Nursery = %v; want a *PanicError about ready called more than once", err)
	}
}

// Cancelling the Start caller's ctx before ready cancels the child and
// Start returns ctx's error; the child's later result is dropped.
func TestStartCallerCancelledBeforeReady(t *testing.T) {
	var childCause error
	var startErr error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		callerCtx, cancel := context.WithCancelCause(ctx)
		started := make(chan struct{})
		go func() { <-started; cancel(errC) }()
		_, startErr = Start(callerCtx, Normal, func(ctx context.Context, ready func(int)) error {
			close(started)
			<-ctx.Done()
			childCause = context.Cause(ctx)
			ready(1) // too late: ignored
			return errA
		})
		return nil
	})
	if startErr != context.Canceled {
		t.Fatalf("Start = %v; want context.Canceled", startErr)
	}
	if childCause != errC {
		t.Fatalf("child saw cause %v; want the caller's cause errC", childCause)
	}
	if err != nil {
		t.Fatalf("Nursery = %v; want nil (the abandoned child's result is dropped)", err)
	}
}

// After ready the child no longer depends on the Start caller's ctx.
func TestStartAfterReadyIgnoresCallerCtx(t *testing.T) {
	proceed := make(chan struct{})
	var errAfter error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		callerCtx, cancel := context.WithCancel(ctx)
		_, err := Start(callerCtx, Normal, func(ctx context.Context, ready func(struct{})) error {
			ready(struct{}{})
			<-proceed
			errAfter = ctx.Err()
			return nil
		})
		cancel()
		close(proceed)
		return err
	})
	if err != nil || errAfter != nil {
		t.Fatalf("Nursery = %v, child ctx.Err() after caller cancel = %v; want nil, nil", err, errAfter)
	}
}

// After ready the child is still cancelled by its scope.
func TestStartAfterReadyCancelledByScope(t *testing.T) {
	var cause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		if _, err := Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
			ready(0)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		}); err != nil {
			return err
		}
		return errB
	})
	if err != errB || cause != errB {
		t.Fatalf("Nursery = %v, child cause %v; want errB, errB", err, cause)
	}
}

// On a cancelled scope the child is not started and Start returns the
// scope's cause instead of blocking.
func TestStartOnCancelledScope(t *testing.T) {
	s, ctx := NewScope(context.Background())
	s.Cancel(errC)
	ran := false
	_, err := Start(ctx, Normal, func(context.Context, func(int)) error { ran = true; return nil })
	if err != errC || ran {
		t.Fatalf("Start = %v (ran %v); want errC without running", err, ran)
	}
	if err := s.Wait(); err != nil {
		t.Fatalf("Wait() = %v; want nil (Start's caller was told)", err)
	}
}
