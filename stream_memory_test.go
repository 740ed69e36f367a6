package echo

import (
	"context"
	"iter"
	"runtime"
	"testing"
)

// streamResultSize is the size of each result in the memory test: large
// enough that results kept beyond the window show in the heap.
const streamResultSize = 1 << 10

// maxStreamHeapGrowth is the bound on how much the live heap may grow while
// a Stream runs, whatever the input's length: twice the window's results
// (2×GOMAXPROCS of them), plus 128 KiB for the children in flight and the
// runtime's own allocations.
func maxStreamHeapGrowth() uint64 {
	return uint64(2*2*runtime.GOMAXPROCS(0)*streamResultSize + 128<<10)
}

// TestStreamMemoryIsBoundedByTheWindowNotTheInput streams 10,000,000
// elements (100,000 under -short or -race, to keep the run time modest;
// run the full size with go test -run StreamMemory .) and checks, at ten
// points along the way, that the live heap after a GC has grown by less
// than maxStreamHeapGrowth over what it was before the stream started.
// Each result is a fresh 1 KiB buffer, so a Stream that kept results, or
// anything per element, beyond the window would exceed the bound after a
// few hundred elements. Measured (linux/amd64, go1.26, GOMAXPROCS 2,
// window 4): the growth is within a few kB of 0 at every sample.
func TestStreamMemoryIsBoundedByTheWindowNotTheInput(t *testing.T) {
	n := 10_000_000
	if testing.Short() || raceEnabled {
		n = 100_000
	}
	in := func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
	var every = n / 10
	liveHeap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	// A first, short stream creates what later ones reuse: the default
	// pool, its workers and their queues.
	for _, err := range Stream(context.Background(), Normal, iter.Seq[int](func(yield func(int) bool) {
		for i := range 1000 {
			if !yield(i) {
				return
			}
		}
	}), func(ctx context.Context, v int) (int, error) { return v, nil }) {
		if err != nil {
			t.Fatal(err)
		}
	}
	base := liveHeap()
	var peak uint64
	i := 0
	for r, err := range Stream(context.Background(), Normal, iter.Seq[int](in), func(ctx context.Context, v int) ([]byte, error) {
		b := make([]byte, streamResultSize)
		b[0] = byte(v)
		return b, nil
	}) {
		if err != nil || r[0] != byte(i) {
			t.Fatalf("element %d: %d, %v", i, r[0], err)
		}
		i++
		if i%every == 0 {
			if h := liveHeap(); h > base {
				peak = max(peak, h-base)
			}
		}
	}
	if i != n {
		t.Fatalf("%d of %d elements yielded", i, n)
	}
	t.Logf("%d elements, window %d: live heap grew by at most %d B over %d B", n, 2*runtime.GOMAXPROCS(0), peak, base)
	if peak > maxStreamHeapGrowth() {
		t.Fatalf("live heap grew by %d B while streaming %d elements; the bound is %d B", peak, n, maxStreamHeapGrowth())
	}
}
