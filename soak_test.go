package echo

import (
	"context"
	"errors"
	"flag"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-scheduler/echo/pool"
)

// soak is the duration of TestSoak; 0 (the default) skips it. Run it with
//
//	go test -run TestSoak -soak=30s .
var soak = flag.Duration("soak", 0, "run TestSoak's mixed workload for this long (0: skip)")

// TestSoak runs a mixed workload on one 2-worker pool for -soak: four
// drivers each repeat, at random, a random FuzzScope program (nested scopes,
// priorities, errors, panics, Goexits, cancels, TryGo, grandchildren, each
// checked against the scope semantics), a cancellation-storm scope, a Start
// child, an errgroup-style Group with a limit and a failure, and plain pool
// Submits. Each step checks its own invariants; at the end the pool has run
// everything it accepted, is back to its base workers after the idle
// timeout, and Stop leaves no goroutine behind. The seed is logged.
func TestSoak(t *testing.T) {
	if *soak <= 0 {
		t.Skip("soak test: run with -soak=DURATION, e.g. go test -run TestSoak -soak=30s .")
	}
	ignore := goleak.IgnoreCurrent()
	seed := testSeed(t)
	t.Logf("duration %v", *soak)
	const idle = 100 * time.Millisecond
	p := pool.New(pool.WithWorkers(2), pool.WithIdleTimeout(idle))
	deadline := time.Now().Add(*soak)
	var steps [5]atomic.Int64
	var submitted, ran atomic.Int64
	var storm [3]atomic.Int64
	errCause := errors.New("soak cancel")
	var wg sync.WaitGroup
	for d := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := driverTB{t} // Fatal ends this driver goroutine, not the test's
			rng := rand.New(rand.NewPCG(seed, uint64(d)))
			for time.Now().Before(deadline) && !t.Failed() {
				k := rng.IntN(len(steps))
				steps[k].Add(1)
				switch k {
				case 0:
					prog := make([]byte, 1+rng.IntN(128))
					for i := range prog {
						prog[i] = byte(rng.Uint32())
					}
					runFuzzProgram(t, p, prog)
				case 1:
					cancelStormScope(t, p, rng, errCause, &storm[0], &storm[1], &storm[2])
				case 2:
					soakStart(t, p, rng.IntN(3))
				case 3:
					soakGroup(t, 1+rng.IntN(4))
				case 4:
					var done sync.WaitGroup
					for i := range 100 {
						done.Add(1)
						submitted.Add(1)
						if err := p.Submit(context.Background(), Priority(i%3), func() { ran.Add(1); done.Done() }); err != nil {
							t.Errorf("Submit on a live pool = %v", err)
							done.Done()
						}
					}
					done.Wait()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("steps: %d programs, %d cancel-storm scopes, %d Starts, %d Groups, %d Submit batches; storm children accepted %d, started %d, not started %d",
		steps[0].Load(), steps[1].Load(), steps[2].Load(), steps[3].Load(), steps[4].Load(), storm[2].Load(), storm[0].Load(), storm[1].Load())
	if ran.Load() != submitted.Load() {
		t.Fatalf("pool Submit: %d accepted, %d ran", submitted.Load(), ran.Load())
	}
	waitUntil(t, "the pool retires its extra workers after the idle timeout", func() bool {
		return p.Stats().ExtraWorkers == 0
	})
	st := p.Stats()
	t.Logf("pool at the end: %v", st)
	if st.Workers != 2 || st.Submitted != st.Completed || st.Blocked != 0 {
		t.Fatalf("pool at the end: %d base workers (want 2), submitted %d, completed %d, blocked %d",
			st.Workers, st.Submitted, st.Completed, st.Blocked)
	}
	stopPool(t, p)
	if err := goleak.Find(ignore); err != nil {
		t.Fatal(err)
	}
}

// soakStart runs a Start child that becomes ready and then serves until the
// scope is cancelled; how says whether the child fails before ready (the
// error goes to Start's caller only), after ready (to the scope), or not.
func soakStart(t testing.TB, p *pool.Pool, how int) {
	errEarly, errLate := errors.New("soak: early"), errors.New("soak: late")
	err := Nursery(context.Background(), func(ctx context.Context) error {
		v, err := Start(ctx, High, func(ctx context.Context, ready func(int)) error {
			if how == 0 {
				return errEarly
			}
			ready(42)
			<-ctx.Done()
			if how == 1 {
				return errLate
			}
			return nil
		})
		switch {
		case how == 0 && err != errEarly:
			t.Errorf("Start = %v; want the early error", err)
		case how != 0 && (err != nil || v != 42):
			t.Errorf("Start = %d, %v; want 42, nil", v, err)
		}
		return errors.New("soak: body done") // cancels the served child
	}, WithPool(p))
	bodyDone := err != nil && err.Error() == "soak: body done"
	if !bodyDone && !errors.Is(err, errLate) {
		t.Errorf("Nursery with a Start child = %v", err)
	}
	if how == 0 && errors.Is(err, errEarly) {
		t.Errorf("the Start child's early error reached the scope: %v", err)
	}
}

// soakGroup runs an errgroup-style Group: 50 functions, a limit, one error.
func soakGroup(t testing.TB, limit int) {
	errG := errors.New("soak: group")
	g, ctx := WithContext(context.Background())
	g.SetLimit(limit)
	var ran atomic.Int64
	for i := range 50 {
		g.Go(func() error {
			ran.Add(1)
			if i == 25 {
				return errG
			}
			return nil
		})
	}
	if err := g.Wait(); err != errG || ran.Load() != 50 || context.Cause(ctx) != errG {
		t.Errorf("Group: Wait = %v, %d of 50 ran, cause %v; want errG, 50, errG", err, ran.Load(), context.Cause(ctx))
	}
}

// driverTB is the testing.TB of a soak driver goroutine. The checks it runs
// (shared with the fuzz and storm tests) call Fatal, which the testing
// package allows only on the test's own goroutine; here Fatal records the
// failure with Errorf and ends the driver goroutine (its deferred Done
// still runs), and the test stops at the next t.Failed check.
type driverTB struct{ testing.TB }

func (d driverTB) Fatal(args ...any) { d.TB.Helper(); d.TB.Error(args...); runtime.Goexit() }
func (d driverTB) Fatalf(format string, args ...any) {
	d.TB.Helper()
	d.TB.Errorf(format, args...)
	runtime.Goexit()
}
func (d driverTB) FailNow() { d.TB.Fail(); runtime.Goexit() }
