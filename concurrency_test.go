package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// The tests in this file check the rules of issue 10: who may spawn while
// Wait runs, what help-while-waiting runs, what Start's ctx carries, and
// the Goexit rule. Each failed on the code before its fix (the
// commit that fixed it says how).

// spawnOrRefused runs spawn and reports whether it returned (the child was
// accepted) rather than panicking with the documented "after Wait" panic.
// Any other panic fails the test.
func spawnOrRefused(t *testing.T, spawn func()) (accepted bool) {
	defer func() {
		if v := recover(); v != nil {
			if s, ok := v.(string); !ok || !strings.Contains(s, "after Wait") {
				t.Errorf("spawn racing Wait panicked with %v; want the documented \"after Wait\" panic", v)
			}
			accepted = false
		}
	}()
	spawn()
	return true
}

// A Start from a goroutine that is not a child, racing Wait, is either
// joined (its child ran before Wait returned) or refused with the
// documented panic; Wait never hangs and -race sees no race. Before the
// fix Wait hung within a few thousand rounds (Start's forwarder was added
// after Wait's snapshot) and -race reported the race.
func TestStartRacingWaitIsJoinedOrRefused(t *testing.T) {
	p := newPool(t, 2)
	rounds := 5000
	if testing.Short() {
		rounds = 500
	}
	within(t, 2*timeoutLong, "rounds of Start racing Wait", func() {
		for range rounds {
			s, ctx := NewScope(context.Background(), WithPool(p))
			var ran atomic.Bool
			var accepted bool
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				accepted = spawnOrRefused(t, func() {
					Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
						ran.Store(true)
						ready(1)
						return nil
					})
				})
			}()
			s.Wait()
			ranAtWait := ran.Load()
			wg.Wait()
			if accepted && !ranAtWait {
				t.Errorf("Start's child was accepted but had not run when Wait returned")
				return
			}
		}
	})
}

// Go and TryGo from a goroutine that is not a child, racing Wait: whatever
// was accepted ran before Wait returned; a spawn that lost the race panics
// as documented. Before the fix, accepted children ran after Wait returned
// or never ran while Wait returned nil.
func TestSpawnRacingWaitIsJoinedOrRefused(t *testing.T) {
	p := newPool(t, 2)
	rounds := 20000
	if testing.Short() {
		rounds = 2000
	}
	for _, try := range []bool{false, true} {
		t.Run(fmt.Sprintf("TryGo=%v", try), func(t *testing.T) {
			within(t, 2*timeoutLong, "rounds of spawns racing Wait", func() {
				for range rounds {
					s, _ := NewScope(context.Background(), WithPool(p))
					var ran atomic.Bool
					var accepted bool
					var wg sync.WaitGroup
					wg.Add(1)
					start := make(chan struct{})
					go func() {
						defer wg.Done()
						<-start
						fn := func(context.Context) error { ran.Store(true); return nil }
						accepted = spawnOrRefused(t, func() {
							if try {
								if !s.TryGo(Normal, fn) {
									panic("refused after Wait (TryGo false)")
								}
							} else {
								s.Go(Normal, fn)
							}
						})
					}()
					close(start)
					err := s.Wait()
					ranAtWait := ran.Load()
					wg.Wait()
					if err != nil {
						t.Errorf("Wait = %v; want nil", err)
						return
					}
					if accepted && !ranAtWait {
						t.Errorf("a child Go accepted had not run when Wait returned nil")
						return
					}
					if !accepted && ran.Load() {
						t.Errorf("a refused child ran")
						return
					}
				}
			})
		})
	}
}

