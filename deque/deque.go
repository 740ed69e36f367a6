package deque

import "sync/atomic"

// Deque is a Chase–Lev work-stealing deque of values of type T (Chase & Lev,
// SPAA 2005; the memory-model argument follows Lê et al., PPoPP 2013,
// simplified by Go's sequentially consistent atomics).
//
// # Ownership
//
// A Deque has one owner at a time. Only the owner may call [Deque.Push] and
// [Deque.Pop]; any goroutine may call [Deque.Steal] and [Deque.Len] at any
// time. "One owner at a time" means owner calls must not overlap and each must
// happen-before the next (for example, they are made by one goroutine, or
// ownership is handed over through a mutex, channel or atomic flag). We chose
// a documented rule over separate owner and stealer handles because the
// scheduler above hands ownership between goroutines (a worker lends its
// deque to the task it is running) and guards it with its own flag; split
// handles would not make that hand-over any safer. Breaking the rule corrupts
// the deque; the race detector reports it.
//
// # Layout and invariants
//
// Values live in a ring buffer indexed by two monotonically increasing
// counters: top (the next index to steal, advanced by CAS by thieves and by
// the owner when it takes the last value) and bottom (one past the last pushed
// index, written only by the owner). The deque holds the indices
// [top, bottom). Every slot is an atomic.Pointer to a box holding one value,
// because thieves read slots concurrently with the owner writing them: a
// plain []T would be a data race.
//
//   - Slot i%len(ring) holds the box of index i for every i in [top, bottom).
//   - While top == t, the owner never writes slot t%len(ring): it writes slot
//     b%len(ring) only when b-t < len(ring), and grows the ring otherwise.
//   - A box is owned by whoever took its index: the owner when Pop wins it, a
//     thief when its CAS on top wins it. Only the winner reads or reuses it.
//
// The owner keeps the boxes it pops and reuses them for later pushes, so a
// steady stream of Push and Pop allocates nothing; a stolen box is dropped
// (one allocation per stolen value). Boxes and slots are cleared once their
// value is taken, so the deque keeps no references to values it has handed out.
type Deque[T any] struct {
	// top is the index of the oldest value: thieves take it by CAS.
	top atomic.Int64
	// bottom is one past the newest value; only the owner stores it.
	bottom atomic.Int64
	// ring is the current buffer. Only the owner replaces it (on growth);
	// thieves load it after loading top and bottom.
	ring atomic.Pointer[ring[T]]

	// free holds boxes the owner popped, for reuse by Push. Owner-only.
	free []*T
}

// ring is a power-of-two ring buffer of boxed values.
type ring[T any] struct {
	mask  int64
	slots []atomic.Pointer[T]
}

func newRing[T any](size int64) *ring[T] {
	return &ring[T]{mask: size - 1, slots: make([]atomic.Pointer[T], size)}
}

func (r *ring[T]) slot(i int64) *atomic.Pointer[T] { return &r.slots[i&r.mask] }

const (
	initialRing = 64  // slots in a new deque's ring
	maxFree     = 256 // boxes the owner keeps for reuse
)

// New returns an empty deque. It grows as needed: there is no capacity limit.
func New[T any]() *Deque[T] {
	d := &Deque[T]{}
	d.ring.Store(newRing[T](initialRing))
	return d
}

// Push adds v at the bottom of the deque. Owner only.
func (d *Deque[T]) Push(v T) {
	b := d.bottom.Load() // only the owner stores bottom: this is our own value
	t := d.top.Load()    // may be stale-low (thieves advance it); that only makes us grow early
	r := d.ring.Load()   // only the owner stores ring
	if b-t >= int64(len(r.slots)) {
		r = d.grow(r, t, b)
	}
	var box *T
	if n := len(d.free); n > 0 {
		box = d.free[n-1]
		d.free[n-1] = nil
		d.free = d.free[:n-1]
	} else {
		box = new(T)
	}
	*box = v
	// The box is written before the slot store below, and the slot store
	// before the bottom store: a thief that observes the new bottom (or the
	// slot) therefore also observes *box (the atomics give happens-before).
	r.slot(b).Store(box)
	d.bottom.Store(b + 1) // publish: index b is now visible to thieves
}

