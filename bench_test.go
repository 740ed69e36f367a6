package echo

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// Each benchmark runs echo and its peers in the same binary and run, so
// benchstat can compare the sub-benchmarks directly.

const noopChildren = 100_000

// BenchmarkScopeNoopChildren measures the cost per child of spawning and
// joining 1e5 children that do nothing (reported as ns/child; allocs/op
// divided by 1e5 is allocs per child).
func BenchmarkScopeNoopChildren(b *testing.B) {
	noop := func(context.Context) error { return nil }
	b.Run("echo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, _ := NewScope(context.Background())
			for range noopChildren {
				s.Go(Normal, noop)
			}
			if err := s.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*noopChildren), "ns/child")
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			var g errgroup.Group
			for range noopChildren {
				g.Go(func() error { return noop(ctx) })
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*noopChildren), "ns/child")
	})
}

const fibN, fibWant = 25, 75025

// BenchmarkForkJoinFib25 measures recursive fork-join: fib(25) with one
// child per call (about 121,000 forks), through nested Nurseries, nested
// errgroups, and plain goroutines with a WaitGroup.
func BenchmarkForkJoinFib25(b *testing.B) {
	b.Run("echo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var got int
			err := Nursery(context.Background(), func(ctx context.Context) (err error) {
				got, err = fib(ctx, fibN)
				return err
			})
			if err != nil || got != fibWant {
				b.Fatalf("fib = %d, %v", got, err)
			}
		}
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got, err := fibErrgroup(fibN); err != nil || got != fibWant {
				b.Fatalf("fib = %d, %v", got, err)
			}
		}
	})
	b.Run("goroutines", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if got := fibGoroutines(fibN); got != fibWant {
				b.Fatalf("fib = %d", got)
			}
		}
	})
}

func fibErrgroup(n int) (int, error) {
	if n < 2 {
		return n, nil
	}
	var g errgroup.Group
	var a int
	g.Go(func() (err error) {
		a, err = fibErrgroup(n - 1)
		return err
	})
	b, err := fibErrgroup(n - 2)
	if werr := g.Wait(); werr != nil {
		return 0, werr
	}
	return a + b, err
}

func fibGoroutines(n int) int {
	if n < 2 {
		return n
	}
	var wg sync.WaitGroup
	var a int
	wg.Add(1)
	go func() {
		defer wg.Done()
		a = fibGoroutines(n - 1)
	}()
	b := fibGoroutines(n - 2)
	wg.Wait()
	return a + b
}

// BenchmarkIOFanout1000 measures wall time for 1,000 children that each
// block for 1 ms (a stand-in for I/O): the pool must not serialise them on
// its few workers.
func BenchmarkIOFanout1000(b *testing.B) {
	const children = 1000
	b.Run("echo", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			err := Nursery(context.Background(), func(ctx context.Context) error {
				for range children {
					Go(ctx, Normal, func(context.Context) error {
						time.Sleep(time.Millisecond)
						return nil
					})
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var g errgroup.Group
			for range children {
				g.Go(func() error {
					time.Sleep(time.Millisecond)
					return nil
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
