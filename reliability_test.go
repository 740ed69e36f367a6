package echo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// stormErr is the error a storm task returns; its id says which task.
type stormErr struct{ id int }

func (e *stormErr) Error() string { return fmt.Sprintf("storm task %d failed", e.id) }

// stormPanic panics with the task id; stacks must name it.
//
//go:noinline
func stormPanic(id int) { panic(fmt.Sprintf("storm task %d panicked", id)) }

// stopPool stops p, failing the test if that takes more than 30 s.
func stopPool(t testing.TB, p *pool.Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeoutLong)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestFaultStorm runs 1e5 tasks (1e4 with -short) in nested scopes on a
// 2-worker pool: a third panic, a third call runtime.Goexit, a third return
// an error. Every scope is WithCollectAll, so every failure must come back.
// It checks that every Nursery returned or, when a Goexit child ran inline
// on its waiter, ended its goroutine only after joining all its children;
// that the top scope's Wait returns exactly the errors and panics produced,
// each once, panics as *PanicError whose stack names the panicking
// function; that the pool still has its 2 base workers; and that Stop
// leaves no goroutine behind.
func TestFaultStorm(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	const groups = 100 // Nurseries under the top scope, each with a nested one
	per := n / groups
	p := pool.New(pool.WithWorkers(2))

	var ran, nurseryReturned, nurseryExited atomic.Int64
	var unjoined atomic.Int64 // Nurseries whose goroutine exited before all children ran
	top, _ := NewScope(context.Background(), WithPool(p), WithCollectAll(), WithName("storm"))
	for g := range groups {
		top.Go(Priority(g%3), func(ctx context.Context) error {
			var groupRan atomic.Int64
			returned := false
			defer func() {
				if !returned {
					nurseryExited.Add(1)
					if groupRan.Load() != int64(per) {
						unjoined.Add(1)
					}
				}
			}()
			task := func(id int) func(context.Context) error {
				return func(context.Context) error {
					ran.Add(1)
					groupRan.Add(1)
					switch id % 3 {
					case 0:
						stormPanic(id)
					case 1:
						runtime.Goexit()
					}
					return &stormErr{id}
				}
			}
			err := Nursery(ctx, func(ctx context.Context) error {
				// Half the group's tasks in this scope, half in a nested one.
				for k := range per / 2 {
					Go(ctx, Priority(k%3), task(g*per+k))
				}
				Go(ctx, Normal, func(ctx context.Context) error {
					return Nursery(ctx, func(ctx context.Context) error {
						for k := per / 2; k < per; k++ {
							Go(ctx, Priority(k%3), task(g*per+k))
						}
						return nil
					}, WithCollectAll())
				})
				return nil
			}, WithCollectAll())
			returned = true
			nurseryReturned.Add(1)
			return err
		})
	}
	var err error
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		err = top.Wait()
	}()
	// A deadlock detector that tolerates a loaded machine: fail when no
	// task has run for timeoutLong, not after a fixed total (1e5 tasks
	// under -race took over 80 s at a load average of 18 on 2 cores).
	for last := int64(-1); ; {
		select {
		case <-waited:
		case <-time.After(timeoutLong):
			if now := ran.Load(); now != last {
				last = now
				continue
			}
			t.Fatalf("the storm's top Wait has not returned and no task ran for %v (deadlock?); %d of %d ran", timeoutLong, last, groups*per)
		}
		break
	}
	if err == nil {
		// The waiter ran a Goexit child inline and exited after joining
		// the scope: the result is there for another Wait.
		t.Log("the top waiter exited with a Goexit child; waiting again")
		err = top.Wait()
	}

	if got := ran.Load(); got != int64(groups*per) {
		t.Fatalf("%d of %d tasks ran", got, groups*per)
	}
	if u := unjoined.Load(); u != 0 {
		t.Fatalf("%d Nurseries ended their goroutine before all their children ran", u)
	}
	if r, x := nurseryReturned.Load(), nurseryExited.Load(); r+x != groups {
		t.Fatalf("Nurseries: %d returned, %d exited; want %d in all", r, x, groups)
	} else {
		t.Logf("Nurseries: %d returned, %d ended by a Goexit child run while they waited", r, x)
	}

	seen := make(map[int]bool, 2*n/3)
	var panics, errs int
	for _, e := range multierr.Errors(err) {
		var pe *PanicError
		var se *stormErr
		var id int
		switch {
		case errors.As(e, &pe):
			panics++
			if _, err := fmt.Sscanf(fmt.Sprint(pe.Value), "storm task %d panicked", &id); err != nil {
				t.Fatalf("unexpected panic value %v", pe.Value)
			}
			if id%3 != 0 {
				t.Fatalf("task %d reported a panic; it did not panic", id)
			}
			if !strings.Contains(string(pe.Stack), "echo.stormPanic") {
				t.Fatalf("panic stack does not name echo.stormPanic:\n%s", pe.Stack)
			}
		case errors.As(e, &se):
			errs++
			id = se.id
			if id%3 != 2 {
				t.Fatalf("task %d reported an error; it returned none", id)
			}
		default:
			t.Fatalf("unexpected error in the storm's result: %v", e)
		}
		if seen[id] {
			t.Fatalf("task %d reported twice", id)
		}
		seen[id] = true
	}
	var wantPanics, wantErrs int
	for id := range groups * per {
		switch id % 3 {
		case 0:
			wantPanics++
		case 2:
			wantErrs++
		}
	}
	if panics != wantPanics || errs != wantErrs {
		t.Fatalf("reported %d panics and %d errors; want %d and %d", panics, errs, wantPanics, wantErrs)
	}

	st := p.Stats()
	t.Logf("pool after the storm: %v", st)
	if st.Workers != 2 {
		t.Fatalf("pool has %d base workers after the storm; want 2", st.Workers)
	}
	stopPool(t, p)
	if err := goleak.Find(ignore); err != nil {
		t.Fatal(err)
	}
}

