package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

var errSlowReplica = errors.New("slow replica gave up")

// Helpers shared by the tests of Map, First, Hedge and Stream.

// resultRunners are the pools the result functions are tested on: a
// 2-worker pool that may add workers while its workers block, one that
// cannot grow (WithMaxWorkers(2)), and a bare 2-goroutine runner with no
// blocking detection at all, so that progress comes from help-while-waiting.
func resultRunners(t *testing.T) []struct {
	name string
	opt  Option
} {
	t.Helper()
	noGrow := newPoolNoGrow(t, 2)
	return []struct {
		name string
		opt  Option
	}{
		{"pool2", WithPool(newPool(t, 2))},
		{"pool2-nogrow", WithPool(noGrow)},
		{"fixed2", withRunner(newFixedPool(t, 2))},
	}
}

// checkNoLeak fails t at its end if a goroutine started during the test is
// still there once every later cleanup (stopping the test's pools) has run.
// Call it before creating the test's pools.
func checkNoLeak(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// busyPs keeps every P busy with goroutines outside any pool until the
// test ends, as a loaded server would: the pool's workers compete for CPU.
func busyPs(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		})
	}
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// withProcs runs f with GOMAXPROCS n.
func withProcs(t *testing.T, n int, f func(t *testing.T)) {
	t.Run(fmt.Sprintf("procs%d", n), func(t *testing.T) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
		f(t)
	})
}

// TestResultFunctionsNestOnTwoWorkers: Map, First and Stream nested inside
// each other (Map inside a Stream's fn, Stream inside a Map's fn, First
// inside both) complete with the right results on a 2-worker pool, one that
// cannot grow, and a bare 2-goroutine runner, at GOMAXPROCS 1, 2 and 8, with
// every P kept busy by goroutines outside the pool.
func TestResultFunctionsNestOnTwoWorkers(t *testing.T) {
	for _, procs := range []int{1, 2, 8} {
		withProcs(t, procs, func(t *testing.T) {
			checkNoLeak(t)
			busyPs(t)
			for _, rc := range resultRunners(t) {
				t.Run(rc.name, func(t *testing.T) {
					within(t, timeoutLong, "nested Map/Stream/First on "+rc.name, func() {
						nestResults(t, rc.opt)
					})
				})
			}
		})
	}
}

// nestResults is the nested workload: a Stream over 12 elements whose fn
// runs a Map over 6 elements whose fn runs First over two replicas and a
// Stream over 3 elements.
func nestResults(t *testing.T, run Option) {
	ctx := context.Background()
	var calls atomic.Int64
	inner := func(ctx context.Context, v int) (int, error) {
		calls.Add(1)
		w, err := First(ctx, Normal,
			// A slow replica. It gives up by itself after a while: on a
			// pool that cannot grow, the waiter may run it inline, and
			// the winner then needs it to end (see First).
			func(ctx context.Context) (int, error) {
				t := time.NewTimer(time.Millisecond)
				defer t.Stop()
				select {
				case <-ctx.Done():
					return 0, ctx.Err()
				case <-t.C:
					return 0, errSlowReplica
				}
			},
			func(ctx context.Context) (int, error) { return v, nil },
		)
		if err != nil {
			return 0, err
		}
		sum := 0
		for r, err := range Stream(ctx, Low, slices.Values([]int{1, 2, 3}), func(ctx context.Context, x int) (int, error) {
			return x * w, nil
		}, WithLimit(2)) {
			if err != nil {
				return 0, err
			}
			sum += r
		}
		return sum, nil // 6 * v
	}
	outer := func(ctx context.Context, v int) ([]int, error) {
		in := []int{v, v + 1, v + 2, v + 3, v + 4, v + 5}
		return Map(ctx, High, in, inner)
	}
	// The outer Map opens the scope on the test's runner; everything
	// nested inherits it.
	got, err := Map(ctx, Normal, []int{0, 100}, func(ctx context.Context, base int) ([][]int, error) {
		var rows [][]int
		for row, err := range Stream(ctx, Normal, func(yield func(int) bool) {
			for i := range 6 {
				if !yield(base + 10*i) {
					return
				}
			}
		}, outer, WithLimit(3)) {
			if err != nil {
				return nil, err
			}
			rows = append(rows, row)
		}
		return rows, nil
	}, run)
	if err != nil {
		t.Fatalf("nested Map/Stream/First: %v", err)
	}
	for b, base := range []int{0, 100} {
		if len(got[b]) != 6 {
			t.Fatalf("outer element %d: %d rows, want 6", b, len(got[b]))
		}
		for i, row := range got[b] {
			for j, x := range row {
				if want := 6 * (base + 10*i + j); x != want {
					t.Fatalf("result [%d][%d][%d] = %d, want %d (order lost?)", b, i, j, x, want)
				}
			}
		}
	}
	if c := calls.Load(); c != 2*6*6 {
		t.Fatalf("inner fn ran %d times, want %d", c, 2*6*6)
	}
}

