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
// the deque; the race detector usually reports it, because the owner's state
// is plain memory.
//
// # Layout and invariants
//
// Values live in a ring buffer indexed by two counters: top (the next index
// to steal; it only increases, by CAS, from thieves and from the owner when it
// takes the last value) and bottom (one past the newest index, stored only by
// the owner). The deque holds the indices [top, bottom). Every slot is an
// atomic.Pointer to a box holding one value, because thieves read slots
// concurrently with the owner writing them: a plain []T would be a data race.
//
//  1. Slot i&mask holds index i's box for every i in [top, bottom).
//  2. The owner writes slot b&mask (for a Push of index b) only when
//     b-top < len(ring); otherwise it grows the ring first. So while top == t
//     the owner never overwrites slot t&mask with another index's box.
//  3. A box belongs to whoever took its index: the owner when its Pop wins the
//     index, a thief when its CAS on top does. Only that goroutine reads the
//     value; a thief that loaded the box's pointer but lost the CAS never
//     dereferences it.
//  4. A box the owner took stays in its slot, zeroed, marked as the owner's
//     (ring.mine), and the next Push to that slot reuses it in place. A box a
//     thief took is zeroed by the thief and never touched again by the owner;
//     the next Push to that slot stores a new box. So Push and Pop allocate
//     nothing in steady state, and a stolen value costs one allocation.
//
// No slot or box keeps a value after it has been taken, so the deque does not
// keep handed-out values reachable. The ring never shrinks.
type Deque[T any] struct {
	// top is the index of the oldest value. Thieves CAS it; it sits on its
	// own cache line so that their traffic does not evict the owner's fields.
	top atomic.Int64
	_   [cacheLine - 8]byte

	// bottom is one past the newest value; only the owner stores it.
	bottom atomic.Int64
	// ring is the current buffer. Only the owner replaces it (on growth);
	// thieves load it after loading top and bottom.
	ring atomic.Pointer[ring[T]]
	// topSeen is a value of top the owner loaded earlier. Owner-only. As
	// top never decreases, topSeen <= top, so b-topSeen < len(ring) implies
	// invariant 2 for a Push of index b without loading top, whose cache
	// line thieves keep writing.
	topSeen int64
	_       [cacheLine - 24]byte
}

// cacheLine is the assumed size of a CPU cache line, for padding.
const cacheLine = 64

// ring is a power-of-two ring buffer of boxed values.
type ring[T any] struct {
	mask  int64
	slots []atomic.Pointer[T]
	// mine[i] reports that slots[i] holds a box whose value the owner took
	// (invariant 4): no thief will ever dereference it, so Push may reuse it
	// in place. Owner-only: thieves never read it.
	mine []bool
}

func newRing[T any](size int64) *ring[T] {
	return &ring[T]{mask: size - 1, slots: make([]atomic.Pointer[T], size), mine: make([]bool, size)}
}

const initialRing = 64 // slots in a new deque's ring; a power of two

// New returns an empty deque. It grows as needed: there is no capacity limit.
func New[T any]() *Deque[T] {
	d := &Deque[T]{}
	d.ring.Store(newRing[T](initialRing))
	return d
}

// Push adds v at the bottom of the deque. Owner only.
func (d *Deque[T]) Push(v T) {
	b := d.bottom.Load() // only the owner stores bottom: this is our own value
	r := d.ring.Load()   // only the owner stores ring
	if b-d.topSeen >= int64(len(r.slots)) {
		// Full by our lower bound on top; thieves may have moved it.
		d.topSeen = d.top.Load()
		if b-d.topSeen >= int64(len(r.slots)) {
			r = d.grow(r, d.topSeen, b)
		}
	}
	i := b & r.mask
	if r.mine[i] {
		// Reuse our own box in place (invariant 4). A thief that loaded
		// this pointer for the box's earlier index lost its CAS and will
		// not read it; a thief that takes index b reads it only after
		// loading the bottom we store below, which happens-after this
		// write (see Steal).
		*r.slots[i].Load() = v
		r.mine[i] = false
	} else {
		// The slot is empty or holds a box a thief took: use a new box.
		// Its contents are written before the slot store, so a thief that
		// loads this pointer sees v.
		box := new(T)
		*box = v
		r.slots[i].Store(box)
	}
	d.bottom.Store(b + 1) // publish index b to thieves
}

// grow replaces the ring by one twice as large holding indices [t, b).
// Thieves that loaded the old ring still read correct boxes from it: the
// owner never writes the old ring again, and index i's box is the same
// pointer in both rings. The new ring starts with no boxes of the owner's
// (mine all false), and the old ring holds none: it is full of indices that
// were live when t was loaded, so each of its boxes is queued or stolen. If t is
// stale, indices already stolen are copied too: harmless, since thieves read
// only [top, bottom) and the owner never dereferences a box it does not own.
func (d *Deque[T]) grow(old *ring[T], t, b int64) *ring[T] {
	r := newRing[T](int64(len(old.slots)) * 2)
	for i := t; i < b; i++ {
		r.slots[i&r.mask].Store(old.slots[i&old.mask].Load())
	}
	// Publish the new ring before the bottom store that makes index b
	// visible: a thief that sees bottom > b then loads this ring or a newer
	// one.
	d.ring.Store(r)
	return r
}

