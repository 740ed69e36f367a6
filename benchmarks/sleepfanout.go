package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/sourcegraph/conc"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"
)

// sleepFanout is one peer library's idiomatic fan-out of n tasks that each
// sleep d (a stand-in for a backend call), submitted from one goroutine:
// with limit < 0 in the library's default configuration, otherwise bounded
// to limit workers (or active tasks). The iofanout and busyio scenarios run
// the same fan-outs, with their own sizes and conditions; Echo's rows are
// registered with the rest of Echo's (echo.go, busyio.go).
type sleepFanout struct {
	lib       string
	unbounded string // the setup without a limit
	bounded   string // the setup with a limit; %s is the limit's name
	run       func(n int, d time.Duration, limit int) error
}

var sleepFanouts = []sleepFanout{
	{"errgroup", "errgroup.Group, no limit", "errgroup.Group, SetLimit(%s)", func(n int, d time.Duration, limit int) error {
		var g errgroup.Group
		g.SetLimit(limit) // a negative limit is no limit
		for range n {
			g.Go(func() error { time.Sleep(d); return nil })
		}
		return g.Wait()
	}},
	{"conc", "conc.WaitGroup", "pool.New().WithMaxGoroutines(%s)", func(n int, d time.Duration, limit int) error {
		if limit < 0 {
			var wg conc.WaitGroup
			for range n {
				wg.Go(func() { time.Sleep(d) })
			}
			wg.Wait()
			return nil
		}
		p := concpool.New().WithMaxGoroutines(limit)
		for range n {
			p.Go(func() { time.Sleep(d) })
		}
		p.Wait()
		return nil
	}},
	{"ants", "ants.NewPool(-1) (unlimited) + sync.WaitGroup", "ants.NewPool(%s) + sync.WaitGroup", func(n int, d time.Duration, limit int) error {
		p, err := ants.NewPool(limit) // -1: unlimited
		if err != nil {
			return err
		}
		defer p.Release()
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			if err := p.Submit(func() { defer wg.Done(); time.Sleep(d) }); err != nil {
				return err
			}
		}
		wg.Wait()
		return nil
	}},
	{"pond", "pond.NewPool(0) (no limit), NewGroup", "pond.NewPool(%s), NewGroup", func(n int, d time.Duration, limit int) error {
		p := pond.NewPool(max(limit, 0)) // 0: no limit
		defer p.StopAndWait()
		g := p.NewGroup()
		for range n {
			g.Submit(func() { time.Sleep(d) })
		}
		return g.Wait()
	}},
	{"goroutines", "go + sync.WaitGroup.Go", "%s goroutines ranging over a channel", func(n int, d time.Duration, limit int) error {
		var wg sync.WaitGroup
		if limit < 0 {
			for range n {
				wg.Go(func() { time.Sleep(d) })
			}
			wg.Wait()
			return nil
		}
		tasks := make(chan struct{})
		for range limit {
			wg.Go(func() {
				for range tasks {
					time.Sleep(d)
				}
			})
		}
		for range n {
			tasks <- struct{}{}
		}
		close(tasks)
		wg.Wait()
		return nil
	}},
}

// registerSleepFanouts registers every peer of sleepFanouts for the
// variants unboundedKey and boundedKey. size gives the number of tasks, the
// sleep and the bounded variant's limit (named limitName in the setups);
// measure times the fan-out (and sets up the scenario's conditions).
func registerSleepFanouts(unboundedKey, boundedKey, limitName string,
	size func(*Sizes) (n int, d time.Duration, limit int),
	measure func(body func() error) (Sample, error)) {
	for _, f := range sleepFanouts {
		register(unboundedKey, Impl{f.lib, f.unbounded, func(sz *Sizes) (Sample, error) {
			n, d, _ := size(sz)
			return measure(func() error { return f.run(n, d, -1) })
		}})
		register(boundedKey, Impl{f.lib, fmt.Sprintf(f.bounded, limitName), func(sz *Sizes) (Sample, error) {
			n, d, limit := size(sz)
			return measure(func() error { return f.run(n, d, limit) })
		}})
	}
}