// TestCancelStorm opens 1e4 scopes (2e3 with -short), four at a time, on a
// 2-worker pool. In each, children spawn children (up to depth 3) while the
// scope is cancelled at a random moment: by a child after a random number
// of spawns, by the parent ctx, by a WithTimeout of a few µs, or by the
// opener; and every scope is cancelled before its Wait. Children either
// return at once, yield, or block until cancelled. For every scope it checks
// that children started + children not started (the scope's notStarted) ==
// children accepted (Go calls plus TryGo calls that returned true), that
// nothing is pending after Wait, and that Wait returns nil or the
// cancellation's cause; and in the end that no goroutine is left. The seed
// is logged; children not started must occur (else the test proves little).
func TestCancelStorm(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	scopes := 10_000
	if testing.Short() {
		scopes = 2_000
	}
	const drivers = 4
	seed := testSeed(t)
	p := pool.New(pool.WithWorkers(2))
	errCause := errors.New("storm cancel")

	var totalStarted, totalNotStarted, totalAccepted atomic.Int64
	var wg sync.WaitGroup
	for d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(d)))
			for range scopes / drivers {
				if t.Failed() {
					return
				}
				cancelStormScope(t, p, rng, errCause, &totalStarted, &totalNotStarted, &totalAccepted)
			}
		}()
	}
	within(t, 2*timeoutLong, "the cancellation storm", wg.Wait)
	t.Logf("children accepted %d, started %d, not started %d",
		totalAccepted.Load(), totalStarted.Load(), totalNotStarted.Load())
	if totalNotStarted.Load() == 0 {
		t.Error("no child was left unstarted by a cancellation: the storm cancelled nothing in time")
	}
	stopPool(t, p)
	if err := goleak.Find(ignore); err != nil {
		t.Fatal(err)
	}
}

