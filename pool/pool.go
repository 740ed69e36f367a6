package pool

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo/deque"
)

// Priority is a task's urgency: [High], [Normal] or [Low]. It is the same
// type as deque.Priority and the root package's Priority.
type Priority = deque.Priority

const (
	// High tasks start before Normal and Low ones whenever workers are busy.
	High = deque.High
	// Normal is for ordinary tasks.
	Normal = deque.Normal
	// Low tasks run when nothing more urgent waits, with a bounded share
	// under a flood of urgent work (see the package doc).
	Low = deque.Low

	// NumPriorities is the number of priorities: the length of the
	// per-priority arrays in [Stats], which are indexed by Priority.
	NumPriorities = deque.NumPriorities
)

var (
	// ErrClosed is returned by Submit, TrySubmit, Go and TryGo once Stop
	// has been called (or the pool was dropped), including calls that were
	// waiting for queue space when Stop began.
	ErrClosed = errors.New("pool: closed")
	// ErrQueueFull is returned by TrySubmit and TryGo when the queue holds
	// as many waiting tasks as its capacity (see WithQueueCapacity).
	ErrQueueFull = errors.New("pool: queue full")
)

// Pool is a bounded, priority-aware, work-stealing pool of worker
// goroutines; see the package doc for its scheduling rules. Make one with
// [New] or use [Default]; the methods of a zero Pool panic. All methods are
// safe for concurrent use.
//
// A Pool is a thin handle: if it becomes unreachable without [Pool.Stop], a
// cleanup stops its workers (they finish the accepted tasks first).
type Pool struct {
	s *state
}

// state is everything the workers reference. It never points back to the
// Pool handle, so a dropped handle can be collected and its cleanup run.
type state struct {
	cfg config
	q   *deque.StealingQueue[task]

	// pending counts accepted tasks that have not started (queued, or being
	// pushed), with closedBit set once Stop begins. One word, so "accept a
	// task" (increment unless closed or full) is a single CAS that cannot
	// race with Stop: a task is either counted before the bit is set, and
	// then run, or refused.
	pending atomic.Int64
	_       [56]byte // pending is written per task: keep it off the next fields' line

	// Parking (see worker.go): idle is the stack of parked workers, under
	// idleMu; nidle mirrors len(idle) for lock-free checks; spinning counts
	// workers woken to search for work that have not found any or parked.
	idleMu      sync.Mutex
	idle        []*worker
	nidle       atomic.Int32
	spinning    atomic.Int32
	maxSpinning int32       // GOMAXPROCS at New
	reaper      *time.Timer // retires idle extras (see reap); armed under idleMu
	reaperArmed bool        // under idleMu

	base      []*worker  // base workers, fixed at New
	extraMu   sync.Mutex // guards extraList
	extraList []*worker  // extra workers running, for the monitor's checks

	workers  atomic.Int32  // workers running (base + extra)
	extras   atomic.Int32  // extra workers running
	extraSeq atomic.Uint32 // numbers extra workers, to pick their stats shard
	blocked  atomic.Int32  // tasks inside Block
	shrink   atomic.Int32  // extra workers asked to retire at their next task boundary
	// extraSt: stats of extra workers, sharded to spread contention; made
	// when the first extra starts (see extraStats).
	extraSt  atomic.Pointer[[extraShards]workerStats]
	panics   atomic.Uint64 // tasks that panicked
	goexits  atomic.Uint64 // tasks that called runtime.Goexit
	mon      monitor
	stopOnce sync.Once
	quit     chan struct{} // closed when Stop begins

	// Joining: live counts the goroutines of the pool (workers and the
	// monitor). The last one to exit brings it to zero and closes done;
	// after that no goroutine may be added (addLive refuses zero), so a
	// Block called through a leaked ctx after Stop cannot start a worker
	// that outlives the pool. Base workers and the monitor exit only after
	// Stop began, or for an idle exit (idle.go), during which the pool
	// holds a live count of its own, so live > 0 until Stop. Atomic, not
	// under a lock: a
	// thousand extras exiting at once would queue on it.
	live atomic.Int64
	done chan struct{}

	// Backpressure (WithQueueCapacity): a Submit waiting for room takes
	// spaceCh under spaceMu and counts itself in spaceWaiters; a worker that
	// starts a task while spaceWaiters > 0 closes spaceCh and replaces it.
	spaceMu      sync.Mutex
	spaceCh      chan struct{}
	spaceWaiters atomic.Int32

	// Idle exit (withIdleExit; see idle.go). asleep is loaded by every
	// notify; the rest is used only on the transitions, under sleepMu
	// (idleSince under idleMu).
	asleep    atomic.Bool
	sleepMu   sync.Mutex
	dozer     *time.Timer   // nil without idle exit; armed under idleMu
	idleSince int64         // when every worker was last seen parked
	slept     chan struct{} // closed by the last goroutine exiting for a doze
	sleepers  atomic.Int32  // goroutines yet to exit for the doze
}

// extraShards is the number of stats blocks extra workers share: extras come
// and go by the thousand, so they do not get a block each, and one shared
// block would be a contended cache line on every task start.
const extraShards = 16

// extraStats returns the stats shards of extra workers, making them on
// first use. They are 16 blocks of ~4 KB with their histograms: a pool
// whose tasks never block does not need them, and a pool made per request
// or per fan-out (BenchmarkColdSleepFanout makes one per op) paid for
// allocating and zeroing them in New (70 KB, 14% of the bytes of the
// scope-blocking case, which starts no extra at all).
func (s *state) extraStats() *[extraShards]workerStats {
	if es := s.extraSt.Load(); es != nil {
		return es
	}
	es := new([extraShards]workerStats)
	for i := range es {
		es[i].shared = true
	}
	if !s.extraSt.CompareAndSwap(nil, es) {
		return s.extraSt.Load() // another extra made them first
	}
	return es
}

