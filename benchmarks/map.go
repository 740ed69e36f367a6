package main

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/sourcegraph/conc/iter"
	"golang.org/x/sync/errgroup"

	"github.com/echo-scheduler/echo"
)

// Scenario 6, map: out[i] = fn(in[i]) over a slice, results in input order,
// through each library's idiomatic map: echo.Map on the default pool, conc's
// iter.MapErr (GOMAXPROCS goroutines by default), and the errgroup version
// users write by hand (a goroutine per element writing out[i], the group's
// ctx). The function is a no-op, about 10 µs of calibrated CPU work, or a
// sleep (a backend call; the iofanout sizes).
// Allocations are runtime.MemStats deltas over the timed region / N.

// mapFn is the element function of a map variant: the identity, after
// spinning the CPU for sz.MapWork on map/10us.
func mapFn(key string, sz *Sizes) func(v int) int {
	switch key {
	case "map/noop":
		return func(v int) int { return v }
	case "map/io":
		return func(v int) int { time.Sleep(sz.IOSleep); return v }
	}
	iters := int(sz.SpinPerMicros * float64(sz.MapWork.Microseconds()))
	return func(v int) int { spin(iters); return v }
}

// measureMap times one map of sz.MapElems elements by run and checks the
// results' order.
func measureMap(key string, sz *Sizes, run func(in []int) ([]int, error)) (Sample, error) {
	n := sz.MapElems
	if key == "map/io" {
		n = sz.IOTasks
	}
	in := make([]int, n)
	for i := range in {
		in[i] = i
	}
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	t0 := nanotime()
	out, err := run(in)
	el := nanotime() - t0
	runtime.ReadMemStats(&m1)
	if err != nil {
		return nil, err
	}
	if len(out) != len(in) {
		return nil, fmt.Errorf("%d results for %d elements", len(out), len(in))
	}
	for i, r := range out {
		if r != i {
			return nil, fmt.Errorf("result %d is %d: order lost", i, r)
		}
	}
	return Sample{
		"ns/elem":     float64(el) / float64(n),
		"allocs/elem": float64(m1.Mallocs-m0.Mallocs) / float64(n),
		"B/elem":      float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n),
	}, nil
}

// mapErrgroup is the map users write by hand with errgroup.
func mapErrgroup(ctx context.Context, in []int, fn func(ctx context.Context, v int) (int, error)) ([]int, error) {
	out := make([]int, len(in))
	g, ctx := errgroup.WithContext(ctx)
	for i, v := range in {
		g.Go(func() error {
			r, err := fn(ctx, v)
			if err != nil {
				return err
			}
			out[i] = r
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func init() {
	ctx := context.Background()
	for _, key := range []string{"map/noop", "map/10us", "map/io"} {
		register(key, Impl{"echo", "echo.Map(ctx, Normal, in, fn) on the default pool", func(sz *Sizes) (Sample, error) {
			f := mapFn(key, sz)
			fn := func(_ context.Context, v int) (int, error) { return f(v), nil }
			return measureMap(key, sz, func(in []int) ([]int, error) { return echo.Map(ctx, echo.Normal, in, fn) })
		}})
		register(key, Impl{"errgroup", "by hand: errgroup.WithContext, a goroutine per element writing out[i]", func(sz *Sizes) (Sample, error) {
			f := mapFn(key, sz)
			fn := func(_ context.Context, v int) (int, error) { return f(v), nil }
			return measureMap(key, sz, func(in []int) ([]int, error) { return mapErrgroup(ctx, in, fn) })
		}})
		register(key, Impl{"conc", "iter.MapErr (GOMAXPROCS goroutines)", func(sz *Sizes) (Sample, error) {
			f := mapFn(key, sz)
			fn := func(v *int) (int, error) { return f(*v), nil }
			return measureMap(key, sz, func(in []int) ([]int, error) { return iter.MapErr(in, fn) })
		}})
	}
}
