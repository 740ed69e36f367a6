package echo

// runInline runs claimed child c on the calling goroutine of Wait
// (help-while-waiting).
//
// If c calls runtime.Goexit, nothing can stop the calling goroutine from
// ending (see Wait). Before it ends, the deferred call below finishes the
// waiter's job: it joins every other child of s (running queued ones inline,
// each guarded in turn: a further Goexit aborts this deferred call, and the
// deferred call of the child that exited takes over), finishes the scope,
// and hands the scope's result to the enclosing scope, if any, whose member
// the exiting goroutine is. So no child outlives its scope and no failure
// is dropped, even when the goroutine that should have reported it is gone.
func (s *Scope) runInline(c *child) {
	returned := false
	defer func() {
		if !returned {
			s.join()
			if err := s.finish(); err != nil {
				if m := memberOf(s.parent); m != nil && !m.s.closed.Load() {
					m.s.report(err, false)
				}
			}
		}
	}()
	s.execute(c, c)
	returned = true
}

// help runs queued children of s on the calling goroutine, most urgent
// first, until none is left in the list.
func (s *Scope) help() {
	for {
		s.mu.Lock()
		q := s.queue
		s.queue, s.compactAt = nil, 0
		s.mu.Unlock()
		if len(q) == 0 {
			return
		}
		// Most urgent first, as the pool would; oldest first within a
		// priority.
		for _, p := range [...]Priority{High, Normal, Low} {
			for _, c := range q {
				if c.prio == p && c.state.CompareAndSwap(childQueued, childClaimed) {
					s.runInline(c)
				}
			}
		}
	}
}

// helpOne runs the oldest still-queued child of s on the calling
// goroutine, if there is one, and reports whether it ran one.
func (s *Scope) helpOne() bool {
	var c *child
	s.mu.Lock()
	for c == nil && len(s.queue) > 0 {
		// Taking from the front is safe: help swaps the whole list out
		// under mu, so no snapshot shares what s.queue points to now.
		x := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		if x.state.CompareAndSwap(childQueued, childClaimed) {
			c = x
		}
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	// Not runInline: the spawner may be a child of s, so joining s here
	// after a Goexit would wait for the spawner itself. Whoever runs the
	// spawner handles its Goexit (the pool, or a waiter's runInline).
	s.execute(c, c)
	return true
}
