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
// A task queued on a worker's own deque has a bound too: halfway between two
// of those picks, a worker takes from the other workers' deques before the
// injector, visiting them round robin. So while its priority is the most
// urgent one queued, the oldest task of a busy worker's deque (for example
// the child that the worker's own task waits for) is started within 16*B
// task starts of any other worker, B being the number of base workers,
// however many tasks keep arriving in the injector.
//
// # Sharing the CPU
//
// A worker that runs tasks back to back yields its P (runtime.Gosched) at
// the first task boundary after about 1 ms, so the rest of the process gets
// a P within about a millisecond even while every worker is busy, and the Go
// scheduler can spread the workers over the Ps (see yield.go for the
// measurement that motivated it). A task that alone took a millisecond or
// more (it blocked, giving its P up) starts a new turn instead.
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
// The [Default] pool goes further: once every worker has been parked, with
// nothing queued, for 10 ms, its goroutines (base workers and the liveness
// monitor; parked extra workers retire) exit, leaving no goroutine and no
// pending timer, and the next submit starts them again before it returns,
// on the same deques. So an idle process, or a test checked with goleak,
// finds no goroutine of it, and it never needs Stop. A submit racing the
// exit is safe: every accepted task still runs exactly once, and Stop
// still joins everything (see idle.go for the argument). A pool made with
// [New] keeps its base workers until Stop.
//
// # Blocking tasks and extra workers
//
// A task that blocks (on a channel, a lock, a sleep, I/O) holds its worker.
// The pool keeps queued work moving without being told: a liveness monitor,
// a goroutine that runs only while tasks are queued and sleeps on a timer
// between checks (about every millisecond; it never spins), judges from the
// pool's own progress, not from idle CPUs, so it works the same in a
// process whose CPUs are kept busy by other goroutines:
//
//   - a worker that has been inside one task for 500 µs or more, at two
//     checks in a row, without submitting anything, gets a stand-in: an
//     extra worker, so that as many workers as [WithWorkers] says stay free
//     to run queued tasks;
//   - when the workers' tasks all take 500 µs or more and the pool starts
//     tasks at that slow pace, seen twice over 2 ms, the queued tasks are
//     most likely of the same kind: the pool adds a worker for every queued
//     task at once (waking parked ones first, and handing each new one its
//     first task), as a goroutine per task would have run them.
//
// A CPU-bound backlog of short tasks adds no workers; a task that runs on
// the CPU for 500 µs or more without spawning may be given a stand-in, which
// over-subscribes the CPUs a little, as a goroutine per task does. Extra
// workers have no deque (tasks they submit go to the injector). Those added
// for a backlog exit when they find the queue empty; the others retire when
// the monitor sees no stuck worker for 3 ms (at their next task boundary),
// or after [WithIdleTimeout] parked. See growth.go for the rules and their
// reasons, and BenchmarkBusyIOFanout and BenchmarkSleepFanout for the
// figures.
//
// So tasks that wait for each other complete on a small pool, and an I/O
// fan-out runs about as concurrently as with one goroutine per task.
// [WithWorkers] therefore sets CPU parallelism, not a cap on how many
// blocking tasks run at once: pool.New(pool.WithWorkers(4)) may run a
// thousand sleeping tasks at once. To protect a backend, cap concurrency
// with [WithMaxWorkers] (base and extra workers together) or, per scope,
// with the root package's WithLimit (see the example of WithMaxWorkers).
//
// A task that knows it is about to block may say so with [Block], which
// lends it one spare worker at once (if tasks are queued and fewer than
// GOMAXPROCS tasks are running) and takes it back when the blocking call
// returns. Correct code does not need Block; it only saves the monitor's
// first millisecond.
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
// Stop, a cleanup stops the dropped pool, so a forgotten pool does not leak
// its workers for ever.
//
// # testing/synctest
//
// A pool created outside a synctest bubble runs its tasks on goroutines
// outside the bubble, so those tasks cannot use the bubble's channels and
// timers. In a synctest test, create the pool inside the bubble and Stop it
// there: no goroutine of the pool spins or polls the clock, so the bubble's
// clock advances while tasks sleep on its timers, and the pool grows for
// them as it would outside (TestInSynctestBubble). Do not use [Default] in
// a bubble: its goroutines, once exited for idleness, are started again by
// the next submit, and a goroutine started from inside a bubble belongs to
// it, so the pool's workers would join that bubble until they next exit.
package pool