// A WithLimit(2) Nursery inside a child: the body spawns a producer, a
// consumer that ranges over a channel, then a third child, and feeds the
// channel after its Go calls return. errgroup with SetLimit(2) completes
// this; so must a scope. Before the fix Go, waiting for a slot, ran the
// queued consumer inline on the body's goroutine: deadlock.
func TestWithLimitGoDoesNotRunAChildItsCallerFeeds(t *testing.T) {
	p := newPool(t, 2)
	outer, _ := NewScope(context.Background(), WithPool(p))
	outer.Go(Normal, func(ctx context.Context) error {
		return Nursery(ctx, func(ctx context.Context) error {
			ch := make(chan int)
			consumerStarted := make(chan struct{})
			producerStarted := make(chan struct{})
			Go(ctx, Normal, func(context.Context) error { // producer
				close(producerStarted)
				<-consumerStarted
				return nil
			})
			<-producerStarted
			Go(ctx, Normal, func(context.Context) error { // consumer
				close(consumerStarted)
				for range ch {
				}
				return nil
			})
			Go(ctx, Normal, func(context.Context) error { return nil })
			for i := range 3 {
				ch <- i
			}
			close(ch)
			return nil
		}, WithLimit(2))
	})
	within(t, timeoutLong, "the WithLimit(2) producer/consumer Nursery", func() {
		if err := outer.Wait(); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}

// Two children each call Start on a two-worker pool that cannot grow: both
// workers sit in Start. Start must help (its own child first), as Wait
// does. Before the fix both waited for ever.
func TestStartOnPoolThatCannotGrowHelps(t *testing.T) {
	p := pool.New(pool.WithWorkers(2), pool.WithMaxWorkers(2))
	t.Cleanup(func() { p.Stop(context.Background()) })
	s, _ := NewScope(context.Background(), WithPool(p))
	var barrier sync.WaitGroup
	barrier.Add(2)
	for i := range 2 {
		s.Go(Normal, func(ctx context.Context) error {
			barrier.Done()
			barrier.Wait() // both workers are in a child
			v, err := Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
				ready(i)
				return nil
			})
			if err != nil || v != i {
				return fmt.Errorf("Start = %v, %v; want %d, nil", v, err, i)
			}
			return nil
		})
	}
	within(t, timeoutLong, "two Starts on a full two-worker pool", func() {
		if err := s.Wait(); err != nil {
			t.Errorf("Wait = %v", err)
		}
	})
}

// After ready, a Start child's ctx carries the scope's deadline and ends
// with the scope's cause, as a Go child's does: a child that returns
// ctx.Err() then is cancellation noise, and Wait returns DeadlineExceeded.
// Before the fix the ctx had no deadline and ended with context.Canceled,
// which Wait reported as a failure.
func TestStartChildCtxCarriesScopeDeadline(t *testing.T) {
	s, ctx := NewScope(context.Background(), WithTimeout(20*time.Millisecond))
	var hasDeadline bool
	var cause error
	_, err := Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
		ready(0)
		_, hasDeadline = ctx.Deadline()
		<-ctx.Done()
		cause = context.Cause(ctx)
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	if werr := s.Wait(); werr != context.DeadlineExceeded {
		t.Fatalf("Wait = %v; want context.DeadlineExceeded", werr)
	}
	if !hasDeadline {
		t.Errorf("the Start child's ctx has no deadline; want the scope's")
	}
	if cause != context.DeadlineExceeded {
		t.Errorf("the Start child's ctx ended with cause %v; want the scope's, DeadlineExceeded", cause)
	}
}

// fullQueuePool returns a one-worker pool that cannot grow whose one queue
// slot is taken and whose worker is busy until release is closed.
func fullQueuePool(t *testing.T) (p *pool.Pool, release chan struct{}) {
	p = pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1), pool.WithQueueCapacity(1))
	release = make(chan struct{})
	running := make(chan struct{})
	p.Submit(context.Background(), Normal, func() { close(running); <-release })
	<-running
	p.Submit(context.Background(), Normal, func() {})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		p.Stop(context.Background())
	})
	return p, release
}

