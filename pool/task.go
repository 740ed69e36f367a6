package pool

import (
	"context"
	"math/rand/v2"
	"time"
)

// task is one accepted unit of work, stored by value in the queue: the
// injector keeps values and deques recycle their boxes, so queueing a task
// allocates nothing in the steady state.
type task struct {
	fn   func()                    // set by Submit/TrySubmit
	cfn  func(ctx context.Context) // set by Go/TryGo, with ctx
	ctx  context.Context
	enq  int64 // when accepted (see now), for wait-time stats; 0 if not sampled
	prio Priority
}

// Priority implements deque.Prioritized.
func (t task) Priority() Priority { return t.prio }

// epoch anchors now: time.Since on a time with a monotonic reading reads the
// runtime's monotonic clock, without a wall-clock read.
var epoch = time.Now()

func now() int64 { return int64(time.Since(epoch)) }

// sampleEvery: one task in sampleEvery, chosen at random, has its wait
// (acceptance to start) timed for Stats. Reading the clock costs ~25-40 ns
// here (measured), and two reads per task were a quarter of the CPU time of
// BenchmarkSubmitNoop; counts stay exact.
const sampleEvery = 8

// sampled decides whether to time a task: math/rand/v2's global generator
// is per-thread in the runtime, so this is a few ns and contends on nothing.
func sampled() bool { return rand.Uint32()%sampleEvery == 0 }

// workerKey is the context key under which a task's ctx carries its worker.
type workerKey struct{}

// taskCtx is the ctx a Go task receives: the submitter's ctx annotated with
// the worker running the task. It is the one allocation a Go task costs. It
// is allocated per task, not reused per worker, because a task may hand its
// ctx to a goroutine that outlives it: a reused wrapper would then change
// under that goroutine.
//
// Embedding keeps Done, Err and Deadline of the parent, and Value delegates
// for every other key, so context.WithCancel(taskCtx) still finds the
// parent's cancelCtx and does not start a goroutine.
type taskCtx struct {
	context.Context
	w  *worker
	fn func(ctx context.Context) // the task's function
}

// call calls the task's function with c. As a method value it is the
// function the worker runs (see worker.run), one frame fewer than a closure
// that builds c.
func (c *taskCtx) call() { c.fn(c) }

func (c *taskCtx) Value(key any) any {
	if _, ok := key.(workerKey); ok {
		return c.w
	}
	return c.Context.Value(key)
}

// workerOf returns the worker a task's ctx carries, or nil.
func workerOf(ctx context.Context) *worker {
	if ctx == nil {
		return nil
	}
	if c, ok := ctx.(*taskCtx); ok { // fast path: the task's own ctx
		return c.w
	}
	w, _ := ctx.Value(workerKey{}).(*worker)
	return w
}
