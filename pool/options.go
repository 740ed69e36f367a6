package pool

import (
	"runtime"
	"strconv"
	"time"
)

// An Option configures a [Pool] made by [New].
type Option func(*config)

type config struct {
	workers      int           // base workers; never retire
	capacity     int           // accepted-but-not-started tasks; 0 means unbounded
	maxWorkers   int           // base + extra workers
	idleTimeout  time.Duration // how long an extra worker stays parked before it retires
	panicHandler func(value any, stack []byte)
	name         string
	pin          bool
	idleExit     time.Duration // 0: never; else every goroutine exits after this long idle (see idle.go)
}

// DefaultIdleTimeout is how long an extra worker that parks (one lent by
// [Block]) stays parked with nothing to do before it exits.
const DefaultIdleTimeout = time.Second

// fairEvery is the anti-starvation period K: every K-th task a worker starts
// comes from the lowest non-empty priority lane (see [deque.StealingQueue]).
// 16 keeps the cost to High latency at one task in 16 under a mixed flood,
// while a waiting Low task gets at least 1/16 of every worker.
const fairEvery = 16

func defaultConfig() config {
	procs := runtime.GOMAXPROCS(0)
	return config{
		workers:     max(2, procs),
		maxWorkers:  max(256*procs, 10_000),
		idleTimeout: DefaultIdleTimeout,
	}
}

// WithWorkers sets the number of base workers: goroutines that run tasks and
// never retire (in the [Default] pool they exit while it is idle). The
// default is max(2, GOMAXPROCS). It sets the pool's CPU parallelism, not a
// cap on how many tasks run at once: while tasks block, the pool adds extra
// workers so that this many stay free for queued work (see the package doc),
// so pool.New(pool.WithWorkers(4)) may run a thousand sleeping tasks at
// once. Cap concurrency with [WithMaxWorkers] (a pool that cannot grow has
// WithMaxWorkers equal to WithWorkers) or, per scope, with the root
// package's WithLimit. It panics if n < 1.
func WithWorkers(n int) Option {
	if n < 1 {
		panic("pool: WithWorkers called with n = " + strconv.Itoa(n) + "; need n >= 1")
	}
	return func(c *config) { c.workers = n }
}

// WithQueueCapacity bounds the number of accepted tasks that have not
// started yet. When n tasks wait, [Pool.Submit] and [Pool.Go] wait for room
// (honouring their ctx) and [Pool.TrySubmit] and [Pool.TryGo] return
// [ErrQueueFull]. Without this option the queue is unbounded, as go
// statements are. It panics if n < 1 (omit the option for an unbounded
// queue).
func WithQueueCapacity(n int) Option {
	if n < 1 {
		panic("pool: WithQueueCapacity called with n = " + strconv.Itoa(n) + "; need n >= 1 (omit the option for an unbounded queue)")
	}
	return func(c *config) { c.capacity = n }
}

// WithMaxWorkers caps the total number of workers, base and extra, and so
// the number of the pool's tasks that run at once, blocked or not. Extra
// workers are added while tasks block and work waits (see the package doc);
// the cap bounds what a pile of blocked tasks can cost, and is the knob for
// protecting a rate-limited backend from a pool's tasks (a scope's WithLimit
// does the same for one scope's children). With n equal to [WithWorkers]
// the pool never grows: tasks that block then hold their workers, and
// queued work waits for them. The default is max(256*GOMAXPROCS, 10000):
// about the Go runtime's default thread limit, far above what CPU-bound work
// needs and enough for an I/O fan-out of thousands of tasks. New panics if
// the cap is below the base worker count; WithMaxWorkers panics if n < 1.
func WithMaxWorkers(n int) Option {
	if n < 1 {
		panic("pool: WithMaxWorkers called with n = " + strconv.Itoa(n) + "; need n >= 1")
	}
	return func(c *config) { c.maxWorkers = n }
}

// WithIdleTimeout sets how long an extra worker that parks stays parked
// with nothing to do before it exits (default [DefaultIdleTimeout]). Extra
// workers added for a backlog of blocking tasks do not park: they exit when
// they find the queue empty. Base workers exit before Stop only in the
// [Default] pool, and only while it is idle (see the package doc). It panics
// if d <= 0.
func WithIdleTimeout(d time.Duration) Option {
	if d <= 0 {
		panic("pool: WithIdleTimeout called with d = " + d.String() + "; need d > 0")
	}
	return func(c *config) { c.idleTimeout = d }
}

// WithPanicHandler sets the function called, on the worker, with the value
// and stack of every task that panics. The worker survives either way and
// the panic is counted in [Stats]. Without this option a panic is logged
// with log/slog at level Error: a silently swallowed panic hides a bug, and
// re-panicking would kill the process for one bad task. h must not panic.
// It panics if h is nil.
func WithPanicHandler(h func(value any, stack []byte)) Option {
	if h == nil {
		panic("pool: WithPanicHandler called with a nil handler")
	}
	return func(c *config) { c.panicHandler = h }
}

// WithName names the pool: its workers carry the pprof label pool=name (so
// CPU profiles can be filtered by pool) and panic logs mention it.
func WithName(name string) Option {
	return func(c *config) { c.name = name }
}

// WithCPUPinning, on Linux, locks each base worker to an OS thread and pins
// that thread to one CPU of the process's affinity set (worker i to the
// i-th allowed CPU, round robin). Elsewhere it does nothing. It is off by
// default: pinning helps cache locality for CPU-bound work on a quiet
// machine and hurts when other processes compete for the CPUs. Extra
// workers (see [WithMaxWorkers]) are never pinned.
func WithCPUPinning() Option {
	return func(c *config) { c.pin = true }
}

// Name returns the name given with [WithName], or "".
func (p *Pool) Name() string { return p.state("Name").cfg.name }

// withIdleExit makes the pool's goroutines (base workers and monitor) exit
// once every worker has been parked, with nothing queued, for d; the next
// submit starts them again (see idle.go). [Default] uses it, so that an idle
// default pool holds no goroutine. It is not exported: a pool made with New
// is stopped by its owner, and a pool that wants its workers warm should
// not pay a restart after every pause.
func withIdleExit(d time.Duration) Option {
	return func(c *config) { c.idleExit = d }
}
