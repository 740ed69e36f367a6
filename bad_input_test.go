package echo

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

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// outcome runs f on its own goroutine and returns the value it panicked
// with (nil if it returned). Bad input must never hang: it fails the test
// if f neither returns nor panics within 10 s.
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

// Misuse panics at the call site, within a deadline, with a message naming
// the function and the fault.
func TestMisusePanicsAtTheCallSiteNamingTheFunction(t *testing.T) {
	done, doneCtx := NewScope(context.Background())
	if err := done.Wait(); err != nil {
		t.Fatal(err)
	}
	live, liveCtx := NewScope(context.Background())
	defer live.Wait()
	nop := func(context.Context) error { return nil }
	startNop := func(context.Context, func(int)) error { return nil }
	var nilCtx context.Context
	var zero Scope
	bg := context.Background()
	cases := []struct {
		name, want string
		f          func()
	}{
		{"Scope.Go after Wait", "echo: Scope.Go called after Wait returned; a Scope is single-use", func() { done.Go(Normal, nop) }},
		{"Scope.TryGo after Wait", "echo: Scope.TryGo called after Wait returned; a Scope is single-use", func() { done.TryGo(Normal, nop) }},
		{"Go after Wait", "echo: Go called after Wait returned; a Scope is single-use", func() { Go(doneCtx, Normal, nop) }},
		{"Scope.Go nil fn", "echo: Scope.Go called with a nil fn", func() { live.Go(Normal, nil) }},
		{"Scope.TryGo nil fn", "echo: Scope.TryGo called with a nil fn", func() { live.TryGo(Normal, nil) }},
		{"Go nil fn", "echo: Go called with a nil fn", func() { Go(liveCtx, Normal, nil) }},
		{"Scope.Go bad priority", "echo: Scope.Go called with unknown priority Priority(7); use echo.High, echo.Normal or echo.Low", func() { live.Go(Priority(7), nop) }},
		{"Go bad priority", "echo: Go called with unknown priority Priority(3); use echo.High, echo.Normal or echo.Low", func() { Go(liveCtx, Priority(3), nop) }},
		{"Go nil ctx", "echo: Go called with a nil ctx", func() { Go(nilCtx, Normal, nop) }},
		{"Go no scope", "echo: Go called with a context that carries no scope; open one with echo.Nursery or echo.NewScope", func() { Go(bg, Normal, nop) }},
		{"TryGo no scope", "echo: TryGo called with a context that carries no scope; open one with echo.Nursery or echo.NewScope", func() { TryGo(bg, Normal, nop) }},
		{"Start no scope", "echo: Start called with a context that carries no scope; open one with echo.Nursery or echo.NewScope", func() { Start(bg, Normal, startNop) }},
		{"Start nil fn", "echo: Start called with a nil fn", func() { Start[int](liveCtx, Normal, nil) }},
		{"NewScope nil ctx", "echo: NewScope called with a nil ctx", func() { NewScope(nilCtx) }},
		{"Nursery nil ctx", "echo: Nursery called with a nil ctx", func() { Nursery(nilCtx, nop) }},
		{"Nursery nil body", "echo: Nursery called with a nil body", func() { Nursery(bg, nil) }},
		{"NewScope nil option", "echo: NewScope called with a nil Option", func() { NewScope(bg, nil) }},
		{"WithLimit 0", "echo: WithLimit called with n = 0; a scope needs n >= 1 slots (or n < 0 for no limit)", func() { WithLimit(0) }},
		{"WithPool nil", "echo: WithPool called with a nil pool", func() { WithPool(nil) }},
		{"WithName empty", `echo: WithName called with name = ""; a name must not be empty`, func() { WithName("") }},
		{"TryGo nil ctx", "echo: TryGo called with a nil ctx", func() { TryGo(nilCtx, Normal, nop) }},
		{"TryGo nil fn", "echo: TryGo called with a nil fn", func() { TryGo(liveCtx, Normal, nil) }},
		{"TryGo bad priority", "echo: TryGo called with unknown priority Priority(9)", func() { TryGo(liveCtx, Priority(9), nop) }},
		{"TryGo after Wait", "echo: TryGo called after Wait returned; a Scope is single-use", func() { TryGo(doneCtx, Normal, nop) }},
		{"Scope.TryGo bad priority", "echo: Scope.TryGo called with unknown priority Priority(255)", func() { live.TryGo(Priority(255), nop) }},
		{"Start nil ctx", "echo: Start called with a nil ctx", func() { Start(nilCtx, Normal, startNop) }},
		{"Start bad priority", "echo: Start called with unknown priority Priority(3)", func() { Start(liveCtx, Priority(3), startNop) }},
		{"Start after Wait", "echo: Start called after Wait returned; a Scope is single-use", func() { Start(doneCtx, Normal, startNop) }},
		{"Nursery nil Option", "echo: Nursery called with a nil Option", func() { Nursery(context.Background(), nop, nil) }},
		{"zero Scope Go", "echo: Scope.Go called on a Scope not made by NewScope", func() { zero.Go(Normal, nop) }},
		{"zero Scope TryGo", "echo: Scope.TryGo called on a Scope not made by NewScope", func() { zero.TryGo(Normal, nop) }},
		{"zero Scope Wait", "echo: Scope.Wait called on a Scope not made by NewScope", func() { zero.Wait() }},
		{"zero Scope Cancel", "echo: Scope.Cancel called on a Scope not made by NewScope", func() { zero.Cancel(nil) }},
		{"PriorityOf nil ctx", "echo: PriorityOf called with a nil ctx", func() { PriorityOf(nilCtx) }},
		{"WithPriority bad priority", "echo: WithPriority called with unknown priority Priority(7)", func() { WithPriority(Priority(7)) }},
		{"WithErrorHandler nil", "echo: WithErrorHandler called with a nil fn", func() { WithErrorHandler(nil) }},
		{"WithContext nil ctx", "cannot create context from nil parent", func() { WithContext(nilCtx) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := outcome(t, tc.f)
			if v == nil {
				t.Fatalf("no panic; want %q", tc.want)
			}
			if got := fmt.Sprint(v); !strings.Contains(got, tc.want) {
				t.Fatalf("panic %q; want it to contain %q", got, tc.want)
			}
		})
	}
}