func cancelStormScope(t testing.TB, p *pool.Pool, rng *rand.Rand, errCause error, totalStarted, totalNotStarted, totalAccepted *atomic.Int64) {
	parent, cancelParent := context.WithCancelCause(context.Background())
	defer cancelParent(nil)
	opts := []Option{WithPool(p)}
	how := rng.IntN(4)
	if how == 2 {
		opts = append(opts, WithTimeout(time.Duration(rng.IntN(50))*time.Microsecond))
	}
	s, ctx := NewScope(parent, opts...)
	var started, accepted, spawns atomic.Int64
	cancelAt := int64(rng.IntN(40))
	roots := 1 + rng.IntN(8)
	seeds := make([]uint64, roots)
	for i := range seeds {
		seeds[i] = rng.Uint64()
	}
	cancel := func() {
		switch how {
		case 0, 2:
			s.Cancel(errCause)
		case 1:
			cancelParent(errCause)
		case 3:
			s.Cancel(nil)
		}
	}
	var spawn func(ctx context.Context, depth int, r *rand.Rand)
	spawn = func(ctx context.Context, depth int, r *rand.Rand) {
		kids := r.IntN(4)
		for range kids {
			cs := r.Uint64()
			if spawns.Add(1) == cancelAt && how != 2 {
				cancel() // a child cancels its scope while siblings spawn
			}
			body := func(ctx context.Context) error {
				started.Add(1)
				r := rand.New(rand.NewPCG(cs, 1))
				if depth < 3 {
					spawn(ctx, depth+1, r)
				}
				switch r.IntN(3) {
				case 0:
					runtime.Gosched()
				case 1:
					<-ctx.Done()
					return ctx.Err()
				}
				return nil
			}
			if r.IntN(4) == 0 {
				if TryGo(ctx, Priority(r.IntN(3)), body) {
					accepted.Add(1)
				}
			} else {
				accepted.Add(1)
				Go(ctx, Priority(r.IntN(3)), body)
			}
		}
	}
	for _, sd := range seeds {
		spawn(ctx, 0, rand.New(rand.NewPCG(sd, 2)))
	}
	// Let the children run for a random while (from not at all to a few
	// hundred yields) before the opener cancels.
	for range rng.IntN(256) >> rng.IntN(8) {
		runtime.Gosched()
	}
	cancel() // every scope is cancelled before Wait (blocked children need it)
	if how == 2 {
		s.Cancel(errCause) // the timeout may not have passed yet
	}
	err := s.Wait()
	if err != nil && !errors.Is(err, errCause) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait = %v; want nil or the cancellation's cause", err)
	}
	if n := s.live(); n != 0 {
		t.Errorf("%d children pending after Wait", n)
	}
	st, ns, acc := started.Load(), s.notStarted.Load(), accepted.Load()
	if st+ns != acc {
		t.Errorf("children: %d started + %d not started != %d accepted", st, ns, acc)
	}
	totalStarted.Add(st)
	totalNotStarted.Add(ns)
	totalAccepted.Add(acc)
}

// TestDeepNesting nests 10,000 scopes (each a Nursery inside a child of the
// previous one) on a 2-worker pool. The leaf waits for cancellation;
// cancelling the root's parent ctx must reach it (with the root's cause),
// and every Wait must return. Help-while-waiting may run each child inline
// on its waiter, so this also checks that such a deep chain neither
// overflows the stack nor stalls.
//
// It runs twice: on a real 2-worker pool (which lends workers to blocked
// waiters), and on fixedPool, which has exactly 2 goroutines and never
// adds one, so every level beyond them must be run inline by a waiter: one
// goroutine's stack then holds thousands of nested scopes.
func TestDeepNesting(t *testing.T) {
	t.Run("pool", func(t *testing.T) {
		p := pool.New(pool.WithWorkers(2))
		defer stopPool(t, p)
		deepNesting(t, WithPool(p))
	})
	t.Run("fixed", func(t *testing.T) {
		deepNesting(t, withRunner(newFixedPool(t, 2)))
	})
}

