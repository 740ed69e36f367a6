package echo

// runInline runs claimed child c on the calling goroutine of Wait
// (help-while-waiting). If c calls runtime.Goexit, nothing can stop the
// calling goroutine from ending (see Wait); the deferred call applies the
// Goexit rule (leave) on the way out.
func (s *Scope) runInline(c *child) {
	returned := false
	defer func() {
		if !returned {
			s.leave()
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

// helpOne runs the most urgent still-queued child of s (oldest first
// within a priority, the order help uses) on the calling goroutine, if
// there is one, and reports whether it ran one.
func (s *Scope) helpOne() bool {
	var c *child
	s.mu.Lock()
	for _, p := range [...]Priority{High, Normal, Low} {
		for _, x := range s.queue {
			if x.prio == p && x.state.CompareAndSwap(childQueued, childClaimed) {
				c = x
				break
			}
		}
		if c != nil {
			break
		}
	}
	s.mu.Unlock()
	if c == nil {
		return false
	}
	// Not runInline: the caller (Go or Start) may be a child of s, so
	// joining s here after a Goexit would wait for the caller itself. The
	// Goexit ends the caller's goroutine as if it had called Goexit, and
	// whoever runs the caller applies the rule: the pool for a child, a
	// waiter's runInline, or the Nursery whose body it is (leave).
	s.execute(c, c)
	return true
}
