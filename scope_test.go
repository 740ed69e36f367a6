package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

var (
	errA = errors.New("echo_test: A")
	errB = errors.New("echo_test: B")
	errC = errors.New("echo_test: C")
)

// Wait joins children spawned by children through ctx, including spawns
// that happen while the owner is already blocked in Wait.
func TestWaitJoinsChildrenSpawnedWhileWaiting(t *testing.T) {
	p := newPool(t, 2)
	s, ctx := NewScope(context.Background(), WithPool(p))
	const depth = 100
	var ran atomic.Int64
	var spawnChain func(ctx context.Context, left int) error
	spawnChain = func(ctx context.Context, left int) error {
		ran.Add(1)
		if left > 1 {
			Go(ctx, Normal, func(ctx context.Context) error { return spawnChain(ctx, left-1) })
		}
		return nil
	}
	started, release := make(chan struct{}), make(chan struct{})
	Go(ctx, Normal, func(ctx context.Context) error {
		close(started)
		<-release
		return spawnChain(ctx, depth)
	})
	<-started // the first child runs on the pool, so Wait has nothing to help with
	errc := make(chan error, 1)
	go func() { errc <- s.Wait() }()
	waitUntil(t, "Wait blocks for the running child", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.wake != nil
	})
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("Wait() = %v; want nil", err)
	}
	if got := ran.Load(); got != depth {
		t.Fatalf("Wait returned after %d of %d chained children ran", got, depth)
	}
}

// The first error cancels the scope with itself as cause; siblings that
// return only that cancellation are not reported; a single error comes
// back identical.
func TestFailFastCancelsWithCauseAndSuppressesCancellations(t *testing.T) {
	var causes [3]error
	var started sync.WaitGroup
	err := Nursery(context.Background(), func(ctx context.Context) error {
		for i := range causes {
			started.Add(1)
			Go(ctx, Normal, func(ctx context.Context) error {
				started.Done()
				<-ctx.Done()
				causes[i] = context.Cause(ctx)
				if i == 0 {
					return context.Cause(ctx) // the cause itself
				}
				if i == 1 {
					return fmt.Errorf("sibling stopped: %w", ctx.Err()) // wraps ctx.Err()
				}
				return ctx.Err()
			})
		}
		started.Wait() // the siblings run; otherwise they would just not start
		Go(ctx, High, func(ctx context.Context) error { return errA })
		return nil
	})
	if err != errA {
		t.Fatalf("Nursery = %v; want errA itself (siblings' cancellations must not be reported)", err)
	}
	for i, c := range causes {
		if c != errA {
			t.Errorf("sibling %d saw cause %v; want errA", i, c)
		}
	}
}

// A real error beats a cancellation: an error returned after the scope was
// cancelled, that is not that cancellation, is reported too.
func TestRealErrorAfterCancellationIsReported(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) error { return errA })
		<-ctx.Done()
		return errB
	})
	if !errors.Is(err, errA) || !errors.Is(err, errB) || len(multierr.Errors(err)) != 2 {
		t.Fatalf("Nursery = %v; want errA and errB combined", err)
	}
	if errs := multierr.Errors(err); errs[0] != errA || errs[1] != errB {
		t.Fatalf("multierr.Errors = %v; want [errA errB] in report order", errs)
	}
}

type codeError struct{ code int }

func (e *codeError) Error() string { return fmt.Sprintf("code %d", e.code) }

// Several errors are combined: errors.Is/As and multierr.Errors see each.
func TestCollectAllReportsEveryError(t *testing.T) {
	p := newPool(t, 2)
	var okRan atomic.Bool
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(context.Context) error { return errA })
		Go(ctx, Low, func(context.Context) error { return errB })
		Go(ctx, High, func(context.Context) error { return &codeError{7} })
		Go(ctx, Normal, func(context.Context) error { okRan.Store(true); return nil })
		return nil
	}, WithCollectAll(), WithPool(p))
	if n := len(multierr.Errors(err)); n != 3 {
		t.Fatalf("Nursery = %v (%d errors); want 3 errors", err, n)
	}
	var ce *codeError
	if !errors.Is(err, errA) || !errors.Is(err, errB) || !errors.As(err, &ce) || ce.code != 7 {
		t.Fatalf("Nursery = %v; want errA, errB and *codeError{7} visible to errors.Is/As", err)
	}
	if !okRan.Load() {
		t.Fatal("the succeeding child did not run")
	}
}

