package pool

import (
	"testing"
	"time"
)

// The growth and retire rules (growth.go) as pure functions: each case is
// one check's view, after the history that earlier checks left.

const ms = time.Millisecond

// quietView is a pool of 2 base workers (of at most 100) on 2 Ps with 50
// tasks queued, both workers in short tasks, at 10 ms.
func quietView() view {
	return view{queued: 50, workers: 2, base: 2, maxWorkers: 100, procs: 2,
		inTask: 2, short: 2, starts: 20, window: ms, now: 10 * ms}
}

func TestDecideShortTasksDoNotGrow(t *testing.T) {
	var h history
	if d := decide(quietView(), &h); d.grow != 0 {
		t.Fatalf("a CPU backlog of short tasks: grow %d, want 0", d.grow)
	}
}

func TestDecideStandInPerHeldWorker(t *testing.T) {
	v := quietView()
	v.stuck, v.held, v.short = 1, 1, 1 // one worker in the same task at two checks
	var h history
	if d := decide(v, &h); d.grow != 1 {
		t.Fatalf("one held worker of 2: grow %d, want 1 stand-in", d.grow)
	}
	v.workers, v.inTask = 3, 3 // the stand-in runs
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("one held worker with its stand-in: grow %d, want 0", d.grow)
	}
}

func TestDecideStuckOnceIsNoStandIn(t *testing.T) {
	v := quietView()
	v.stuck, v.short = 1, 1 // stuck at this check only: the OS may have descheduled it
	var h history
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("a worker stuck at one check: grow %d, want 0", d.grow)
	}
}

// blockingView: both base workers in long tasks (one stuck, one just
// finished a long one), one start in the window, 1,000 tasks queued.
func blockingView(now time.Duration) view {
	return view{queued: 1000, workers: 2, base: 2, maxWorkers: 10_000, procs: 2,
		inTask: 2, stuck: 1, recentLong: 1, starts: 1, window: ms, now: now}
}

func TestDecideBlockingBacklogGrowsToTheBacklogOnTheSecondSight(t *testing.T) {
	var h history
	if d := decide(blockingView(2*ms), &h); d.grow != 0 {
		t.Fatalf("first sight of a blocking backlog: grow %d, want 0 (wait for a second check)", d.grow)
	}
	if d := decide(blockingView(3*ms), &h); d.grow != 1000 {
		t.Fatalf("second sight, 2 ms after the first window began: grow %d, want the whole backlog (1000)", d.grow)
	}
}

func TestDecideBlockingBacklogNeedsTime(t *testing.T) {
	var h history
	decide(blockingView(2*ms), &h)
	v := blockingView(2*ms + 100*time.Microsecond) // a poke right after
	v.window = 100 * time.Microsecond
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("second sight 1.1 ms after the first window began: grow %d, want 0 (blockingFor is %v)", d.grow, blockingFor)
	}
}

func TestDecideBlockingBacklogCappedByMaxWorkers(t *testing.T) {
	h := history{blocking: true, blockingSince: 0}
	v := blockingView(5 * ms)
	v.maxWorkers = 10
	if d := decide(v, &h); d.grow != 8 {
		t.Fatalf("WithMaxWorkers(10) with 2 workers: grow %d, want 8", d.grow)
	}
}

func TestDecideShortEvidenceVetoesBlockingBacklog(t *testing.T) {
	h := history{blocking: true, blockingSince: 0}
	v := blockingView(5 * ms)
	v.workers, v.inTask, v.short = 3, 3, 1 // a third worker keeps finishing short tasks
	if d := decide(v, &h); d.grow > 1 {
		t.Fatalf("long and short tasks mixed: grow %d, want at most a stand-in", d.grow)
	}
}

func TestDecideFastPaceVetoesBlockingBacklog(t *testing.T) {
	h := history{blocking: true, blockingSince: 0}
	v := blockingView(5 * ms)
	v.starts = 10 // 10 starts of 2 workers in 1 ms: tasks of ~200 µs
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("a fast pace of starts: grow %d, want 0", d.grow)
	}
}

func TestDecideDeclaredBlocksDoNotMakeABlockingBacklog(t *testing.T) {
	h := history{blocking: true, blockingSince: 0}
	v := blockingView(5 * ms)
	v.stuck, v.held, v.declared, v.recentLong, v.short = 1, 1, 1, 0, 1 // one in Block, one short
	if d := decide(v, &h); d.grow != 1 {
		t.Fatalf("one task in Block: grow %d, want 1 (its stand-in), not the backlog", d.grow)
	}
}

func TestDecideNothingToDoNoGrowth(t *testing.T) {
	h := history{blocking: true, blockingSince: 0}
	v := blockingView(5 * ms)
	v.queued, v.parked, v.workers = 3, 3, 5 // parked workers are not free: they are woken
	if d := decide(v, &h); d.grow != 3 {
		t.Fatalf("3 queued, 3 parked: grow %d, want 3 (woken)", d.grow)
	}
	v.parked = 0 // 3 searching workers will take them
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("3 queued, 3 searching: grow %d, want 0", d.grow)
	}
}

func TestDecideSurplusExtrasRetireAfterCalm(t *testing.T) {
	v := quietView()
	v.workers, v.inTask, v.short = 6, 6, 6 // 4 extras running short tasks
	var h history
	for i := range calmChecks {
		v.now = time.Duration(10+i) * ms
		if d := decide(v, &h); d.retire >= 0 {
			t.Fatalf("check %d (%v of calm): retire %d, want none yet", i, v.now-10*ms, d.retire)
		}
	}
	v.now = 13 * ms
	if d := decide(v, &h); d.retire != 4 {
		t.Fatalf("after %d calm checks over %v: retire %d, want the 4 extras", calmChecks+1, calmFor, d.retire)
	}
}

func TestDecideHeldWorkerInterruptsCalm(t *testing.T) {
	v := quietView()
	v.workers, v.inTask, v.short = 6, 6, 6
	var h history
	for i := range 10 {
		v.now = time.Duration(10+i) * ms
		v.stuck, v.held = 1, i%2 // a worker stuck, held at every other check
		if d := decide(v, &h); d.retire >= 0 {
			t.Fatalf("check %d: retire %d, want none while a worker keeps being held", i, d.retire)
		}
	}
}

func TestDecideStandInsAtMostBase(t *testing.T) {
	v := quietView()
	v.workers, v.inTask, v.stuck, v.held, v.short = 4, 4, 4, 4, 0 // base and stand-ins all held
	var h history
	if d := decide(v, &h); d.grow != 0 {
		t.Fatalf("2 base workers with 2 stand-ins, all held: grow %d, want 0 (at most base stand-ins)", d.grow)
	}
}

func TestDecideEveryDeclaredBlockGetsAStandIn(t *testing.T) {
	v := quietView()
	// 2 base workers and 2 spares, all inside Block (waiting for room in a
	// full queue that only workers can make): a fifth worker.
	v.queued, v.workers, v.inTask, v.stuck, v.held, v.declared, v.short = 1, 4, 4, 4, 4, 4, 0
	var h history
	if d := decide(v, &h); d.grow != 1 {
		t.Fatalf("every worker inside Block, 1 task queued: grow %d, want 1", d.grow)
	}
}
