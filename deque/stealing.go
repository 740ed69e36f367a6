package deque

import (
	"math/bits"
	"strconv"
	"sync"
	"sync/atomic"
)

// StealingQueue is a priority-aware work-stealing queue: one lane per
// priority, each lane made of one shared [Injector] (for values pushed from
// outside any consumer) and one [Deque] per registered [Local] (for values a
// consumer pushes itself). It knows nothing of pools: a scheduler registers
// one Local per worker and calls [Local.Next] for the next value to run.
//
// # Priority rule
//
// Local.Next scans the lanes from High to Low and, within a lane, takes from
// its own deque (newest first, LIFO, for locality), then the injector (oldest
// first), then steals the oldest value of a victim's deque, starting at a
// victim chosen by a per-Local random generator. So a consumer never takes a
// lower-priority value from its own deque while a higher-priority value is
// visible in the injector or in a victim's deque. The one deliberate
// exception is the fair pick below.
//
// # Fair pick (anti-starvation bound)
//
// Every fairEvery-th value a Local takes (see [NewStealingQueue]) comes from
// the lowest non-empty lane instead, oldest first: the injector's head, then
// the oldest value of the Local's own deque, then a victim's oldest. Hence,
// while values of a lane are queued, each Local takes a value of the lowest
// non-empty lane at least once every fairEvery values, and the value at the
// head of the lowest lane's injector is taken within fairEvery takes of any
// single Local, whatever flood of higher-priority values arrives meanwhile.
//
// # Steal turn (anti-starvation bound for deques)
//
// Halfway between two fair picks, a Local takes its value from the other
// Locals' deques before its own deque and the injector (in the lane the
// priority rule chose), visiting the victims round robin from the one after
// its last steal turn's, oldest value first. Without it a value in the deque
// of a Local whose owner is busy elsewhere (for example waiting for that very
// value) would wait as long as the injector stays non-empty. With it, while
// its lane is the most urgent non-empty one, the oldest value of any Local's
// deque is taken within fairEvery*L takes of any other single Local, where L
// is the number of registered Locals.
//
// # Counting
//
// counts[p] is incremented before a value of priority p is published in any
// lane and decremented after it has been taken, so counts[p] >= the number
// of values of priority p in the lanes at every instant, and counts[p] == 0
// proves lane p empty at the moment of the load. That makes "is a value of
// priority p visible anywhere" an O(1) check: Next skips empty lanes without
// touching any deque.
//
// # Locals
//
// Locals may be added at any time, also while others take. The victim list
// is copy-on-write: AddLocal builds a new slice under mu and publishes it
// with an atomic store; readers load the pointer and never see the slice
// change under them. A thief holding the previous list just does not see
// the new Local's deques yet. Locals are never removed: a scheduler keeps
// its consumers for its lifetime (consumers that come and go use
// [StealingQueue.NewThief]).
type StealingQueue[T Prioritized] struct {
	counts   [NumPriorities]paddedInt64
	injector [NumPriorities]*Injector[T]

	mu     sync.Mutex                  // serialises AddLocal calls
	locals atomic.Pointer[[]*Local[T]] // the registered victims; copy-on-write

	fairEvery int
	seed      atomic.Uint64 // seeds the per-Local generators
}

// paddedInt64 keeps each lane's count on its own cache line so that pushes
// of one priority do not slow down readers of another.
type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

// Local is a consumer's handle on a [StealingQueue]: its own deques (one per
// lane) and its private random generator and fair-pick counter.
//
// Push and Next are owner calls: as with
// [Deque], one owner at a time, and owner calls must be ordered by
// happens-before (for example made by one goroutine, or handed over through
// a mutex or an atomic flag). A Local made by [StealingQueue.NewThief] has
// no deques and is never a victim: its Push goes to the injector.
type Local[T Prioritized] struct {
	q     *StealingQueue[T]
	lanes *[NumPriorities]*Deque[T] // nil for a thief

	// Owner-only state: plain fields, ordered by the ownership rule.
	rng       uint64 // wyrand state for victim selection
	sinceFair int    // values taken since the last fair pick
	victim    int    // where the next steal turn starts in the victim list
}