func deepNesting(t *testing.T, run Option) {
	// 10,000 levels without -race (CI runs that too); the race detector
	// makes every frame of a 100,000-frame stack several times dearer, so
	// under it 2,500 levels (~25,000 frames on one goroutine) keep the run
	// well inside its deadline on a loaded machine.
	depth := 10_000
	switch {
	case testing.Short():
		depth = 1_000
	case raceEnabled:
		depth = 2_500
	}
	errRoot := errors.New("root cancelled")
	parent, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	leafReady := make(chan struct{})
	var leafCause error
	var leafFrames, leafGoroutines int
	var returned atomic.Int64
	var nest func(ctx context.Context, level int) error
	nest = func(ctx context.Context, level int) error {
		err := Nursery(ctx, func(ctx context.Context) error {
			if level == depth {
				pcs := make([]uintptr, 1<<20)
				leafFrames, leafGoroutines = runtime.Callers(0, pcs), runtime.NumGoroutine()
				close(leafReady)
				<-ctx.Done()
				leafCause = context.Cause(ctx)
				return nil
			}
			Go(ctx, Normal, func(ctx context.Context) error { return nest(ctx, level+1) })
			return nil
		})
		returned.Add(1)
		return err
	}
	done := make(chan error, 1)
	go func() {
		done <- Nursery(parent, func(ctx context.Context) error {
			Go(ctx, Normal, func(ctx context.Context) error { return nest(ctx, 1) })
			return nil
		}, run)
	}()
	select {
	case <-leafReady:
	case <-time.After(timeoutLong):
		t.Fatalf("the leaf of %d nested scopes was not reached within %v", depth, timeoutLong)
	}
	cancel(errRoot)
	var err error
	select {
	case err = <-done:
	case <-time.After(timeoutLong):
		t.Fatalf("root Wait did not return within %v of the cancellation (%d of %d scopes returned)", timeoutLong, returned.Load(), depth)
	}
	t.Logf("at the leaf: %d frames on its stack, %d goroutines", leafFrames, leafGoroutines)
	if !errors.Is(leafCause, errRoot) {
		t.Fatalf("the leaf saw cause %v; want the root's %v", leafCause, errRoot)
	}
	if got := returned.Load(); got != int64(depth) {
		t.Fatalf("%d of %d Nurseries returned", got, depth)
	}
	// The leaf returned nil on cancellation: it was cut short by no one, so
	// each level's Wait is nil.
	if err != nil {
		t.Fatalf("root Nursery = %v; want nil", err)
	}
}

// TestStopPoolUnderScopes stops a pool while 40 scopes (half fail-fast,
// half WithCollectAll) spawn children and grandchildren on it: nothing is
// lost across the two layers. In every scope, each Go call's child either
// ran, or was reported by Wait as ErrNotStarted wrapping pool.ErrClosed, or
// was skipped because the scope was cancelled (by such a report, fail-fast)
// and counted in notStarted; and exactly one of these.
func TestStopPoolUnderScopes(t *testing.T) {
	for round := range 5 {
		p := pool.New(pool.WithWorkers(2))
		const scopes = 40
		var wg sync.WaitGroup
		start := make(chan struct{})
		var totalRan, totalRefused, totalSkipped atomic.Int64
		for i := range scopes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var opts []Option
				if i%2 == 1 {
					opts = append(opts, WithCollectAll())
				}
				s, ctx := NewScope(context.Background(), append(opts, WithPool(p))...)
				var attempts, ran atomic.Int64
				var spawn func(ctx context.Context, depth int)
				spawn = func(ctx context.Context, depth int) {
					for k := range 5 {
						attempts.Add(1)
						Go(ctx, Priority(k%3), func(ctx context.Context) error {
							ran.Add(1)
							if depth < 2 {
								spawn(ctx, depth+1)
							}
							return nil
						})
					}
				}
				<-start
				spawn(ctx, 0)
				err := s.Wait()
				refused := int64(0)
				for _, e := range multierr.Errors(err) {
					if !errors.Is(e, ErrNotStarted) || !errors.Is(e, pool.ErrClosed) {
						t.Errorf("scope %d: Wait reported %v; want only ErrNotStarted wrapping pool.ErrClosed", i, e)
						continue
					}
					refused++
				}
				skipped := s.notStarted.Load()
				if i%2 == 1 && skipped != 0 {
					t.Errorf("collect-all scope %d skipped %d children; nothing cancelled it", i, skipped)
				}
				if r := ran.Load(); r+refused+skipped != attempts.Load() {
					t.Errorf("scope %d: %d ran + %d refused + %d skipped != %d Go calls", i, r, refused, skipped, attempts.Load())
				}
				totalRan.Add(ran.Load())
				totalRefused.Add(refused)
				totalSkipped.Add(skipped)
			}()
		}
		close(start)
		for range round * 20 {
			runtime.Gosched() // stop at a different moment each round
		}
		stopPool(t, p)
		within(t, timeoutLong, "every scope's Wait after Stop", wg.Wait)
		t.Logf("round %d: children ran %d, refused %d, skipped %d", round, totalRan.Load(), totalRefused.Load(), totalSkipped.Load())
	}
}
