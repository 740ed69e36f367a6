package pool

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/pprof"
	"sync/atomic"

	"github.com/echo-scheduler/echo/deque"
	"github.com/echo-scheduler/echo/internal/catch"
)

// worker is one worker of a pool. Base workers own a deque Local and never
// retire; extra workers (added while tasks block, see monitor.go) are
// thieves without deques, so adding thousands of them costs no victim-list
// growth, and they retire after the idle timeout.
type worker struct {
	s     *state
	id    int
	extra bool

	// local is the worker's queue handle: its deques (base workers) and its
	// random generator and fair-pick counter. It is an owner object: every
	// call on it is made while holding owner.
	local *deque.Local[task]

	// owner is a try-lock making "one owner at a time, ordered by
	// happens-before" (deque.Deque's rule) hold by construction. The worker
	// holds it while it takes its next task; a submitter whose ctx names
	// this worker holds it while it pushes (submit in pool.go). It is taken
	// by CompareAndSwap(false, true) and released by Store(false): the
	// release store is sequentially consistent and the next successful CAS
	// reads it, so each owner call happens-before the next one. A submitter
	// whose CAS fails does not wait: it pushes to the injector instead, so a
	// task's ctx that leaked to another goroutine can never corrupt the
	// deque or stall the worker. The worker itself waits (yielding) for a
	// submitter's push to finish, which takes nanoseconds.
	owner atomic.Bool

	wake     chan struct{} // a waker's token (buffer 1): "you are spinning now"
	idleIdx  int           // index in state.idle while parked, else -1; under idleMu
	parkedAt int64         // when it parked (extras only); under idleMu
	retire   bool          // "exit": set by reap (under idleMu) before its token, read after it

	// Worker-goroutine-only state.
	spinning bool // woken to search: counted in state.spinning
	labels   bool // set the pool's pprof labels (an extra lent by Block, which would inherit the task's)
	hasFirst bool // cur is the worker's first task (an extra started by grow)
	// cur is the task the worker runs: its first one, handed over by grow,
	// or the one next took. It lives here, not in loop's frame, so that the
	// frames from a worker goroutine's start down to the task's function
	// stay small: a new goroutine has a 2 KB stack, and a task that needs
	// more makes the runtime copy the stack (runtime.copystack was a third
	// of the CPU time of an I/O fan-out on a cold pool, whose thousands of
	// new extra workers each grew their stack once).
	cur     task
	oneShot bool // an extra started by grow: exit, not park, when no work is left
	stamp   bool // time the next task even if the monitor does not watch (first after a wake-up)
	turn    turn // when to yield the P between tasks (yield.go)

	stats *workerStats // the worker's own (base) or a shard shared by extras

	// Progress, for the liveness monitor (monitor.go). seq, since, lastEnd
	// and lastDur are written only by the worker goroutine (a plain load and
	// store, no locked instruction), read by the monitor. seq is incremented
	// when a task starts and when it ends, so it is odd while the worker is
	// inside a task; since is stored before seq at the start, so a monitor
	// that saw an odd seq reads that task's start or a later one (which only
	// makes the task look shorter). The times are taken only while the
	// monitor watches (mon.watching): an idle or lightly loaded pool reads no
	// clock per task. subs counts tasks submitted with a ctx that names this
	// worker, from any goroutine (Add).
	seq     atomic.Uint32
	subs    atomic.Uint32
	since   atomic.Int64 // start of the current task; 0: not timed
	lastEnd atomic.Int64 // end of the previous timed task
	lastDur atomic.Int64 // its duration
	inBlock atomic.Bool  // the task is inside Block (only one Block counts per worker)
	gone    atomic.Bool  // an extra that exited: the monitor drops it from extraList
	mSubs   uint32       // monitor only: subs at the last check
	mStuck  uint32       // monitor only: seq if it was stuck at the last check, else 0

	// Loans (block.go): a spare started by Block for this worker's task is
	// lent to it (loan, on the spare) while Block runs; lent, on the
	// borrower, is its last spare, which the next Block takes back if it has
	// not exited yet. lent is used only by the goroutine holding inBlock.
	loan atomic.Int32
	lent *worker
}

