package pool

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// outcome runs f on its own goroutine and reports the value it panicked
// with (nil if it returned). It fails the test if f neither returns nor
// panics within 10 s: bad input must never hang.
func outcome(t *testing.T, f func()) (panicked any) {
	t.Helper()
	done := make(chan any, 1)
	go func() {
		returned := false
		defer func() {
			if !returned {
				done <- recover()
			}
		}()
		f()
		returned = true
		done <- nil
	}()
	select {
	case v := <-done:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("the call did not return or panic within 10s")
		return nil
	}
}

// Misuse panics at the call site, within a deadline, with a message that
// names the function and the fault.
func TestMisusePanicsAtTheCallSiteNamingTheFunction(t *testing.T) {
	fn := func() {}
	cfn := func(context.Context) {}
	var nilCtx context.Context
	panics := []struct {
		name, want string
		f          func()
	}{
		{"WithWorkers(0)", "pool: WithWorkers called with n = 0", func() { WithWorkers(0) }},
		{"WithQueueCapacity(0)", "pool: WithQueueCapacity called with n = 0", func() { WithQueueCapacity(0) }},
		{"WithQueueCapacity(-1)", "pool: WithQueueCapacity called with n = -1", func() { WithQueueCapacity(-1) }},
		{"WithMaxWorkers(0)", "pool: WithMaxWorkers called with n = 0", func() { WithMaxWorkers(0) }},
		{"WithIdleTimeout(0)", "pool: WithIdleTimeout called with d = 0s", func() { WithIdleTimeout(0) }},
		{"WithPanicHandler(nil)", "pool: WithPanicHandler called with a nil handler", func() { WithPanicHandler(nil) }},
		{"max below workers", "pool: New called with WithMaxWorkers(2) below the 4 base workers", func() { New(WithWorkers(4), WithMaxWorkers(2)) }},
		{"Submit nil fn", "pool: Submit called with a nil function", func() { testPool.Submit(bg, Normal, nil) }},
		{"Submit bad priority", "pool: Submit called with invalid priority Priority(7)", func() { testPool.Submit(bg, 7, fn) }},
		{"Submit nil ctx", "pool: Submit called with a nil context", func() { testPool.Submit(nilCtx, Normal, fn) }},
		{"TrySubmit nil fn", "pool: TrySubmit called with a nil function", func() { testPool.TrySubmit(Normal, nil) }},
		{"Go nil fn", "pool: Go called with a nil function", func() { testPool.Go(bg, Normal, nil) }},
		{"Go nil ctx", "pool: Go called with a nil context", func() { testPool.Go(nilCtx, Normal, cfn) }},
		{"TryGo bad priority", "pool: TryGo called with invalid priority Priority(3)", func() { testPool.TryGo(bg, 3, cfn) }},
		{"Block nil fn", "pool: Block called with a nil function", func() { Block(bg, nil) }},
		{"WithWorkers(-1)", "pool: WithWorkers called with n = -1; need n >= 1", func() { WithWorkers(-1) }},
		{"WithWorkers(MinInt)", "pool: WithWorkers called with n = -9223372036854775808", func() { WithWorkers(math.MinInt) }},
		{"WithMaxWorkers(-1)", "pool: WithMaxWorkers called with n = -1; need n >= 1", func() { WithMaxWorkers(-1) }},
		{"WithIdleTimeout(-1ns)", "pool: WithIdleTimeout called with d = -1ns; need d > 0", func() { WithIdleTimeout(-1) }},
		{"New(nil Option)", "pool: New called with a nil Option", func() { New(nil) }},
		{"TrySubmit bad priority", "pool: TrySubmit called with invalid priority Priority(3)", func() { testPool.TrySubmit(3, fn) }},
		{"Go bad priority", "pool: Go called with invalid priority Priority(255)", func() { testPool.Go(bg, 255, cfn) }},
		{"TryGo nil fn", "pool: TryGo called with a nil function", func() { testPool.TryGo(bg, Normal, nil) }},
		{"TryGo nil ctx", "pool: TryGo called with a nil context", func() { testPool.TryGo(nilCtx, Normal, cfn) }},
		{"Stop nil ctx", "pool: Stop called with a nil context", func() { testPool.Stop(nilCtx) }},
		{"zero Pool Submit", "pool: Submit called on a Pool not made by New", func() { new(Pool).Submit(bg, Normal, fn) }},
		{"zero Pool TrySubmit", "pool: TrySubmit called on a Pool not made by New", func() { new(Pool).TrySubmit(Normal, fn) }},
		{"nil Pool Go", "pool: Go called on a Pool not made by New", func() { (*Pool)(nil).Go(bg, Normal, cfn) }},
		{"zero Pool TryGo", "pool: TryGo called on a Pool not made by New", func() { new(Pool).TryGo(bg, Normal, cfn) }},
		{"zero Pool Stop", "pool: Stop called on a Pool not made by New", func() { new(Pool).Stop(bg) }},
		{"zero Pool Stats", "pool: Stats called on a Pool not made by New", func() { new(Pool).Stats() }},
	}
	for _, tc := range panics {
		t.Run(tc.name, func(t *testing.T) {
			v := outcome(t, tc.f)
			if v == nil {
				t.Fatalf("no panic; want %q", tc.want)
			}
			if got := fmt.Sprint(v); !strings.HasPrefix(got, "pool: ") || !strings.Contains(got, tc.want) {
				t.Fatalf("panic %q; want a \"pool: \" message containing %q", got, tc.want)
			}
		})
	}
}

