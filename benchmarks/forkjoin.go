package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Scenario 3, fork-join: fib(n) where every call with n >= cutoff forks
// fib(n-1) and fib(n-2) into a nested group and waits for both; below the
// cutoff it recurses sequentially. "Bounded" means what each library offers:
// the pools (echo, ants, pond) share ONE pool of W workers across all levels;
// the group libraries (errgroup, conc) set a limit of W on every nested group,
// which bounds each group but not the total number of goroutines; plain
// goroutines are not bounded at all. A task that waits for its children while
// holding one of the pool's W workers deadlocks a pool that cannot run other
// work meanwhile; the attempt's timeout reports that as a finding.

func fibSeq(n int) int {
	if n < 2 {
		return n
	}
	return fibSeq(n-1) + fibSeq(n-2)
}

// measureFib times fib and checks its answer.
func measureFib(sz *Sizes, fib func(n int) (int, error)) (Sample, error) {
	want := fibSeq(sz.FibN)
	t0 := time.Now()
	got, err := fib(sz.FibN)
	el := time.Since(t0)
	if err != nil {
		return nil, err
	}
	if got != want {
		return nil, fmt.Errorf("fib(%d) = %d, want %d", sz.FibN, got, want)
	}
	return Sample{"ms": float64(el.Nanoseconds()) / 1e6}, nil
}

func init() {
	register("forkjoin/fib", Impl{"errgroup", "nested errgroup.Group, SetLimit(W) per group", func(sz *Sizes) (Sample, error) {
		var fib func(n int) (int, error)
		fib = func(n int) (int, error) {
			if n < sz.FibCutoff {
				return fibSeq(n), nil
			}
			var a, b int
			var g errgroup.Group
			g.SetLimit(sz.FibWorkers)
			g.Go(func() (err error) { a, err = fib(n - 1); return })
			g.Go(func() (err error) { b, err = fib(n - 2); return })
			err := g.Wait()
			return a + b, err
		}
		return measureFib(sz, fib)
	}})
	register("forkjoin/fib", Impl{"conc", "nested pool.New().WithErrors().WithMaxGoroutines(W) per group", func(sz *Sizes) (Sample, error) {
		var fib func(n int) (int, error)
		fib = func(n int) (int, error) {
			if n < sz.FibCutoff {
				return fibSeq(n), nil
			}
			var a, b int
			p := concpool.New().WithErrors().WithMaxGoroutines(sz.FibWorkers)
			p.Go(func() (err error) { a, err = fib(n - 1); return })
			p.Go(func() (err error) { b, err = fib(n - 2); return })
			err := p.Wait()
			return a + b, err
		}
		return measureFib(sz, fib)
	}})
	register("forkjoin/fib", Impl{"ants", "one ants.NewPool(W) shared by all levels, sync.WaitGroup per fork", func(sz *Sizes) (Sample, error) {
		p, err := ants.NewPool(sz.FibWorkers)
		if err != nil {
			return nil, err
		}
		var fib func(n int) (int, error)
		fib = func(n int) (int, error) {
			if n < sz.FibCutoff {
				return fibSeq(n), nil
			}
			var a, b int
			var errA, errB error
			var wg sync.WaitGroup
			wg.Add(2)
			if err := p.Submit(func() { defer wg.Done(); a, errA = fib(n - 1) }); err != nil {
				return 0, err
			}
			if err := p.Submit(func() { defer wg.Done(); b, errB = fib(n - 2) }); err != nil {
				return 0, err
			}
			wg.Wait()
			if errA != nil {
				return 0, errA
			}
			return a + b, errB
		}
		s, err := measureFib(sz, fib)
		// Reached only if fib returned: a deadlocked pool is abandoned by
		// attempt, never released (Release would wait for stuck workers).
		p.Release()
		return s, err
	}})
	register("forkjoin/fib", Impl{"pond", "one pond.NewPool(W) shared by all levels, NewGroup per fork", func(sz *Sizes) (Sample, error) {
		p := pond.NewPool(sz.FibWorkers)
		var fib func(n int) (int, error)
		fib = func(n int) (int, error) {
			if n < sz.FibCutoff {
				return fibSeq(n), nil
			}
			var a, b int
			g := p.NewGroup()
			g.SubmitErr(
				func() (err error) { a, err = fib(n - 1); return },
				func() (err error) { b, err = fib(n - 2); return },
			)
			err := g.Wait()
			return a + b, err
		}
		s, err := measureFib(sz, fib)
		p.StopAndWait() // as for ants: skipped when fib never returns
		return s, err
	}})
	register("forkjoin/fib", Impl{"goroutines", "go + sync.WaitGroup per fork, unbounded", func(sz *Sizes) (Sample, error) {
		var fib func(n int) int
		fib = func(n int) int {
			if n < sz.FibCutoff {
				return fibSeq(n)
			}
			var a, b int
			var wg sync.WaitGroup
			wg.Go(func() { a = fib(n - 1) })
			wg.Go(func() { b = fib(n - 2) })
			wg.Wait()
			return a + b
		}
		return measureFib(sz, func(n int) (int, error) { return fib(n), nil })
	}})
}
