package pool

import (
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"time"
)

// The liveness monitor (semantics 6 of DESIGN.md).
//
// A task that blocks (channel, lock, sleep, I/O) holds its worker. When
// every worker is blocked, queued work would wait forever, or, for an I/O
// fan-out, run one batch of blocked tasks at a time. The monitor notices and
// adds extra workers.
//
// It is one goroutine that runs only while tasks are queued: it parks on a
// channel when the queue is empty and is woken by a push that finds no free
// worker, or by a worker that starts a task while more remain queued (see
// notify and loop in worker.go). An idle pool has no ticking goroutine.
// While tasks are queued it decides that workers are blocked when all of
// these hold:
//
//   - more tasks are queued than workers are parked or searching (those
//     will take queued tasks);
//   - some P is idle: the Ps running (runtime/metrics
//     /sched/goroutines/running counts Ps in state running) minus the
//     monitor's own, plus the runnable goroutines, are fewer than GOMAXPROCS;
//   - some worker inside a task is neither running nor runnable: the workers
//     in tasks outnumber the busy Ps and runnable goroutines (or a task
//     declared it with Block).
//
// The last condition keeps CPU-bound backlogs from triggering growth even on
// a machine with more CPUs than workers (WithWorkers(2) on 64 cores stays at
// 2 workers); the second keeps growth off while CPUs are saturated. When the
// condition has held long enough (see episode: stuckWindow with no task
// started meanwhile, or progressWindow over dozens of reads while tasks kept
// starting), the monitor doubles the number of workers, bounded by the
// queued tasks beyond the free workers and by WithMaxWorkers, and waits
// until the new workers have started; then it judges afresh. 2,000 tasks
// that sleep 1 ms get ~2,000 workers after 10 doublings, each a few tens of
// µs.
//
// Timers fire with ~1 ms granularity here (measured: a 10 µs time.Sleep takes
// 0.6–1.1 ms), far too coarse for that. So while workers recently looked
// blocked (within spinFor, or wakeSpin after the monitor woke up) it polls
// every readEvery without sleeping:
//
//   - while no goroutine is runnable, it spins on the clock, on a P that is
//     idle anyway. A runtime.Gosched loop would be worse here: each yield
//     puts the monitor on the global run queue, which keeps another P
//     spinning in the scheduler, and the metrics count spinning Ps as
//     running, so the monitor would hide the very idle P it looks for
//     (measured: growth stalled until the submit loop ended);
//   - while goroutines are runnable, it yields to them (runtime.Gosched),
//     but for at most maxYields reads in a row, then sleeps a tick: a P
//     whose local queue is empty takes the monitor off the global queue
//     before it would steal from another P, so an endless yield loop can
//     keep runnable goroutines waiting in the queue of a P whose thread the
//     OS is not running (measured on this loaded 2-CPU machine: a 2 ms storm
//     of yields).
//
// Otherwise it sleeps pollTick between checks. So the monitor costs CPU only
// while tasks are queued and workers look blocked. metrics.Read of the two
// values costs ~120 ns (measured, with 2,000 goroutines; it takes the
// scheduler lock).
const (
	stuckWindow    = 20 * time.Microsecond
	minStreak      = 3
	progressWindow = time.Millisecond
	progressStreak = 40
	spinFor        = time.Millisecond
	wakeSpin       = 100 * time.Microsecond
	readEvery      = 5 * time.Microsecond
	pollTick       = time.Millisecond
	maxYields      = 64 // reads in a row with runnable goroutines before the monitor sleeps
)

type monitor struct {
	parked    atomic.Bool
	wake      chan struct{} // buffer 1: one token per successful unpark CAS
	samples   []metrics.Sample
	runnable  int64 // at the last read; monitor goroutine only
	busyReads int   // consecutive reads that saw runnable goroutines

	// Growth hand-shake (see grow): workers of the last batch not yet
	// started, and the signal of the last one (buffer 1).
	starting atomic.Int32
	started  chan struct{}
	timer    *time.Timer // monitor goroutine only
}

func (m *monitor) init() {
	m.wake = make(chan struct{}, 1)
	m.started = make(chan struct{}, 1)
	m.samples = []metrics.Sample{
		{Name: "/sched/goroutines/running:goroutines"},
		{Name: "/sched/goroutines/runnable:goroutines"},
	}
}

// wakeUp wakes the parked monitor; whoever wins the CAS sends the token.
func (m *monitor) wakeUp() {
	if m.parked.CompareAndSwap(true, false) {
		m.wake <- struct{}{}
	}
}

func (s *state) monitorLoop() {
	defer s.dropLive()
	ep := episode{since: -1} // the growth condition's current run of reads
	lastSign := int64(0)     // last time workers looked blocked with work queued
	lastRead := int64(0)
	for {
		n := s.count()
		if n == 0 {
			if s.closed() {
				return
			}
			s.monitorPark()
			// Watch closely for a short while after waking: the workers
			// that took the first tasks may be about to block.
			ep.since, lastSign = -1, now()-int64(spinFor-wakeSpin)
			continue
		}
		if s.nidle.Load() > 0 && s.spinning.Load() == 0 {
			s.wakeOne() // safety net; notify normally does this
		}
		t := now()
		if t-lastRead >= int64(readEvery) {
			lastRead = t
			if s.shouldGrow() {
				lastSign = t
				if ep.observe(t, s.starts()) {
					free := int64(s.nidle.Load() + s.spinning.Load())
					s.grow(int(min(int64(s.workers.Load()), n-free)))
					t = now()
					ep.since, lastSign = -1, t
					continue // judge again at once, with the new workers running
				}
			} else {
				ep.since = -1
			}
		}
		switch {
		case t-lastSign >= int64(spinFor):
			time.Sleep(pollTick) // nothing looked blocked for a while: poll slowly
		case s.mon.runnable > 0 && s.mon.busyReads < maxYields:
			runtime.Gosched() // others want a CPU: let them run first
		case s.mon.runnable > 0:
			// Goroutines stayed runnable over several reads: they may sit
			// in the run queue of a P whose thread the OS is not running.
			// Yielding again would keep this P busy with the monitor (it
			// picks the monitor off the global queue instead of stealing
			// them), so park for a tick and let this P steal them.
			time.Sleep(pollTick)
		default:
			// Wait readEvery on an otherwise idle P without yielding. A
			// yield loop would be worse: it puts the monitor on the global
			// run queue each time, which keeps another P spinning in the
			// scheduler, and the metrics count spinning Ps as running, so
			// the monitor would hide the idle P it is looking for.
			for end := t + int64(readEvery); now() < end && s.count() > 0; {
			}
		}
	}
}

