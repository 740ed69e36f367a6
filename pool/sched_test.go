package pool

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// order collects task ids in start order.
type order struct {
	mu  sync.Mutex
	ids []int
	wg  sync.WaitGroup
}

func (o *order) task(id int) func() {
	o.wg.Add(1)
	return func() {
		o.mu.Lock()
		o.ids = append(o.ids, id)
		o.mu.Unlock()
		o.wg.Done()
	}
}

func (o *order) wait() []int {
	o.wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.ids)
}

func TestOrderFromOutsideIsFIFO(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, p)
	release := gate(t, p)
	var o order
	for i := 1; i <= 5; i++ {
		if err := p.Submit(bg, Normal, o.task(i)); err != nil {
			t.Fatal(err)
		}
	}
	release()
	if got, want := o.wait(), []int{1, 2, 3, 4, 5}; !slices.Equal(got, want) {
		t.Fatalf("start order %v, want %v (FIFO from the injector)", got, want)
	}
}

func TestOrderFromWorkerIsLIFO(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, p)
	var o order
	o.wg.Add(1)
	err := p.Go(bg, Normal, func(ctx context.Context) {
		defer o.wg.Done()
		for i := 1; i <= 5; i++ {
			if err := p.Submit(ctx, Normal, o.task(i)); err != nil {
				t.Error(err)
			}
		}
		if n := p.s.base[0].local.Len(); n != 5 {
			t.Errorf("worker's own deque holds %d tasks, want 5 (Submit with a task's ctx goes local)", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := o.wait(), []int{5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("start order %v, want %v (LIFO from the worker's own deque)", got, want)
	}
}

func TestPriorityOrderWhenSaturated(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, p)
	release := gate(t, p)
	var o order
	rank := map[Priority]int{High: 0, Normal: 1, Low: 2} // the numeric values are not the order
	for i, prio := range []Priority{Low, Normal, High, Low, High, Normal} {
		if err := p.Submit(bg, prio, o.task(10*rank[prio]+i)); err != nil {
			t.Fatal(err)
		}
	}
	release()
	// High (2, 4), Normal (11, 15), Low (20, 23): FIFO within a priority.
	if got, want := o.wait(), []int{2, 4, 11, 15, 20, 23}; !slices.Equal(got, want) {
		t.Fatalf("start order %v, want %v", got, want)
	}
}

// TestNoPriorityInversion: a worker holding Low tasks in its own deque takes
// a High task from the injector first.
func TestNoPriorityInversion(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, p)
	var o order
	pushed := make(chan struct{})
	highQueued := make(chan struct{})
	o.wg.Add(1)
	err := p.Go(bg, Normal, func(ctx context.Context) {
		defer o.wg.Done()
		for i := 1; i <= 3; i++ {
			if err := p.Submit(ctx, Low, o.task(i)); err != nil {
				t.Error(err)
			}
		}
		close(pushed)
		<-highQueued
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, pushed, "the task to push its Low children")
	if err := p.Submit(bg, High, o.task(100)); err != nil {
		t.Fatal(err)
	}
	close(highQueued)
	if got, want := o.wait(), []int{100, 3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("start order %v, want %v (outside High before own Low)", got, want)
	}
}

// TestAntiStarvation floods two workers with High tasks that resubmit
// themselves and checks that a Low task starts within the documented bound:
// at most workers*fairEvery High starts after it was queued.
func TestAntiStarvation(t *testing.T) {
	const workers = 2
	p := New(WithWorkers(workers), WithMaxWorkers(workers))
	defer stop(t, p)
	var highStarts atomic.Int64
	var stopFlood atomic.Bool
	var flood sync.WaitGroup
	var high func(ctx context.Context)
	high = func(ctx context.Context) {
		highStarts.Add(1)
		if stopFlood.Load() {
			flood.Done()
			return
		}
		if err := p.Go(ctx, High, high); err != nil { // keeps the flood constant
			t.Error(err)
			flood.Done()
		}
	}
	const seeds = 8
	flood.Add(seeds)
	for i := 0; i < seeds; i++ {
		if err := p.Go(bg, High, high); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the High flood is running", func() bool { return highStarts.Load() > 10_000 })
	lowStarted := make(chan int64, 1)
	if err := p.Submit(bg, Low, func() { lowStarted <- highStarts.Load() }); err != nil {
		t.Fatal(err)
	}
	before := highStarts.Load()
	at := recv(t, lowStarted, "the Low task to start under a High flood")
	stopFlood.Store(true)
	flood.Wait()
	t.Logf("%d High starts between queueing and starting the Low task", at-before)
	if n, bound := at-before, int64(workers*fairEvery); n > bound {
		t.Fatalf("%d High tasks started after the Low task was queued and before it started; bound %d", n, bound)
	}
}

// TestSubmitWithOtherPoolsCtx: a task's ctx from pool a does not push onto
// pool b's deques (only this pool's workers own them).
func TestSubmitWithOtherPoolsCtx(t *testing.T) {
	a := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, a)
	b := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, b)
	releaseB := gate(t, b)
	done := make(chan struct{})
	err := a.Go(bg, Normal, func(ctx context.Context) {
		defer close(done)
		if err := b.Submit(ctx, Normal, func() {}); err != nil {
			t.Error(err)
		}
		if n := a.s.base[0].local.Len() + b.s.base[0].local.Len(); n != 0 {
			t.Errorf("a task of pool a pushed onto a deque (%d tasks), want pool b's injector", n)
		}
		if n := b.s.q.Len(); n != 1 {
			t.Errorf("pool b queue holds %d tasks, want 1", n)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, done, "the task of pool a")
	releaseB()
}

func TestGoContext(t *testing.T) {
	p := New(WithWorkers(2))
	defer stop(t, p)
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(bg, key{}, "v"))
	ran := make(chan struct{})
	err := p.Go(parent, Normal, func(ctx context.Context) {
		defer close(ran)
		if ctx.Value(key{}) != "v" {
			t.Error("task ctx lost the parent's value")
		}
		if w := workerOf(context.WithValue(ctx, key{}, "w")); w == nil || w.s != p.s {
			t.Error("a ctx derived from the task's ctx does not carry its worker")
		}
		cancel()
		<-ctx.Done() // the parent's cancellation reaches the task's ctx
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, ran, "the task to see its ctx cancelled")
}

// TestExactlyOnceForkJoin: tasks that submit tasks from workers (local
// deques, stealing) run exactly once each.
func TestExactlyOnceForkJoin(t *testing.T) {
	n := 1 << 16
	if testing.Short() {
		n = 1 << 12
	}
	p := New(WithWorkers(4))
	defer stop(t, p)
	runs := make([]atomic.Int32, n)
	var wg sync.WaitGroup
	wg.Add(n)
	// Task i (an implicit binary tree) submits children 2i+1 and 2i+2.
	var node func(i int) func(ctx context.Context)
	node = func(i int) func(ctx context.Context) {
		return func(ctx context.Context) {
			runs[i].Add(1)
			for _, c := range []int{2*i + 1, 2*i + 2} {
				if c < n {
					if err := p.Go(ctx, Priority(c%3), node(c)); err != nil {
						t.Error(err)
					}
				}
			}
			wg.Done()
		}
	}
	if err := p.Go(bg, Normal, node(0)); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range runs {
		if r := runs[i].Load(); r != 1 {
			t.Fatalf("task %d ran %d times", i, r)
		}
	}
	if st := p.Stats(); st.Submitted != uint64(n) {
		t.Fatalf("Stats: submitted %d, want %d", st.Submitted, n)
	}
	// wg.Done runs inside the tasks, just before the worker counts them.
	waitFor(t, "Stats.Completed reaches n", func() bool { return p.Stats().Completed == uint64(n) })
}
