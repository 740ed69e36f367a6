package pool

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// TestStopUnderLoad: several goroutines call Submit, TrySubmit, Go and TryGo
// (tasks submitted with Go also submit follow-ups from their worker) while
// Stop runs. When Stop returns, every call that returned nil has run its
// task exactly once, no call that returned an error ran its task, and no
// task runs after Stop returned. Rounds vary the worker count, the queue
// capacity, when Stop begins, whether the workers are held busy so that
// Submit calls are waiting for room when it begins, and whether two Stops
// race; the seed is logged.
func TestStopUnderLoad(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rounds := 60
	if testing.Short() {
		rounds = 15
	}
	for r := range rounds {
		cfg := stopRound{
			workers:    1 + rng.IntN(4),
			capacity:   []int{0, 1, 2, 8, 64}[rng.IntN(5)],
			submitters: 2 + rng.IntN(4),
			per:        200 + rng.IntN(800),
			held:       rng.IntN(3) == 0,
			twoStops:   rng.IntN(2) == 0,
		}
		cfg.stopAfter = rng.IntN(cfg.submitters * cfg.per)
		if cfg.held && cfg.capacity > 0 {
			// With the workers held, only the calls that fill the queue
			// (and TrySubmits refused) return before Stop: Stop must not
			// wait for more.
			cfg.stopAfter = rng.IntN(cfg.capacity)
		}
		t.Run(fmt.Sprintf("%d/%+v", r, cfg), func(t *testing.T) { cfg.run(t) })
	}
}

type stopRound struct {
	workers, capacity int
	submitters, per   int
	stopAfter         int  // Stop begins after this many calls have returned
	held              bool // every worker is busy until Stop has begun
	twoStops          bool // a second Stop races the first
}

// Outcomes of one submission call, written once by its caller.
const (
	outNone int32 = iota
	outAccepted
	outRefused
)

func (c stopRound) run(t *testing.T) {
	opts := []Option{WithWorkers(c.workers)}
	if c.capacity > 0 {
		opts = append(opts, WithQueueCapacity(c.capacity))
	}
	p := New(opts...)
	n := c.submitters * c.per
	// Slot i is submission i; slot n+i is the follow-up submitted from the
	// worker that runs task i (only for Go/TryGo tasks).
	runs := make([]atomic.Int32, 2*n)
	outcome := make([]atomic.Int32, 2*n)
	var stopped atomic.Bool // set when Stop has returned
	var late atomic.Int64   // tasks that ran after Stop returned

	release := make(chan struct{})
	if c.held {
		// Hold every worker, so the queue fills and Submit calls wait.
		var started sync.WaitGroup
		started.Add(c.workers)
		for range c.workers {
			if err := p.Submit(bg, High, func() { started.Done(); <-release }); err != nil {
				t.Fatal(err)
			}
		}
		started.Wait()
	} else {
		close(release)
	}

	task := func(i int) func() {
		return func() {
			if stopped.Load() {
				late.Add(1)
			}
			runs[i].Add(1)
		}
	}
	record := func(i int, err error) {
		switch {
		case err == nil:
			outcome[i].Store(outAccepted)
		case errors.Is(err, ErrClosed), errors.Is(err, ErrQueueFull):
			outcome[i].Store(outRefused)
		default:
			t.Errorf("submission %d: unexpected error %v", i, err)
			outcome[i].Store(outRefused)
		}
	}

	var calls atomic.Int64
	stopNow := make(chan struct{})
	var stopOnce sync.Once
	var wg sync.WaitGroup
	for g := range c.submitters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range c.per {
				i := g*c.per + k
				var err error
				switch i % 4 {
				case 0:
					err = p.Submit(bg, Priority(i%3), task(i))
				case 1:
					err = p.TrySubmit(Priority(i%3), task(i))
				case 2:
					err = p.Go(bg, Priority(i%3), func(ctx context.Context) {
						task(i)()
						// A follow-up from the worker: onto its own deque.
						record(n+i, p.Submit(ctx, Low, task(n+i)))
					})
				case 3:
					err = p.TryGo(bg, Priority(i%3), func(ctx context.Context) {
						task(i)()
						record(n+i, p.TrySubmit(Low, task(n+i)))
					})
				}
				record(i, err)
				if calls.Add(1) > int64(c.stopAfter) {
					stopOnce.Do(func() { close(stopNow) })
				}
				if errors.Is(err, ErrClosed) {
					return // the rest would be refused too
				}
			}
		}()
	}

	stopErr := make(chan error, 2)
	go func() {
		<-stopNow
		stopErr <- p.Stop(bg)
	}()
	if c.twoStops {
		go func() {
			<-stopNow
			stopErr <- p.Stop(bg)
		}()
	}
	if c.held {
		// Release the workers only once Stop has begun, so that submitters
		// blocked on a full queue are waiting when it does.
		waitFor(t, "Stop to begin", func() bool {
			select {
			case <-stopNow:
				return p.s.closed()
			default:
				return false
			}
		})
		close(release)
	}
	stops := 1
	if c.twoStops {
		stops = 2
	}
	for range stops {
		if err := recv(t, stopErr, "Stop to return"); err != nil {
			t.Fatalf("Stop = %v", err)
		}
	}
	stopped.Store(true)
	wg.Wait()

	accepted := 0
	for i := range 2 * n {
		o, r := outcome[i].Load(), runs[i].Load()
		switch o {
		case outAccepted:
			accepted++
			if r != 1 {
				t.Errorf("submission %d accepted but ran %d times", i, r)
			}
		case outRefused, outNone:
			// outNone: never submitted (a submitter stopped early, or the
			// task that would have submitted the follow-up did not run).
			if r != 0 {
				t.Errorf("submission %d refused (or never made) but ran %d times", i, r)
			}
		}
	}
	if late.Load() != 0 {
		t.Errorf("%d tasks ran after Stop returned", late.Load())
	}
	st := p.Stats()
	if want := uint64(accepted + c.workers*btoi(c.held)); st.Submitted != want || st.Completed != want {
		t.Errorf("Stats after Stop: submitted %d, completed %d; want both %d", st.Submitted, st.Completed, want)
	}
	if st.Workers != 0 || st.ExtraWorkers != 0 {
		t.Errorf("workers still counted after Stop: %v", st)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
