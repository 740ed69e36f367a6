package pool

import "context"

const closedBit = 1 << 62

// count returns the number of accepted tasks not yet started.
func (s *state) count() int64 { return s.pending.Load() &^ closedBit }

func (s *state) closed() bool { return s.pending.Load()&closedBit != 0 }

// acquire counts one more accepted task, unless the pool is closed or full.
func (s *state) acquire() error {
	if s.cfg.capacity == 0 {
		// Unbounded: one Add, which never retries, unlike a CAS loop that
		// workers' decrements keep failing. A task counted after Stop set
		// the bit is uncounted at once; workers waiting for pending to
		// reach zero see the blip and look again.
		if v := s.pending.Add(1); v&closedBit != 0 {
			s.pending.Add(-1)
			return ErrClosed
		}
		return nil
	}
	for {
		v := s.pending.Load()
		if v&closedBit != 0 {
			return ErrClosed
		}
		if c := s.cfg.capacity; c > 0 && v >= int64(c) {
			return ErrQueueFull
		}
		if s.pending.CompareAndSwap(v, v+1) {
			return nil
		}
	}
}

func (s *state) submit(ctx context.Context, t task, wait bool) error {
	if err := s.acquire(); err != nil {
		if err != ErrQueueFull || !wait {
			return err
		}
		if err := s.waitSpace(ctx); err != nil {
			return err
		}
	}
	// The task is accepted: from here it is queued and run, even if Stop
	// begins meanwhile (workers exit only when pending is zero).
	if sampled() {
		t.enq = now()
	}
	w := workerOf(ctx)
	if w != nil && w.s == s {
		w.subs.Add(1) // w's task is making progress (see the monitor)
	} else {
		w = nil
	}
	if w != nil && w.owner.CompareAndSwap(false, true) {
		// We hold w's owner flag: no other goroutine is using w's deque as
		// owner (see worker.owner), so this Push is a legal owner call.
		// w.local is read only under the flag: an extra sets it, under the
		// flag, when it first looks for work, possibly after a goroutine
		// got its first task's ctx.
		if w.local != nil {
			w.local.Push(t)
		} else {
			s.q.Push(t)
		}
		w.owner.Store(false)
	} else {
		s.q.Push(t)
	}
	s.notify()
	return nil
}

// waitSpace waits until a task can be accepted and accepts it.
func (s *state) waitSpace(ctx context.Context) error {
	if w := workerOf(ctx); w != nil && w.s == s {
		// A worker of this pool waiting for room that only workers can
		// make: lend a worker while we wait, as Block does, so the pool
		// keeps draining even if every worker is here.
		var err error
		Block(ctx, func() { err = s.waitSpaceSlow(ctx) })
		return err
	}
	return s.waitSpaceSlow(ctx)
}

func (s *state) waitSpaceSlow(ctx context.Context) error {
	for {
		s.spaceMu.Lock()
		ch := s.spaceCh
		s.spaceWaiters.Add(1)
		s.spaceMu.Unlock()
		// Re-check after registering: a worker that starts a task
		// decrements pending and then loads spaceWaiters, so either it sees
		// us and closes ch, or we see its decrement here.
		err := s.acquire()
		if err != ErrQueueFull {
			s.spaceWaiters.Add(-1)
			return err
		}
		select {
		case <-ch:
			s.spaceWaiters.Add(-1)
		case <-s.quit:
			s.spaceWaiters.Add(-1)
			return ErrClosed
		case <-ctx.Done():
			s.spaceWaiters.Add(-1)
			return ctx.Err()
		}
	}
}

// started is called by a worker that has taken a task from the queue.
func (s *state) started() {
	s.pending.Add(-1)
	if s.spaceWaiters.Load() > 0 {
		s.spaceMu.Lock()
		close(s.spaceCh)
		s.spaceCh = make(chan struct{})
		s.spaceMu.Unlock()
	}
}
