// Command priority is Echo's main demo: it saturates a two-worker pool with
// Low-priority background work, submits latency-sensitive High-priority tasks
// at a steady rate, and measures how long each High task waits to start. It
// runs the same workload on errgroup with SetLimit (which, like every pool
// without priorities, serves tasks first come, first served) and prints both.
//
//	go run ./examples/priority
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
	"golang.org/x/sync/errgroup"
)

// workload is what both runs do: a backlog of CPU-bound background tasks and
// a stream of short interactive tasks that arrive while the backlog drains.
type workload struct {
	workers    int           // tasks running at once
	background int           // Low tasks queued up front
	bgCost     time.Duration // CPU time of one background task
	requests   int           // High tasks, one per interval
	interval   time.Duration // time between High tasks
}

func main() {
	w := workload{workers: 2, background: 5000, bgCost: 100 * time.Microsecond, requests: 200, interval: time.Millisecond}
	flag.IntVar(&w.background, "background", w.background, "Low-priority background tasks queued up front")
	flag.IntVar(&w.requests, "requests", w.requests, "High-priority tasks, one per interval")
	flag.DurationVar(&w.interval, "interval", w.interval, "time between High-priority tasks")
	flag.Parse()

	fmt.Printf("Workload: %d workers; %d background tasks of %v CPU each (Low);\n", w.workers, w.background, w.bgCost)
	fmt.Printf("          %d interactive tasks (High), one every %v, arriving while the backlog drains.\n\n", w.requests, w.interval)

	progress("echo (pool with priorities)")
	echoLat, echoWall := runEcho(w)
	progress("errgroup with SetLimit (first come, first served)")
	egLat, egWall := runErrgroup(w)
	progressDone()

	fmt.Println("Time from submit to start of the interactive (High) tasks:")
	fmt.Printf("%-30s %10s %10s %10s %12s\n", "", "p50", "p99", "max", "total wall")
	row := func(name string, lat []time.Duration, wall time.Duration) {
		fmt.Printf("%-30s %10s %10s %10s %12s\n", name,
			round(pct(lat, 50)), round(pct(lat, 99)), round(pct(lat, 100)), round(wall))
	}
	row("echo, High over Low", echoLat, echoWall)
	row("errgroup + SetLimit(2)", egLat, egWall)
	if p := pct(echoLat, 99); p > 0 {
		fmt.Printf("\nAt p99 an interactive task waits %.0fx less on echo.\n", float64(pct(egLat, 99))/float64(p))
	}
}

// runEcho runs the workload in one scope on a two-worker pool: background
// children at Low, interactive children at High.
func runEcho(w workload) (lat []time.Duration, wall time.Duration) {
	p := pool.New(pool.WithWorkers(w.workers))
	defer p.Stop(context.Background())

	rec := newRecorder(w.requests)
	start := time.Now()
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		for range w.background {
			echo.Go(ctx, echo.Low, func(context.Context) error { spin(w.bgCost); return nil })
		}
		tick := time.NewTicker(w.interval)
		defer tick.Stop()
		for range w.requests {
			<-tick.C
			submitted := time.Now()
			echo.Go(ctx, echo.High, func(context.Context) error { rec.add(time.Since(submitted)); return nil })
		}
		return nil
	}, echo.WithPool(p))
	if err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
	return rec.sorted(), time.Since(start)
}

// runErrgroup runs the same workload on errgroup bounded to the same number
// of running tasks. errgroup has no queue: Go blocks while the limit is
// reached, so the backlog is what a busy server has, many goroutines each
// waiting in g.Go, and they are let in first come, first served.
func runErrgroup(w workload) (lat []time.Duration, wall time.Duration) {
	var g errgroup.Group
	g.SetLimit(w.workers)

	rec := newRecorder(w.requests)
	start := time.Now()
	// Plug the slots so the backlog can line up: otherwise the Go scheduler
	// runs each backlog goroutine only as a slot frees, and no queue forms.
	gate := make(chan struct{})
	for range w.workers {
		g.Go(func() error { <-gate; return nil })
	}
	var backlog sync.WaitGroup
	var arrived atomic.Int64
	for range w.background {
		backlog.Go(func() {
			arrived.Add(1)
			g.Go(func() error { spin(w.bgCost); return nil })
		})
	}
	// As on echo, the whole backlog waits before the first High task: every
	// backlog goroutine has reached g.Go (it blocks there within
	// nanoseconds; yielding gives the last ones time to get there).
	for arrived.Load() < int64(w.background) {
		runtime.Gosched()
	}
	for range 100 {
		runtime.Gosched()
	}
	close(gate)
	// Requests arrive on their own schedule, each from its own goroutine
	// (as in a server), so a request waiting in g.Go does not hold back the
	// next one.
	tick := time.NewTicker(w.interval)
	for range w.requests {
		<-tick.C
		submitted := time.Now()
		backlog.Go(func() { g.Go(func() error { rec.add(time.Since(submitted)); return nil }) })
	}
	tick.Stop()
	backlog.Wait()
	if err := g.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "errgroup:", err)
		os.Exit(1)
	}
	return rec.sorted(), time.Since(start)
}

// recorder collects latencies from concurrently running tasks.
type recorder struct {
	mu  sync.Mutex
	lat []time.Duration
}

func newRecorder(n int) *recorder { return &recorder{lat: make([]time.Duration, 0, n)} }

func (r *recorder) add(d time.Duration) { r.mu.Lock(); r.lat = append(r.lat, d); r.mu.Unlock() }

func (r *recorder) sorted() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := slices.Clone(r.lat)
	slices.Sort(s)
	return s
}

// pct returns the q-th percentile of sorted latencies (100 is the maximum).
func pct(sorted []time.Duration, q int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*q + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

// spin burns d of CPU time, as a CPU-bound background task does.
func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// progress says what runs now: on a terminal as one line redrawn in place,
// elsewhere (a pipe, a file, a CI log) as plain lines without control codes.
func progress(what string) {
	if terminal(os.Stdout) {
		fmt.Printf("\r\033[Krunning: %s ...", what)
	} else {
		fmt.Printf("running: %s ...\n", what)
	}
}

// progressDone clears the progress line on a terminal, or ends the plain
// progress lines with an empty one.
func progressDone() {
	if terminal(os.Stdout) {
		fmt.Print("\r\033[K")
	} else {
		fmt.Println()
	}
}

// terminal reports whether f is a terminal (a character device).
func terminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