// Start honours its own ctx while it waits for a WithLimit slot or for
// queue room: it returns ctx.Err(), its child is not started, and the scope
// is not failed. Before the fix Start waited until room appeared.
func TestStartCtxEndsItsWaitForRoom(t *testing.T) {
	cases := map[string]func(t *testing.T) (s *Scope, sctx context.Context, cleanup func()){
		"slot": func(t *testing.T) (*Scope, context.Context, func()) {
			s, sctx := NewScope(context.Background(), WithLimit(1))
			hold := make(chan struct{})
			s.Go(Normal, func(context.Context) error { <-hold; return nil })
			return s, sctx, func() { close(hold) }
		},
		"queue": func(t *testing.T) (*Scope, context.Context, func()) {
			p, release := fullQueuePool(t)
			s, sctx := NewScope(context.Background(), WithPool(p))
			return s, sctx, func() { close(release) }
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			s, sctx, cleanup := setup(t)
			ctx, cancel := context.WithCancel(sctx)
			cancel()
			var ran atomic.Bool
			within(t, timeoutLong, "Start with an ended ctx waiting for room", func() {
				_, err := Start(ctx, Normal, func(ctx context.Context, ready func(int)) error {
					ran.Store(true)
					ready(1)
					return nil
				})
				if err != context.Canceled {
					t.Errorf("Start = %v; want context.Canceled (its ctx's Err)", err)
				}
			})
			if s.Context().Err() != nil {
				t.Errorf("the scope was cancelled (%v); a Start caller giving up is not a failure", context.Cause(s.Context()))
			}
			cleanup()
			if err := s.Wait(); err != nil {
				t.Errorf("Wait = %v; want nil", err)
			}
			if ran.Load() {
				t.Errorf("the child of an abandoned Start ran")
			}
		})
	}
}

// A spawner's own ctx ending while Go waits for a slot or for queue room:
// the child is not started, Go returns, and that is not a failure of the
// scope (siblings are not cancelled, Wait returns nil). Before the fix the
// queue wait reported ErrNotStarted and failed the scope, and the slot wait
// ignored the ctx.
func TestSpawnerCtxEndingWhileGoWaitsIsNotAFailure(t *testing.T) {
	cases := map[string]func(t *testing.T) (s *Scope, sctx context.Context, cleanup func()){
		"slot": func(t *testing.T) (*Scope, context.Context, func()) {
			s, sctx := NewScope(context.Background(), WithLimit(1))
			hold := make(chan struct{})
			s.Go(Normal, func(context.Context) error { <-hold; return nil })
			return s, sctx, func() { close(hold) }
		},
		"queue": func(t *testing.T) (*Scope, context.Context, func()) {
			p, release := fullQueuePool(t)
			s, sctx := NewScope(context.Background(), WithPool(p))
			return s, sctx, func() { close(release) }
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			s, sctx, cleanup := setup(t)
			ctx, cancel := context.WithCancel(sctx)
			cancel()
			var ran atomic.Bool
			within(t, timeoutLong, "Go with an ended ctx waiting for room", func() {
				Go(ctx, Normal, func(context.Context) error { ran.Store(true); return nil })
			})
			if s.Context().Err() != nil {
				t.Errorf("the scope was cancelled (%v); a spawner's ctx ending is not a failure", context.Cause(s.Context()))
			}
			cleanup()
			if err := s.Wait(); err != nil {
				t.Errorf("Wait = %v; want nil", err)
			}
			if ran.Load() {
				t.Errorf("a child whose spawner gave up ran")
			}
		})
	}
}

// A finished Start child leaves nothing behind in a long-lived scope: 20,000
// Starts whose children have returned hold well under 1 MB. Before the fix
// each held ~320 B (its cancellation forwarder) until Wait: ~6.4 MB.
func TestStartReleasesOnChildExit(t *testing.T) {
	const n = 20000
	s, ctx := NewScope(context.Background())
	defer s.Wait()
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	var done sync.WaitGroup
	for range n {
		done.Add(1)
		Start(ctx, Normal, func(ctx context.Context, ready func(struct{})) error {
			defer done.Done()
			ready(struct{}{})
			return nil
		})
	}
	done.Wait()
	var retained uint64
	waitUntil(t, "20,000 finished Start children retain < 1 MB", func() bool {
		after := heap()
		retained = after - min(after, before)
		return retained < 1<<20
	})
}

