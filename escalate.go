package echo

import (
	"errors"

	"github.com/echo-scheduler/echo/pool"
)

// Priority inheritance: whoever waits on a scope lifts the scope's queued
// children to its own priority, as Swift's task groups do.
//
// A waiter (Wait, and so the end of Nursery; Start; Go waiting for a
// WithLimit slot) registers with beginWait at its priority w and, except for
// Wait, which waits until the scope closes, leaves with endWait. While
// waiters are registered, lift holds the most urgent one's urgency, and:
//
//   - every child queued when a waiter arrives that is below w is marked
//     lifted (child.up) and handed to the pool again at w as a proxy; the
//     original and the proxy race to claim the child (child.state), and
//     whichever copy claims it runs it at the lifted priority;
//   - a child spawned while a waiter waits is submitted at w directly.
//
// A child that nobody waits on keeps its priority. Proxies are submitted
// with the pool's TryGo: lifting never waits for queue space (a waiter on a
// pool that cannot grow would otherwise block on room that only it can
// make). A proxy the full queue refused is owed and submitted again when
// the scope's next child finishes or is spawned; meanwhile the original copy
// still runs the child, at the lifted priority, when it is reached.

// urgency ranks p: Low 0, Normal 1, High 2 (the numeric values of Priority
// do not follow the order).
func urgency(p Priority) int32 {
	switch p {
	case High:
		return 2
	case Low:
		return 0
	}
	return 1
}

// byUrgency maps an urgency back to its priority.
var byUrgency = [...]Priority{Low, Normal, High}

// liftOf returns the priority a child submitted at p runs at while the
// scope's lift is l (urgency+1, 0 for none).
func liftOf(p Priority, l int32) Priority {
	if l > 0 && urgency(p) < l-1 {
		return byUrgency[l-1]
	}
	return p
}

// beginWait registers a waiter at priority w and lifts the queued children
// below w.
func (s *Scope) beginWait(w Priority) {
	u := urgency(w)
	var lifted []*child
	s.mu.Lock()
	s.waiters[u]++
	if u+1 > s.lift.Load() {
		s.lift.Store(u + 1)
		for _, c := range s.queue {
			if c.state.Load() == childQueued && urgency(c.prio) < u && c.up.Load() < u+1 {
				c.up.Store(u + 1)
				lifted = append(lifted, c)
			}
		}
	}
	s.mu.Unlock()
	for i, c := range lifted {
		if !s.proxy(c, w) {
			s.owe(lifted[i:])
			break
		}
	}
}

// endWait unregisters a waiter at priority w. Children already lifted stay
// lifted; children spawned from now on are lifted only by the waiters left.
func (s *Scope) endWait(w Priority) {
	s.mu.Lock()
	s.waiters[urgency(w)]--
	l := int32(0)
	for u := int32(len(s.waiters)) - 1; u >= 0; u-- {
		if s.waiters[u] > 0 {
			l = u + 1
			break
		}
	}
	s.lift.Store(l)
	s.mu.Unlock()
}

// proxy hands queued child c to the pool again at the priority it was
// lifted to, without waiting. It reports false only if the queue was full.
// A proxy refused because the pool is stopped loses nothing: the original
// copy was accepted, so the pool runs it.
func (s *Scope) proxy(c *child, w Priority) bool {
	if c.state.Load() != childQueued {
		return true
	}
	if _, ok := s.run.(goroutines); ok {
		return true // WithBlocking: every child has its goroutine already
	}
	err := s.run.TryGo(c, w, runChild)
	return err == nil || !errors.Is(err, pool.ErrQueueFull)
}

// owe keeps lifted children whose proxies found the queue full, to submit
// them when there may be room (repay).
func (s *Scope) owe(cs []*child) {
	s.mu.Lock()
	var owed []*child
	if p := s.owed.Load(); p != nil {
		owed = *p
	}
	owed = append(owed, cs...)
	s.owed.Store(&owed)
	s.mu.Unlock()
}

// repay submits owed proxies; it stops at the first the queue refuses.
func (s *Scope) repay() {
	s.mu.Lock()
	p := s.owed.Swap(nil)
	s.mu.Unlock()
	if p == nil {
		return
	}
	owed := *p
	for i, c := range owed {
		if !s.proxy(c, byUrgency[c.up.Load()-1]) {
			s.owe(owed[i:])
			return
		}
	}
}
