package echo

import (
	"context"
	"errors"
	"iter"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
)

// counted is an input of n ints, 0..n-1, that counts how many were taken.
func counted(n int, taken *atomic.Int64) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			taken.Add(1)
			if !yield(i) {
				return
			}
		}
	}
}

type streamItem struct {
	r   int
	err error
}

func collect(seq iter.Seq2[int, error]) []streamItem {
	var got []streamItem
	for r, err := range seq {
		got = append(got, streamItem{r, err})
	}
	return got
}

// TestStreamRules checks Stream's contract, case by case, on each test
// runner.
func TestStreamRules(t *testing.T) {
	double := func(ctx context.Context, v int) (int, error) {
		if v%5 == 0 {
			runtime.Gosched() // finish out of order
		}
		return 2 * v, nil
	}
	cases := []struct {
		name string
		rule func(t *testing.T, run Option)
	}{
		{"keeps input order", func(t *testing.T, run Option) {
			var taken atomic.Int64
			got := collect(Stream(context.Background(), Normal, counted(500, &taken), double, run))
			if len(got) != 500 {
				t.Fatalf("%d results, want 500", len(got))
			}
			for i, it := range got {
				if it.r != 2*i || it.err != nil {
					t.Fatalf("result %d = %v, want %d", i, it, 2*i)
				}
			}
		}},
		{"empty input yields nothing", func(t *testing.T, run Option) {
			var taken atomic.Int64
			if got := collect(Stream(context.Background(), Normal, counted(0, &taken), double, run)); len(got) != 0 {
				t.Fatalf("yielded %v from an empty input", got)
			}
		}},
		{"the window bounds elements taken and not yet yielded; input is pulled lazily", func(t *testing.T, run Option) {
			var taken atomic.Int64
			yielded := int64(0)
			for _, err := range Stream(context.Background(), Normal, counted(300, &taken), double, run, WithLimit(4)) {
				if err != nil {
					t.Fatal(err)
				}
				yielded++
				// taken counts the element being pulled too: at most the
				// window plus that one beyond what was yielded.
				if ahead := taken.Load() - yielded; ahead > 4 {
					t.Fatalf("%d elements taken beyond the %d yielded; window is 4", ahead, yielded)
				}
			}
		}},
		{"the default window is 2×GOMAXPROCS", func(t *testing.T, run Option) {
			var taken atomic.Int64
			window := 2 * runtime.GOMAXPROCS(0)
			full := make(chan struct{})
			for r, err := range Stream(context.Background(), Normal, counted(1000, &taken), func(ctx context.Context, v int) (int, error) {
				switch v {
				case 0:
					<-full // hold the head until the window has filled behind it
				case window - 1:
					close(full)
				}
				return v, nil
			}, run) {
				if err != nil || r != 0 {
					t.Fatalf("first result %v, %v", r, err)
				}
				if n := taken.Load(); n != int64(window) {
					t.Fatalf("%d elements taken when the head was yielded; want the window, %d", n, window)
				}
				break
			}
		}},
		{"an error is yielded at its position and ends the stream", func(t *testing.T, run Option) {
			var taken atomic.Int64
			got := collect(Stream(context.Background(), Normal, counted(1000, &taken), func(ctx context.Context, v int) (int, error) {
				if v == 10 {
					return 0, errElem
				}
				return v, nil
			}, run, WithLimit(3)))
			if len(got) != 11 || got[10].err != errElem {
				t.Fatalf("yielded %d results (last %v); want 10 results then errElem", len(got), got[len(got)-1])
			}
			for i, it := range got[:10] {
				if it.r != i || it.err != nil {
					t.Fatalf("result %d = %v", i, it)
				}
			}
			if n := taken.Load(); n > 10+3+1 {
				t.Fatalf("%d elements taken; the failure at 10 should stop the input within the window", n)
			}
		}},
		{"elements before a failure are not cancelled by it", func(t *testing.T, run Option) {
			slow := make(chan struct{})
			got := collect(Stream(context.Background(), Normal, counted(3, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
				switch v {
				case 0:
					<-slow // still running when element 1 fails
					if ctx.Err() != nil {
						return 0, errors.New("element 0 cancelled by a later failure")
					}
					return 100, nil
				case 1:
					defer close(slow)
					return 0, errElem
				}
				return v, nil
			}, run))
			if len(got) != 2 || got[0] != (streamItem{100, nil}) || got[1].err != errElem {
				t.Fatalf("yielded %v; want [100, errElem]", got)
			}
		}},
		{"WithCollectAll goes on after an error", func(t *testing.T, run Option) {
			got := collect(Stream(context.Background(), Normal, counted(20, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
				if v%4 == 1 {
					return 0, errElem
				}
				return v, nil
			}, run, WithCollectAll()))
			if len(got) != 20 {
				t.Fatalf("%d results with WithCollectAll, want all 20", len(got))
			}
			for i, it := range got {
				if (i%4 == 1) != (it.err == errElem) || (it.err == nil && it.r != i) {
					t.Fatalf("result %d = %v", i, it)
				}
			}
		}},
		{"a panic is yielded as a *PanicError at its position", func(t *testing.T, run Option) {
			got := collect(Stream(context.Background(), Normal, counted(5, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
				if v == 2 {
					panic("parser bug")
				}
				return v, nil
			}, run))
			var pe *PanicError
			if len(got) != 3 || !errors.As(got[2].err, &pe) || pe.Value != "parser bug" {
				t.Fatalf("yielded %v; want 0, 1, then a *PanicError", got)
			}
		}},
		{"break cancels the elements in flight and joins them before the loop ends", func(t *testing.T, run Option) {
			var started, returned atomic.Int64
			for r := range Stream(context.Background(), Normal, counted(1000, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
				if v == 0 {
					return 0, nil
				}
				started.Add(1)
				defer returned.Add(1)
				<-ctx.Done() // only the break ends these
				return 0, ctx.Err()
			}, run, WithLimit(4)) {
				if r == 0 {
					break
				}
			}
			if s, r := started.Load(), returned.Load(); s != r {
				t.Fatalf("%d elements started, %d returned when the loop ended", s, r)
			}
		}},
		{"a panicking consumer cancels and joins the rest, and its panic goes on", func(t *testing.T, run Option) {
			var started, returned atomic.Int64
			func() {
				defer func() {
					if v := recover(); v != "consumer bug" {
						t.Errorf("recovered %v, want the consumer's panic", v)
					}
				}()
				for range Stream(context.Background(), Normal, counted(1000, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
					if v == 0 {
						return 0, nil
					}
					started.Add(1)
					defer returned.Add(1)
					<-ctx.Done()
					return 0, ctx.Err()
				}, run, WithLimit(4)) {
					panic("consumer bug")
				}
			}()
			if s, r := started.Load(), returned.Load(); s != r {
				t.Fatalf("%d elements started, %d returned after the consumer panicked", s, r)
			}
		}},
		{"a panicking input cancels and joins the rest, and its panic goes on", func(t *testing.T, run Option) {
			var started, returned atomic.Int64
			in := func(yield func(int) bool) {
				for i := range 3 {
					if !yield(i) {
						return
					}
				}
				panic("input bug")
			}
			func() {
				defer func() {
					if v := recover(); v != "input bug" {
						t.Errorf("recovered %v, want the input's panic", v)
					}
				}()
				for range Stream(context.Background(), Normal, in, func(ctx context.Context, v int) (int, error) {
					started.Add(1)
					defer returned.Add(1)
					<-ctx.Done()
					return 0, ctx.Err()
				}, run, WithLimit(8)) {
					t.Error("yielded a result that cannot be ready")
				}
			}()
			if s, r := started.Load(), returned.Load(); s != r {
				t.Fatalf("%d elements started, %d returned after the input panicked", s, r)
			}
		}},
		{"a cancelled ctx ends the stream with its cause", func(t *testing.T, run Option) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			errGone := errors.New("client went away")
			var last error
			n := 0
			for _, err := range Stream(ctx, Normal, counted(1000, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
				return v, nil
			}, run, WithLimit(2), WithCollectAll()) {
				n++
				if n == 5 {
					cancel(errGone)
				}
				last = err
			}
			if !errors.Is(last, errGone) || n >= 1000 {
				t.Fatalf("after %d results the stream ended with %v; want the ctx's cause before the input ends", n, last)
			}
		}},
		{"ranging twice runs the input twice", func(t *testing.T, run Option) {
			seq := Stream(context.Background(), Normal, slices.Values([]int{1, 2, 3}), double, run)
			a, b := collect(seq), collect(seq)
			if !slices.Equal(a, b) || len(a) != 3 {
				t.Fatalf("two ranges gave %v and %v", a, b)
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

// TestStreamConsumerOnAWorkerRunsTheHeadItself: a Stream ranged inside a
// child on a pool whose only worker that child holds, and which cannot
// grow, completes: the consumer runs each element it waits for itself.
func TestStreamConsumerOnAWorkerRunsTheHeadItself(t *testing.T) {
	checkNoLeak(t)
	p := newPoolNoGrow(t, 1)
	within(t, timeoutLong, "a Stream on the only worker", func() {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(ctx context.Context) error {
				got := collect(Stream(ctx, Normal, counted(100, new(atomic.Int64)), func(ctx context.Context, v int) (int, error) {
					return v, nil
				}))
				if len(got) != 100 || got[99].r != 99 {
					t.Errorf("got %d results", len(got))
				}
				return nil
			})
			return nil
		}, WithPool(p))
		if err != nil {
			t.Error(err)
		}
	})
}
