package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

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
	within(t, 2*timeoutLong, "the storm's top Wait", func() { <-waited })
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
