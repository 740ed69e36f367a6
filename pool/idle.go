package pool

import "time"

// Idle exit (withIdleExit; the Default pool uses it).
//
// A pool with idle exit lets its goroutines (base workers and monitor) exit
// once every worker has been parked, with nothing queued, for cfg.idleExit,
// and starts them again on the next submit. So an idle Default pool holds
// no goroutine and no pending timer, and a test that used it passes
// goleak.VerifyNone without stopping it.
//
// States: running (asleep false) and asleep. The transitions are made under
// sleepMu, by doze (running -> asleep: the dozer timer's callback) and by
// wakeAll (asleep -> running: the first submit that sees asleep, or Stop).
//
// Doze commits only if, holding sleepMu and idleMu, every worker goroutine
// is on the idle stack (len(idle) == workers), the monitor is parked, and,
// after it stored asleep = true, nothing is accepted and not started
// (count() == 0) and Stop has not begun. Submit increments pending
// (acquire), pushes, and then loads asleep (notify). Both are sequentially
// consistent, so either the submit's load sees asleep (and it calls
// wakeAll, which waits for sleepMu and restarts the pool if the doze
// committed), or doze's load of pending sees the task and it backs out,
// leaving the workers parked for notify to wake as usual. So no accepted
// task is left in a pool without workers.
//
// When doze commits, the pool's deques are empty: count() == 0 means every
// accepted task has been taken from its queue. A task pushed afterwards
// (also onto a base worker's own deque, through a leaked task ctx) is seen
// by that worker's next goroutine: wakeAll starts it after the old one has
// exited (slept), so the deque's owner changes hands with happens-before
// (the channel close, then the go statement).
//
// Accounting: while asleep, the pool holds one live count of its own, so
// live stays above zero (zero means "stopped and joined"). The exiting
// goroutines drop theirs; wakeAll adds the workers' and hands the held one
// to the new monitor. Stop (beginStop) calls wakeAll after closing the
// pool: the restarted goroutines find it closed and drained, exit, and
// live reaches zero as usual. Parked extras are retired by the doze too.
//
// No goroutine polls the clock: the dozer is a one-shot timer, armed when
// the last worker parks (or the last extra exits with every other worker
// parked), and it is not re-armed while asleep.

// armIdleExit starts the idle period when every worker goroutine is parked.
// Under idleMu.
func (s *state) armIdleExit() {
	if s.dozer == nil || len(s.idle) != int(s.workers.Load()) {
		return
	}
	s.idleSince = now()
	s.dozer.Reset(s.cfg.idleExit)
}

// exitedExtra is called by an extra worker that has exited: if the rest are
// parked, the idle period starts now. The check without the lock keeps a
// thousand extras exiting at once off idleMu.
func (s *state) exitedExtra() {
	if s.dozer == nil || s.nidle.Load() != s.workers.Load() || s.closed() {
		return
	}
	s.idleMu.Lock()
	s.armIdleExit()
	s.idleMu.Unlock()
}

// doze is the dozer timer's callback: it makes an idle pool's goroutines
// exit (see above).
func (s *state) doze() {
	s.sleepMu.Lock()
	defer s.sleepMu.Unlock()
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	if s.asleep.Load() || s.closed() || len(s.idle) != int(s.workers.Load()) {
		return // woken meanwhile: the next time all park re-arms the timer
	}
	if left := s.idleSince + int64(s.cfg.idleExit) - now(); left > 0 {
		s.dozer.Reset(time.Duration(left)) // re-armed by a later park
		return
	}
	if !s.mon.parked.Load() || s.count() != 0 {
		// The monitor has not parked yet (it parks once it sees the queue
		// empty), or a task is on its way: look again later.
		s.dozer.Reset(s.cfg.idleExit)
		return
	}
	s.asleep.Store(true)
	// Dekker with submit (see above): asleep is stored, now load pending.
	if s.count() != 0 || s.closed() || !s.mon.parked.CompareAndSwap(true, false) {
		// A task was accepted (its submitter may be waiting for sleepMu:
		// it will find asleep false and notify as usual), Stop began, or
		// the monitor was woken (by the same task).
		s.asleep.Store(false)
		return
	}
	s.slept = make(chan struct{})
	s.sleepers.Store(int32(len(s.base) + 1))
	s.live.Add(1) // the pool's own count while asleep; live > 0 here
	s.mon.sleep = true
	s.mon.wake <- struct{}{} // never blocks: one token per won CAS
	for len(s.idle) > 0 {
		w := s.idle[len(s.idle)-1]
		s.removeIdle(len(s.idle) - 1)
		w.retire = true      // a base worker's goroutine exits; an extra retires
		w.wake <- struct{}{} // never blocks: one token per pop
	}
	if s.reaperArmed {
		s.reaper.Stop()
		s.reaperArmed = false
	}
}

// sleptOne is the last thing a base worker's or the monitor's goroutine does
// when it exits for a doze: the last one lets wakeAll start the new ones.
func (s *state) sleptOne() {
	if s.sleepers.Add(-1) == 0 {
		close(s.slept)
	}
}

// wakeAll restarts an asleep pool (see above). It is called by a submit that
// saw asleep, and by Stop.
func (s *state) wakeAll() {
	s.sleepMu.Lock()
	defer s.sleepMu.Unlock()
	if !s.asleep.Load() {
		return
	}
	<-s.slept // the old goroutines are done with the workers and monitor
	n := len(s.base)
	s.workers.Add(int32(n))
	s.live.Add(int64(n)) // and the pool's own count passes to the monitor
	go s.monitorLoop()
	for _, w := range s.base {
		go w.loop()
	}
	s.asleep.Store(false)
}
