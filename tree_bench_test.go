package echo

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used (user and system): on
// a machine shared with other work it varies less than wall time, which
// also counts the time spent waiting for a CPU.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

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
			cpu0 := cpuTime(b)
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
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*noopChildren), "cpu-ns/child")
		})
		b.Run("fork-join-fib25/"+tree, func(b *testing.B) {
			treeOn.Store(on)
			defer treeOn.Store(false)
			b.ReportAllocs()
			cpu0 := cpuTime(b)
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
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkTreeHooks measures the tree's own work on one goroutine, apart
// from the pool: per child (begin and end, and the accepted count), and
// per scope (a Nursery with no child opened and waited for, with the tree
// off and on).
func BenchmarkTreeHooks(b *testing.B) {
	b.Run("child", func(b *testing.B) {
		treeOn.Store(true)
		s, _ := NewScope(context.Background(), withRunner(&fakePool{}))
		treeOn.Store(false)
		defer s.Wait()
		c := &child{m: member{s: s, prio: Normal}}
		b.ReportAllocs()
		for b.Loop() {
			s.track.accepted.Add(1)
			s.track.end(c, s.track.begin(c))
		}
	})
	body := func(context.Context) error { return nil }
	for _, on := range []bool{false, true} {
		tree := "tree=off"
		if on {
			tree = "tree=on"
		}
		b.Run("nursery/"+tree, func(b *testing.B) {
			treeOn.Store(on)
			defer treeOn.Store(false)
			p := newPool(b, 1)
			b.ReportAllocs()
			for b.Loop() {
				if err := Nursery(context.Background(), body, WithPool(p)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
