package echo

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/echo-scheduler/echo/pool"
)

// maxBytesPerPendingChild is the documented bound on the memory a child
// costs while it waits in its scope and its pool's queue: the child record
// (which is also its context), the pool's task slot, and the scope's help
// list entry, not counting what the child's fn captures. Measured on
// linux/amd64, go1.26: 138 B with 1e5 pending children (TestPendingChildMemory,
// with or without -race) and 125.5 B with 1e6 (go test -run '^$' -bench
// PendingChildMemory -benchtime=1000000x .). The bound leaves room for slice
// growth and allocator size classes. A pending child holds no goroutine, so
// no stack.
const maxBytesPerPendingChild = 512

// pendingChildMemory queues n children in a scope on a 1-worker pool whose
// only worker is held by a gate task (and which may not add workers), and
// measures the heap and stack bytes in use per pending child and the
// goroutines added meanwhile. Then it releases the gate and checks every
// child ran.
func pendingChildMemory(tb testing.TB, n int) (bytesPerChild float64, goroutines int) {
	tb.Helper()
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1))
	defer stopPool(tb, p)
	release := make(chan struct{})
	running := make(chan struct{})
	if err := p.Submit(context.Background(), High, func() { close(running); <-release }); err != nil {
		tb.Fatal(err)
	}
	<-running
	s, _ := NewScope(context.Background(), WithPool(p))
	var ran atomic.Int64
	fn := func(context.Context) error { ran.Add(1); return nil }

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0 := runtime.NumGoroutine()
	for range n {
		s.Go(Normal, fn)
	}
	g1 := runtime.NumGoroutine()
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapInuse+after.StackInuse) - int64(before.HeapInuse+before.StackInuse)

	close(release)
	if err := s.Wait(); err != nil {
		tb.Fatal(err)
	}
	runtime.KeepAlive(s)
	if got := ran.Load(); got != int64(n) {
		tb.Fatalf("%d of %d children ran", got, n)
	}
	return float64(used) / float64(n), g1 - g0
}

// TestPendingChildMemory: 1e5 pending children (1e4 with -short) cost at
// most maxBytesPerPendingChild bytes each, and queueing them starts no
// goroutine. BenchmarkPendingChildMemory measures 1e6 and more.
func TestPendingChildMemory(t *testing.T) {
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	per, g := pendingChildMemory(t, n)
	t.Logf("%d pending children: %.0f B each, %d goroutines added", n, per, g)
	if per > maxBytesPerPendingChild {
		t.Fatalf("%.0f B per pending child; the documented bound is %d", per, maxBytesPerPendingChild)
	}
	if g > 2 {
		t.Fatalf("queueing %d children added %d goroutines; a pending child must not hold one", n, g)
	}
}

// BenchmarkPendingChildMemory reports bytes/pending-child for b.N children
// queued at once behind a held worker (run with -benchtime=1000000x for
// the 1e6 figure).
func BenchmarkPendingChildMemory(b *testing.B) {
	per, g := pendingChildMemory(b, max(b.N, 1000))
	b.ReportMetric(per, "bytes/pending-child")
	b.ReportMetric(float64(g), "goroutines-added")
}
