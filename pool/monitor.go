package pool

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo/deque"
)

// The liveness monitor.
//
// A task that blocks (channel, lock, sleep, I/O) holds its worker. When
// workers are blocked, queued work would wait for them, or, for an I/O
// fan-out, run one batch of blocked tasks at a time. The monitor notices and
// adds workers; the rules are in growth.go.
//
// It is one goroutine that runs only while tasks are queued: it parks on a
// channel when the queue is empty and is woken by a push that finds no free
// worker, or by a worker that starts a task while more remain queued (see
// notify in park.go). An idle pool has no ticking goroutine. While tasks are
// queued it sleeps on a timer for tick between checks; it never spins or
// polls the clock, so it costs one timer wake-up per check and works inside
// a testing/synctest bubble, whose clock advances only when every goroutine
// of the bubble is durably blocked.
//
// Each check reads the pool's own progress, never the process's scheduler:
// for each worker, whether it is inside a task, since when (workers stamp
// their tasks' start and end while the monitor is awake: mon.watching), how
// long its previous task took, and whether its task submitted anything
// since the last check. A busy process does not change what those say.
//
// Growth wakes parked workers first, all the needed ones at once (not one
// after another through the searchers' chain), and starts new extra
// workers for the rest in one batch.
//
// Timers fire with ~1 ms granularity here whatever is asked (measured: a
// 20 µs time.Sleep takes 1.06–1.1 ms, also while another P is busy), so a
// check comes about every millisecond; the rules are built for that (see
// growth.go: a backlog behind workers that all look blocked is grown in one
// step).
const tick = 500 * time.Microsecond

type monitor struct {
	parked   atomic.Bool
	sleep    bool          // exit for a doze: written by doze before its wake token, read after it
	watching atomic.Bool   // awake: workers time their tasks (see worker.begin)
	since    atomic.Int64  // when watching began (the monitor's watchSince, for workers)
	wake     chan struct{} // buffer 1: one token per successful unpark CAS
	pokes    chan struct{} // buffer 1: see poke

	// Monitor goroutine only.
	local      *deque.Local[task] // a thief: grow takes new workers' first tasks with it
	timer      *time.Timer
	hist       history
	grown      bool   // grown in this episode: pokes are ignored
	lastCheck  int64  // when the last check ran
	lastStarts uint64 // tasks started at the last check
	watchSince int64  // when watching began: tasks not timed started before it
}

func (m *monitor) init() {
	m.wake = make(chan struct{}, 1)
	m.pokes = make(chan struct{}, 1)
}

// poke asks the monitor, if it is between two checks, to check at once: a
// worker has just finished a task that took longTask or more while tasks
// are queued, which is the first sign of a blocking backlog. The first check
// then comes when that sign appears, not up to a timer tick later. Pokes
// come only from long tasks' ends, and the monitor heeds them only until
// its first growth in an episode of checks (from waking to parking), so it
// never spins on them: with a hundred extra workers in I/O, pokes would
// otherwise come every few microseconds.
func (m *monitor) poke() {
	select {
	case m.pokes <- struct{}{}:
	default:
	}
}

// wakeUp wakes the parked monitor; whoever wins the CAS sends the token.
func (m *monitor) wakeUp() {
	if m.parked.CompareAndSwap(true, false) {
		m.wake <- struct{}{}
	}
}

func (s *state) monitorLoop() {
	if s.cfg.name != "" {
		setLabels(s.cfg.name) // extras it starts inherit them
	}
	m := &s.mon
	m.timer = time.NewTimer(tick)
	m.timer.Stop()
	s.startWatching()
	for {
		if s.count() == 0 {
			if s.closed() {
				s.dropLive()
				return
			}
			m.watching.Store(false)
			s.monitorPark()
			if m.sleep {
				// The pool dozes (idle.go); sleptOne is last: after it, the
				// monitor's state belongs to the goroutine wakeAll starts.
				m.sleep = false
				s.dropLive()
				s.sleptOne()
				return
			}
			s.startWatching()
			continue
		}
		// Sleep, not select on quit as well: after Stop began, quit stays
		// closed, and the monitor must go on checking until the accepted
		// tasks have started.
		m.timer.Reset(tick)
		pokes := m.pokes
		if m.grown {
			pokes = nil // see poke: only the first sign of an episode
		}
		select {
		case <-m.timer.C:
		case <-pokes:
			m.timer.Stop()
		}
		if s.nidle.Load() > 0 && s.spinning.Load() == 0 && s.count() > 0 {
			s.wakeOne() // safety net; notify normally does this
		}
		d := decide(s.observe(), &m.hist)
		if d.grow > 0 {
			m.grown = true
			s.shrink.Store(0)
			s.grow(d.grow)
		}
		if d.retire >= 0 {
			s.shrink.Store(int32(d.retire))
		}
	}
}

