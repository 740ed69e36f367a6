package echo

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/internal/testseed"

	"go.uber.org/goleak"

	"github.com/echo-scheduler/echo/pool"
)

// TestMain runs the tests and then checks that no goroutine is left. It
// does not stop the default pool: an idle default pool's goroutines exit by
// themselves (pool.Default), within goleak's default retries.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// testSeed is testseed.Seed: the -seed flag of the randomised tests.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	return testseed.Seed(t)
}

// newPool returns a pool with n workers that is stopped when the test ends.
func newPool(t testing.TB, n int) *pool.Pool {
	t.Helper()
	p := pool.New(pool.WithWorkers(n))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("Stop of a %d-worker test pool: %v", n, err)
		}
	})
	return p
}

// waitUntil polls cond until it holds, failing the test with what did not
// happen after a generous deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10s waiting until %s", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// within runs f on its own goroutine and fails the test if it has not
// returned after d (a deadlock detector for tests that would otherwise hang).
const timeoutLong = 30 * time.Second

func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not complete within %v (deadlock?)", what, d)
	}
}

// fakePool is a runner that only queues tasks; the test decides when and
// in which order they run, which makes queue-dependent behaviour
// (not-started children, escalation) deterministic.
type fakePool struct {
	mu     sync.Mutex
	tasks  []fakeTask
	closed bool
}

type fakeTask struct {
	ctx  context.Context
	prio Priority
	fn   func(context.Context)
}

func (f *fakePool) Go(ctx context.Context, prio Priority, fn func(context.Context)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pool.ErrClosed
	}
	f.tasks = append(f.tasks, fakeTask{ctx, prio, fn})
	return nil
}

func (f *fakePool) TryGo(ctx context.Context, prio Priority, fn func(context.Context)) error {
	return f.Go(ctx, prio, fn)
}

// OnWorker is true: a fakePool's tasks run on whichever goroutine the test
// picks, so every goroutine counts as one of its workers (Wait helps).
func (f *fakePool) OnWorker(context.Context) bool { return true }

// CanLend is false: the test runs the tasks, no worker comes for them.
func (f *fakePool) CanLend() bool { return false }

func (f *fakePool) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tasks)
}

// count returns the number of queued tasks of priority prio.
func (f *fakePool) count(prio Priority) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, t := range f.tasks {
		if t.prio == prio {
			n++
		}
	}
	return n
}

// take removes and returns the queued tasks of priority prio, oldest first.
func (f *fakePool) take(prio Priority) []fakeTask {
	f.mu.Lock()
	defer f.mu.Unlock()
	var got, kept []fakeTask
	for _, t := range f.tasks {
		if t.prio == prio {
			got = append(got, t)
		} else {
			kept = append(kept, t)
		}
	}
	f.tasks = kept
	return got
}

// runAll runs every queued task (including ones queued meanwhile) on the
// calling goroutine, High first.
func (f *fakePool) runAll() {
	for f.len() > 0 {
		for _, p := range []Priority{High, Normal, Low} {
			for _, t := range f.take(p) {
				t.fn(t.ctx)
			}
		}
	}
}

// fixedPool is a runner with exactly n workers, a FIFO queue and nothing
// else: no spare workers while blocked, no blocking detection. Tests use it
// to show that what they check comes from the scope (help-while-waiting),
// not from a pool that adds goroutines.
type fixedPool struct {
	mu     sync.Mutex
	cond   sync.Cond
	queue  []fakeTask
	closed bool
	wg     sync.WaitGroup
}

func newFixedPool(t testing.TB, n int) *fixedPool {
	f := &fixedPool{}
	f.cond.L = &f.mu
	for range n {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			for {
				f.mu.Lock()
				for len(f.queue) == 0 && !f.closed {
					f.cond.Wait()
				}
				if len(f.queue) == 0 {
					f.mu.Unlock()
					return
				}
				task := f.queue[0]
				f.queue = f.queue[1:]
				f.mu.Unlock()
				task.fn(context.WithValue(task.ctx, fixedWorkerKey{}, f))
			}
		}()
	}
	t.Cleanup(func() {
		f.mu.Lock()
		f.closed = true
		f.cond.Broadcast()
		f.mu.Unlock()
		stopped := make(chan struct{})
		go func() { f.wg.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(timeoutLong):
			// A test deadlocked a worker; it has failed already. Do not
			// hang the whole run on it.
			t.Errorf("fixedPool: workers still busy %v after the test", timeoutLong)
		}
	})
	return f
}

func (f *fixedPool) Go(ctx context.Context, prio Priority, fn func(context.Context)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return pool.ErrClosed
	}
	f.queue = append(f.queue, fakeTask{ctx, prio, fn})
	f.cond.Signal()
	return nil
}

func (f *fixedPool) TryGo(ctx context.Context, prio Priority, fn func(context.Context)) error {
	return f.Go(ctx, prio, fn)
}

// fixedWorkerKey tags the ctx a fixedPool worker passes to its task, as
// the real pool's task ctx names its worker.
type fixedWorkerKey struct{}

func (f *fixedPool) OnWorker(ctx context.Context) bool { return ctx.Value(fixedWorkerKey{}) == f }

// CanLend is false: a fixedPool never adds a worker.
func (f *fixedPool) CanLend() bool { return false }

// withRunner is WithPool for the tests' fake pools.
func withRunner(r runner) Option {
	return func(c *config) { c.runner = r }
}