func newWorker(s *state, id int, extra bool) *worker {
	w := new(worker)
	w.init(s, id, extra)
	return w
}

func (w *worker) init(s *state, id int, extra bool) {
	*w = worker{s: s, id: id, extra: extra, idleIdx: -1}
	if extra {
		// An extra gets its thief handle when it first looks for work
		// (next), and its wake channel only if it may park (startExtras):
		// one that grow hands a task to may run it and exit.
		w.stats = &s.extraStats()[s.extraSeq.Add(1)%extraShards]
	} else {
		w.wake = make(chan struct{}, 1)
		w.local = s.q.AddLocal()
		w.stats = new(workerStats)
	}
}

// loop is a worker goroutine: run tasks, park when there are none, exit
// when the pool is stopped and drained (or, for an extra, after the idle
// timeout).
func (w *worker) loop() {
	s := w.s
	if s.cfg.name != "" && (!w.extra || w.labels) {
		// Extras started by the monitor inherit its labels.
		setLabels(s.cfg.name)
	}
	if s.cfg.pin && !w.extra {
		pin(w.id)
	}
	if w.hasFirst && w.cur.cfn != nil {
		presize(0) // see presize
	}
	w.stamp = true
	for {
		var stolen, ok bool
		if w.hasFirst {
			// Handed over by the monitor's grow, already taken off the
			// queue and counted as started.
			ok, w.hasFirst = true, false
		} else if w.cur, stolen, ok = w.next(); ok {
			s.started()
		}
		if ok {
			if w.spinning {
				w.stopSpinning()
			}
			if s.q.Len() > 0 {
				// More tasks wait. Submitters that saw a worker searching
				// woke nobody; and if every worker is now in a task, the
				// monitor must watch for blocking. notify does either.
				s.notify()
			}
			if stolen {
				w.stats.add(&w.stats.stolen, 1)
			}
			if !w.run(&w.cur) {
				return // runtime.Goexit: a replacement goroutine took over w
			}
			w.cur = task{} // let what the task referenced go
			w.turn.taskDone()
			if w.extra && (w.loanReturned() || w.surplus()) {
				w.exit()
				return
			}
			continue
		}
		if !w.oneShot && w.yieldForWork() {
			continue
		}
		if w.spinning {
			// Stop searching before parking; park re-checks the queue after
			// registering, which covers work pushed by a submitter that saw
			// us spinning and did not wake anyone.
			w.stopSpinning()
		}
		if s.closed() && s.count() == 0 || w.extra && (w.oneShot || w.loanReturned()) {
			// One-shot extras exit rather than park: after a fan-out of
			// thousands, parking them all would queue them on idleMu, and
			// the next burst is grown again in one step.
			w.exit()
			return
		}
		if !w.park() {
			w.exit()
			return
		}
		w.stamp = true
	}
}

