package pool

import "context"

// Stop stops the pool: it refuses new work at once with [ErrClosed] (also
// to Submit calls waiting for room, and to tasks of this pool that submit
// follow-up work while Stop drains), runs every task accepted before,
// exactly once, and waits until every worker has exited. If ctx ends first
// it returns ctx.Err(); the workers still finish the accepted tasks in the
// background. Stop is idempotent and safe to call concurrently: every call
// waits for the same end. Do not call it from a task of the pool with a ctx
// that never ends: it would wait for its own task. It panics if ctx is nil.
func (p *Pool) Stop(ctx context.Context) error {
	if ctx == nil {
		panic("pool: Stop called with a nil context")
	}
	s := p.state("Stop")
	s.beginStop()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		select {
		case <-s.done: // both ready: report success
			return nil
		default:
			return ctx.Err()
		}
	}
}

// beginStop refuses new work and tells every worker to drain and exit.
func (s *state) beginStop() {
	s.stopOnce.Do(func() {
		for {
			v := s.pending.Load()
			if s.pending.CompareAndSwap(v, v|closedBit) {
				break
			}
		}
		close(s.quit) // wakes parked workers, the monitor, and space waiters
		if s.dozer != nil {
			// An asleep pool has no goroutine to drain and join: start
			// them; they find the pool closed and drained, and exit.
			s.wakeAll()
		}
	})
}

// addLive counts n more goroutines of the pool, unless all have exited.
func (s *state) addLive(n int) bool {
	for {
		v := s.live.Load()
		if v == 0 {
			return false // gone: zero is reached once, and never left
		}
		if s.live.CompareAndSwap(v, v+int64(n)) {
			return true
		}
	}
}

// dropLive is the last thing a goroutine of the pool does before it returns.
func (s *state) dropLive() {
	if s.live.Add(-1) == 0 {
		s.reaper.Stop()
		if s.dozer != nil {
			s.dozer.Stop()
		}
		close(s.done)
	}
}