// startWatching begins an episode of checks: workers time their tasks from
// now on; tasks not timed started before now.
func (s *state) startWatching() {
	m := &s.mon
	m.hist = history{}
	m.grown = false
	select {
	case <-m.pokes: // stale
	default:
	}
	m.lastStarts = s.starts()
	m.lastCheck = now()
	m.watchSince = m.lastCheck
	m.since.Store(m.watchSince)
	m.watching.Store(true)
}

// observe gathers one check's view of the pool (see growth.go).
func (s *state) observe() view {
	m := &s.mon
	t := now()
	v := view{
		queued:     int(s.count()),
		parked:     int(s.nidle.Load()),
		workers:    int(s.workers.Load()),
		base:       len(s.base),
		maxWorkers: s.cfg.maxWorkers,
		procs:      runtime.GOMAXPROCS(0),
	}
	window := t - m.lastCheck
	recent := func(w *worker) bool {
		e := w.lastEnd.Load()
		return e != 0 && t-e <= max(window, 4*int64(longTask))
	}
	look := func(w *worker) {
		subs := w.subs.Load()
		spawned := subs != w.mSubs
		w.mSubs = subs
		if w.seq.Load()&1 == 0 {
			w.mStuck = 0
			// Between tasks. One whose last task was long and ended
			// recently is still evidence of long tasks: in a busy process
			// it may wait a while for a CPU before it takes the next one.
			if recent(w) {
				if w.lastDur.Load() >= int64(longTask) {
					v.betweenLong++
				} else {
					v.short++
				}
			}
			return
		}
		v.inTask++
		seq := w.seq.Load()
		if w.inBlock.Load() {
			v.stuck++
			v.held++
			v.declared++
			return
		}
		since := w.since.Load()
		if since == 0 {
			since = m.watchSince // not timed: it started before watching began
		}
		// Stuck: in the same task for longTask or more, and since before
		// the last check (a whole window: a task that the OS or the Go
		// scheduler only delayed for a moment does not count).
		if !spawned && t-since >= int64(longTask) && since <= m.lastCheck {
			v.stuck++
			if w.mStuck == seq {
				v.held++ // stuck in the same task at the last check too
			}
			w.mStuck = seq
			return
		}
		w.mStuck = 0
		// Its previous task was long and ended recently: within the
		// window, or a few longTasks (the first check after the monitor
		// woke may come a while after the first tasks of a burst ended).
		if recent(w) {
			if w.lastDur.Load() >= int64(longTask) {
				v.recentLong++
			} else {
				v.short++
			}
		}
		// Otherwise (its first task, started recently) it says nothing yet.
	}
	for _, w := range s.base {
		look(w)
	}
	// Exited extras are dropped here, not by themselves: a thousand of
	// them exiting at once would queue on extraMu.
	s.extraMu.Lock()
	list := s.extraList[:0]
	for _, w := range s.extraList {
		if !w.gone.Load() {
			look(w)
			list = append(list, w)
		}
	}
	clear(s.extraList[len(list):])
	s.extraList = list
	s.extraMu.Unlock()
	st := s.starts()
	v.starts = int(st - m.lastStarts)
	v.window = time.Duration(window)
	v.now = time.Duration(t)
	m.lastStarts = st
	m.lastCheck = t
	return v
}

// starts returns the number of tasks started so far (a sum over the
// workers' counters).
func (s *state) starts() uint64 {
	var n uint64
	sum := func(ws *workerStats) {
		for i := range ws.lanes {
			n += ws.lanes[i].count.Load()
		}
	}
	for _, w := range s.base {
		sum(w.stats)
	}
	if es := s.extraSt.Load(); es != nil {
		for i := range es {
			sum(&es[i])
		}
	}
	return n
}

