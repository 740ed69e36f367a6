package echo

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/echo-scheduler/echo/pool"
)

// TestWithBlockingRunsEachChildOnItsOwnGoroutine: on a pool of one worker
// that can never grow, 24 children of a WithBlocking scope that only finish
// together complete: each runs on a goroutine of its own. A scope nested in
// one of them does not inherit it: its child runs on the pool.
func TestWithBlockingRunsEachChildOnItsOwnGoroutine(t *testing.T) {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1))
	defer p.Stop(context.Background())
	const n = 24
	var arrived sync.WaitGroup
	arrived.Add(n)
	nestedOnPool := make(chan bool, 1)
	within(t, 10*time.Second, "24 blocking children that only finish together", func() {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			for i := range n {
				Go(ctx, Normal, func(ctx context.Context) error {
					arrived.Done()
					arrived.Wait() // the barrier
					if i == 0 {
						return Nursery(ctx, func(ctx context.Context) error {
							Go(ctx, Normal, func(ctx context.Context) error {
								nestedOnPool <- p.OnWorker(ctx)
								return nil
							})
							return nil
						})
					}
					return nil
				})
			}
			return nil
		}, WithPool(p), WithBlocking())
		if err != nil {
			t.Errorf("Nursery: %v", err)
		}
	})
	if !<-nestedOnPool {
		t.Fatal("the child of a scope nested in a WithBlocking scope did not run on the pool")
	}
}

// TestWithBlockingJoinsAndReports: a WithBlocking scope still joins every
// child (none is running when Nursery returns), cancels the others on a
// failure and turns a panic into an error.
func TestWithBlockingJoinsAndReports(t *testing.T) {
	var mu sync.Mutex
	running := 0
	err := Nursery(context.Background(), func(ctx context.Context) error {
		for range 10 {
			Go(ctx, Normal, func(ctx context.Context) error {
				mu.Lock()
				running++
				mu.Unlock()
				<-ctx.Done() // cancelled by the panic below
				time.Sleep(time.Millisecond)
				mu.Lock()
				running--
				mu.Unlock()
				return ctx.Err()
			})
		}
		Go(ctx, Normal, func(context.Context) error { panic("boom") })
		return nil
	}, WithBlocking())
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Nursery = %v, want the *PanicError of the panicking child", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if running != 0 {
		t.Fatalf("%d children still running when Nursery returned", running)
	}
}

// BenchmarkColdSleepFanout: 2,000 children that each sleep 1 ms, in one
// scope on a freshly made pool (2 base workers: it must grow), against the
// same scope declared WithBlocking and errgroup.
func BenchmarkColdSleepFanout(b *testing.B) {
	const n = 2000
	child := func(context.Context) error { time.Sleep(time.Millisecond); return nil }
	for _, tc := range []struct {
		name string
		opts []Option
	}{{"scope", nil}, {"scope-blocking", []Option{WithBlocking()}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p := pool.New()
				s, _ := NewScope(context.Background(), append(tc.opts, WithPool(p))...)
				for range n {
					s.Go(Normal, child)
				}
				if err := s.Wait(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				p.Stop(context.Background())
				b.StartTimer()
			}
		})
	}
	b.Run("errgroup", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var g errgroup.Group
			for range n {
				g.Go(func() error { return child(context.Background()) })
			}
			g.Wait()
		}
	})
}