// NewStealingQueue returns an empty queue whose Locals make a fair pick
// (see [StealingQueue]) every fairEvery-th take. fairEvery == 1 makes every
// take a fair pick (lowest lane first). It panics if fairEvery < 1.
func NewStealingQueue[T Prioritized](fairEvery int) *StealingQueue[T] {
	if fairEvery < 1 {
		panic("deque: NewStealingQueue called with fairEvery = " + strconv.Itoa(fairEvery) + "; need fairEvery >= 1")
	}
	q := &StealingQueue[T]{fairEvery: fairEvery}
	for p := range q.injector {
		q.injector[p] = NewInjector[T]()
	}
	q.locals.Store(new([]*Local[T]))
	q.seed.Store(0x9e3779b97f4a7c15)
	return q
}

func lane[T Prioritized](fn string, v T) Priority {
	p := v.Priority()
	if !p.Valid() {
		panic("deque: " + fn + " called with a value of invalid priority " + p.String())
	}
	return p
}

// Push adds v at the tail of its lane's injector. Any goroutine may call it.
// It panics if v's priority is not valid.
func (q *StealingQueue[T]) Push(v T) {
	p := lane("StealingQueue.Push", v)
	q.counts[p].Add(1) // before publishing: counts[p] >= values in lane p
	q.injector[p].Push(v)
}

// Len returns the number of values queued in all lanes. With concurrent
// calls it is a snapshot; it may count a value being pushed or taken.
func (q *StealingQueue[T]) Len() int {
	n := int64(0)
	for p := range q.counts {
		n += q.counts[p].Load()
	}
	return int(n)
}

// LenPriority returns the number of values of priority p queued in all
// lanes (a snapshot, as Len). It panics if p is not valid.
func (q *StealingQueue[T]) LenPriority(p Priority) int {
	if !p.Valid() {
		panic("deque: StealingQueue.LenPriority called with invalid priority " + p.String())
	}
	return int(q.counts[p].Load())
}

// AddLocal registers and returns a new Local with its own deques; other
// Locals may steal from it. The caller becomes its owner.
func (q *StealingQueue[T]) AddLocal() *Local[T] {
	l := q.newLocal()
	l.lanes = new([NumPriorities]*Deque[T])
	for p := range l.lanes {
		l.lanes[p] = New[T]()
	}
	q.mu.Lock()
	old := *q.locals.Load()
	next := make([]*Local[T], len(old), len(old)+1)
	copy(next, old)
	next = append(next, l)
	q.locals.Store(&next) // publish: thieves that load it see l's deques, built above
	q.mu.Unlock()
	return l
}

// NewThief returns a Local without deques that is not a victim: its Next
// takes from the injector and steals from registered Locals; its Push goes
// to the injector. Use it for consumers that come and go often (it costs
// no registration).
func (q *StealingQueue[T]) NewThief() *Local[T] { return q.newLocal() }

func (q *StealingQueue[T]) newLocal() *Local[T] {
	// Each Local gets a distinct seed; the generator itself is owner-only.
	return &Local[T]{q: q, rng: q.seed.Add(0x9e3779b97f4a7c15)}
}

// Push adds v to l's own deque in v's lane (or to the injector if l is a
// thief). Owner only. It panics if v's priority is invalid.
func (l *Local[T]) Push(v T) {
	p := lane("Local.Push", v)
	l.q.counts[p].Add(1) // before publishing: counts[p] >= values in lane p
	if l.lanes == nil {
		l.q.injector[p].Push(v)
		return
	}
	l.lanes[p].Push(v)
}

// Len returns the number of values in l's own deques (a snapshot).
func (l *Local[T]) Len() int {
	if l.lanes == nil {
		return 0
	}
	n := 0
	for _, d := range l.lanes {
		n += d.Len()
	}
	return n
}