// monitorPark parks the monitor until a task is pushed or Stop begins.
func (s *state) monitorPark() {
	m := &s.mon
	m.parked.Store(true)
	// Re-check after publishing parked (Dekker with submit: it pushes, then
	// loads parked).
	if s.count() > 0 || s.closed() {
		if !m.parked.CompareAndSwap(true, false) {
			<-m.wake // a submitter won the CAS: take its token
		}
		return
	}
	select {
	case <-m.wake:
	case <-s.quit:
		if !m.parked.CompareAndSwap(true, false) {
			<-m.wake
		}
	}
}

// grow makes n more workers available: it wakes up to n parked workers at
// once and starts extra workers for the rest (within WithMaxWorkers), each
// with its first task taken off the queue by the monitor. Handing the tasks
// over matters for a large step: two thousand new workers that all took
// their first task from the injector at once would queue on its lock
// (measured: ~10 ms for 2,000, against ~1 ms handed over).
func (s *state) grow(n int) {
	n -= s.wakeParkedN(n)
	k := s.reserveExtras(n)
	if k == 0 {
		return
	}
	ws := make([]worker, k)
	got := 0
	for ; got < k; got++ {
		t, _, ok := s.mon.local.Next()
		if !ok {
			break
		}
		s.started()
		ws[got].cur, ws[got].hasFirst = t, true
	}
	if got < k {
		s.releaseExtras(k - got)
	}
	if got > 0 {
		s.startExtras(ws[:got], false)
	}
}

// wakeParkedN wakes up to n parked workers, each counted as searching, and
// returns how many it woke.
func (s *state) wakeParkedN(n int) int {
	s.idleMu.Lock()
	defer s.idleMu.Unlock()
	k := min(n, len(s.idle))
	for range k {
		last := len(s.idle) - 1
		w := s.idle[last] // the most recently parked: warm cache; the oldest retire
		s.removeIdle(last)
		s.spinning.Add(1)
		w.wake <- struct{}{} // never blocks: one token per pop
	}
	return k
}

// spawnExtras starts up to n extra workers, within WithMaxWorkers, and
// returns the first of them (nil if none). With lent, the workers are loans
// of Block (see block.go).
func (s *state) spawnExtras(n int, lent bool) *worker {
	k := s.reserveExtras(n)
	if k == 0 {
		return nil
	}
	ws := make([]worker, k)
	s.startExtras(ws, lent)
	return &ws[0]
}

// reserveExtras reserves up to n extra workers within WithMaxWorkers and
// returns how many. It reserves them all with one CAS, so a growth step of
// a thousand workers costs a thousand go statements, not a thousand rounds
// of accounting.
func (s *state) reserveExtras(n int) int {
	if n <= 0 {
		return 0
	}
	var k int32
	for {
		nw := s.workers.Load()
		k = min(int32(n), int32(s.cfg.maxWorkers)-nw)
		if k <= 0 {
			return 0
		}
		if s.workers.CompareAndSwap(nw, nw+k) {
			break
		}
	}
	if !s.addLive(int(k)) {
		s.workers.Add(-k)
		return 0
	}
	s.extras.Add(k)
	return int(k)
}

// releaseExtras gives back n reserved extra workers that were not started.
func (s *state) releaseExtras(n int) {
	s.workers.Add(int32(-n))
	s.extras.Add(int32(-n))
	for range n {
		s.dropLive()
	}
}

// startExtras starts reserved extra workers on ws (one allocation for the
// batch: the structs stay reachable until the last of them retires). With
// lent, they are loans of Block and set the pool's pprof labels themselves
// (they are started from a task, whose labels they would inherit; the
// monitor's extras inherit the monitor's).
func (s *state) startExtras(ws []worker, lent bool) {
	for i := range ws {
		first, has := ws[i].cur, ws[i].hasFirst
		ws[i].init(s, -1, true)
		ws[i].cur, ws[i].hasFirst, ws[i].oneShot = first, has, has
		if !has {
			ws[i].wake = make(chan struct{}, 1)
		}
		if lent {
			ws[i].loan.Store(loanOut)
			ws[i].labels = true
		}
	}
	s.extraMu.Lock()
	for i := range ws {
		s.extraList = append(s.extraList, &ws[i])
	}
	s.extraMu.Unlock()
	for i := range ws {
		go ws[i].loop()
	}
}
