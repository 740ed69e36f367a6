package main

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Scenario 1, fan-out: N no-op tasks, submitted from one goroutine, then one
// wait for all. Pools are created before and stopped after the timed region,
// as a long-lived pool would be. Allocations are runtime.MemStats deltas over
// the timed region divided by N.

// measureFanout times body, which must submit and wait for all n tasks.
// group is the API that errgroup.Group and its drop-in echo.Group share.
type group interface {
	Go(f func() error)
	SetLimit(n int)
	Wait() error
}

// groupFanout runs the fan-out workload on a fresh group from newGroup,
// with SetLimit(limit) if limit > 0.
func groupFanout(sz *Sizes, newGroup func() group, limit int) (Sample, error) {
	var c counter
	return measureFanout(sz.FanoutTasks, func() error {
		g := newGroup()
		if limit > 0 {
			g.SetLimit(limit)
		}
		task := func() error { c.inc(); return nil }
		for range sz.FanoutTasks {
			g.Go(task)
		}
		if err := g.Wait(); err != nil {
			return err
		}
		return c.check(sz.FanoutTasks)
	})
}

func measureFanout(n int, body func() error) (Sample, error) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := nanotime()
	err := body()
	el := nanotime() - t0
	runtime.ReadMemStats(&m1)
	if err != nil {
		return nil, err
	}
	return Sample{
		"ns/task":     float64(el) / float64(n),
		"allocs/task": float64(m1.Mallocs-m0.Mallocs) / float64(n),
		"B/task":      float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
	}, nil
}

// counter is the task body of the "no-op" tasks: one atomic add, so the run
// can check that every task ran exactly once. Each implementation builds its
// task function value once, outside the loop, so allocations per task are the
// library's own.
type counter struct{ n atomic.Int64 }

func (c *counter) inc() { c.n.Add(1) }

func (c *counter) check(want int) error {
	if got := c.n.Load(); got != int64(want) {
		return fmt.Errorf("ran %d tasks, want %d", got, want)
	}
	return nil
}

var epoch = time.Now()

// nanotime is monotonic nanoseconds since the program started.
func nanotime() int64 { return int64(time.Since(epoch)) }

func init() {
	newErrgroup := func() group { return new(errgroup.Group) }
	register("fanout/unbounded", Impl{"errgroup", "errgroup.Group, no limit", func(sz *Sizes) (Sample, error) {
		return groupFanout(sz, newErrgroup, 0)
	}})
	register("fanout/bounded", Impl{"errgroup", "errgroup.Group, SetLimit(GOMAXPROCS)", func(sz *Sizes) (Sample, error) {
		return groupFanout(sz, newErrgroup, sz.Bound)
	}})

	register("fanout/unbounded", Impl{"conc", "conc.WaitGroup", func(sz *Sizes) (Sample, error) {
		var c counter
		inc := c.inc
		return measureFanout(sz.FanoutTasks, func() error {
			var wg conc.WaitGroup
			for range sz.FanoutTasks {
				wg.Go(inc)
			}
			wg.Wait()
			return c.check(sz.FanoutTasks)
		})
	}})
	register("fanout/bounded", Impl{"conc", "pool.New().WithMaxGoroutines(GOMAXPROCS)", func(sz *Sizes) (Sample, error) {
		var c counter
		inc := c.inc
		return measureFanout(sz.FanoutTasks, func() error {
			p := concpool.New().WithMaxGoroutines(sz.Bound)
			for range sz.FanoutTasks {
				p.Go(inc)
			}
			p.Wait()
			return c.check(sz.FanoutTasks)
		})
	}})

	antsFanout := func(size int) func(sz *Sizes) (Sample, error) {
		return func(sz *Sizes) (Sample, error) {
			p, err := ants.NewPool(size)
			if err != nil {
				return nil, err
			}
			defer p.Release()
			var c counter
			return measureFanout(sz.FanoutTasks, func() error {
				var wg sync.WaitGroup
				task := func() { defer wg.Done(); c.inc() }
				for range sz.FanoutTasks {
					wg.Add(1)
					if err := p.Submit(task); err != nil {
						return err
					}
				}
				wg.Wait()
				return c.check(sz.FanoutTasks)
			})
		}
	}
	register("fanout/unbounded", Impl{"ants", "ants.NewPool(-1) (unlimited) + sync.WaitGroup", antsFanout(-1)})
	register("fanout/bounded", Impl{"ants", "ants.NewPool(GOMAXPROCS) + sync.WaitGroup", func(sz *Sizes) (Sample, error) {
		return antsFanout(sz.Bound)(sz)
	}})

	pondFanout := func(size int) func(sz *Sizes) (Sample, error) {
		return func(sz *Sizes) (Sample, error) {
			p := pond.NewPool(size)
			defer p.StopAndWait()
			var c counter
			inc := c.inc
			return measureFanout(sz.FanoutTasks, func() error {
				g := p.NewGroup()
				for range sz.FanoutTasks {
					g.Submit(inc)
				}
				if err := g.Wait(); err != nil {
					return err
				}
				return c.check(sz.FanoutTasks)
			})
		}
	}
	register("fanout/unbounded", Impl{"pond", "pond.NewPool(0) (no limit), NewGroup", pondFanout(0)})
	register("fanout/bounded", Impl{"pond", "pond.NewPool(GOMAXPROCS), NewGroup", func(sz *Sizes) (Sample, error) {
		return pondFanout(sz.Bound)(sz)
	}})

	register("fanout/unbounded", Impl{"goroutines", "go + sync.WaitGroup.Go", func(sz *Sizes) (Sample, error) {
		var c counter
		inc := c.inc
		return measureFanout(sz.FanoutTasks, func() error {
			var wg sync.WaitGroup
			for range sz.FanoutTasks {
				wg.Go(inc)
			}
			wg.Wait()
			return c.check(sz.FanoutTasks)
		})
	}})
	register("fanout/bounded", Impl{"goroutines", "GOMAXPROCS goroutines ranging over a channel", func(sz *Sizes) (Sample, error) {
		var c counter
		inc := c.inc
		return measureFanout(sz.FanoutTasks, func() error {
			tasks := make(chan func())
			var wg sync.WaitGroup
			for range sz.Bound {
				wg.Go(func() {
					for f := range tasks {
						f()
					}
				})
			}
			for range sz.FanoutTasks {
				tasks <- inc
			}
			close(tasks)
			wg.Wait()
			return c.check(sz.FanoutTasks)
		})
	}})
}