// WithCollectAll: a child's failure does not cancel siblings, neither the
// running ones nor the queued ones (deterministic on a fake pool).
func TestCollectAllKeepsSiblingsRunning(t *testing.T) {
	f := &fakePool{}
	s, ctx := NewScope(context.Background(), withRunner(f), WithCollectAll())
	s.Go(Normal, func(context.Context) error { return errA })
	var sawErr error
	s.Go(Normal, func(ctx context.Context) error {
		sawErr = ctx.Err() // runs after the failure has been reported
		return errB
	})
	tasks := f.take(Normal)
	tasks[0].fn(tasks[0].ctx)
	if ctx.Err() != nil {
		t.Fatalf("scope cancelled (%v) by a child error under WithCollectAll", context.Cause(ctx))
	}
	tasks[1].fn(tasks[1].ctx)
	if sawErr != nil {
		t.Fatalf("second child saw ctx.Err() = %v; want nil", sawErr)
	}
	if err := s.Wait(); !errors.Is(err, errA) || !errors.Is(err, errB) {
		t.Fatalf("Wait() = %v; want errA and errB", err)
	}
}

// WithCollectAll: a failing Nursery body still cancels the children.
func TestCollectAllFailingBodyCancelsChildren(t *testing.T) {
	var cause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		<-started
		return errB
	}, WithCollectAll())
	if err != errB {
		t.Fatalf("Nursery = %v; want errB", err)
	}
	if cause != errB {
		t.Fatalf("child saw cause %v; want errB", cause)
	}
}

// Children still queued when the scope is cancelled are not started, and
// Wait reports only the error that cancelled it.
func TestQueuedChildrenOfCancelledScopeAreNotStarted(t *testing.T) {
	f := &fakePool{}
	s, _ := NewScope(context.Background(), withRunner(f))
	var started atomic.Int64
	const n = 10
	s.Go(High, func(context.Context) error { return errA })
	for range n {
		s.Go(Normal, func(context.Context) error { started.Add(1); return nil })
	}
	for _, task := range f.take(High) { // the failing child runs first
		task.fn(task.ctx)
	}
	f.runAll()
	if err := s.Wait(); err != errA {
		t.Fatalf("Wait() = %v; want errA", err)
	}
	if got := started.Load(); got != 0 {
		t.Fatalf("%d queued children started after the scope was cancelled; want 0", got)
	}
	if got := s.notStarted.Load(); got != n {
		t.Fatalf("notStarted = %d; want %d", got, n)
	}
}

// The same on bounded pools: one worker, kept busy, so the children queue;
// Wait's help loop must not start them either. On fixed1 (exactly one
// worker) that is certain, so every child must be not-started; the real
// pool may add a worker for the blocked one, so there the check is the
// accounting (each child ran once or was counted) and Wait's result.
func TestQueuedChildrenNotStartedOnBoundedPool(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      func(t *testing.T) runner
		strict bool
	}{
		{"pool", func(t *testing.T) runner { return newPool(t, 1) }, false},
		{"fixed1", func(t *testing.T) runner { return newFixedPool(t, 1) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r(t)
			busy, release := make(chan struct{}), make(chan struct{})
			if err := r.Go(context.Background(), High, func(context.Context) { close(busy); <-release }); err != nil {
				t.Fatal(err)
			}
			<-busy
			defer close(release)
			s, _ := NewScope(context.Background(), withRunner(r))
			const n = 50
			var started atomic.Int64
			for range n {
				s.Go(Low, func(context.Context) error { started.Add(1); return nil })
			}
			s.Cancel(errC)
			err := s.Wait()
			if got := started.Load() + s.notStarted.Load(); got != n {
				t.Fatalf("started %d + not started %d != %d children", started.Load(), s.notStarted.Load(), n)
			}
			if tc.strict && s.notStarted.Load() != n {
				t.Fatalf("%d queued children started after the scope was cancelled; want 0", started.Load())
			}
			if s.notStarted.Load() > 0 && !isSkipped(err, errC, int(s.notStarted.Load())) {
				t.Fatalf("Wait() = %v; want errC with the skipped count (the cancellation cut children short)", err)
			}
		})
	}
}

