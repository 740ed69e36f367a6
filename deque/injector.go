package deque

import (
	"sync"
	"sync/atomic"
)

// Injector is a multi-producer, multi-consumer FIFO queue for values that
// come from outside any worker. Any goroutine may call any method. The zero
// value is not usable; call [NewInjector].
//
// It is a growable ring buffer under a mutex. Lock-free MPMC queues pay a CAS
// per operation too, and the injector only takes work that arrives from
// outside the pool (work submitted by workers goes to their own deques), so a
// short critical section is the simpler design at the same cost. Len reads an
// atomic counter and does not take the lock, so idle checks stay cheap.
type Injector[T any] struct {
	mu   sync.Mutex
	buf  []T // ring; len(buf) is zero or a power of two
	head int // index in buf of the oldest value
	n    int // values in buf

	// size mirrors n for lock-free readers. It is stored under mu after
	// every change of n, so a reader that sees size > 0 and then takes mu
	// finds at least that many values unless consumers got there first.
	size atomic.Int64
}

// NewInjector returns an empty injector. It grows as needed.
func NewInjector[T any]() *Injector[T] {
	return &Injector[T]{}
}

// Push appends v at the tail.
func (q *Injector[T]) Push(v T) {
	q.mu.Lock()
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
	q.size.Store(int64(q.n))
	q.mu.Unlock()
}

func (q *Injector[T]) grow() {
	size := 2 * len(q.buf)
	if size == 0 {
		size = initialRing
	}
	buf := make([]T, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

// Pop removes and returns the oldest value; it reports false when the
// injector is empty.
func (q *Injector[T]) Pop() (T, bool) {
	var zero T
	if q.size.Load() == 0 { // fast path for idle polling: no lock
		return zero, false
	}
	q.mu.Lock()
	if q.n == 0 {
		q.mu.Unlock()
		return zero, false
	}
	v := q.buf[q.head]
	q.buf[q.head] = zero // keep no reference to a value handed out
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.size.Store(int64(q.n))
	q.mu.Unlock()
	return v, true
}

// Len returns the number of values queued. With concurrent calls it is a
// snapshot.
func (q *Injector[T]) Len() int { return int(q.size.Load()) }
