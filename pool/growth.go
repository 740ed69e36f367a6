package pool

import "time"

// The growth and retire rules of the liveness monitor, as pure functions of
// what one check saw (view) and what earlier checks left (history). The
// monitor (monitor.go) gathers the view from the pool's own counters and
// applies the decision; nothing here reads a clock or a shared variable.
//
// The rules judge blocking from the pool's own progress, never from the
// process's scheduler. A worker is stuck when it has been inside its current
// task for longTask or more, since before the previous check, without
// submitting anything through its ctx (a task that keeps spawning children,
// such as one that waits on a scope while it runs the scope's children
// itself, is making progress); a task inside Block is stuck by declaration.
// A busy process does not hide a stuck worker: a worker that waits for a CPU
// between two tasks (it yields at task boundaries, see yield.go) is not
// inside a task, and one blocked in a task is stuck whether or not the CPUs
// are busy.
//
// Costs are asymmetric. Missing a blocked worker makes the rest of an I/O
// fan-out wait in line (10-35x slower than a goroutine per task); adding a
// worker for a task that was in fact busy on the CPU costs a little
// over-subscription, which is what a goroutine per task does all the time.
// So:
//
//   - Stand-ins: while tasks are queued, the pool keeps base workers that
//     are not held (stuck at two checks in a row in the same task, or inside
//     Block): one spare per held worker, so the base workers' CPU
//     parallelism stays available to queued work, up to base stand-ins.
//     Two checks, because a loaded machine's OS deschedules a worker's
//     thread for a millisecond now and then, and one check would then see
//     a short task as stuck.
//   - Blocking backlog: when at least base workers show long tasks (stuck,
//     or just finished a task of longTask or more: inside a task or waiting
//     between two, which in a busy process may take a while), none shows a
//     short one, and the pool as a whole starts tasks at the pace of tasks
//     that long (Little's law: starts*longTask <= inTask*window), the
//     queued tasks are most likely of the same kind. A stand-in per stuck
//     worker would then grow the pool one round at a time (a round is at
//     least a timer tick, ~1 ms here), so when two checks in a row see this
//     over blockingFor or more (2 ms, counting the window before the
//     first), the pool grows at once to the whole backlog. Not at the first
//     sight: on a machine whose CPUs are shared with other processes the OS
//     may deschedule every worker thread for a while, which makes short
//     tasks look long; the same sign again later is a pattern. (Tasks inside
//     Block are left out: they say that they block, not what the queued
//     tasks are like.)
//   - Retire: after calmChecks checks in a row, over calmFor at least, with
//     no growth, no blocking backlog and no held worker (other than tasks
//     inside Block), the extra workers (other than stand-ins for tasks
//     inside Block) retire at their next task boundary. That undoes growth
//     when the blocking ends while tasks keep coming (extras would otherwise
//     run until the queue empties), and after a wait that only looked like
//     blocking.
//
// A CPU-bound backlog of short tasks grows nothing: its workers finish
// their tasks in less than longTask. A task that runs on the CPU for
// longTask or more without spawning anything looks stuck and may get a
// stand-in, and a backlog of such tasks may be run like one of blocking
// tasks (a goroutine per task would have over-subscribed the CPUs the same
// way).
const (
	// longTask is how long a worker must be inside one task, without
	// spawning, before it counts as stuck.
	longTask = 500 * time.Microsecond
	// calmChecks checks in a row, over calmFor at least, without a sign of
	// blocking let surplus extra workers retire.
	calmChecks = 3
	calmFor    = 3 * time.Millisecond
	// blockingFor is how long the sign of a blocking backlog must hold, over
	// two checks in a row or more, before the pool grows to the whole
	// backlog.
	blockingFor = 4 * longTask
)

// view is what one check of the monitor saw.
type view struct {
	queued     int // accepted tasks not yet started
	workers    int // workers running, base and extra (including ones not yet started)
	base       int // base workers (WithWorkers)
	maxWorkers int // WithMaxWorkers
	procs      int // GOMAXPROCS
	inTask     int // workers inside a task
	stuck      int // workers inside a task that are stuck (see above), including declared
	declared   int // of which inside Block
	held       int // stuck in the same task at the last check too, or inside Block
	// recentLong: workers inside a task, not stuck, whose previous task
	// took longTask or more (in this episode of checks).
	recentLong  int
	parked      int // workers parked (grow wakes them first)
	betweenLong int // workers between tasks whose last task took longTask or more and ended recently
	// short: workers inside or between tasks, not stuck, whose last task
	// was shorter than longTask and ended recently.
	short  int
	now    time.Duration // when the check ran (on the pool's clock)
	starts int           // tasks started since the last check
	window time.Duration // time since the last check
}

// history is what the retire rule remembers between checks.
type history struct {
	calm          int           // checks in a row with no sign of blocking
	calmSince     time.Duration // when the first of them ran
	blocking      bool          // the last check saw a blocking backlog
	blockingSince time.Duration // when the run of such checks began
}

// decision is what one check decided: start grow workers (waking parked ones
// first), and let retire extra workers exit at their next task boundary
// (retire < 0: leave the current retire budget alone).
type decision struct {
	grow   int
	retire int
}

// decide applies the growth and retire rules to one check.
func decide(v view, h *history) decision {
	d := decision{retire: -1}
	// Workers between tasks that are not parked (searching, just started)
	// will take queued tasks; only a backlog beyond them can need more
	// workers, woken or new.
	need := v.queued - (v.workers - v.inTask - v.parked)
	// Tasks inside Block say that they block, not what the queued tasks
	// are like: the blocking-backlog rule looks at the others.
	in := v.inTask - v.declared
	long := v.stuck - v.declared + v.recentLong + v.betweenLong
	blockingBacklog := long > 0 && long >= v.base && v.short == 0 &&
		time.Duration(v.starts)*longTask <= time.Duration(max(in, 1))*max(v.window, longTask)
	if need > 0 {
		// Stand-ins: base workers not held. Every task inside Block gets
		// one (it said it blocks: a pool whose workers all wait in Block
		// for queue room must not stall); other held workers get at most
		// base (a held worker's stand-in that is held in turn gets none:
		// on a machine with more Ps than CPUs the OS deschedules worker
		// threads for milliseconds, and stand-ins for those would only add
		// threads to deschedule; a backlog of blocking tasks is the rule
		// below).
		grow := v.base + v.declared + min(v.held-v.declared, v.base) - v.workers
		if blockingBacklog && h.blocking && v.now-h.blockingSince >= blockingFor {
			grow = need
		}
		d.grow = max(0, min(grow, need, v.maxWorkers-v.workers))
	}
	switch {
	case !blockingBacklog:
		h.blocking = false
	case !h.blocking:
		h.blocking, h.blockingSince = true, v.now-v.window
	}
	if d.grow > 0 || blockingBacklog || v.held > v.declared {
		h.calm = 0
		return d
	}
	if h.calm == 0 {
		h.calmSince = v.now
	}
	if h.calm++; h.calm >= calmChecks && v.now-h.calmSince >= calmFor {
		d.retire = max(0, v.workers-v.base-v.declared)
		h.calm = 0
	}
	return d
}
