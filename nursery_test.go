package echo

import (
	"context"
	"sync/atomic"
	"testing"
)

// fib computes Fibonacci numbers by recursive fork-join through nested
// Nurseries: one half as a child, the other on the calling goroutine.
func fib(ctx context.Context, n int) (int, error) {
	if n < 2 {
		return n, nil
	}
	var a, b int
	err := Nursery(ctx, func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) (err error) {
			a, err = fib(ctx, n-1)
			return err
		})
		var err error
		b, err = fib(ctx, n-2)
		return err
	})
	return a + b, err
}

// Recursive fork-join through nested scopes completes on a two-worker pool
// (each waiting worker helps with its scope's queued children).
//
// The fixed2 case runs on a test pool with exactly two workers and no way
// to add any, so it completes only thanks to the scopes' own help.
func TestForkJoinFibOnTwoWorkers(t *testing.T) {
	n, want := 18, 2584
	if testing.Short() {
		n, want = 12, 144
	}
	for _, tc := range []struct {
		name string
		opt  func(t *testing.T) Option
	}{
		{"pool", func(t *testing.T) Option { return WithPool(newPool(t, 2)) }},
		{"fixed2", func(t *testing.T) Option { return withRunner(newFixedPool(t, 2)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := tc.opt(t)
			within(t, timeoutLong, "fib through nested Nurseries on 2 workers", func() {
				var got int
				err := Nursery(context.Background(), func(ctx context.Context) (err error) {
					got, err = fib(ctx, n)
					return err
				}, opt)
				if err != nil || got != want {
					t.Errorf("fib(%d) = %d, %v; want %d, nil", n, got, err, want)
				}
			})
		})
	}
}

// Children that wait on each other complete inside a Nursery on a
// two-worker pool: twenty consumers are spawned before the one producer
// and all block on an unbuffered channel until it runs.
func TestProducerConsumersOnTwoWorkers(t *testing.T) {
	p := newPool(t, 2)
	const consumers = 20
	within(t, timeoutLong, "1 producer + 20 consumers on 2 workers", func() {
		var sum atomic.Int64
		err := Nursery(context.Background(), func(ctx context.Context) error {
			ch := make(chan int)
			for range consumers {
				Go(ctx, Normal, func(context.Context) error {
					sum.Add(int64(<-ch))
					return nil
				})
			}
			Go(ctx, Normal, func(context.Context) error {
				for i := 1; i <= consumers; i++ {
					ch <- i
				}
				return nil
			})
			return nil
		}, WithPool(p))
		if err != nil {
			t.Errorf("Nursery = %v", err)
		}
		if got, want := sum.Load(), int64(consumers*(consumers+1)/2); got != want {
			t.Errorf("consumers received a sum of %d; want %d", got, want)
		}
	})
}

type ctxKey struct{}

// A child spawned with Go sees the values of the ctx it was spawned with,
// and its own priority; children of children go to the same scope. (The
// scope is opened at Low, so its Wait lifts nothing.)
func TestGoInheritsCtxValuesAndPriority(t *testing.T) {
	var val any
	var prio Priority
	var inner bool
	err := Nursery(context.Background(), func(ctx context.Context) error {
		vctx := context.WithValue(ctx, ctxKey{}, "v")
		Go(vctx, Low, func(ctx context.Context) error {
			val = ctx.Value(ctxKey{})
			prio = PriorityOf(ctx)
			Go(ctx, High, func(ctx context.Context) error {
				inner = memberOf(ctx).s == memberOf(vctx).s
				return nil
			})
			return nil
		})
		return nil
	}, WithPriority(Low))
	if err != nil {
		t.Fatal(err)
	}
	if val != "v" || prio != Low || !inner {
		t.Fatalf("child saw value %v, priority %v, same scope %v; want v, low, true", val, prio, inner)
	}
}

// Package-level TryGo accepts within the limit and refuses beyond it.
func TestPackageTryGo(t *testing.T) {
	release := make(chan struct{})
	err := Nursery(context.Background(), func(ctx context.Context) error {
		if !TryGo(ctx, Normal, func(context.Context) error { <-release; return nil }) {
			t.Error("first TryGo refused with a free slot")
		}
		if TryGo(ctx, Normal, func(context.Context) error { return nil }) {
			t.Error("second TryGo accepted with the limit full")
		}
		close(release)
		return nil
	}, WithLimit(1))
	if err != nil {
		t.Fatal(err)
	}
}

// A Nursery inside a child is nested: the child's scope's failure cancels it.
func TestNestedNurseryCancelledByOuterFailure(t *testing.T) {
	var innerCause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			return Nursery(ctx, func(ctx context.Context) error {
				close(started)
				<-ctx.Done()
				innerCause = context.Cause(ctx)
				return ctx.Err()
			})
		})
		<-started
		return errA
	})
	if err != errA || innerCause != errA {
		t.Fatalf("Nursery = %v, inner cause %v; want errA, errA", err, innerCause)
	}
}