// A child that calls Go on a scope that is already cancelled gets nothing started.
func TestGoOnCancelledScopeDoesNotStart(t *testing.T) {
	s, _ := NewScope(context.Background())
	s.Cancel(nil)
	ran := false
	s.Go(Normal, func(context.Context) error { ran = true; return nil })
	if s.TryGo(Normal, func(context.Context) error { ran = true; return nil }) {
		t.Error("TryGo on a cancelled scope returned true")
	}
	if err := s.Wait(); !isSkipped(err, context.Canceled, 1) {
		t.Fatalf("Wait() = %v; want context.Canceled with 1 skipped (Cancel cut a child short)", err)
	}
	if ran {
		t.Fatal("a child of a cancelled scope ran")
	}
}

// Scope.Cancel with a cause: running children see it; Wait returns it if
// it cut them short, and nil if every child finished regardless.
func TestCancelCause(t *testing.T) {
	s, ctx := NewScope(context.Background())
	started := make(chan struct{})
	s.Go(Normal, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	<-started
	s.Cancel(errC)
	if err := s.Wait(); err != errC {
		t.Fatalf("Wait() = %v; want errC", err)
	}
	if context.Cause(ctx) != errC {
		t.Fatalf("Cause = %v; want errC", context.Cause(ctx))
	}

	s2, _ := NewScope(context.Background())
	finished := make(chan struct{})
	s2.Go(Normal, func(context.Context) error { close(finished); return nil })
	<-finished
	s2.Cancel(errC)
	if err := s2.Wait(); err != nil {
		t.Fatalf("Wait() = %v after Cancel with no child cut short; want nil", err)
	}
}

// The scope's context is cancelled once Wait returns; Wait is idempotent.
func TestWaitCancelsContextAndIsIdempotent(t *testing.T) {
	s, ctx := NewScope(context.Background())
	s.Go(Normal, func(context.Context) error { return errA })
	if err := s.Wait(); err != errA {
		t.Fatalf("Wait() = %v; want errA", err)
	}
	if ctx.Err() == nil {
		t.Fatal("scope context not cancelled after Wait")
	}
	if err := s.Wait(); err != errA {
		t.Fatalf("second Wait() = %v; want errA again", err)
	}
	s2, ctx2 := NewScope(context.Background())
	if err := s2.Wait(); err != nil || ctx2.Err() == nil {
		t.Fatalf("empty scope: Wait() = %v, ctx.Err() = %v; want nil and cancelled", err, ctx2.Err())
	}
}

// Cancellation of the parent ctx reaches grandchildren through nested
// scopes, and Wait still waits for them.
func TestExternalCancellationReachesGrandchildren(t *testing.T) {
	p := newPool(t, 2)
	parent, cancel := context.WithCancelCause(context.Background())
	errStop := errors.New("echo_test: stop")
	var grandchildFinished atomic.Bool
	var seen error
	started := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Nursery(parent, func(ctx context.Context) error {
			Go(ctx, Normal, func(ctx context.Context) error {
				return Nursery(ctx, func(ctx context.Context) error {
					Go(ctx, Low, func(ctx context.Context) error {
						close(started)
						<-ctx.Done()
						seen = context.Cause(ctx)
						runtime.Gosched() // still working after the cancellation
						grandchildFinished.Store(true)
						return ctx.Err()
					})
					return nil
				})
			})
			return nil
		}, WithPool(p))
	}()
	<-started
	cancel(errStop)
	err := <-errc
	if !grandchildFinished.Load() {
		t.Fatal("Nursery returned before the grandchild finished")
	}
	if seen != errStop {
		t.Fatalf("grandchild saw cause %v; want errStop", seen)
	}
	if err != errStop {
		t.Fatalf("Nursery = %v; want the parent's cause errStop", err)
	}
}

