package pool_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// While every worker is busy, queued tasks start by priority: High first,
// Low last, whatever the order they were submitted in.
func Example_priorities() {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1))
	defer p.Stop(context.Background())

	// Occupy the only worker until everything is queued.
	release := make(chan struct{})
	p.Submit(context.Background(), pool.High, func() { <-release })

	var wg sync.WaitGroup
	for _, prio := range []pool.Priority{pool.Low, pool.Normal, pool.High} {
		wg.Add(1)
		p.Submit(context.Background(), prio, func() {
			fmt.Println("started", prio)
			wg.Done()
		})
	}
	close(release)
	wg.Wait()
	// Output:
	// started high
	// started normal
	// started low
}

// With a queue capacity, TrySubmit reports a full queue at once and Submit
// waits for room until its ctx ends.
func Example_backpressure() {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1), pool.WithQueueCapacity(1))
	defer p.Stop(context.Background())

	release := make(chan struct{})
	started := make(chan struct{})
	p.Submit(context.Background(), pool.Normal, func() { close(started); <-release })
	<-started

	fmt.Println(p.TrySubmit(pool.Normal, func() {})) // fills the queue
	fmt.Println(p.TrySubmit(pool.Normal, func() {}))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fmt.Println(p.Submit(ctx, pool.Normal, func() {}))
	close(release)
	// Output:
	// <nil>
	// pool: queue full
	// context canceled
}

// Stop runs every accepted task, then refuses new work.
func Example_stop() {
	p := pool.New()
	var mu sync.Mutex
	ran := 0
	for i := 0; i < 100; i++ {
		p.Submit(context.Background(), pool.Low, func() {
			mu.Lock()
			ran++
			mu.Unlock()
		})
	}
	if err := p.Stop(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println("ran", ran)
	err := p.Submit(context.Background(), pool.Low, func() {})
	fmt.Println(errors.Is(err, pool.ErrClosed))
	// Output:
	// ran 100
	// true
}

// A task's ctx carries its worker: Block tells the pool the task is about
// to wait, so the pool lends another worker to the work the task waits for.
func ExampleBlock() {
	p := pool.New(pool.WithWorkers(1))
	defer p.Stop(context.Background())

	done := make(chan struct{})
	p.Go(context.Background(), pool.Normal, func(ctx context.Context) {
		child := make(chan string)
		p.Go(ctx, pool.Normal, func(context.Context) { child <- "child done" })
		pool.Block(ctx, func() { fmt.Println(<-child) })
		close(done)
	})
	<-done
	// Output:
	// child done
}

func ExamplePool_Stats() {
	p := pool.New(pool.WithWorkers(2))
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		p.Submit(context.Background(), pool.Normal, wg.Done)
	}
	wg.Wait()
	p.Stop(context.Background())
	st := p.Stats()
	fmt.Println(st.Submitted, st.Completed, st.Wait[pool.Normal].Count)
	// Output:
	// 10 10 10
}

// WithWorkers sets CPU parallelism, not a cap: tasks that block get extra
// workers. To protect a backend that takes at most 3 calls at once, cap the
// pool with WithMaxWorkers (or, for one scope's children, use the root
// package's WithLimit).
func ExampleWithMaxWorkers() {
	p := pool.New(pool.WithWorkers(2), pool.WithMaxWorkers(3))
	defer p.Stop(context.Background())

	var mu sync.Mutex
	running, most := 0, 0
	backendCall := func() {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(2 * time.Millisecond) // the call blocks its worker
		mu.Lock()
		running--
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		p.Submit(context.Background(), pool.Normal, func() { backendCall(); wg.Done() })
	}
	wg.Wait()
	fmt.Println("at most 3 calls at once:", most <= 3)
	// Output:
	// at most 3 calls at once: true
}