// episode follows a run of reads on which the growth condition held, and
// decides when workers are really blocked:
//
//   - every worker stuck: it held on a few reads over stuckWindow with no
//     task started meanwhile. This is the common case, and the one each
//     round of an I/O fan-out's growth meets: the new workers take tasks,
//     block in them, and the starts stop;
//   - some workers blocked while others keep starting tasks: it held on
//     every read (dozens of them) for progressWindow.
//
// Busy workers wait briefly in ways that look like blocking: a contended
// lock (the injector's), a GC assist. Measured: growing on the condition
// alone, or at once again after a growth, let a CPU-bound fork-join grow
// from 2 to hundreds of workers (extras push to the injector, which is more
// lock contention, which looks like more blocking). The quiet window, the
// read streaks and judging afresh after each growth stop that; a few extra
// workers may still be added in a CPU-bound run (they retire when idle).
type episode struct {
	since       int64  // first read of the run; < 0: no run
	streak      int    // reads in the run
	quietSince  int64  // first read since tasks last started
	quietStreak int    // reads since tasks last started
	startsAt    uint64 // tasks started at quietSince
}

// observe records a read at time t on which the condition held, with
// starts tasks started so far, and reports whether to grow.
func (e *episode) observe(t int64, starts uint64) bool {
	if e.since < 0 {
		*e = episode{since: t, quietSince: t, startsAt: starts}
	}
	e.streak++
	if starts != e.startsAt {
		e.quietSince, e.quietStreak, e.startsAt = t, 0, starts
	}
	e.quietStreak++
	return t-e.quietSince >= int64(stuckWindow) && e.quietStreak >= minStreak ||
		t-e.since >= int64(progressWindow) && e.streak >= progressStreak
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

// shouldGrow reports whether workers appear blocked while a P is idle (see
// the comment at the top of this file).
func (s *state) shouldGrow() bool {
	m := &s.mon
	m.runnable = 0
	nw := s.workers.Load()
	if int(nw) >= s.cfg.maxWorkers || s.cfg.noGrowth {
		return false
	}
	// Parked and searching workers will take queued tasks; only a backlog
	// beyond them can need more workers. (Requiring no free worker at all
	// would stall growth during an I/O fan-out, where some extras are always
	// between two tasks.)
	free := s.nidle.Load() + s.spinning.Load()
	if int64(free) >= s.count() {
		return false
	}
	metrics.Read(m.samples)
	running := int64(m.samples[0].Value.Uint64())
	runnable := int64(m.samples[1].Value.Uint64())
	m.runnable = runnable
	if runnable > 0 {
		m.busyReads++
	} else {
		m.busyReads = 0
	}
	busy := running + runnable - 1 // minus the monitor, which is running
	if int(busy) >= runtime.GOMAXPROCS(0) {
		return false
	}
	blocked := int64(nw-free) - busy
	if d := int64(s.blocked.Load()); d > blocked {
		blocked = d
	}
	return blocked > 0
}

// grow starts up to n extra workers and waits, without using a CPU, until
// they have all started (or pollTick passed, or Stop began): on a busy
// machine the new workers need the CPU more than the monitor does, and
// judging again before they ran would see them runnable, not blocked.
func (s *state) grow(n int) {
	m := &s.mon
	select {
	case <-m.started: // a stale token from a batch we stopped waiting for
	default:
	}
	m.starting.Store(int32(n))
	k := s.spawnExtras(n, true)
	if k == 0 {
		return
	}
	if k < n && m.starting.Add(int32(k-n)) == 0 {
		return // fewer spawned than announced, and all have started
	}
	if m.timer == nil {
		m.timer = time.NewTimer(pollTick)
	} else {
		m.timer.Reset(pollTick)
	}
	select {
	case <-m.started:
	case <-m.timer.C:
	case <-s.quit:
	}
	m.timer.Stop()
}

// starts returns the number of tasks started so far (a sum over the
// workers' counters: read only while the monitor suspects blocking).
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
	for i := range s.extraSt {
		sum(&s.extraSt[i])
	}
	return n
}

// spawnExtras starts up to n extra workers, within WithMaxWorkers, and
// returns how many it started. It reserves them all with one CAS, so a
// growth step of a thousand workers costs a thousand go statements, not a
// thousand rounds of accounting.
// With announce, each new worker counts itself down in mon.starting as it
// starts, and the last one signals mon.started.
func (s *state) spawnExtras(n int, announce bool) int {
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
	// One allocation for the batch's worker structs (they stay reachable
	// until the last of them retires: ~150 bytes each).
	ws := make([]worker, k)
	for i := range ws {
		w := &ws[i]
		w.init(s, -1, true)
		w.announce = announce
		go w.loop()
	}
	return int(k)
}