// surplus reports whether this extra worker should retire now, taking one
// from the monitor's shrink budget (see judge: the extras looked surplus).
func (w *worker) surplus() bool {
	for {
		n := w.s.shrink.Load()
		if n <= 0 {
			return false
		}
		if w.s.shrink.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// next takes the worker's next task, holding the owner flag.
func (w *worker) next() (task, bool, bool) {
	for !w.owner.CompareAndSwap(false, true) {
		runtime.Gosched() // a submitter is pushing onto our deque: nanoseconds
	}
	if w.local == nil {
		// An extra's first look (see init), under the owner flag: a
		// submitter holding its first task's ctx reads local under it too.
		w.local = w.s.q.NewThief()
	}
	t, stolen, ok := w.local.Next()
	w.owner.Store(false)
	return t, stolen, ok
}

// exit accounts for a worker goroutine that returns for good.
func (w *worker) exit() {
	s := w.s
	s.workers.Add(-1)
	if w.extra {
		w.loan.Store(loanGone) // a Block holding us as its last spare cannot lend us again
		s.extras.Add(-1)
		w.gone.Store(true) // the monitor takes us off extraList
		s.exitedExtra()
	} else if w.retire {
		// A base worker exiting for a doze (idle.go); the pool holds a
		// live count of its own, so this does not reach zero. sleptOne is
		// last: after it, w belongs to the goroutine wakeAll starts.
		w.retire = false
		s.dropLive()
		s.sleptOne()
		return
	}
	s.dropLive()
}

// setLabels gives the calling goroutine the pool's pprof label.
func setLabels(name string) {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("pool", name)))
}

// run runs one task and reports whether the worker goroutine goes on; it
// reports false only after runtime.Goexit, when a replacement goroutine has
// taken over the worker.
//
// Panic and Goexit are told apart by catch.Call (the same helper the root
// package uses for children): a panic, also panic(nil) under
// GODEBUG=panicnil=1 and a panic raised by a deferred call while Goexit
// unwinds, goes to the panic handler; a Goexit cannot be stopped, so the
// worker is replaced.
//
// t points to the caller's task, not a copy: the frames between a worker
// goroutine's start and the task's function are kept small (see
// worker.loop), and a copy of the task would be one more in the closure.
func (w *worker) run(t *task) (goOn bool) {
	st := w.stats
	if t.enq != 0 {
		st.record(t.prio, now()-t.enq)
	} else {
		st.add(&st.lanes[t.prio].count, 1)
	}
	w.begin()
	var fn func()
	if t.fn != nil {
		fn = t.fn
	} else {
		fn = (&taskCtx{Context: t.ctx, w: w, fn: t.cfn}).call
	}
	p := catch.Call(fn, w.goexit)
	w.end()
	st.add(&st.completed, 1)
	if p != nil {
		w.s.panicked(p.Value, p.Stack)
	}
	return true
}

// goexit is run's exiting hook: the task called runtime.Goexit, so replace
// this goroutine and the worker count stays the same (the pool's live count
// is unchanged).
func (w *worker) goexit(p *catch.Panic) {
	w.cur = task{}
	w.end()
	w.stats.add(&w.stats.completed, 1)
	if p != nil {
		w.s.panicked(p.Value, p.Stack)
	}
	w.s.goexits.Add(1)
	go w.loop()
}

// begin and end mark a task's start and end for the liveness monitor (see
// worker.seq).
// The first task after a wake-up is always timed (parking costs far more
// than a clock read): a burst of blocking tasks on an idle pool wakes the
// monitor only after they started, and its first check must see how long
// they have taken.
func (w *worker) begin() {
	var t int64
	if w.stamp || w.s.mon.watching.Load() {
		t = now()
		w.stamp = false
	}
	w.since.Store(t)
	w.seq.Store(w.seq.Load() + 1)
}

func (w *worker) end() {
	m := &w.s.mon
	start := w.since.Load()
	if start != 0 || m.watching.Load() {
		// A task not timed started before watching began: its duration is
		// at least the time since then.
		if start == 0 {
			start = m.since.Load()
		}
		t := now()
		w.lastDur.Store(t - start)
		w.lastEnd.Store(t)
		if t-start >= int64(longTask) && m.watching.Load() && w.s.count() > 0 {
			m.poke() // a long task ended while work waits: check now
		}
	}
	w.seq.Store(w.seq.Load() + 1)
}

func (s *state) panicked(v any, stack []byte) {
	s.panics.Add(1)
	if h := s.cfg.panicHandler; h != nil {
		h(v, stack)
		return
	}
	slog.Error("pool: task panicked", "pool", s.cfg.name, "panic", v, "stack", string(stack))
}
