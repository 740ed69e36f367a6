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

// run runs one task and reports whether the worker goroutine goes on; it
// reports false only after runtime.Goexit, when a replacement goroutine has
// taken over the worker.
//
// Panic and Goexit are told apart by catch.Call (the same helper the root
// package uses for children): a panic, also panic(nil) under
// GODEBUG=panicnil=1 and a panic raised by a deferred call while Goexit
// unwinds, goes to the panic handler; a Goexit cannot be stopped, so the
// worker is replaced.
func (w *worker) run(t task) (goOn bool) {
	st := w.stats
	if t.enq != 0 {
		st.record(t.prio, now()-t.enq)
	} else {
		st.add(&st.lanes[t.prio].count, 1)
	}
	st.add(&st.inTask, 1)
	p := catch.Call(func() {
		if t.fn != nil {
			t.fn()
		} else {
			t.cfn(&taskCtx{Context: t.ctx, w: w})
		}
	}, func(p *catch.Panic) {
		// runtime.Goexit: replace this goroutine so the worker count stays
		// the same (the pool's live count is unchanged).
		st.add(&st.inTask, ^uint64(0)) // -1
		st.add(&st.completed, 1)
		if p != nil {
			w.s.panicked(p.Value, p.Stack)
		}
		w.s.goexits.Add(1)
		go w.loop()
	})
	st.add(&st.inTask, ^uint64(0)) // -1
	st.add(&st.completed, 1)
	if p != nil {
		w.s.panicked(p.Value, p.Stack)
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
