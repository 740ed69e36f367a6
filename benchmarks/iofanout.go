package main

import (
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// Scenario 4, I/O fan-out: N tasks that each sleep IOSleep (a stand-in for a
// blocking call), submitted from one goroutine; wall time until all are done.
// Unbounded is each library's default configuration. Bounded is each
// library's bounded configuration with W = IOWorkers: a fixed limit of W needs
// about N/W sleeps one after another; echo's pool of W workers may add workers
// while its workers are blocked.

func measureIO(body func() error) (Sample, error) {
	t0 := time.Now()
	if err := body(); err != nil {
		return nil, err
	}
	return Sample{"ms": float64(time.Since(t0).Nanoseconds()) / 1e6}, nil
}

func init() {
	register("iofanout/unbounded", Impl{"errgroup", "errgroup.Group, no limit", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			var g errgroup.Group
			for range sz.IOTasks {
				g.Go(func() error { time.Sleep(sz.IOSleep); return nil })
			}
			return g.Wait()
		})
	}})
	register("iofanout/bounded", Impl{"errgroup", "errgroup.Group, SetLimit(W)", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			var g errgroup.Group
			g.SetLimit(sz.IOWorkers)
			for range sz.IOTasks {
				g.Go(func() error { time.Sleep(sz.IOSleep); return nil })
			}
			return g.Wait()
		})
	}})
	register("iofanout/unbounded", Impl{"conc", "conc.WaitGroup", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			var wg conc.WaitGroup
			for range sz.IOTasks {
				wg.Go(func() { time.Sleep(sz.IOSleep) })
			}
			wg.Wait()
			return nil
		})
	}})
	register("iofanout/bounded", Impl{"conc", "pool.New().WithMaxGoroutines(W)", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			p := concpool.New().WithMaxGoroutines(sz.IOWorkers)
			for range sz.IOTasks {
				p.Go(func() { time.Sleep(sz.IOSleep) })
			}
			p.Wait()
			return nil
		})
	}})
	antsIO := func(size int, sz *Sizes) (Sample, error) {
		p, err := ants.NewPool(size)
		if err != nil {
			return nil, err
		}
		defer p.Release()
		return measureIO(func() error {
			var wg sync.WaitGroup
			for range sz.IOTasks {
				wg.Add(1)
				if err := p.Submit(func() { defer wg.Done(); time.Sleep(sz.IOSleep) }); err != nil {
					return err
				}
			}
			wg.Wait()
			return nil
		})
	}
	register("iofanout/unbounded", Impl{"ants", "ants.NewPool(-1) (unlimited) + sync.WaitGroup", func(sz *Sizes) (Sample, error) {
		return antsIO(-1, sz)
	}})
	register("iofanout/bounded", Impl{"ants", "ants.NewPool(W) + sync.WaitGroup", func(sz *Sizes) (Sample, error) {
		return antsIO(sz.IOWorkers, sz)
	}})
	pondIO := func(size int, sz *Sizes) (Sample, error) {
		p := pond.NewPool(size)
		defer p.StopAndWait()
		return measureIO(func() error {
			g := p.NewGroup()
			for range sz.IOTasks {
				g.Submit(func() { time.Sleep(sz.IOSleep) })
			}
			return g.Wait()
		})
	}
	register("iofanout/unbounded", Impl{"pond", "pond.NewPool(0) (no limit), NewGroup", func(sz *Sizes) (Sample, error) {
		return pondIO(0, sz)
	}})
	register("iofanout/bounded", Impl{"pond", "pond.NewPool(W), NewGroup", func(sz *Sizes) (Sample, error) {
		return pondIO(sz.IOWorkers, sz)
	}})
	register("iofanout/unbounded", Impl{"goroutines", "go + sync.WaitGroup.Go", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			var wg sync.WaitGroup
			for range sz.IOTasks {
				wg.Go(func() { time.Sleep(sz.IOSleep) })
			}
			wg.Wait()
			return nil
		})
	}})
	register("iofanout/bounded", Impl{"goroutines", "W goroutines ranging over a channel", func(sz *Sizes) (Sample, error) {
		return measureIO(func() error {
			tasks := make(chan struct{})
			var wg sync.WaitGroup
			for range sz.IOWorkers {
				wg.Go(func() {
					for range tasks {
						time.Sleep(sz.IOSleep)
					}
				})
			}
			for range sz.IOTasks {
				tasks <- struct{}{}
			}
			close(tasks)
			wg.Wait()
			return nil
		})
	}})
}