// newPoolNoGrow returns a pool of n workers that may not add workers
// (WithMaxWorkers(n)), stopped when the test ends.
func newPoolNoGrow(t *testing.T, n int) *pool.Pool {
	t.Helper()
	p := pool.New(pool.WithWorkers(n), pool.WithMaxWorkers(n))
	t.Cleanup(func() { stopPool(t, p) })
	return p
}

// TestResultFunctionsMisusePanicsNamingTheFunction: bad input to Map,
// First, Hedge and Stream panics at the call site (for Stream, at the call
// of Stream, not when the sequence is ranged), naming the function and the
// fault.
func TestResultFunctionsMisusePanicsNamingTheFunction(t *testing.T) {
	bg := context.Background()
	var nilCtx context.Context
	mapFn := func(ctx context.Context, v int) (int, error) { return v, nil }
	firstFn := func(ctx context.Context) (int, error) { return 1, nil }
	in := slices.Values([]int{1})
	cases := []struct {
		name, want string
		f          func()
	}{
		{"Map nil ctx", "echo: Map called with a nil ctx", func() { Map(nilCtx, Normal, []int{1}, mapFn) }},
		{"Map nil fn", "echo: Map called with a nil fn", func() { Map[int, int](bg, Normal, []int{1}, nil) }},
		{"Map bad priority", "echo: Map called with unknown priority", func() { Map(bg, Priority(9), []int{1}, mapFn) }},
		{"Map nil Option", "echo: Map called with a nil Option", func() { Map(bg, Normal, []int{1}, mapFn, nil) }},
		{"Map nil Option, empty input", "echo: Map called with a nil Option", func() { Map(bg, Normal, nil, mapFn, nil) }},
		{"First nil ctx", "echo: First called with a nil ctx", func() { First(nilCtx, Normal, firstFn) }},
		{"First no functions", "echo: First called with no functions", func() { First[int](bg, Normal) }},
		{"First nil function", "echo: First called with a nil function (fns[1])", func() { First(bg, Normal, firstFn, nil) }},
		{"First bad priority", "echo: First called with unknown priority", func() { First(bg, Priority(9), firstFn) }},
		{"Hedge negative d", "echo: Hedge called with d = -1s", func() { Hedge(bg, Normal, -time.Second, firstFn) }},
		{"Hedge no functions", "echo: Hedge called with no functions", func() { Hedge[int](bg, Normal, time.Second) }},
		{"Stream nil ctx", "echo: Stream called with a nil ctx", func() { Stream(nilCtx, Normal, in, mapFn) }},
		{"Stream nil in", "echo: Stream called with a nil in", func() { Stream(bg, Normal, nil, mapFn) }},
		{"Stream nil fn", "echo: Stream called with a nil fn", func() { Stream[int, int](bg, Normal, in, nil) }},
		{"Stream bad priority", "echo: Stream called with unknown priority", func() { Stream(bg, Priority(9), in, mapFn) }},
		{"Stream nil Option", "echo: Stream called with a nil Option", func() { Stream(bg, Normal, in, mapFn, nil) }},
	}
	for _, c := range cases {
		got := outcome(t, c.f)
		if s, _ := got.(string); !strings.HasPrefix(s, c.want) {
			t.Errorf("%s: panicked with %v; want a message starting %q", c.name, got, c.want)
		}
	}
}

// TestResultFunctionsCountGoexitAsFailure: a function that calls
// runtime.Goexit (as t.FailNow does) has no result; Map, First and Stream
// report it as a failure instead of a zero result (the scope itself counts
// such a child done with no error).
func TestResultFunctionsCountGoexitAsFailure(t *testing.T) {
	checkNoLeak(t)
	run := WithPool(newPool(t, 2))
	ctx := context.Background()
	within(t, timeoutLong, "Goexit in Map, First and Stream", func() {
		out, err := Map(ctx, Normal, []int{0, 1, 2}, func(ctx context.Context, v int) (int, error) {
			if v == 1 {
				runtime.Goexit()
			}
			return v, nil
		}, run)
		if !errors.Is(err, errGoexit) || out != nil {
			t.Errorf("Map = %v, %v; want nil and errGoexit", out, err)
		}

		err = Nursery(ctx, func(ctx context.Context) error {
			v, err := First(ctx, Normal,
				func(context.Context) (int, error) { runtime.Goexit(); return 1, nil },
				func(context.Context) (int, error) { return 0, errElem })
			if errs := multierr.Errors(err); v != 0 || len(errs) != 2 || errs[0] != errGoexit || errs[1] != errElem {
				t.Errorf("First = %v, %v; want 0 and [errGoexit errElem]", v, err)
			}
			return nil
		}, run)
		if err != nil {
			t.Error(err)
		}

		var got []error
		for _, err := range Stream(ctx, Normal, slices.Values([]int{0, 1, 2, 3}), func(ctx context.Context, v int) (int, error) {
			if v == 2 {
				runtime.Goexit()
			}
			return v, nil
		}, run) {
			got = append(got, err)
		}
		if len(got) != 3 || got[0] != nil || got[1] != nil || got[2] != errGoexit {
			t.Errorf("Stream yielded errors %v; want nil, nil, errGoexit", got)
		}
	})
}
