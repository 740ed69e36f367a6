package pool

import (
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a pool's counters, from [Pool.Stats]. Counters are
// read one after another while the pool runs, so they may disagree by the
// few tasks that moved meanwhile; on a quiet pool they are exact.
type Stats struct {
	Submitted uint64 // tasks accepted (started + queued)
	Completed uint64 // tasks finished: returned, panicked or called runtime.Goexit
	Stolen    uint64 // tasks a worker took from another worker's deque
	Panics    uint64 // tasks that panicked (recovered; see WithPanicHandler)
	Goexits   uint64 // tasks that called runtime.Goexit (their worker was replaced)

	// Workers is the number of base workers running: WithWorkers until
	// Stop, and 0 while an idle Default pool's goroutines have exited.
	Workers      int
	ExtraWorkers int // extra workers running, added while tasks blocked
	Blocked      int // tasks now inside Block

	// Queued is the number of accepted tasks not yet started, per priority
	// (index by Priority).
	Queued [NumPriorities]int
	// Wait summarises the time from acceptance to start of the tasks
	// started so far, per priority (index by Priority).
	Wait [NumPriorities]WaitStats
}

// WaitStats summarises queueing delays (acceptance to start). Count is
// exact. Mean, P99 and Max are estimated from a random sample of one task
// in 8, because reading the clock twice per task would cost more than the
// rest of a task's bookkeeping: Max is the longest sampled wait, so a single
// outlier may be missed.
type WaitStats struct {
	Count uint64        // tasks started
	Mean  time.Duration // mean wait (sampled)
	P99   time.Duration // approximate 99th percentile (sampled): an upper bound within 25%
	Max   time.Duration // longest sampled wait
}

// String formats s over a few lines, for logs and debugging.
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "submitted=%d completed=%d stolen=%d panics=%d goexits=%d workers=%d+%d extra blocked=%d",
		s.Submitted, s.Completed, s.Stolen, s.Panics, s.Goexits, s.Workers, s.ExtraWorkers, s.Blocked)
	for _, p := range [...]Priority{High, Normal, Low} { // most urgent first
		w := s.Wait[p]
		fmt.Fprintf(&b, "\n%-6s queued=%d started=%d wait mean=%v p99<=%v max=%v",
			p, s.Queued[p], w.Count, w.Mean, w.P99, w.Max)
	}
	return b.String()
}

// Stats returns a snapshot of the pool's counters. It is cheap (no lock on
// any hot path) and safe to call at any time, also after Stop.
func (p *Pool) Stats() Stats {
	s := p.state("Stats")
	var st Stats
	var lanes [NumPriorities]laneSnapshot
	add := func(ws *workerStats) {
		st.Completed += ws.completed.Load()
		st.Stolen += ws.stolen.Load()
		for i := range ws.lanes {
			lanes[i].add(&ws.lanes[i])
		}
	}
	for _, w := range s.base {
		add(w.stats)
	}
	if es := s.extraSt.Load(); es != nil {
		for i := range es {
			add(&es[i])
		}
	}
	for i := range lanes {
		st.Wait[i] = lanes[i].summary()
		st.Submitted += st.Wait[i].Count
		st.Queued[i] = s.q.LenPriority(Priority(i))
	}
	st.Submitted += uint64(s.count())
	st.Panics = s.panics.Load()
	st.Goexits = s.goexits.Load()
	extras := int(s.extras.Load())
	st.ExtraWorkers = extras
	st.Workers = int(s.workers.Load()) - extras
	st.Blocked = int(s.blocked.Load())
	return st
}

// histBuckets covers waits up to 2^41 ns (~37 min) with 4 buckets per power
// of two (relative error <= 25%); longer waits land in the last bucket.
const histBuckets = 4 + 4*40

// bucket maps a wait in ns to its histogram bucket: v < 4 to itself, else
// 4*(e-1) + the two bits after the leading one, where e = floor(log2 v).
func bucket(v uint64) int {
	if v < 4 {
		return int(v)
	}
	e := bits.Len64(v) - 1
	i := 4*(e-1) + int(v>>(e-2)&3)
	return min(i, histBuckets-1)
}

// bucketUpper is the exclusive upper bound (ns) of bucket i.
func bucketUpper(i int) uint64 {
	if i < 4 {
		return uint64(i + 1)
	}
	e := i/4 + 1
	return uint64(4+i%4+1) << (e - 2)
}

// workerStats are one worker's counters (base workers) or a shard of
// counters shared by extra workers. Stats reads them concurrently, so every
// field is atomic. A base worker's block has a single writer, so it counts
// with a plain load and store (no locked read-modify-write; the store is
// still atomic for readers); shared blocks use Add and CompareAndSwap.
type workerStats struct {
	shared    bool // written by several workers (an extras shard)
	completed atomic.Uint64
	stolen    atomic.Uint64
	lanes     [NumPriorities]laneStats
	_         [64]byte // keep the next worker's counters off our cache line
}

type laneStats struct {
	count atomic.Uint64 // tasks started
	timed atomic.Uint64 // of which sampled (see sampleEvery)
	sum   atomic.Uint64 // ns, over the sampled tasks
	max   atomic.Uint64 // ns, over the sampled tasks
	hist  [histBuckets]atomic.Uint64
}

// add adds n to c: by Add if the block is shared, else by load and store.
func (ws *workerStats) add(c *atomic.Uint64, n uint64) {
	if ws.shared {
		c.Add(n)
	} else {
		c.Store(c.Load() + n)
	}
}

// record counts one sampled task of priority p that waited wait ns.
func (ws *workerStats) record(p Priority, wait int64) {
	if wait < 0 {
		wait = 0
	}
	v := uint64(wait)
	l := &ws.lanes[p]
	ws.add(&l.count, 1)
	ws.add(&l.timed, 1)
	ws.add(&l.sum, v)
	for {
		m := l.max.Load()
		if v <= m || l.max.CompareAndSwap(m, v) {
			break
		}
	}
	ws.add(&l.hist[bucket(v)], 1)
}

type laneSnapshot struct {
	count, timed, sum, max uint64
	hist                   [histBuckets]uint64
}

func (ls *laneSnapshot) add(l *laneStats) {
	ls.count += l.count.Load()
	ls.timed += l.timed.Load()
	ls.sum += l.sum.Load()
	ls.max = max(ls.max, l.max.Load())
	for i := range l.hist {
		ls.hist[i] += l.hist[i].Load()
	}
}

func (ls *laneSnapshot) summary() WaitStats {
	w := WaitStats{Count: ls.count, Max: time.Duration(ls.max)}
	if ls.timed == 0 {
		return w
	}
	w.Mean = time.Duration(ls.sum / ls.timed)
	var total uint64
	for _, c := range ls.hist {
		total += c
	}
	// The bucket holding the ceil(0.99*total)-th wait; report its upper
	// bound, capped by the exact max.
	rank := (total*99 + 99) / 100
	var seen uint64
	for i, c := range ls.hist {
		seen += c
		if seen >= rank && c > 0 {
			w.P99 = time.Duration(min(bucketUpper(i), ls.max))
			break
		}
	}
	return w
}
