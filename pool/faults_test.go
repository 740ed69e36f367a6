package pool

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPanicRecoveredCountedHandled(t *testing.T) {
	type report struct {
		value any
		stack string
	}
	reports := make(chan report, 1)
	p := New(WithWorkers(1), WithMaxWorkers(1), WithPanicHandler(func(v any, stack []byte) {
		reports <- report{v, string(stack)}
	}))
	defer stop(t, p)
	if err := p.Submit(bg, Normal, func() { panic("boom") }); err != nil {
		t.Fatal(err)
	}
	r := recv(t, reports, "the panic handler to be called")
	if r.value != "boom" || !strings.Contains(r.stack, "TestPanicRecoveredCountedHandled") {
		t.Fatalf("handler got value %v and a stack without the panicking function:\n%s", r.value, r.stack)
	}
	// The worker survives: the only worker runs the next task.
	ran := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	recv(t, ran, "the worker to run a task after a panic")
	waitFor(t, "Stats counts both tasks", func() bool { return p.Stats().Completed == 2 })
	if st := p.Stats(); st.Panics != 1 || st.Workers != 1 {
		t.Fatalf("after a panic: Panics = %d, Workers = %d; want 1 and 1", st.Panics, st.Workers)
	}
}

func TestPanicNilIsAPanic(t *testing.T) {
	values := make(chan any, 1)
	p := New(WithWorkers(1), WithPanicHandler(func(v any, _ []byte) { values <- v }))
	defer stop(t, p)
	if err := p.Submit(bg, Normal, func() { panic(nil) }); err != nil {
		t.Fatal(err)
	}
	var pe *runtime.PanicNilError
	if v := recv(t, values, "the handler to see panic(nil)"); !errors.As(v.(error), &pe) {
		t.Fatalf("handler got %T, want *runtime.PanicNilError", v)
	}
	if st := p.Stats(); st.Goexits != 0 {
		t.Fatalf("panic(nil) counted as Goexit")
	}
}

// A panic raised by a deferred call while runtime.Goexit unwinds is a
// panic: the handler gets it (and the worker is replaced, since the Goexit
// goes on). Before the fix it vanished: the pool counted a Goexit only.
func TestPanicDuringGoexitGoesToHandler(t *testing.T) {
	values := make(chan any, 1)
	p := New(WithWorkers(1), WithMaxWorkers(1), WithPanicHandler(func(v any, _ []byte) { values <- v }))
	defer stop(t, p)
	if err := p.Submit(bg, Normal, func() {
		defer func() { panic("deferred during Goexit") }()
		runtime.Goexit()
	}); err != nil {
		t.Fatal(err)
	}
	if v := recv(t, values, "the handler to see the panic raised during Goexit"); v != "deferred during Goexit" {
		t.Fatalf("handler got %v; want the deferred call's panic", v)
	}
	ran := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(ran) }); err != nil {
		t.Fatal(err)
	}
	recv(t, ran, "the replaced worker to run a task")
	if st := p.Stats(); st.Panics != 1 {
		t.Fatalf("Panics = %d; want 1", st.Panics)
	}
}

// TestGoexitReplacesWorker: tasks that call runtime.Goexit on both workers;
// afterwards two tasks that need each other still run at once on exactly
// the 2 allowed workers.
func TestGoexitReplacesWorker(t *testing.T) {
	p := New(WithWorkers(2), WithMaxWorkers(2))
	defer stop(t, p)
	var arrived sync.WaitGroup
	arrived.Add(2)
	exited := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		// Both run at once (barrier), so each worker's goroutine exits.
		if err := p.Submit(bg, Normal, func() {
			arrived.Done()
			arrived.Wait()
			defer func() { exited <- struct{}{} }()
			runtime.Goexit()
		}); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, exited, "first Goexit")
	recv(t, exited, "second Goexit")
	var again sync.WaitGroup
	again.Add(2)
	done := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		if err := p.Submit(bg, Normal, func() { again.Done(); again.Wait(); done <- struct{}{} }); err != nil {
			t.Fatal(err)
		}
	}
	recv(t, done, "two tasks on the replaced workers")
	recv(t, done, "two tasks on the replaced workers")
	waitFor(t, "Stats counts 4 completed tasks", func() bool { return p.Stats().Completed == 4 })
	if st := p.Stats(); st.Goexits != 2 || st.Workers != 2 {
		t.Fatalf("after Goexit: Goexits = %d, Workers = %d; want 2 and 2", st.Goexits, st.Workers)
	}
}

func TestBackpressure(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1), WithQueueCapacity(2))
	defer stop(t, p)
	release := gate(t, p)
	var o order
	for i := 1; i <= 2; i++ {
		if err := p.TrySubmit(Normal, o.task(i)); err != nil {
			t.Fatalf("TrySubmit %d with room: %v", i, err)
		}
	}
	if err := p.TrySubmit(Normal, func() { t.Error("refused task ran") }); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("TrySubmit on a full queue = %v, want ErrQueueFull", err)
	}
	if err := p.TryGo(bg, Normal, func(context.Context) { t.Error("refused task ran") }); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("TryGo on a full queue = %v, want ErrQueueFull", err)
	}
	ctx, cancel := context.WithTimeout(bg, 5*time.Millisecond)
	defer cancel()
	if err := p.Submit(ctx, Normal, func() { t.Error("refused task ran") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Submit on a full queue with an expiring ctx = %v, want DeadlineExceeded", err)
	}
	submitted := make(chan error)
	fn := o.task(3)
	go func() { submitted <- p.Submit(bg, Normal, fn) }()
	waitFor(t, "Submit waits for room", func() bool { return p.s.spaceWaiters.Load() == 1 })
	select {
	case err := <-submitted:
		t.Fatalf("Submit on a full queue returned %v without waiting", err)
	default:
	}
	release()
	if err := recv(t, submitted, "the waiting Submit to get room"); err != nil {
		t.Fatalf("waiting Submit = %v", err)
	}
	if got := o.wait(); len(got) != 3 {
		t.Fatalf("ran %v, want 3 tasks", got)
	}
}

// TestBackpressureFromWorker: tasks that submit into their own full pool
// wait without deadlocking it (the waiting worker lends a spare).
func TestBackpressureFromWorker(t *testing.T) {
	p := New(WithWorkers(2), WithQueueCapacity(1))
	defer stop(t, p)
	const n = 200
	var wg sync.WaitGroup
	wg.Add(n)
	var spawn func(i int) func(ctx context.Context)
	spawn = func(i int) func(ctx context.Context) {
		return func(ctx context.Context) {
			defer wg.Done()
			for c := 2*i + 1; c <= 2*i+2 && c < n; c++ {
				if err := p.Go(ctx, Normal, spawn(c)); err != nil {
					t.Error(err)
				}
			}
		}
	}
	if err := p.Go(bg, Normal, spawn(0)); err != nil {
		t.Fatal(err)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	recv(t, finished, "a tree of tasks submitting into a full pool to finish")
}