// A huge queue capacity is just a large bound: tasks are accepted and run.
func TestHugeQueueCapacity(t *testing.T) {
	p := New(WithWorkers(1), WithQueueCapacity(math.MaxInt))
	var ran atomic.Int64
	for range 1000 {
		if err := p.TrySubmit(Normal, func() { ran.Add(1) }); err != nil {
			t.Fatalf("TrySubmit with capacity MaxInt = %v", err)
		}
	}
	stop(t, p)
	if ran.Load() != 1000 {
		t.Fatalf("%d of 1000 tasks ran", ran.Load())
	}
}

// Submit's ctx only bounds the wait for room: an already cancelled ctx does
// not refuse a task there is room for, and does refuse (with ctx's error,
// without running the task) one there is no room for.
func TestSubmitCancelledCtx(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1), WithQueueCapacity(1))
	release := gate(t, p)
	ctx, cancel := context.WithCancel(bg)
	cancel()
	ran := make(chan struct{})
	if err := p.Submit(ctx, Normal, func() { close(ran) }); err != nil {
		t.Fatalf("Submit with a cancelled ctx and room = %v; want nil", err)
	}
	var refusedRan atomic.Bool
	for _, call := range []func() error{
		func() error { return p.Submit(ctx, Normal, func() { refusedRan.Store(true) }) },
		func() error { return p.Go(ctx, Normal, func(context.Context) { refusedRan.Store(true) }) },
	} {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Fatalf("Submit/Go with a cancelled ctx on a full queue = %v; want context.Canceled", err)
		}
	}
	if err := p.TrySubmit(Normal, fn0); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("TrySubmit on a full queue = %v; want ErrQueueFull", err)
	}
	release()
	recv(t, ran, "the accepted task")
	stop(t, p)
	if refusedRan.Load() {
		t.Fatal("a refused task ran")
	}
}

func fn0() {}

// Stop with an expired ctx still stops the pool: it refuses new work at
// once, returns the ctx's error only if workers are still busy, and a later
// Stop joins them. Stop from many goroutines while others submit is covered
// by TestStopUnderLoad.
func TestStopExpiredCtx(t *testing.T) {
	p := New(WithWorkers(2))
	release := make(chan struct{})
	started := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(started); <-release }); err != nil {
		t.Fatal(err)
	}
	recv(t, started, "the busy task")
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if err := p.Stop(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop(cancelled ctx) with a busy worker = %v; want context.Canceled", err)
	}
	if err := p.TrySubmit(Normal, fn0); !errors.Is(err, ErrClosed) {
		t.Fatalf("TrySubmit after Stop(cancelled ctx) = %v; want ErrClosed", err)
	}
	close(release)
	stop(t, p)
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop(cancelled ctx) on a stopped pool = %v; want nil (it has stopped)", err)
	}
}

// Many goroutines calling Stop and Stats while a task blocks: all Stops
// return once it finishes, none early.
func TestStopManyWhileBusy(t *testing.T) {
	p := New(WithWorkers(1))
	release := make(chan struct{})
	started := make(chan struct{})
	var finished atomic.Bool
	if err := p.Submit(bg, Normal, func() { close(started); <-release; finished.Store(true) }); err != nil {
		t.Fatal(err)
	}
	recv(t, started, "the busy task")
	var wg sync.WaitGroup
	early := make(chan struct{}, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Stats()
			if err := p.Stop(bg); err != nil {
				t.Errorf("Stop = %v", err)
			}
			if !finished.Load() {
				early <- struct{}{}
			}
		}()
	}
	close(release)
	wg.Wait()
	if len(early) != 0 {
		t.Fatalf("%d Stop calls returned before the accepted task finished", len(early))
	}
}