// Next takes the next value for l's owner to run, following the priority
// rule and the fair pick described at [StealingQueue]. stolen reports that
// the value came from another Local's deque. ok is false when no value was
// visible in any lane. Owner only.
func (l *Local[T]) Next() (v T, stolen, ok bool) {
	q := l.q
	if l.sinceFair+1 >= q.fairEvery {
		for i := NumPriorities - 1; i >= 0; i-- {
			p := byUrgency[i] // least urgent first
			if q.counts[p].Load() == 0 {
				continue
			}
			if v, stolen, ok = l.take(p, takeFair); ok {
				l.sinceFair = 0
				return v, stolen, true
			}
		}
		// Nothing anywhere (or only values in flight): the scan below
		// will find nothing either, but a value may have just arrived.
	}
	mode := takeNormal
	if l.sinceFair == q.fairEvery/2 {
		mode = takeSteal
	}
	for _, p := range byUrgency {
		if q.counts[p].Load() == 0 {
			continue // proves lane p empty: skip it without touching a deque
		}
		if v, stolen, ok = l.take(p, mode); ok {
			l.sinceFair++
			return v, stolen, true
		}
	}
	return v, false, false
}

// How take looks for a value in a lane.
const (
	takeNormal = iota // own newest, injector, a random victim's oldest
	takeFair          // injector, own oldest, a random victim's oldest
	takeSteal         // the victims' oldest round robin, own newest, injector
)

// take takes one value of lane p in the order of mode (see takeNormal).
func (l *Local[T]) take(p Priority, mode int) (v T, stolen, ok bool) {
	q := l.q
	own := l.lanes != nil
	if mode == takeSteal {
		if v, ok = l.stealRoundRobin(p); ok {
			return v, true, true
		}
		mode = takeNormal
	}
	fair := mode == takeFair
	if own && !fair {
		if v, ok = l.lanes[p].Pop(); ok {
			q.counts[p].Add(-1) // after taking: counts stay >= contents
			return v, false, true
		}
	}
	if v, ok = q.injector[p].Pop(); ok {
		q.counts[p].Add(-1)
		return v, false, true
	}
	if own && fair {
		if v, ok = l.lanes[p].Steal(); ok { // the owner may steal its own oldest
			q.counts[p].Add(-1)
			return v, false, true
		}
	}
	victims := *q.locals.Load()
	n := len(victims)
	if n == 0 {
		return v, false, false
	}
	start := l.randn(n)
	for i := 0; i < n; i++ {
		j := start + i
		if j >= n {
			j -= n
		}
		victim := victims[j]
		if victim == l {
			continue
		}
		if v, ok = victim.lanes[p].Steal(); ok {
			q.counts[p].Add(-1)
			return v, true, true
		}
	}
	return v, false, false
}

// stealRoundRobin steals the oldest value of lane p from the first victim,
// in list order from l.victim on, that has one, and moves l.victim past it.
func (l *Local[T]) stealRoundRobin(p Priority) (v T, ok bool) {
	q := l.q
	victims := *q.locals.Load()
	n := len(victims)
	for i := 0; i < n; i++ {
		j := (l.victim + i) % n
		victim := victims[j]
		if victim == l {
			continue
		}
		if v, ok = victim.lanes[p].Steal(); ok {
			q.counts[p].Add(-1)
			l.victim = j + 1
			return v, true
		}
	}
	return v, false
}

// randn returns a pseudo-random int in [0, n) from l's private wyrand
// generator: a few multiplications, no shared state, no lock.
func (l *Local[T]) randn(n int) int {
	l.rng += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(l.rng, l.rng^0xe7037ed1a0b428db)
	r := hi ^ lo
	// Lemire's multiply-shift maps r to [0, n) without a division.
	h, _ := bits.Mul64(r, uint64(n))
	return int(h)
}
