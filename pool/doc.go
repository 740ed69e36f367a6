// Package pool is a bounded, priority-aware, work-stealing pool of worker
// goroutines: the engine under Echo's scopes, usable on its own.
//
// Make a pool with [New] (or use the process-wide [Default]), hand it tasks
// with [Pool.Submit] / [Pool.TrySubmit] (func()) or [Pool.Go] /
// [Pool.TryGo] (func(ctx)), and stop it with [Pool.Stop], which runs every
// accepted task before it returns.
//
// # Scheduling
//
// Each base worker owns a deque per priority; tasks submitted from outside
// the pool go to a shared injector (one FIFO lane per priority). A task
// submitted with the ctx that [Pool.Go] gave a running task goes onto that
// worker's own deque, where the worker finds it first (newest first, for
// locality) and idle workers steal it (oldest first). A worker always takes
// the most urgent task visible to it: it looks at the High lane of its own
// deque, the injector and the other workers' deques (from a random victim)
// before it takes a Normal task, and so on. So a worker never runs its own
// Low tasks while a High task waits anywhere in the pool.
//
// Order, in short: from outside, FIFO within a priority; from inside a task,
// LIFO on the submitting worker, FIFO for thieves. Across priorities, High
// before Normal before Low, subject to the anti-starvation rule below.
//
// # Anti-starvation
//
// Every 16th task a worker starts is taken from the lowest non-empty
// priority lane, oldest first (the injector's head, then the worker's own
// oldest, then a victim's oldest). So while Low tasks wait, every worker
// starts at least one Low task per 16 tasks, and a Low task at the head of
// the injector's Low lane (submitted from outside, with no older Low task
// before it) is started within 16 task starts of any one worker: after at
// most 16*workers starts of other tasks pool-wide, however many High tasks
// keep arriving. Normal tasks get the same bound against High.
//
// # Sharing the CPU
//
// A worker that runs tasks back to back yields its P (runtime.Gosched) at
// the first task boundary after about 1 ms, so the rest of the process gets
// a P within about a millisecond even while every worker is busy, and the Go
// scheduler can spread the workers over the Ps (see yield.go for the
// measurement that motivated it).
//
// # Idle workers
//
// A worker with nothing to do parks on its own channel; it is woken by the
// submit that gives it work. A parked worker is woken only while fewer
// workers are searching for work than tasks are queued, and never more than
// GOMAXPROCS searchers at once (the Go runtime's spinning rule); a searcher
// that finds work wakes the next one if more tasks wait. Before parking, a
// worker yields the CPU a few times (three runtime.Gosched calls) in case
// work arrives at once; there is no sleep-polling and no other spinning: an
// idle pool uses no CPU.
//
// # Blocking tasks and extra workers
//
// A task that blocks (on a channel, a lock, a sleep, I/O) holds its worker.
// The pool has a liveness monitor, a goroutine that runs only while tasks
// are queued: when tasks wait, a CPU is idle and some worker inside a task
// is neither running nor runnable (for 20 µs with no task starting, or for
// 1 ms while other workers keep starting tasks), it doubles the number of
// workers, again and again while that holds, up to [WithMaxWorkers]. A
// CPU-bound backlog does not add workers (a short wait of a busy worker, on
// a lock or a GC assist, can add a round now and then, which the surplus
// rule below removes again). Extra workers have no deque: tasks
// they submit go to the injector. They retire after [WithIdleTimeout]
// (default 1 s) without work, or, when every CPU is busy and no worker is
// blocked (they are surplus), as soon as they finish their current task. A task that knows it is about to block can say
// so with [Block], which lends a spare worker at once instead of waiting for
// the monitor. So tasks that wait for each other complete on a small pool,
// and an I/O fan-out runs about as concurrently as with one goroutine per
// task.
//
// # Faults
//
// A task that panics is recovered on its worker, which survives; the panic
// is counted in [Stats] and passed to the [WithPanicHandler] handler (by
// default it is logged with log/slog). A task that calls runtime.Goexit ends
// its worker goroutine; a replacement takes over its deque, so the number of
// workers stays the same.
//
// # Backpressure and Stop
//
// [WithQueueCapacity] bounds the tasks accepted but not started: Submit and
// Go wait for room (honouring their ctx), TrySubmit and TryGo return
// [ErrQueueFull]. A task of the pool that submits into its full pool waits
// as [Block] does, so the pool keeps draining. [Pool.Stop] refuses new work
// at once with [ErrClosed] (also to waiting Submits and to follow-up work
// submitted by running tasks), runs every task accepted before, exactly
// once, and joins every worker. If the *Pool becomes unreachable without
// Stop, a cleanup on it begins Stop, so a forgotten pool does not leak its
// workers for ever (the Go form of Echo's Drop guard).
//
// # testing/synctest
//
// A pool created outside a synctest bubble runs its tasks on goroutines
// outside the bubble, so those tasks cannot use the bubble's channels and
// timers. In a synctest test, create the pool inside the bubble and Stop it
// there.
package pool
