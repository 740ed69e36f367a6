package main

import (
	"context"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// Echo's implementations of every scenario, through its idiomatic API: a
// Scope (or Nursery) whose children run on a pool; echo.Group, the errgroup
// drop-in, where errgroup's own shape is measured.

// stopPool stops a pool the scenario created; Stop runs every accepted task
// and joins the workers.
func stopPool(p *pool.Pool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p.Stop(ctx)
}

func init() {
	ctx := context.Background()

	// 1. fan-out.
	register("fanout/unbounded", Impl{"echo", "echo.NewScope on the default pool, Scope.Go(Normal)", func(sz *Sizes) (Sample, error) {
		var c counter
		return measureFanout(sz.FanoutTasks, func() error {
			s, _ := echo.NewScope(ctx)
			task := func(context.Context) error { c.inc(); return nil }
			for range sz.FanoutTasks {
				s.Go(echo.Normal, task)
			}
			if err := s.Wait(); err != nil {
				return err
			}
			return c.check(sz.FanoutTasks)
		})
	}})
	register("fanout/bounded", Impl{"echo", "echo.NewScope(WithLimit(GOMAXPROCS)) on the default pool", func(sz *Sizes) (Sample, error) {
		var c counter
		return measureFanout(sz.FanoutTasks, func() error {
			s, _ := echo.NewScope(ctx, echo.WithLimit(sz.Bound))
			task := func(context.Context) error { c.inc(); return nil }
			for range sz.FanoutTasks {
				s.Go(echo.Normal, task)
			}
			if err := s.Wait(); err != nil {
				return err
			}
			return c.check(sz.FanoutTasks)
		})
	}})
	newEchoGroup := func() group { return new(echo.Group) }
	register("fanout/unbounded", Impl{"echo.Group", "echo.Group (errgroup drop-in), no limit", func(sz *Sizes) (Sample, error) {
		return groupFanout(sz, newEchoGroup, 0)
	}})
	register("fanout/bounded", Impl{"echo.Group", "echo.Group (errgroup drop-in), SetLimit(GOMAXPROCS)", func(sz *Sizes) (Sample, error) {
		return groupFanout(sz, newEchoGroup, sz.Bound)
	}})

	// 2. priority: High vs Low on a pool of W workers.
	register("priority/saturated", Impl{"echo", "pool.New(WithWorkers(2)), one Scope; Scope.Go(High) vs Scope.Go(Low)", func(sz *Sizes) (Sample, error) {
		p := pool.New(pool.WithWorkers(sz.PrioWorkers))
		s, _ := echo.NewScope(ctx, echo.WithPool(p))
		return runPriority(sz, prioTarget{
			submit: func(high bool, task func()) {
				prio := echo.Low
				if high {
					prio = echo.High
				}
				s.Go(prio, func(context.Context) error { task(); return nil })
			},
			wait: s.Wait,
			stop: func() { stopPool(p) },
		})
	}})

	// 3. fork-join: a Nursery per fork; children inherit the pool of W workers.
	register("forkjoin/fib", Impl{"echo", "one pool.New(WithWorkers(W)); a Nursery per fork, echo.Go children", func(sz *Sizes) (Sample, error) {
		p := pool.New(pool.WithWorkers(sz.FibWorkers))
		var fib func(ctx context.Context, n int, opts ...echo.Option) (int, error)
		fib = func(ctx context.Context, n int, opts ...echo.Option) (int, error) {
			if n < sz.FibCutoff {
				return fibSeq(n), nil
			}
			var a, b int
			err := echo.Nursery(ctx, func(ctx context.Context) error {
				echo.Go(ctx, echo.Normal, func(ctx context.Context) (err error) { a, err = fib(ctx, n-1); return })
				echo.Go(ctx, echo.Normal, func(ctx context.Context) (err error) { b, err = fib(ctx, n-2); return })
				return nil
			}, opts...)
			return a + b, err
		}
		s, err := measureFib(sz, func(n int) (int, error) { return fib(ctx, n, echo.WithPool(p)) })
		if err != nil {
			return nil, err // a stuck pool is abandoned with the attempt
		}
		return s, stopPool(p)
	}})

	// 4. I/O fan-out.
	register("iofanout/unbounded", Impl{"echo", "echo.NewScope on the default pool", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			s, _ := echo.NewScope(ctx)
			for range sz.IOTasks {
				s.Go(echo.Normal, func(context.Context) error { time.Sleep(sz.IOSleep); return nil })
			}
			return s.Wait()
		})
	}})
	register("iofanout/bounded", Impl{"echo", "pool.New(WithWorkers(W)), one Scope (the pool may add workers for blocked tasks)", func(sz *Sizes) (Sample, error) {
		p := pool.New(pool.WithWorkers(sz.IOWorkers))
		s, err := measureIO(func() error {
			s, _ := echo.NewScope(ctx, echo.WithPool(p))
			for range sz.IOTasks {
				s.Go(echo.Normal, func(context.Context) error { time.Sleep(sz.IOSleep); return nil })
			}
			return s.Wait()
		})
		if err != nil {
			return nil, err
		}
		return s, stopPool(p)
	}})

	// 5. memory: a queue of pending children on a pool of MemWorkers workers
	// (the pool's queue is unbounded by default). Tasks blocked on the gate
	// may make the pool add workers; the goroutine count shows how many.
	register("memory/pending", Impl{"echo", "pool.New(WithWorkers(MemWorkers)) (unbounded queue), one Scope", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			p := pool.New(pool.WithWorkers(sz.MemWorkers))
			s, _ := echo.NewScope(ctx, echo.WithPool(p))
			task := func(context.Context) error { wait(); return nil }
			for range n {
				s.Go(echo.Normal, task)
			}
			return func() error {
				err := s.Wait()
				if serr := stopPool(p); err == nil {
					err = serr
				}
				return err
			}, nil
		})
	}})
	register("memory/pending", Impl{"echo.Group", "echo.Group, no limit (a goroutine per task)", func(sz *Sizes) (Sample, error) {
		return measurePending(sz, func(n int, wait func()) (func() error, error) {
			var g echo.Group
			task := func() error { wait(); return nil }
			for range n {
				g.Go(task)
			}
			return g.Wait, nil
		})
	}})
}