// Pop removes and returns the newest value (LIFO). Owner only. It reports
// false when the deque is empty, or when its only value was taken by a
// concurrent Steal.
func (d *Deque[T]) Pop() (T, bool) {
	var zero T
	b := d.bottom.Load() // our own value
	r := d.ring.Load()   // our own value
	t := d.top.Load()
	d.topSeen = t
	if t >= b {
		// Empty. Outside the owner's Pop top <= bottom, and only we
		// change bottom, so there is nothing to take.
		return zero, false
	}
	if t == b-1 {
		// One value, index t: take it the way a thief does, by CAS on
		// top, with no change to bottom. Thieves take only index t too,
		// and only we could push another, so the CAS decides who gets it;
		// if we lose, top == b and the deque is empty.
		i := t & r.mask
		box := r.slots[i].Load()
		if !d.top.CompareAndSwap(t, t+1) {
			return zero, false // a thief took index t and owns its box
		}
		return d.take(r, i, box), true
	}

	// Two or more values: take index b-1 from the bottom.
	b--
	// Reserve index b before looking at top again. The atomics are
	// sequentially consistent, so a thief that may take index b (it loaded
	// top == b and then a bottom > b) loaded bottom before this store,
	// hence loaded top before our load below: we see t >= b and either
	// find the deque empty or race that thief for b with the same CAS on
	// top. A thief that loads bottom after this store sees b and takes
	// only indices below b.
	d.bottom.Store(b)
	t = d.top.Load()
	d.topSeen = t
	if t > b {
		// Thieves emptied it meanwhile (top == old bottom): restore.
		d.bottom.Store(b + 1)
		return zero, false
	}
	i := b & r.mask
	box := r.slots[i].Load()
	if t == b {
		// Thieves took all but index b meanwhile: race them for it.
		won := d.top.CompareAndSwap(t, t+1)
		d.bottom.Store(b + 1) // top is t+1 either way: bottom = t+1 is empty
		if !won {
			return zero, false // a thief took index b and owns its box
		}
	}
	// Index b is ours: with t < b no thief can take it (they take only
	// indices below bottom = b), with t == b we won the CAS.
	return d.take(r, i, box), true
}

// take returns the value in box, whose index the owner has just won,
// clears the box and marks it as the owner's for reuse by Push (invariant 4).
func (d *Deque[T]) take(r *ring[T], i int64, box *T) T {
	v := *box
	var zero T
	*box = zero // keep no reference to the value
	r.mine[i] = true
	return v
}

// Steal removes and returns the oldest value (FIFO). Any goroutine may call
// it. It reports false only when it observed the deque empty: a lost race
// with another thief or with the owner is retried, not reported. (When the
// owner is popping the deque's last value, Steal may report empty while the
// owner's Pop is under way; the owner or another thief then takes it.)
func (d *Deque[T]) Steal() (T, bool) {
	for {
		t := d.top.Load()
		// Load bottom after top: an owner popping from the bottom stores
		// bottom before loading top (see Pop), so we either see the
		// reduced bottom or the owner competes with us for index t by
		// CAS. (An owner taking the only value uses that CAS too.)
		b := d.bottom.Load()
		if t >= b {
			var zero T
			return zero, false
		}
		// Load ring after bottom: the ring in which index t was pushed was
		// stored before the bottom store we saw (Push, grow), so this is
		// that ring or a newer one, and any newer one copied index t's box.
		r := d.ring.Load()
		box := r.slots[t&r.mask].Load()
		// Do not read *box yet: until the CAS succeeds, index t may be
		// taken by someone else and its box reused by the owner.
		if !d.top.CompareAndSwap(t, t+1) {
			continue // another thief or the owner took index t; retry
		}
		// Index t is ours, and top was t from our load until the CAS
		// (top only increases), so by invariant 2 slot t held index t's
		// box throughout: box is it. The owner wrote the value before the
		// bottom store that published index t, and the bottom we loaded
		// is that store or a later one of the owner's (a bottom > t from
		// an earlier push of index t would have been overwritten by the
		// Pop that took that index back before top could reach t), so the
		// write happens-before this read.
		if box == nil {
			// Cannot happen by the invariants; guard against silent loss.
			panic("deque: internal error: stolen slot is empty")
		}
		v := *box
		var zero T
		*box = zero // keep no reference; the owner never reuses a stolen box
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