// A panic raised by a deferred call while runtime.Goexit unwinds is a
// panic, in a child, a Nursery body and a Group function: it is reported
// as a *PanicError. Before the fix it vanished (Wait returned nil).
func TestPanicDuringGoexitIsReported(t *testing.T) {
	goexitThenPanic := func() {
		defer func() { panic("deferred during Goexit") }()
		runtime.Goexit()
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "deferred during Goexit" {
			t.Fatalf("got %v; want a *PanicError with the deferred call's value", err)
		}
	}
	t.Run("child", func(t *testing.T) {
		check(t, Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(context.Context) error { goexitThenPanic(); return nil })
			return nil
		}))
	})
	t.Run("body", func(t *testing.T) {
		errc := make(chan error, 1)
		s, sctx := NewScope(context.Background())
		s.Go(Normal, func(context.Context) error {
			// The Nursery's goroutine ends (Goexit); its failure goes to
			// the enclosing scope.
			errc <- Nursery(sctx, func(ctx context.Context) error { goexitThenPanic(); return nil })
			return nil
		})
		check(t, s.Wait())
	})
	t.Run("group", func(t *testing.T) {
		var g Group
		g.Go(func() error { goexitThenPanic(); return nil })
		check(t, g.Wait())
	})
}

// The Goexit rule for a Nursery body: the goroutine joins the scope, and
// the scope's failures go to the enclosing scope instead of vanishing with
// the goroutine, as when Wait runs a child inline that calls Goexit.
// Before the fix the Nursery's result was dropped and the outer Wait
// returned nil.
func TestBodyGoexitPassesFailuresUp(t *testing.T) {
	outer, _ := NewScope(context.Background())
	outer.Go(Normal, func(ctx context.Context) error {
		return Nursery(ctx, func(ctx context.Context) error {
			failed := make(chan struct{})
			Go(ctx, Normal, func(context.Context) error { defer close(failed); return errA })
			<-failed
			runtime.Goexit()
			return nil
		}, WithCollectAll())
	})
	if err := outer.Wait(); !errors.Is(err, errA) {
		t.Fatalf("outer Wait = %v; want errA, the failure of the scope whose body called Goexit", err)
	}
}

// A child that calls runtime.Goexit does not make a scope lose a failure,
// whoever runs it: Go waiting for a WithLimit slot on a one-worker pool
// does not end the spawner's goroutine with it. Before the fix Go ran the
// child inline, the Nursery body's goroutine exited, and the outer Wait
// returned nil instead of errA.
func TestGoexitChildRunByGoKeepsScopeFailure(t *testing.T) {
	p := newPool(t, 1)
	outer, _ := NewScope(context.Background(), WithPool(p))
	outer.Go(Normal, func(ctx context.Context) error {
		return Nursery(ctx, func(ctx context.Context) error {
			Go(ctx, Normal, func(context.Context) error { return errA })
			Go(ctx, Normal, func(context.Context) error { runtime.Goexit(); return nil })
			Go(ctx, Normal, func(context.Context) error { return nil })
			Go(ctx, Normal, func(context.Context) error { return nil })
			return nil
		}, WithLimit(1), WithCollectAll())
	})
	within(t, timeoutLong, "the outer Wait", func() {
		if err := outer.Wait(); !errors.Is(err, errA) {
			t.Errorf("outer Wait = %v; want errA", err)
		}
	})
}

// Go waiting for a slot on a pool that cannot lend a worker runs queued
// children in the order Wait's help does: most urgent first (oldest first
// within a priority). Before the fix it ran the oldest (the Low child).
func TestGoHelpRunsMostUrgentFirst(t *testing.T) {
	f := newFixedPool(t, 1)
	var mu sync.Mutex
	var order []Priority
	record := func(p Priority) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			order = append(order, p)
			mu.Unlock()
			return nil
		}
	}
	done := make(chan error, 1)
	if err := f.Go(context.Background(), Normal, func(ctx context.Context) {
		done <- Nursery(ctx, func(ctx context.Context) error {
			Go(ctx, Low, record(Low))
			Go(ctx, High, record(High))
			Go(ctx, Normal, record(Normal)) // waits: runs one queued child
			return nil
		}, withRunner(f), WithLimit(2))
	}); err != nil {
		t.Fatal(err)
	}
	within(t, timeoutLong, "the WithLimit(2) Nursery on the only worker", func() {
		if err := <-done; err != nil {
			t.Errorf("Nursery = %v", err)
		}
	})
	mu.Lock()
	defer mu.Unlock()
	if len(order) == 0 || order[0] != High {
		t.Fatalf("children ran in the order %v; want the High child first", order)
	}
}
