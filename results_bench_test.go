package echo

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// mapElems is the input length of the Map and Stream benchmarks.
const mapElems = 10_000

// mapErrgroup is Map written by hand with errgroup, the way users write it
// today: a goroutine per element, results by index, the group's ctx.
func mapErrgroup[T, R any](ctx context.Context, in []T, fn func(ctx context.Context, v T) (R, error)) ([]R, error) {
	out := make([]R, len(in))
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

// workSink keeps the compiler from deleting cpuWork's loop.
var workSink atomic.Uint64

// cpuWork burns the CPU for iters xorshift steps: work that, unlike a
// clock-based spin, takes longer when its goroutine gets less CPU.
func cpuWork(iters int) {
	x := uint64(88172645463325252)
	for range iters {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	workSink.Add(x)
}

// itersPer10us is cpuWork's iterations for 10 µs on this machine: the best
// of several timed rounds, so a preempted round does not skew it.
var itersPer10us = sync.OnceValue(func() int {
	const iters = 1_000_000
	best := time.Duration(1 << 62)
	for range 7 {
		t0 := time.Now()
		cpuWork(iters)
		best = min(best, time.Since(t0))
	}
	return int(iters * (10 * time.Microsecond) / best)
})

// resultWorkloads are the element functions of the Map and Stream
// benchmarks: a no-op, and 10 µs of CPU work (calibrated).
var resultWorkloads = []struct {
	name string
	fn   func(ctx context.Context, v int) (int, error)
}{
	{"noop", func(ctx context.Context, v int) (int, error) { return v, nil }},
	{"10us", func(ctx context.Context, v int) (int, error) { cpuWork(itersPer10us()); return v, nil }},
}

// BenchmarkMap compares Map with the same map written by hand with errgroup
// on 10,000 elements; ns/elem is the figure to compare (target: echo at
// most 1.0x errgroup).
func BenchmarkMap(b *testing.B) {
	in := make([]int, mapElems)
	for i := range in {
		in[i] = i
	}
	for _, w := range resultWorkloads {
		for _, impl := range []struct {
			name string
			run  func(ctx context.Context, in []int, fn func(ctx context.Context, v int) (int, error)) ([]int, error)
		}{
			{"echo", func(ctx context.Context, in []int, fn func(ctx context.Context, v int) (int, error)) ([]int, error) {
				return Map(ctx, Normal, in, fn)
			}},
			{"errgroup", mapErrgroup[int, int]},
		} {
			b.Run(fmt.Sprintf("fn=%s/impl=%s", w.name, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				ctx := context.Background()
				for b.Loop() {
					out, err := impl.run(ctx, in, w.fn)
					if err != nil || len(out) != mapElems || out[mapElems-1] != mapElems-1 {
						b.Fatalf("map = %d results, %v", len(out), err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mapElems), "ns/elem")
			})
		}
	}
}

// BenchmarkStream measures Stream over 10,000 elements with the default
// window: ns/elem.
func BenchmarkStream(b *testing.B) {
	in := make([]int, mapElems)
	for i := range in {
		in[i] = i
	}
	for _, w := range resultWorkloads {
		b.Run("fn="+w.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, err := range Stream(context.Background(), Normal, slices.Values(in), w.fn) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != mapElems {
					b.Fatalf("%d results", n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*mapElems), "ns/elem")
		})
	}
}

// BenchmarkFirst measures First over two functions that answer at once:
// the fixed cost of a race (ns/op).
func BenchmarkFirst(b *testing.B) {
	ctx := context.Background()
	answer := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		if v, err := First(ctx, Normal, answer, answer); v != 1 || err != nil {
			b.Fatal(v, err)
		}
	}
}
