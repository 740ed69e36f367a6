package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// A supervisor's failures go to its handler as they happen (before Wait,
// while siblings still run), one at a time, and Wait then returns nil.
func TestWithErrorHandlerGetsEachFailureAsItHappens(t *testing.T) {
	p := newPool(t, 2)
	first := make(chan error, 1)
	var got []error // the handler is called one failure at a time
	var concurrent, in atomic.Int32
	var sawFirst, err error
	handler := func(err error) {
		if in.Add(1) > 1 {
			concurrent.Add(1)
		}
		got = append(got, err)
		if err == errA {
			first <- err
		}
		in.Add(-1)
	}
	within(t, timeoutLong, "a supervisor whose sibling waits for the handler", func() {
		err = Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(context.Context) error { return errA })
			Go(ctx, Normal, func(ctx context.Context) error {
				select { // a sibling still running sees the failure handled
				case sawFirst = <-first:
				case <-ctx.Done():
					return errors.New("the scope was cancelled instead of the failure going to the handler")
				}
				return errB
			})
			for i := range 50 {
				Go(ctx, Low, func(context.Context) error { return fmt.Errorf("failure %d", i) })
			}
			return nil
		}, WithPool(p), WithCollectAll(), WithErrorHandler(handler))
	})
	if err != nil {
		t.Fatalf("Wait = %v; want nil (every failure went to the handler)", err)
	}
	if sawFirst != errA || len(got) != 52 || concurrent.Load() != 0 {
		t.Fatalf("sibling saw %v before returning; handler got %d failures, %d calls overlapped; want errA, 52, 0",
			sawFirst, len(got), concurrent.Load())
	}
}

// Fail-fast with a handler: the first failure goes to the handler and
// cancels the scope; the siblings' cancellation is not a failure; Wait
// returns the cause that ended the scope, and keeps nothing else. A Nursery
// body's own error is Nursery's result, not a failure for the handler.
func TestWithErrorHandlerFailFast(t *testing.T) {
	p := newPool(t, 2)
	var handled []error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() })
		<-started
		Go(ctx, Normal, func(context.Context) error { return errA })
		return nil
	}, WithPool(p), WithErrorHandler(func(err error) { handled = append(handled, err) }))
	if err != errA || len(handled) != 1 || handled[0] != errA {
		t.Fatalf("Wait = %v, handler got %v; want errA and [errA]", err, handled)
	}
	handled = nil
	err = Nursery(context.Background(), func(ctx context.Context) error { return errB },
		WithPool(p), WithErrorHandler(func(err error) { handled = append(handled, err) }))
	if err != errB || len(handled) != 0 {
		t.Fatalf("body error: Nursery = %v, handler got %v; want errB and nothing", err, handled)
	}
}

// handledFailuresMemory runs n failing children through a WithCollectAll
// scope with a handler that drops them, on a 2-worker pool, in batches
// (so that few children are queued at once), and returns the heap bytes
// still in use once all have failed, before Wait.
func handledFailuresMemory(tb testing.TB, n int, opts ...Option) int64 {
	tb.Helper()
	p := pool.New(pool.WithWorkers(2))
	defer stopPool(tb, p)
	var handled atomic.Int64
	batchDone := make(chan struct{}, 1)
	const batch = 1000
	handler := func(error) {
		if handled.Add(1)%batch == 0 {
			batchDone <- struct{}{}
		}
	}
	s, _ := NewScope(context.Background(), append([]Option{WithPool(p), WithCollectAll(), WithErrorHandler(handler)}, opts...)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n / batch {
		for j := range batch {
			id := i*batch + j
			s.Go(Normal, func(context.Context) error { return fmt.Errorf("job %d failed", id) })
		}
		select {
		case <-batchDone:
		case <-time.After(timeoutLong):
			tb.Fatalf("the handler did not get the failures of batch %d within %v", i, timeoutLong)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapInuse) - int64(before.HeapInuse)
	if err := s.Wait(); err != nil {
		tb.Fatalf("Wait = %v; want nil", err)
	}
	if got := handled.Load(); got != int64(n) {
		tb.Fatalf("handler got %d of %d failures", got, n)
	}
	return used
}

// 100,000 failures through a handler keep no measurable memory: the heap
// grows by less than 1 MB (10 B a failure; kept, they took ~36 MB).
func TestWithErrorHandlerKeepsNoMemory(t *testing.T) {
	const n = 100_000
	used := handledFailuresMemory(t, n)
	t.Logf("%d handled failures: heap in use grew by %d B", n, used)
	if used > 1<<20 {
		t.Fatalf("%d failures through a handler left the heap %d B larger (%.0f B each); want no measurable growth (< 1 MB)",
			n, used, float64(used)/n)
	}
}

// BenchmarkHandledFailureMemory reports the heap bytes kept per failure
// that went to a WithErrorHandler handler (b.N failures, at least 1000).
func BenchmarkHandledFailureMemory(b *testing.B) {
	n := max(b.N/1000*1000, 1000)
	b.ReportAllocs()
	used := handledFailuresMemory(b, n)
	b.ReportMetric(float64(used)/float64(n), "bytes-kept/failure")
}
