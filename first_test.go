package echo

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/multierr"
)

// TestFirstRules checks First's and Hedge's contract, case by case, on
// each test runner (First nests in a Nursery on that runner).
func TestFirstRules(t *testing.T) {
	errA, errB, errC := errors.New("a failed"), errors.New("b failed"), errors.New("c failed")
	cases := []struct {
		name string
		// growOnly: a loser waits until it is cancelled, so the winner needs
		// a second goroutine while the waiter may run the loser itself; a
		// pool that cannot lend one cannot run it (see First's doc).
		growOnly bool
		rule     func(t *testing.T, ctx context.Context)
	}{
		{"the winner's result; losers cancelled and joined before First returns", true, func(t *testing.T, ctx context.Context) {
			var losersStarted, losersDone atomic.Int64
			loser := func(ctx context.Context) (string, error) {
				losersStarted.Add(1)
				<-ctx.Done()
				losersDone.Add(1)
				return "", ctx.Err()
			}
			v, err := First(ctx, Normal, loser, func(ctx context.Context) (string, error) { return "fast", nil }, loser)
			if v != "fast" || err != nil {
				t.Fatalf("First = %q, %v; want fast", v, err)
			}
			// A loser still queued when the winner returns is not started.
			if n, m := losersDone.Load(), losersStarted.Load(); n != m {
				t.Fatalf("%d of %d started losers had returned when First returned", n, m)
			}
		}},
		{"the winner is not cancelled while it runs", false, func(t *testing.T, ctx context.Context) {
			failed := make(chan struct{})
			v, err := First(ctx, Normal,
				func(ctx context.Context) (int, error) { defer close(failed); return 0, errA },
				func(ctx context.Context) (int, error) {
					<-failed // another function has returned (an error)
					if ctx.Err() != nil {
						return 0, errors.New("winner cancelled while it ran")
					}
					return 42, nil
				})
			if v != 42 || err != nil {
				t.Fatalf("First = %v, %v; want 42", v, err)
			}
		}},
		{"all fail: every error, in the order of fns", false, func(t *testing.T, ctx context.Context) {
			fail := func(e error) func(context.Context) (int, error) {
				return func(context.Context) (int, error) { return 0, e }
			}
			v, err := First(ctx, Normal, fail(errA), fail(errB), fail(errC))
			errs := multierr.Errors(err)
			if v != 0 || len(errs) != 3 || errs[0] != errA || errs[1] != errB || errs[2] != errC {
				t.Fatalf("First = %v, %v; want 0 and [a b c]", v, err)
			}
		}},
		{"a panic fails First as a *PanicError", false, func(t *testing.T, ctx context.Context) {
			_, err := First(ctx, Normal,
				func(context.Context) (int, error) { panic("replica bug") },
				func(context.Context) (int, error) { return 0, errA })
			var pe *PanicError
			if !errors.As(err, &pe) || pe.Value != "replica bug" {
				t.Fatalf("err = %v; want a *PanicError", err)
			}
		}},
		{"a cancelled ctx fails every function that had not succeeded", false, func(t *testing.T, ctx context.Context) {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := First(ctx, Normal,
				func(ctx context.Context) (int, error) { return 0, ctx.Err() },
				func(ctx context.Context) (int, error) { return 0, ctx.Err() })
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v; want context.Canceled", err)
			}
		}},
		{"Hedge does not start the next function if the first answers within d", false, func(t *testing.T, ctx context.Context) {
			var second atomic.Bool
			v, err := Hedge(ctx, Normal, time.Hour,
				func(context.Context) (int, error) { return 1, nil },
				func(context.Context) (int, error) { second.Store(true); return 2, nil })
			if v != 1 || err != nil || second.Load() {
				t.Fatalf("Hedge = %v, %v, second started: %v; want 1 and no second", v, err, second.Load())
			}
		}},
		{"Hedge starts the next function once d has passed, and cancels the slow one", true, func(t *testing.T, ctx context.Context) {
			slowCancelled := false
			v, err := Hedge(ctx, Normal, time.Millisecond,
				func(ctx context.Context) (int, error) {
					<-ctx.Done()
					slowCancelled = true // read after Hedge returns: joined
					return 0, ctx.Err()
				},
				func(context.Context) (int, error) { return 2, nil })
			if v != 2 || err != nil || !slowCancelled {
				t.Fatalf("Hedge = %v, %v, slow one cancelled: %v; want 2 and true", v, err, slowCancelled)
			}
		}},
		{"Hedge starts the next function at once when the previous one fails", false, func(t *testing.T, ctx context.Context) {
			v, err := Hedge(ctx, Normal, time.Hour,
				func(context.Context) (int, error) { return 0, errA },
				func(context.Context) (int, error) { return 0, errB },
				func(context.Context) (int, error) { return 3, nil })
			if v != 3 || err != nil {
				t.Fatalf("Hedge = %v, %v; want 3 within far less than an hour", v, err)
			}
		}},
		{"Hedge: all fail, every error", false, func(t *testing.T, ctx context.Context) {
			_, err := Hedge(ctx, Normal, time.Hour,
				func(context.Context) (int, error) { return 0, errA },
				func(context.Context) (int, error) { return 0, errB })
			if errs := multierr.Errors(err); len(errs) != 2 || errs[0] != errA || errs[1] != errB {
				t.Fatalf("err = %v; want [a b]", err)
			}
		}},
		{"Hedge: a cancelled ctx stops starting functions and is reported", false, func(t *testing.T, ctx context.Context) {
			ctx, cancel := context.WithCancelCause(ctx)
			errGone := errors.New("client went away")
			var second atomic.Bool
			_, err := Hedge(ctx, Normal, time.Hour,
				func(ctx context.Context) (int, error) {
					cancel(errGone)
					<-ctx.Done()
					return 0, ctx.Err()
				},
				func(context.Context) (int, error) { second.Store(true); return 2, nil })
			if !errors.Is(err, errGone) || second.Load() {
				t.Fatalf("Hedge = %v, second started: %v; want the ctx's cause and no second", err, second.Load())
			}
		}},
		{"fns run at priority p", false, func(t *testing.T, ctx context.Context) {
			p, err := First(ctx, High, func(ctx context.Context) (Priority, error) { return PriorityOf(ctx), nil })
			if p != High || err != nil {
				t.Fatalf("fn ran at %v (%v), want high", p, err)
			}
		}},
	}
	checkNoLeak(t)
	for _, rc := range resultRunners(t) {
		for _, c := range cases {
			if c.growOnly && rc.name != "pool2" {
				continue
			}
			t.Run(rc.name+"/"+c.name, func(t *testing.T) {
				within(t, timeoutLong, c.name, func() {
					err := Nursery(context.Background(), func(ctx context.Context) error {
						// On a worker, so that the waiter's help is tested.
						Go(ctx, Normal, func(ctx context.Context) error {
							c.rule(t, ctx)
							return nil
						})
						return nil
					}, rc.opt)
					if err != nil {
						t.Fatal(err)
					}
				})
			})
		}
	}
}