// A nested scope inherits the outer scope's pool.
func TestNestedScopeInheritsPool(t *testing.T) {
	f := &fakePool{}
	outer, octx := NewScope(context.Background(), withRunner(f))
	inner, _ := NewScope(octx)
	inner.Go(Normal, func(context.Context) error { return nil })
	if f.len() != 1 {
		t.Fatalf("nested scope's child went to another pool (fake pool has %d tasks)", f.len())
	}
	f.runAll()
	if err := inner.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := outer.Wait(); err != nil {
		t.Fatal(err)
	}
}

// WithTimeout ends the scope with context.DeadlineExceeded.
func TestWithTimeout(t *testing.T) {
	var cause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		return nil
	}, WithTimeout(20*time.Millisecond))
	if err != context.DeadlineExceeded {
		t.Fatalf("Nursery = %v; want context.DeadlineExceeded", err)
	}
	if cause != context.DeadlineExceeded {
		t.Fatalf("child saw cause %v; want context.DeadlineExceeded", cause)
	}
	// A deadline already passed: nothing starts, and Wait says why.
	ran := false
	err = Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) error { ran = true; return nil })
		return nil
	}, WithTimeout(0))
	if !isSkipped(err, context.DeadlineExceeded, 1) || ran {
		t.Fatalf("Nursery with WithTimeout(0) = %v (child ran: %v); want context.DeadlineExceeded with 1 skipped, not run", err, ran)
	}
	// Work that finishes in time is not affected.
	err = Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(ctx context.Context) error { return nil })
		return nil
	}, WithTimeout(time.Hour))
	if err != nil {
		t.Fatalf("Nursery with an unexpired timeout = %v; want nil", err)
	}
}

// WithLimit(n): the number of active children never exceeds n.
func TestWithLimitPeak(t *testing.T) {
	for _, limit := range []int{1, 3} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			p := newPool(t, 2)
			var active, peak atomic.Int64
			err := Nursery(context.Background(), func(ctx context.Context) error {
				for range 200 {
					Go(ctx, Normal, func(context.Context) error {
						n := active.Add(1)
						for {
							old := peak.Load()
							if n <= old || peak.CompareAndSwap(old, n) {
								break
							}
						}
						runtime.Gosched()
						active.Add(-1)
						return nil
					})
				}
				return nil
			}, WithLimit(limit), WithPool(p))
			if err != nil {
				t.Fatal(err)
			}
			if got := peak.Load(); got > int64(limit) || got < 1 {
				t.Fatalf("peak active children = %d; want 1..%d", got, limit)
			}
		})
	}
}

// WithLimit: TryGo refuses when full; Go waits, and gives up without
// starting the child when the scope is cancelled meanwhile.
func TestWithLimitTryGoAndCancelledWait(t *testing.T) {
	s, _ := NewScope(context.Background(), WithLimit(1))
	started, release := make(chan struct{}), make(chan struct{})
	s.Go(Normal, func(context.Context) error { close(started); <-release; return nil })
	<-started
	if s.TryGo(Normal, func(context.Context) error { return nil }) {
		t.Fatal("TryGo succeeded with the limit full")
	}
	var ran atomic.Bool
	goReturned := make(chan struct{})
	go func() {
		defer close(goReturned)
		s.Go(Normal, func(context.Context) error { ran.Store(true); return nil })
	}()
	s.Cancel(errC)
	<-goReturned
	close(release)
	if err := s.Wait(); !isSkipped(err, errC, 1) {
		t.Fatalf("Wait() = %v; want errC with 1 skipped", err)
	}
	if ran.Load() {
		t.Fatal("child waiting for a slot ran after the scope was cancelled")
	}
	if s.notStarted.Load() != 1 {
		t.Fatalf("notStarted = %d; want 1", s.notStarted.Load())
	}

	// Slots come back: after the first child is done TryGo succeeds.
	s2, _ := NewScope(context.Background(), WithLimit(1))
	done := make(chan struct{})
	s2.Go(Normal, func(context.Context) error { defer close(done); return nil })
	<-done
	waitUntil(t, "the finished child's slot is released", func() bool { return len(s2.sem) == 0 })
	if !s2.TryGo(Normal, func(context.Context) error { return nil }) {
		t.Fatal("TryGo failed with a free slot")
	}
	if err := s2.Wait(); err != nil {
		t.Fatal(err)
	}
}

