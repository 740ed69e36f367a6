package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// With one P, a worker running a stream of 200 µs tasks must give the P
// back within about turnLength of task time (~5 tasks), not only when the
// runtime preempts it after 10 ms (~50 tasks). The test goroutine yields the
// P to the worker and counts the tasks that ran before it got the P back.
func TestWorkerYieldsBetweenTasks(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := New(WithWorkers(1))
	defer p.Stop(context.Background())

	var ran atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	var task func()
	task = func() {
		defer wg.Done()
		spin(200 * time.Microsecond)
		ran.Add(1)
		if !stop.Load() {
			wg.Add(1)
			if err := p.Submit(context.Background(), Normal, task); err != nil {
				wg.Done()
			}
		}
	}
	wg.Add(1)
	if err := p.Submit(context.Background(), Normal, task); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for ran.Load() < 3 { // the stream is running
		if time.Now().After(deadline) {
			t.Fatal("the worker did not start the task stream within 10s")
		}
		runtime.Gosched()
	}
	worst := int64(0)
	for range 5 {
		before := ran.Load()
		runtime.Gosched() // the worker has the P until it yields
		worst = max(worst, ran.Load()-before)
	}
	stop.Store(true)
	wg.Wait()
	// turnLength is 1 ms = 5 tasks of 200 µs, plus the clock-check
	// granularity; without yielding it would be ~50.
	if worst > 20 {
		t.Fatalf("a Gosched let the worker run %d tasks of 200µs before the P came back; want <= 20 (it should yield after ~%v)", worst, turnLength)
	}
}
