// Command forkjoin computes in parallel by recursion through nested scopes on
// a pool of only two workers. Every level opens a Nursery, forks its halves
// and waits for them. On pools without help-while-waiting, a worker that waits
// holds its slot and the recursion deadlocks once the waits outnumber the
// workers; Echo's Wait runs the scope's queued children itself and lends the
// pool a spare worker while it blocks, so this finishes.
//
//	go run ./examples/forkjoin
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

func main() {
	n := flag.Int("n", 30, "compute fib(n)")
	cutoff := flag.Int("cutoff", 15, "below this n compute sequentially")
	workers := flag.Int("workers", 2, "pool workers")
	flag.Parse()

	p := pool.New(pool.WithWorkers(*workers))
	defer p.Stop(context.Background())

	start := time.Now()
	var got int
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		var err error
		got, err = fib(ctx, *n, *cutoff)
		return err
	}, echo.WithPool(p))
	if err != nil {
		fmt.Fprintln(os.Stderr, "forkjoin:", err)
		os.Exit(1)
	}
	par := time.Since(start)

	start = time.Now()
	want := seqFib(*n)
	seq := time.Since(start)
	if got != want {
		fmt.Fprintf(os.Stderr, "forkjoin: fib(%d) = %d, want %d\n", *n, got, want)
		os.Exit(1)
	}
	fmt.Printf("fib(%d) = %d through nested scopes on a %d-worker pool in %v (sequential: %v)\n",
		*n, got, *workers, par.Round(time.Millisecond), seq.Round(time.Millisecond))
	fmt.Printf("pool: %v\n", p.Stats())
}

// fib forks fib(n-1) and fib(n-2) into a nested scope and waits for both.
func fib(ctx context.Context, n, cutoff int) (int, error) {
	if n < cutoff {
		return seqFib(n), nil
	}
	var a, b int
	err := echo.Nursery(ctx, func(ctx context.Context) error {
		echo.Go(ctx, echo.Normal, func(ctx context.Context) (err error) {
			a, err = fib(ctx, n-1, cutoff)
			return err
		})
		echo.Go(ctx, echo.Normal, func(ctx context.Context) (err error) {
			b, err = fib(ctx, n-2, cutoff)
			return err
		})
		return nil
	})
	return a + b, err
}

func seqFib(n int) int {
	if n < 2 {
		return n
	}
	return seqFib(n-1) + seqFib(n-2)
}
