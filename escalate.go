package echo

// escalate marks the scope High and resubmits its queued lower-priority
// children as High proxies: whichever copy claims a child first runs it.
func (s *Scope) escalate() {
	s.mu.Lock()
	s.escalated.Store(true)
	var low []*child
	for _, c := range s.queue {
		if c.prio != High && c.state.Load() == childQueued {
			low = append(low, c)
		}
	}
	s.mu.Unlock()
	for _, c := range low {
		// c stays counted in pending until some copy claims and finishes
		// it, and the original copy is still in the pool, so a refused
		// proxy loses nothing.
		if s.run.Go(c, High, runChild) == nil {
			s.proxies.Add(1)
		}
	}
}
