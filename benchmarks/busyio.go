package main

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// Scenario busyio, I/O fan-out in a busy process: while GOMAXPROCS
// goroutines outside any pool spin on the CPU (a loaded server's other
// handlers), BusyTasks tasks that each sleep BusySleep (a stand-in for a
// backend call) are submitted from one goroutine; wall time until all are
// done. Unbounded is each library's default configuration; pool100 is each
// library's bounded configuration with a limit of BusyPool workers, which is
// enough to run every task at once. The spinners start before the clock and
// stop after it.

func busyioVariants() []Variant {
	return []Variant{
		{
			Key:   "busyio/unbounded",
			Title: "I/O fan-out in a busy process, unbounded",
			Description: "GOMAXPROCS goroutines outside any pool spin on the CPU; N tasks that each sleep, " +
				"each library's default configuration; wall time",
			Metrics: []Metric{{"ms", "ms"}},
			Primary: "ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "busyio/pool100",
			Title: "I/O fan-out in a busy process, a pool of 100",
			Description: "as unbounded, with each library's bounded configuration of 100 workers/limit " +
				"(enough to run every task at once)",
			Metrics: []Metric{{"ms", "ms"}},
			Primary: "ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
	}
}

// measureBusy measures body as measureIO does, while GOMAXPROCS goroutines
// spin on the CPU outside any pool.
func measureBusy(body func() error) (Sample, error) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !done.Load() {
				spin(1000)
			}
		})
	}
	defer func() { done.Store(true); wg.Wait() }()
	return measureIO(body)
}

func init() {
	ctx := context.Background()
	sleep := func(sz *Sizes) { time.Sleep(sz.BusySleep) }

	register("busyio/unbounded", Impl{"echo", "echo.NewScope on the default pool", func(sz *Sizes) (Sample, error) {
		return measureBusy(func() error {
			s, _ := echo.NewScope(ctx)
			for range sz.BusyTasks {
				s.Go(echo.Normal, func(context.Context) error { sleep(sz); return nil })
			}
			return s.Wait()
		})
	}})
	register("busyio/pool100", Impl{"echo", "pool.New(WithWorkers(100)), one Scope", func(sz *Sizes) (Sample, error) {
		p := pool.New(pool.WithWorkers(sz.BusyPool))
		s, err := measureBusy(func() error {
			s, _ := echo.NewScope(ctx, echo.WithPool(p))
			for range sz.BusyTasks {
				s.Go(echo.Normal, func(context.Context) error { sleep(sz); return nil })
			}
			return s.Wait()
		})
		if err != nil {
			return nil, err
		}
		return s, stopPool(p)
	}})
	register("busyio/unbounded", Impl{"echo.Group", "echo.Group (errgroup drop-in), no limit", func(sz *Sizes) (Sample, error) {
		return measureBusy(func() error {
			var g echo.Group
			for range sz.BusyTasks {
				g.Go(func() error { sleep(sz); return nil })
			}
			return g.Wait()
		})
	}})
	register("busyio/pool100", Impl{"echo.Group", "echo.Group, SetLimit(100)", func(sz *Sizes) (Sample, error) {
		return measureBusy(func() error {
			var g echo.Group
			g.SetLimit(sz.BusyPool)
			for range sz.BusyTasks {
				g.Go(func() error { sleep(sz); return nil })
			}
			return g.Wait()
		})
	}})
	registerSleepFanouts("busyio/unbounded", "busyio/pool100", "100",
		func(sz *Sizes) (int, time.Duration, int) { return sz.BusyTasks, sz.BusySleep, sz.BusyPool },
		measureBusy)
}
