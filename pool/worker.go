package pool

import (
	"context"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo/deque"
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
	announce bool // started by the monitor's grow: count down mon.starting
	turn     turn // when to yield the P between tasks (yield.go)

	stats *workerStats // the worker's own (base) or a shard shared by extras
}

func newWorker(s *state, id int, extra bool) *worker {
	w := new(worker)
	w.init(s, id, extra)
	return w
}

func (w *worker) init(s *state, id int, extra bool) {
	*w = worker{s: s, id: id, extra: extra, wake: make(chan struct{}, 1), idleIdx: -1}
	if extra {
		w.local = s.q.NewThief()
		w.stats = &s.extraSt[s.extraSeq.Add(1)%extraShards]
	} else {
		w.local = s.q.AddLocal()
		w.stats = new(workerStats)
	}
}

// loop is a worker goroutine: run tasks, park when there are none, exit
// when the pool is stopped and drained (or, for an extra, after the idle
// timeout).
func (w *worker) loop() {
	s := w.s
	if s.cfg.name != "" {
		pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("pool", s.cfg.name)))
	}
	if s.cfg.pin && !w.extra {
		pin(w.id)
	}
	if w.announce {
		w.announce = false
		if s.mon.starting.Add(-1) == 0 {
			select {
			case s.mon.started <- struct{}{}:
			default:
			}
		}
	}
	for {
		t, stolen, ok := w.next()
		if ok {
			s.started()
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
			if !w.run(t) {
				return // runtime.Goexit: a replacement goroutine took over w
			}
			w.turn.taskDone()
			if w.extra && w.surplus() {
				w.exit()
				return
			}
			continue
		}
		if w.yieldForWork() {
			continue
		}
		if w.spinning {
			// Stop searching before parking; park re-checks the queue after
			// registering, which covers work pushed by a submitter that saw
			// us spinning and did not wake anyone.
			w.stopSpinning()
		}
		if s.closed() && s.count() == 0 {
			w.exit()
			return
		}
		if !w.park() {
			w.exit()
			return
		}
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

// yieldForWork is the short bounded spin before parking: it yields the
// CPU a few times (to a submitter that may share this P) and reports
// whether work appeared meanwhile. Under a steady stream of submissions the
// queue is often empty for only a moment; parking and unparking (two locks
// of idleMu and, often, a wake-up) would cost more than the wait.
func (w *worker) yieldForWork() bool {
	for range idleYields {
		runtime.Gosched()
		if w.s.q.Len() > 0 {
			return true
		}
	}
	return false
}

// idleYields bounds yieldForWork: a few hundred ns of yields, no more.
const idleYields = 3

func (w *worker) stopSpinning() {
	w.spinning = false
	w.s.spinning.Add(-1)
}

// next takes the worker's next task, holding the owner flag.
func (w *worker) next() (task, bool, bool) {
	for !w.owner.CompareAndSwap(false, true) {
		runtime.Gosched() // a submitter is pushing onto our deque: nanoseconds
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
		s.extras.Add(-1)
	}
	s.dropLive()
}

// park waits for a wake-up. It returns false when an extra worker should
// retire (idle timeout) and true when the worker should look for work again.
func (w *worker) park() bool {
	s := w.s
	w.turn.reset() // parking gives the P up: a new turn starts after it
	s.idleMu.Lock()
	w.idleIdx = len(s.idle)
	s.idle = append(s.idle, w)
	s.nidle.Store(int32(len(s.idle)))
	if w.extra {
		w.parkedAt = now()
		if !s.reaperArmed {
			s.reaperArmed = true
			s.reaper.Reset(s.cfg.idleTimeout)
		}
	}
	s.idleMu.Unlock()
	// Re-check after registering (Dekker with submit: a submitter increments
	// the lane count, then loads nidle; we stored nidle, then load the
	// counts; sequential consistency means one of us sees the other).
	if s.q.Len() > 0 {
		w.unpark()
		return true
	}
	if s.closed() {
		// Stopping with tasks accepted but not yet visible (a submitter
		// between acquire and push): let it run, then look again.
		w.unpark()
		runtime.Gosched()
		return true
	}
	select {
	case <-w.wake:
		return w.woken()
	case <-s.quit:
		w.unpark()
		return true
	}
}

// woken handles a token received while parked: from a waker (the worker
// now searches, counted in s.spinning by the waker) or from reap (an extra
// idle for the timeout: it retires). reap writes retire before sending the
// token, so reading it after the receive is ordered (the channel gives
// happens-before).
func (w *worker) woken() bool {
	if w.retire {
		return false
	}
	w.spinning = true
	return true
}

// unpark removes w from the idle stack after it woke up on its own. If a
// waker popped it first, it takes the waker's token (sent right after the
// pop) and becomes a spinner, as if woken (a retire token from reap is
// ignored: the worker has just seen work or Stop, so it keeps going). It
// reports whether w removed itself.
func (w *worker) unpark() bool {
	s := w.s
	s.idleMu.Lock()
	if i := w.idleIdx; i >= 0 {
		s.removeIdle(i)
		s.idleMu.Unlock()
		return true
	}
	s.idleMu.Unlock()
	<-w.wake
	if w.retire {
		w.retire = false
	} else {
		w.spinning = true
	}
	return false
}

// removeIdle removes idle[i]. Under idleMu.
func (s *state) removeIdle(i int) {
	last := len(s.idle) - 1
	w := s.idle[i]
	s.idle[i] = s.idle[last]
	s.idle[i].idleIdx = i
	s.idle[last] = nil
	s.idle = s.idle[:last]
	w.idleIdx = -1
	s.nidle.Store(int32(len(s.idle)))
}

// reap retires the extra workers parked for at least the idle timeout and
// re-arms itself for the next one. It runs on the reaper timer: one timer
// per pool, not one per parked extra, so parking an extra costs no timer.
func (s *state) reap() {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	t := now()
	next := int64(-1)
	for i := 0; i < len(s.idle); {
		w := s.idle[i]
		if w.extra {
			deadline := w.parkedAt + int64(s.cfg.idleTimeout)
			if t >= deadline {
				s.removeIdle(i) // moves another worker to i: look at i again
				w.retire = true
				w.wake <- struct{}{} // never blocks: one token per pop
				continue
			}
			if next < 0 || deadline < next {
				next = deadline
			}
		}
		i++
	}
	if next < 0 {
		s.reaperArmed = false
		return
	}
	s.reaper.Reset(time.Duration(next - t))
}

// notify is called after a task was pushed, and by a worker that started a
// task while more wait: make sure someone will run them.
//
// It wakes a parked worker unless one is already searching. It wakes the
// liveness monitor only when no worker is free (all are in tasks, which may
// be blocked); otherwise the worker that takes the task calls notify again
// if more tasks remain queued (see loop). So the monitor runs whenever tasks
// stay queued with every worker busy, yet waking an idle pool costs one
// goroutine wake-up, not two.
func (s *state) notify() {
	if s.spinning.Load() == 0 && s.nidle.Load() > 0 {
		if s.wakeOne() {
			return
		}
	}
	if s.spinning.Load() == 0 && s.mon.parked.Load() {
		s.mon.wakeUp()
	}
}

// wakeOne wakes one parked worker, unless enough workers are already
// searching: as many as tasks are queued, or GOMAXPROCS. This is the Go
// runtime's spinning rule (a bounded number of searchers; a searcher that
// finds work wakes the next one, see loop): a trickle of tasks wakes one
// worker at a time, with no thundering herd, and a burst wakes workers a
// few at a time, each newly busy worker waking the next.
func (s *state) wakeOne() bool {
	for {
		sp := s.spinning.Load()
		if sp >= s.maxSpinning || (sp > 0 && int64(sp) >= s.count()) {
			return false
		}
		if s.spinning.CompareAndSwap(sp, sp+1) {
			break
		}
	}
	if !s.wakeParked() {
		s.spinning.Add(-1)
		return false
	}
	return true
}

// wakeParked pops a parked worker and hands it a token; the caller has
// already counted it in s.spinning. It reports false if none was parked.
func (s *state) wakeParked() bool {
	s.idleMu.Lock()
	n := len(s.idle)
	if n == 0 {
		s.idleMu.Unlock()
		return false
	}
	w := s.idle[n-1] // the most recently parked: warm cache; the oldest retire
	s.removeIdle(n - 1)
	s.idleMu.Unlock()
	// Never blocks: one token per pop, and w was on the stack, so its
	// previous token (if any) was consumed before it parked.
	w.wake <- struct{}{}
	return true
}

// run runs one task and reports whether the worker goroutine goes on; it
// reports false only after runtime.Goexit, when a replacement goroutine has
// taken over the worker.
//
// Panic and Goexit are told apart as x/sync's singleflight does: the task
// runs in an inner function whose deferred recover stops any panic, so
// control reaches the code after the inner call unless the task called
// Goexit. (Testing recover() != nil would not do: with GODEBUG=panicnil=1,
// panic(nil) is recovered with a nil value.)
func (w *worker) run(t task) (goOn bool) {
	st := w.stats
	if t.enq != 0 {
		st.record(t.prio, now()-t.enq)
	} else {
		st.add(&st.lanes[t.prio].count, 1)
	}
	returned, recovered := false, false
	st.add(&st.inTask, 1)
	defer func() {
		st.add(&st.inTask, ^uint64(0)) // -1
		st.add(&st.completed, 1)
		if returned || recovered {
			return
		}
		// runtime.Goexit cannot be stopped: replace this goroutine so the
		// worker count stays the same (the pool's live count is unchanged).
		w.s.goexits.Add(1)
		go w.loop()
	}()
	var value any
	var stack []byte
	func() {
		defer func() {
			if !returned {
				value = recover()
				stack = debug.Stack() // in the deferred call: the panicking stack
			}
		}()
		if t.fn != nil {
			t.fn()
		} else {
			t.cfn(&taskCtx{Context: t.ctx, w: w})
		}
		returned = true
	}()
	if !returned {
		recovered = true // we are here, so it was a panic, not Goexit
		w.s.panicked(value, stack)
	}
	return true
}

func (s *state) panicked(v any, stack []byte) {
	s.panics.Add(1)
	if h := s.cfg.panicHandler; h != nil {
		h(v, stack)
		return
	}
	slog.Error("pool: task panicked", "pool", s.cfg.name, "panic", v, "stack", string(stack))
}
