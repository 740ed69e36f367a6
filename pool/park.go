package pool

import (
	"runtime"
	"time"
)

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
	s.armIdleExit()
	s.idleMu.Unlock()
	// Re-check after registering (Dekker with submit: a submitter increments
	// the lane count, then loads nidle; we stored nidle, then load the
	// counts; sequential consistency means one of us sees the other).
	if s.q.Len() > 0 {
		return w.unpark()
	}
	if s.closed() {
		// Stopping with tasks accepted but not yet visible (a submitter
		// between acquire and push): let it run, then look again.
		if !w.unpark() {
			return false
		}
		runtime.Gosched()
		return true
	}
	select {
	case <-w.wake:
		return w.woken()
	case <-s.quit:
		return w.unpark()
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
// pop) and becomes a spinner, as if woken. A retire token from reap is
// ignored: the worker has just seen work or Stop, so it keeps going. A
// token from doze (a base worker's retire, or any while the pool is asleep)
// is not: the doze saw nothing queued after it committed, and whatever came
// since restarts the pool (idle.go). It reports whether the goroutine goes
// on (false: it must exit).
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
		if !w.extra || s.asleep.Load() {
			return false
		}
		w.retire = false
	} else {
		w.spinning = true
	}
	return true
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
	if s.asleep.Load() {
		// The pool's goroutines exited for idleness (idle.go): start them;
		// they find the task.
		s.wakeAll()
	}
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
