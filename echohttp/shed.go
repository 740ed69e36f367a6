package echohttp

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// shedder decides, from the pool's queue wait per priority, which requests
// to turn away (see WithShedding).
//
// The pool's Stats are cumulative since the pool started, so the shedder
// samples them at most once per interval, lazily on a request's goroutine,
// and estimates the recent wait of a priority from the difference of two
// samples: the mean wait of the tasks that started in between. A priority
// none of whose tasks started in between but that has tasks queued is
// stuck, and its wait is at least the time since it was first seen so.
// The decision is one atomic word, so requests between samples read it
// without a lock.
type shedder struct {
	pool       *pool.Pool
	maxWait    time.Duration
	interval   time.Duration
	retryAfter string // the Retry-After value

	// from is the urgency rank (see rank) of the most urgent priority
	// turned away; every less urgent one is turned away too, and
	// numPriorities turns none away. Written under mu, read by every
	// request.
	from atomic.Int32
	// next is when the next sample is due (ns since epoch); requests read
	// it, the sampler (under mu) moves it on.
	next  atomic.Int64
	epoch time.Time

	mu    sync.Mutex
	last  time.Time                 // when prev was taken
	prev  [numPriorities]laneSample // indexed by Priority
	stuck [numPriorities]time.Time  // since when a lane has been stuck; zero if not
}

const numPriorities = pool.NumPriorities

// byUrgency lists the priorities most urgent first; rank is the inverse.
// (Priority values do not follow the order of urgency.)
var byUrgency = [numPriorities]echo.Priority{echo.High, echo.Normal, echo.Low}

func rank(p echo.Priority) int32 {
	for i, q := range byUrgency {
		if q == p {
			return int32(i)
		}
	}
	panic("echohttp: unknown priority " + p.String())
}

// laneSample is one priority's cumulative counters at a sample.
type laneSample struct {
	started uint64  // tasks started
	waited  float64 // approximate total wait of those tasks, ns (mean x count)
}

func newShedder(p *pool.Pool, maxWait, retryAfter time.Duration) *shedder {
	if p == nil {
		p = pool.Default()
	}
	s := &shedder{
		pool:       p,
		maxWait:    maxWait,
		interval:   min(max(maxWait/4, time.Millisecond), 100*time.Millisecond),
		retryAfter: retryAfterSeconds(retryAfter),
		epoch:      time.Now(),
	}
	s.from.Store(numPriorities)
	s.last = s.epoch
	s.prev = lanes(p.Stats())
	s.next.Store(int64(s.interval))
	return s
}

// reject reports whether a new request of priority p is to be turned away.
func (s *shedder) reject(p echo.Priority) bool {
	now := time.Since(s.epoch)
	if int64(now) >= s.next.Load() && s.mu.TryLock() {
		// One request samples; the others use the decision in force.
		s.sample(s.epoch.Add(now))
		s.next.Store(int64(now + s.interval))
		s.mu.Unlock()
	}
	return p != echo.High && rank(p) >= s.from.Load()
}

func lanes(st pool.Stats) [numPriorities]laneSample {
	var l [numPriorities]laneSample
	for p := range l {
		w := st.Wait[p]
		l[p] = laneSample{started: w.Count, waited: float64(w.Mean) * float64(w.Count)}
	}
	return l
}

// sample takes a new sample at now and updates from. Called under mu.
func (s *shedder) sample(now time.Time) {
	st := s.pool.Stats()
	cur := lanes(st)
	from := int32(numPriorities)
	for r := numPriorities - 1; r >= 0; r-- {
		p := byUrgency[r]
		var wait time.Duration
		if n := cur[p].started - s.prev[p].started; n > 0 {
			wait = time.Duration(max(0, (cur[p].waited-s.prev[p].waited)/float64(n)))
			s.stuck[p] = time.Time{}
		} else if st.Queued[p] > 0 {
			if s.stuck[p].IsZero() {
				s.stuck[p] = s.last
			}
			wait = now.Sub(s.stuck[p])
		} else {
			s.stuck[p] = time.Time{}
		}
		if wait > s.maxWait {
			// This priority and every less urgent one; never High.
			from = max(int32(r), rank(echo.Normal))
		}
	}
	s.from.Store(from)
	s.prev, s.last = cur, now
}

// retryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) string {
	s := max(1, int64((d+time.Second-1)/time.Second))
	return strconv.FormatInt(s, 10)
}