// New starts a pool configured by opts and returns its handle. Its base
// workers are parked until work arrives. Call [Pool.Stop] when done with it.
// It panics if an option is nil.
func New(opts ...Option) *Pool {
	cfg := defaultConfig()
	for _, o := range opts {
		if o == nil {
			panic("pool: New called with a nil Option")
		}
		o(&cfg)
	}
	if cfg.maxWorkers < cfg.workers {
		panic("pool: New called with WithMaxWorkers(" + strconv.Itoa(cfg.maxWorkers) +
			") below the " + strconv.Itoa(cfg.workers) + " base workers; need max >= workers")
	}
	s := &state{
		cfg:     cfg,
		q:       deque.NewStealingQueue[task](fairEvery),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		spaceCh: make(chan struct{}),
	}
	s.maxSpinning = int32(max(1, runtime.GOMAXPROCS(0)))
	s.reaper = time.AfterFunc(time.Hour, s.reap)
	s.reaper.Stop()
	if cfg.idleExit > 0 {
		s.dozer = time.AfterFunc(time.Hour, s.doze)
		s.dozer.Stop()
	}
	s.mon.init()
	s.mon.local = s.q.NewThief()
	s.idle = make([]*worker, 0, cfg.workers)
	s.base = make([]*worker, cfg.workers)
	for i := range s.base {
		s.base[i] = newWorker(s, i, false)
	}
	s.live.Store(int64(len(s.base) + 1))
	s.workers.Store(int32(len(s.base)))
	go s.monitorLoop()
	for _, w := range s.base {
		go w.loop()
	}
	p := &Pool{s: s}
	// When the handle is unreachable, begin Stop. Workers
	// drain the accepted tasks and exit; nothing waits for them.
	runtime.AddCleanup(p, func(s *state) { s.beginStop() }, s)
	return p
}

var defaultPool = sync.OnceValue(func() *Pool {
	return New(WithName("default"), withIdleExit(defaultIdleExit))
})

// defaultIdleExit is how long the Default pool stays idle before its
// goroutines exit. Short enough that goleak's default retries (about 430 ms
// of sleeps in all) see them gone with room to spare on a loaded machine;
// long enough that a pool busy every few milliseconds keeps its workers,
// and that a restart (a few goroutine starts, microseconds) costs well
// under 0.1% of the pause before it.
const defaultIdleExit = 10 * time.Millisecond

// Default returns the process-wide pool, created with default options on
// first use. It needs no Stop: once it has had nothing to do for a few
// milliseconds (every worker parked, nothing queued), its goroutines, base
// workers and liveness monitor, exit, and the next submit starts them again.
// So a test that used it passes goleak.VerifyNone with its default options,
// and an idle process holds no goroutine of it. Do not stop it (except at
// process exit, if at all): after Stop it refuses all work with ErrClosed,
// for every user in the process, for good.
func Default() *Pool { return defaultPool() }

func checkArgs(fn string, ctx context.Context, prio Priority, hasFn bool) {
	if !hasFn {
		panic("pool: " + fn + " called with a nil function")
	}
	if !prio.Valid() {
		panic("pool: " + fn + " called with invalid priority " + prio.String())
	}
	if ctx == nil {
		panic("pool: " + fn + " called with a nil context")
	}
}

// state returns p's state, panicking with a message naming fn if p is nil
// or a zero Pool (not made by New).
func (p *Pool) state(fn string) *state {
	if p == nil || p.s == nil {
		panic("pool: " + fn + " called on a Pool not made by New")
	}
	return p.s
}

// Submit queues fn to run once on a worker at priority prio. If the queue
// is full it waits for room, returning ctx.Err() if ctx ends first. It
// returns [ErrClosed] once Stop has begun, also when it was waiting. ctx is
// used only for that wait and, if it is a task's ctx from [Pool.Go], to queue
// fn on that worker's own deque. It panics on a nil fn or ctx or an invalid
// priority.
func (p *Pool) Submit(ctx context.Context, prio Priority, fn func()) error {
	checkArgs("Submit", ctx, prio, fn != nil)
	return p.state("Submit").submit(ctx, task{fn: fn, prio: prio}, true)
}

// TrySubmit is Submit without waiting and without a ctx: it returns
// [ErrQueueFull] when the queue is full, [ErrClosed] after Stop.
func (p *Pool) TrySubmit(prio Priority, fn func()) error {
	checkArgs("TrySubmit", context.Background(), prio, fn != nil)
	return p.state("TrySubmit").submit(context.Background(), task{fn: fn, prio: prio}, false)
}

// Go is Submit for tasks that take a context: fn receives ctx annotated
// with the worker that runs it, so Go, TryGo, Submit and [Block] calls made
// with that ctx from inside fn use that worker (new tasks go on its own
// deque; Block lends a spare worker). The annotation does not change ctx's
// deadline, cancellation or values. Errors as Submit.
func (p *Pool) Go(ctx context.Context, prio Priority, fn func(ctx context.Context)) error {
	checkArgs("Go", ctx, prio, fn != nil)
	return p.state("Go").submit(ctx, task{cfn: fn, ctx: ctx, prio: prio}, true)
}

// TryGo is Go without waiting: it returns [ErrQueueFull] when the queue is
// full, [ErrClosed] after Stop.
func (p *Pool) TryGo(ctx context.Context, prio Priority, fn func(ctx context.Context)) error {
	checkArgs("TryGo", ctx, prio, fn != nil)
	return p.state("TryGo").submit(ctx, task{cfn: fn, ctx: ctx, prio: prio}, false)
}
