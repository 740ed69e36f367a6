package echo

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/multierr"
)

var errElem = errors.New("element failed")

// TestMapRules checks Map's contract, case by case, on each test runner.
func TestMapRules(t *testing.T) {
	type check func(t *testing.T, run Option)
	cases := []struct {
		name string
		rule check
	}{
		{"keeps input order", func(t *testing.T, run Option) {
			in := make([]int, 1000)
			for i := range in {
				in[i] = i
			}
			out, err := Map(context.Background(), Normal, in, func(ctx context.Context, v int) (int, error) {
				if v%7 == 0 {
					runtime.Gosched() // finish out of order
				}
				return v * 3, nil
			}, run)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range out {
				if r != 3*i {
					t.Fatalf("out[%d] = %d, want %d", i, r, 3*i)
				}
			}
		}},
		{"empty input gives an empty non-nil slice", func(t *testing.T, run Option) {
			for _, in := range [][]int{nil, {}} {
				out, err := Map(context.Background(), Normal, in, func(ctx context.Context, v int) (string, error) {
					t.Error("fn called on an empty input")
					return "", nil
				}, run)
				if out == nil || len(out) != 0 || err != nil {
					t.Fatalf("Map(%#v) = %#v, %v; want an empty non-nil slice and nil", in, out, err)
				}
			}
		}},
		{"an error cancels the rest and is returned with no results", func(t *testing.T, run Option) {
			var started, cancelled atomic.Int64
			in := []int{0, 1, 2, 3, 4, 5}
			out, err := Map(context.Background(), Normal, in, func(ctx context.Context, v int) (int, error) {
				if v == 3 {
					return 0, errElem
				}
				if v == 0 {
					started.Add(1)
					<-ctx.Done() // held until the failure cancels it
					cancelled.Add(1)
					return 0, ctx.Err()
				}
				return v, nil
			}, run)
			if !errors.Is(err, errElem) || out != nil {
				t.Fatalf("Map = %v, %v; want nil and errElem", out, err)
			}
			if len(multierr.Errors(err)) != 1 {
				t.Fatalf("err %q lists %d errors; the cancelled element's cancellation must not be one", err, len(multierr.Errors(err)))
			}
			// Element 0 is not started if the failure comes first.
			if cancelled.Load() != started.Load() {
				t.Fatalf("the blocked element was not cancelled and joined before Map returned")
			}
		}},
		{"a panic comes back as a *PanicError", func(t *testing.T, run Option) {
			_, err := Map(context.Background(), Normal, []int{1, 2, 3}, func(ctx context.Context, v int) (int, error) {
				if v == 2 {
					panic("boom")
				}
				return v, nil
			}, run)
			var pe *PanicError
			if !errors.As(err, &pe) || pe.Value != "boom" {
				t.Fatalf("err = %v; want a *PanicError with value boom", err)
			}
		}},
		{"WithCollectAll runs every element and reports every failure", func(t *testing.T, run Option) {
			var ran atomic.Int64
			_, err := Map(context.Background(), Normal, []int{0, 1, 2, 3, 4, 5, 6, 7}, func(ctx context.Context, v int) (int, error) {
				ran.Add(1)
				if v%2 == 1 {
					return 0, errElem
				}
				return v, nil
			}, run, WithCollectAll())
			if n := len(multierr.Errors(err)); n != 4 || ran.Load() != 8 {
				t.Fatalf("%d elements ran, %d errors (%v); want 8 and 4", ran.Load(), n, err)
			}
		}},
		{"a cancelled ctx stops the elements and is returned", func(t *testing.T, run Option) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			errGone := errors.New("client went away")
			var once atomic.Bool
			out, err := Map(ctx, Normal, make([]int, 50), func(ctx context.Context, v int) (int, error) {
				if once.CompareAndSwap(false, true) {
					cancel(errGone) // the caller's ctx ends while elements run
				}
				<-ctx.Done()
				return 0, ctx.Err()
			}, run, WithLimit(2))
			if !errors.Is(err, errGone) || out != nil {
				t.Fatalf("Map = %v, %v; want nil and the ctx's cause", out, err)
			}
		}},
		{"WithLimit bounds the elements in flight", func(t *testing.T, run Option) {
			var now, peak atomic.Int64
			_, err := Map(context.Background(), Normal, make([]int, 200), func(ctx context.Context, v int) (int, error) {
				n := now.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				runtime.Gosched()
				now.Add(-1)
				return v, nil
			}, run, WithLimit(3))
			if err != nil || peak.Load() > 3 {
				t.Fatalf("peak %d elements in flight with WithLimit(3) (err %v)", peak.Load(), err)
			}
		}},
		{"WithTimeout ends a slow Map with DeadlineExceeded", func(t *testing.T, run Option) {
			_, err := Map(context.Background(), Normal, []int{1, 2}, func(ctx context.Context, v int) (int, error) {
				<-ctx.Done()
				return 0, ctx.Err()
			}, run, WithTimeout(time.Millisecond))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
		}},
		{"fn runs at priority p under ctx's scope", func(t *testing.T, run Option) {
			err := Nursery(context.Background(), func(ctx context.Context) error {
				out, err := Map(ctx, Low, []int{1, 2}, func(ctx context.Context, v int) (Priority, error) {
					return PriorityOf(ctx), nil
				})
				if err != nil {
					return err
				}
				for _, p := range out {
					if p != Low {
						t.Errorf("fn ran at %v, want low", p)
					}
				}
				return nil
			}, run)
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"an outer scope's cancellation reaches a nested Map", func(t *testing.T, run Option) {
			errOuter := errors.New("outer failed")
			err := Nursery(context.Background(), func(ctx context.Context) error {
				Go(ctx, High, func(ctx context.Context) error { return errOuter })
				_, err := Map(ctx, Normal, []int{1, 2}, func(ctx context.Context, v int) (int, error) {
					<-ctx.Done()
					return 0, ctx.Err()
				})
				if !errors.Is(err, errOuter) {
					t.Errorf("nested Map returned %v, want the outer scope's cause", err)
				}
				return nil
			}, run)
			if !errors.Is(err, errOuter) {
				t.Fatalf("outer Nursery = %v", err)
			}
		}},
	}
	checkNoLeak(t)
	for _, rc := range resultRunners(t) {
		for _, c := range cases {
			t.Run(rc.name+"/"+c.name, func(t *testing.T) {
				within(t, timeoutLong, c.name, func() { c.rule(t, rc.opt) })
			})
		}
	}
}