// grow replaces the ring by one twice as large holding indices [t, b).
// Thieves that loaded the old ring still read correct boxes from it: the
// owner never writes the old ring again, and a box for index i is the same
// pointer in both rings.
func (d *Deque[T]) grow(old *ring[T], t, b int64) *ring[T] {
	r := newRing[T](int64(len(old.slots)) * 2)
	for i := t; i < b; i++ {
		r.slot(i).Store(old.slot(i).Load())
	}
	d.ring.Store(r) // publish the new ring before bottom moves past the old capacity
	return r
}

// Pop removes and returns the newest value (LIFO). Owner only. It reports
// false when the deque is empty.
func (d *Deque[T]) Pop() (T, bool) {
	var zero T
	b := d.bottom.Load() - 1
	r := d.ring.Load()
	// Reserve index b before looking at top. Because the atomics are
	// sequentially consistent, a thief that loads top after this store and
	// then loads bottom sees b, so it cannot also take b unless it wins the
	// CAS on top below (the single-value race).
	d.bottom.Store(b)
	t := d.top.Load()
	if t > b {
		// Empty: restore bottom.
		d.bottom.Store(b + 1)
		return zero, false
	}
	box := r.slot(b).Load()
	if t < b {
		// More than one value: index b is ours without a CAS, because
		// thieves only take indices < bottom = b.
		r.slot(b).Store(nil)
		return d.take(box), true
	}
	// t == b: the last value. Race thieves for it with the same CAS they use.
	won := d.top.CompareAndSwap(t, t+1)
	d.bottom.Store(b + 1) // top is now t+1 either way, so bottom = t+1 means empty
	if !won {
		return zero, false
	}
	r.slot(b).Store(nil)
	return d.take(box), true
}

// take reads the owner's popped box, clears it and keeps it for reuse.
func (d *Deque[T]) take(box *T) T {
	v := *box
	var zero T
	*box = zero
	if len(d.free) < maxFree {
		d.free = append(d.free, box)
	}
	return v
}

// Steal removes and returns the oldest value (FIFO). Any goroutine may call
// it. It reports false only when the deque was empty at some moment during
// the call: a lost race with another thief or the owner is retried.
func (d *Deque[T]) Steal() (T, bool) {
	for {
		t := d.top.Load()
		// Load bottom after top: if the owner is popping the last value
		// it stored bottom before loading top (see Pop), so we either see
		// the reduced bottom or compete for index t by CAS.
		b := d.bottom.Load()
		if t >= b {
			var zero T
			return zero, false
		}
		r := d.ring.Load() // loaded after bottom: a ring at least as new as index b-1 needs
		box := r.slot(t).Load()
		// Do not read *box yet: until the CAS succeeds, index t may be
		// taken by someone else and its box reused by the owner.
		if !d.top.CompareAndSwap(t, t+1) {
			continue // another thief or the owner took t; retry
		}
		// Index t is ours. While top was t the owner could not have written
		// slot t (see the invariants), so box is index t's box, written
		// before its slot store, which we loaded: we see the value.
		if box == nil {
			// Cannot happen by the invariants; guard against silent loss.
			panic("deque: internal error: stolen slot is empty")
		}
		v := *box
		var zero T
		*box = zero // release the value; the stale slot may still point at the box
		return v, true
	}
}

// Len returns the number of values in the deque. With concurrent calls it
// is a snapshot that may be stale by the time it returns.
func (d *Deque[T]) Len() int {
	t := d.top.Load()
	b := d.bottom.Load()
	if n := b - t; n > 0 {
		return int(n)
	}
	return 0
}
