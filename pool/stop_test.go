package pool

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestStopRefusesNewWork(t *testing.T) {
	p := New()
	stop(t, p)
	fn := func() {}
	cfn := func(context.Context) {}
	for name, err := range map[string]error{
		"Submit":    p.Submit(bg, Normal, fn),
		"TrySubmit": p.TrySubmit(Normal, fn),
		"Go":        p.Go(bg, Normal, cfn),
		"TryGo":     p.TryGo(bg, Normal, cfn),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Stop = %v, want ErrClosed", name, err)
		}
	}
	if st := p.Stats(); st.Submitted != 0 || st.Workers != 0 {
		t.Fatalf("after Stop: %v", st)
	}
}

// TestStopRunsAcceptedExactlyOnce queues many tasks, from outside and from
// workers, and stops at once: every accepted task runs exactly once.
func TestStopRunsAcceptedExactlyOnce(t *testing.T) {
	const n = 20_000
	p := New(WithWorkers(3))
	runs := make([]atomic.Int32, 2*n)
	var accepted, refused atomic.Int64
	for i := 0; i < n; i++ {
		err := p.Go(bg, Priority(i%3), func(ctx context.Context) {
			runs[i].Add(1)
			// A follow-up from a worker: accepted until Stop begins.
			switch err := p.Submit(ctx, Low, func() { runs[n+i].Add(1) }); {
			case err == nil:
				accepted.Add(1)
			case errors.Is(err, ErrClosed):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	stop(t, p)
	for i := 0; i < n; i++ {
		if r := runs[i].Load(); r != 1 {
			t.Fatalf("task %d ran %d times", i, r)
		}
	}
	followed := int64(0)
	for i := n; i < 2*n; i++ {
		r := runs[i].Load()
		if r > 1 {
			t.Fatalf("follow-up %d ran %d times", i-n, r)
		}
		followed += int64(r)
	}
	if followed != accepted.Load() || accepted.Load()+refused.Load() != n {
		t.Fatalf("follow-ups: %d ran, %d accepted, %d refused; want ran == accepted, accepted+refused == %d",
			followed, accepted.Load(), refused.Load(), n)
	}
	t.Logf("follow-ups accepted %d, refused %d", accepted.Load(), refused.Load())
	if st := p.Stats(); st.Submitted != st.Completed || st.Completed != uint64(n)+uint64(accepted.Load()) {
		t.Fatalf("Stats after Stop: %v", st)
	}
}

func TestStopWakesWaitingSubmit(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1), WithQueueCapacity(1))
	release := gate(t, p)
	ran := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error)
	go func() { waiting <- p.Submit(bg, Normal, func() { t.Error("a refused task ran") }) }()
	waitFor(t, "the second Submit waits for room", func() bool { return p.s.spaceWaiters.Load() == 1 })
	stopped := make(chan error)
	go func() { stopped <- p.Stop(bg) }()
	if err := recv(t, waiting, "the waiting Submit to return"); !errors.Is(err, ErrClosed) {
		t.Fatalf("waiting Submit returned %v when Stop began, want ErrClosed", err)
	}
	release()
	if err := recv(t, stopped, "Stop to return"); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	recv(t, ran, "the accepted task to run")
}

func TestStopHonoursCtx(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	release := gate(t, p)
	ctx, cancel := context.WithTimeout(bg, 10*time.Millisecond)
	defer cancel()
	if err := p.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a task still running = %v, want DeadlineExceeded", err)
	}
	release()
	stop(t, p) // the workers finish in the background; a second Stop waits for them
}

func TestStopConcurrentIdempotent(t *testing.T) {
	p := New(WithWorkers(2))
	var wg sync.WaitGroup
	for i := 0; i < 100; i++ {
		if err := p.Submit(bg, Normal, func() {}); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- p.Stop(bg) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Stop = %v", err)
		}
	}
	if err := p.Stop(bg); err != nil {
		t.Fatalf("Stop again = %v", err)
	}
	if st := p.Stats(); st.Completed != 100 {
		t.Fatalf("completed %d of 100 accepted tasks", st.Completed)
	}
}

// TestDropGuard: a pool dropped without Stop has its workers stopped by the
// cleanup on its handle, after they run its accepted tasks.
func TestDropGuard(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	before := runtime.NumGoroutine()
	ran := make(chan struct{})
	func() {
		p := New(WithWorkers(3))
		release := make(chan struct{})
		if err := p.Submit(bg, Normal, func() { <-release }); err != nil {
			t.Fatal(err)
		}
		if err := p.Submit(bg, Low, func() { close(ran) }); err != nil {
			t.Fatal(err)
		}
		close(release)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if runtime.NumGoroutine() <= before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("workers of a dropped pool still running after 10s: %v", goleak.Find(ignore))
		}
		time.Sleep(time.Millisecond)
	}
	recv(t, ran, "the dropped pool's accepted task to run")
	if err := goleak.Find(ignore); err != nil {
		t.Fatal(err)
	}
}
