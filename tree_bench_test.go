package echo

import (
	"context"
	"testing"
)

// BenchmarkTreeCost runs the noop-children and fork-join workloads of
// BenchmarkScopeNoopChildren and BenchmarkForkJoinFib25 with the tree off
// and on, in one binary, for benchstat -col /tree.
func BenchmarkTreeCost(b *testing.B) {
	noop := func(context.Context) error { return nil }
	for _, on := range []bool{false, true} {
		tree := "tree=off"
		if on {
			tree = "tree=on"
		}
		b.Run("noop-children/"+tree, func(b *testing.B) {
			treeOn.Store(on)
			defer treeOn.Store(false)
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
		b.Run("fork-join-fib25/"+tree, func(b *testing.B) {
			treeOn.Store(on)
			defer treeOn.Store(false)
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
	}
}