// TestBadInputResults: arguments at the edges give their documented
// results, never a hang or a silently dropped child.
func TestBadInputResults(t *testing.T) {
	nop := func(context.Context) error { return nil }
	t.Run("WithTimeout negative", func(t *testing.T) {
		ran := false
		err := Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(context.Context) error { ran = true; return nil })
			return nil
		}, WithTimeout(-time.Hour))
		if !isSkipped(err, context.DeadlineExceeded, 1) || ran {
			t.Fatalf("Nursery with WithTimeout(-1h) = %v (child ran: %v); want DeadlineExceeded with 1 skipped, not run", err, ran)
		}
	})
	t.Run("WithTimeout huge", func(t *testing.T) {
		if err := Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, nop)
			return nil
		}, WithTimeout(math.MaxInt64)); err != nil {
			t.Fatalf("Nursery with WithTimeout(MaxInt64) = %v; want nil", err)
		}
	})
	t.Run("WithLimit huge", func(t *testing.T) {
		var ran atomic.Int64
		s, _ := NewScope(context.Background(), WithLimit(math.MaxInt))
		for range 100 {
			if !s.TryGo(Normal, func(context.Context) error { ran.Add(1); return nil }) {
				t.Fatal("TryGo refused under WithLimit(MaxInt)")
			}
		}
		if err := s.Wait(); err != nil || ran.Load() != 100 {
			t.Fatalf("Wait = %v, %d of 100 ran", err, ran.Load())
		}
	})
	t.Run("Cancel nil, twice, after Wait", func(t *testing.T) {
		s, ctx := NewScope(context.Background())
		started := make(chan struct{})
		s.Go(Normal, func(ctx context.Context) error { close(started); <-ctx.Done(); return ctx.Err() })
		<-started
		s.Cancel(nil)
		s.Cancel(errA) // the first cause stays
		if err := s.Wait(); err != context.Canceled {
			t.Fatalf("Wait after Cancel(nil) = %v; want context.Canceled", err)
		}
		s.Cancel(errB) // after Wait: no effect, no panic
		if err := s.Wait(); err != context.Canceled || context.Cause(ctx) != context.Canceled {
			t.Fatalf("after a late Cancel: Wait = %v, cause %v; want context.Canceled for both", err, context.Cause(ctx))
		}
	})
	t.Run("Wait concurrently", func(t *testing.T) {
		s, _ := NewScope(context.Background())
		release := make(chan struct{})
		s.Go(Normal, func(context.Context) error { <-release; return errA })
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); errs <- s.Wait() }()
		}
		close(release)
		within(t, timeoutLong, "8 concurrent Waits", wg.Wait)
		close(errs)
		for err := range errs {
			if err != errA {
				t.Fatalf("a concurrent Wait = %v; want errA", err)
			}
		}
	})
	t.Run("Group.Go and TryGo nil", func(t *testing.T) {
		// errgroup would crash the process with a nil dereference on the
		// new goroutine; the Group panics at the call site instead, and
		// starts nothing.
		for _, tc := range []struct {
			name string
			call func(g *Group)
		}{
			{"Group.Go", func(g *Group) { g.Go(nil) }},
			{"Group.TryGo", func(g *Group) { g.TryGo(nil) }},
		} {
			var g Group
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				tc.call(&g)
				return ""
			}()
			if want := "echo: " + tc.name + " called with a nil function"; msg != want {
				t.Fatalf("%s(nil) panicked with %q; want %q", tc.name, msg, want)
			}
			if err := g.Wait(); err != nil {
				t.Fatalf("%s(nil) then Wait = %v; want nil (nothing started)", tc.name, err)
			}
		}
	})
	t.Run("Start on a stopped pool", func(t *testing.T) {
		p := pool.New(pool.WithWorkers(1))
		stopPool(t, p)
		s, ctx := NewScope(context.Background(), WithPool(p))
		ran := false
		_, err := Start(ctx, Normal, func(context.Context, func(int)) error { ran = true; return nil })
		if !errors.Is(err, ErrNotStarted) || !errors.Is(err, pool.ErrClosed) || ran {
			t.Fatalf("Start on a stopped pool = %v (ran %v); want ErrNotStarted and pool.ErrClosed, not run", err, ran)
		}
		if err := s.Wait(); err != nil {
			t.Fatalf("Wait = %v; want nil (Start's caller was told)", err)
		}
	})
	t.Run("one refused child is one error", func(t *testing.T) {
		// multierr.Errors splits an error that wraps several (fmt.Errorf
		// with two %w) into its parts: a refused child must stay one error.
		p := pool.New(pool.WithWorkers(1))
		stopPool(t, p)
		s, _ := NewScope(context.Background(), WithPool(p), WithName("refused"))
		s.Go(Normal, nop)
		err := s.Wait()
		errs := multierr.Errors(err)
		if len(errs) != 1 || !errors.Is(errs[0], ErrNotStarted) || !errors.Is(errs[0], pool.ErrClosed) {
			t.Fatalf("multierr.Errors(Wait()) = %q; want one error wrapping ErrNotStarted and pool.ErrClosed", errs)
		}
	})
	t.Run("Go waiting on a full pool, scope cancelled", func(t *testing.T) {
		// The pool's queue is full behind a held worker: Go waits for
		// room; cancelling the scope ends the wait, and the child is
		// counted as not started, not dropped.
		p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1), pool.WithQueueCapacity(1))
		defer stopPool(t, p)
		release := make(chan struct{})
		running := make(chan struct{})
		if err := p.Submit(context.Background(), High, func() { close(running); <-release }); err != nil {
			t.Fatal(err)
		}
		<-running
		defer close(release)
		if err := p.Submit(context.Background(), Low, func() {}); err != nil {
			t.Fatal(err)
		}
		s, _ := NewScope(context.Background(), WithPool(p))
		if s.TryGo(Normal, nop) {
			t.Fatal("TryGo on a full pool returned true")
		}
		returned := make(chan struct{})
		ran := false
		go func() {
			defer close(returned)
			s.Go(Normal, func(context.Context) error { ran = true; return nil })
		}()
		waitUntil(t, "Go waits for room in the pool", func() bool { return s.live() == 1 })
		s.Cancel(errC)
		within(t, timeoutLong, "Go waiting for room after Cancel", func() { <-returned })
		if err := s.Wait(); !isSkipped(err, errC, 1) || ran {
			t.Fatalf("Wait = %v, ran %v; want errC with 1 skipped, false", err, ran)
		}
	})
}
