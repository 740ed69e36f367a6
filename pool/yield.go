package pool

import (
	"runtime"
	"time"
)

// A worker that runs tasks back to back never reaches a scheduling point of
// its own, so to the Go scheduler it is one goroutine that never stops, and
// the runtime preempts it only every 10 ms. On a machine whose Ps are all
// running workers that starves everything else in the process, and worse:
// measured on 2 Ps, 5,000 tasks of 100 µs took 450 ms instead of 250 ms as
// soon as one more goroutine woke every millisecond (a ticker), with the two
// workers sharing one P while the other sat idle. Plain goroutines looping
// over a channel show the same (450 vs 251 ms); goroutine-per-task code does
// not, because every task start is a scheduling point.
//
// So a worker yields its P (runtime.Gosched) at the first task boundary
// after it has run tasks for turnLength without parking: other goroutines
// get a P within about turnLength, and the scheduler can rebalance. That
// restores 252 ms in the measurement above. Gosched costs ~100 ns, once
// per turnLength.
const turnLength = time.Millisecond

// turn tracks a worker's current run of tasks. Reading the clock after
// every task would cost ~30 ns on a no-op task, so the worker reads it only
// every checkEvery tasks, adapting checkEvery so that reads come roughly
// every checkTarget of task time: short tasks are checked rarely, long ones
// after each task.
type turn struct {
	start      int64 // when the turn began (now()); 0: no turn yet
	lastCheck  int64 // when the clock was last read
	tasks      int   // tasks since the last read
	checkEvery int   // read the clock after this many tasks (>= 1)
}

const (
	checkTarget   = int64(100 * time.Microsecond)
	maxCheckEvery = 1024
)

// taskDone is called by the worker after each task.
func (t *turn) taskDone() {
	if t.tasks++; t.tasks < t.checkEvery {
		return
	}
	n := now()
	if t.start == 0 {
		t.start, t.lastCheck, t.tasks, t.checkEvery = n, n, 0, 1
		return
	}
	elapsed := n - t.lastCheck
	if t.tasks == 1 && elapsed >= int64(turnLength) {
		// One task took a whole turn: it blocked (and gave the P up
		// meanwhile) or ran long enough for the Go scheduler to treat it
		// as any goroutine. Either way no other goroutine waited on this
		// worker's back-to-back run, so a new turn starts now. Yielding
		// here would put a worker of blocking tasks behind every runnable
		// goroutine after each task (measured in a busy process: 10-20 ms
		// per task of 5 ms).
		t.start, t.lastCheck, t.tasks = n, n, 0
		return
	}
	switch {
	case elapsed < checkTarget/2 && t.checkEvery < maxCheckEvery:
		t.checkEvery *= 2
	case elapsed > 2*checkTarget && t.checkEvery > 1:
		t.checkEvery /= 2
	}
	t.lastCheck, t.tasks = n, 0
	if n-t.start >= int64(turnLength) {
		runtime.Gosched()
		t.start = now()
		t.lastCheck = t.start
	}
}

// reset ends the turn: the worker is about to park.
func (t *turn) reset() { t.start, t.tasks = 0, 0 }