// A negative limit means no limit (as errgroup's SetLimit).
func TestWithLimitNegativeIsUnlimited(t *testing.T) {
	s, _ := NewScope(context.Background(), WithLimit(-1))
	release := make(chan struct{})
	for range 10 {
		if !s.TryGo(Normal, func(context.Context) error { <-release; return nil }) {
			t.Fatal("TryGo refused under WithLimit(-1)")
		}
	}
	close(release)
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
}

// A stopped pool: the child is not run and Wait says why.
func TestStoppedPoolReportsNotStarted(t *testing.T) {
	p := pool.New(pool.WithWorkers(1))
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	s, _ := NewScope(context.Background(), WithPool(p), WithName("stopped"))
	ran := false
	if s.TryGo(Normal, func(context.Context) error { ran = true; return nil }) {
		t.Fatal("TryGo on a stopped pool returned true")
	}
	s.Go(Normal, func(context.Context) error { ran = true; return nil })
	err := s.Wait()
	if !errors.Is(err, pool.ErrClosed) || !errors.Is(err, ErrNotStarted) {
		t.Fatalf("Wait() = %v; want an error wrapping ErrNotStarted and pool.ErrClosed", err)
	}
	if want := `echo: child not started (scope "stopped"): ` + pool.ErrClosed.Error(); err.Error() != want {
		t.Fatalf("Wait() = %q; want %q", err, want)
	}
	if ran {
		t.Fatal("child ran on a stopped pool")
	}
}

// Scope.Go from many goroutines at once, while children also spawn: every
// child runs exactly once (stress for the help list and its compaction).
func TestConcurrentSpawnRunsEachChildOnce(t *testing.T) {
	p := newPool(t, 2)
	s, ctx := NewScope(context.Background(), WithPool(p))
	const spawners, per = 4, 500
	var ran [spawners * per * 2]atomic.Int32
	var wg sync.WaitGroup
	for g := range spawners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				id := (g*per + i) * 2
				s.Go(Priority(i%3), func(ctx context.Context) error {
					ran[id].Add(1)
					Go(ctx, Low, func(context.Context) error { ran[id+1].Add(1); return nil })
					return nil
				})
			}
		}()
	}
	wg.Wait()
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	_ = ctx
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Fatalf("child %d ran %d times; want exactly once", i, n)
		}
	}
}

// sliceError is an error of an uncomparable type: == on it panics.
type sliceError []string

func (e sliceError) Error() string { return "slice error" }

// Errors of uncomparable types are handled (no panic comparing them with
// the cancellation cause).
func TestUncomparableErrors(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			return sliceError{"late"}
		})
		<-started
		return sliceError{"first"}
	})
	errs := multierr.Errors(err)
	if len(errs) != 2 {
		t.Fatalf("Nursery = %v; want both slice errors", err)
	}
}

// WithLimit on a one-worker pool, spawning from that worker: Go runs the
// queued children that hold the slots itself instead of waiting for a
// worker that cannot come (fixed1 never adds one).
func TestWithLimitSpawnerOnOnlyWorker(t *testing.T) {
	f := newFixedPool(t, 1)
	const n = 20
	var ran atomic.Int64
	done := make(chan error, 1)
	if err := f.Go(context.Background(), Normal, func(ctx context.Context) {
		done <- Nursery(ctx, func(ctx context.Context) error {
			for range n {
				Go(ctx, Normal, func(context.Context) error { ran.Add(1); return nil })
			}
			return nil
		}, withRunner(f), WithLimit(2))
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(timeoutLong):
		t.Fatalf("Nursery with WithLimit(2) on the only worker did not finish within %v (deadlock)", timeoutLong)
	}
	if got := ran.Load(); got != n {
		t.Fatalf("%d of %d children ran", got, n)
	}
}
