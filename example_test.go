package echo_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/echo-scheduler/echo"
)

// A request handler fans out to three backends in a scope. High work is
// started before Low work when the pool is busy; Wait (here, inside
// Nursery) joins all three.
func Example() {
	ctx := context.Background()
	results := make([]string, 3)
	err := echo.Nursery(ctx, func(ctx context.Context) error {
		echo.Go(ctx, echo.High, func(ctx context.Context) error {
			results[0] = "user"
			return nil
		})
		echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
			results[1] = "orders"
			return nil
		})
		echo.Go(ctx, echo.Low, func(ctx context.Context) error {
			results[2] = "recommendations"
			return nil
		})
		return nil
	})
	fmt.Println(results, err)
	// Output: [user orders recommendations] <nil>
}

// The first failure cancels the siblings; their cancellation is not
// reported, so Nursery returns just the failure.
func ExampleNursery() {
	errNotFound := errors.New("not found")
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
			close(started)
			<-ctx.Done() // a slow backend, cut short
			return ctx.Err()
		})
		<-started
		echo.Go(ctx, echo.High, func(ctx context.Context) error {
			return errNotFound
		})
		return nil
	})
	fmt.Println(err, err == errNotFound)
	// Output: not found true
}

// Start waits until a child is ready (here: a server listening), and then
// lets it run on as a member of the scope.
func ExampleStart() {
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		addr, err := echo.Start(ctx, echo.High, func(ctx context.Context, ready func(net.Addr)) error {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return err // goes to the Start caller
			}
			defer ln.Close()
			ready(ln.Addr())
			echo.Go(ctx, echo.Low, func(ctx context.Context) error {
				<-ctx.Done() // the scope ends: stop accepting
				ln.Close()
				return nil
			})
			for {
				conn, err := ln.Accept()
				if err != nil {
					return nil
				}
				conn.Write([]byte("hello\n"))
				conn.Close()
			}
		})
		if err != nil {
			return err
		}
		conn, err := net.Dial("tcp", addr.String())
		if err != nil {
			return err
		}
		defer conn.Close()
		buf := make([]byte, 6)
		if _, err := conn.Read(buf); err != nil {
			return err
		}
		fmt.Printf("%s", buf)
		echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
			return errors.New("done") // ends the scope, and so the server
		})
		return nil
	})
	fmt.Println(err)
	// Output:
	// hello
	// done
}

// Group is errgroup: change the import, keep the code.
func ExampleGroup() {
	g, ctx := echo.WithContext(context.Background())
	lengths := make([]int, 3)
	for i, word := range []string{"echo", "structured", "concurrency"} {
		g.Go(func() error {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			lengths[i] = len(word)
			return nil
		})
	}
	err := g.Wait()
	fmt.Println(lengths, err)
	// Output: [4 10 11] <nil>
}

// WithLimit bounds how many children are active at once.
func ExampleWithLimit() {
	var active, peak atomic.Int32
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		for range 100 {
			echo.Go(ctx, echo.Normal, func(ctx context.Context) error {
				n := active.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				active.Add(-1)
				return nil
			})
		}
		return nil
	}, echo.WithLimit(2))
	fmt.Println("at most 2 active:", peak.Load() <= 2, err)
	// Output: at most 2 active: true <nil>
}

// A long-lived supervisor logs each failure as it happens instead of
// keeping it for Wait, so it holds no memory for the failures it has seen.
func ExampleWithErrorHandler() {
	var failures atomic.Int64
	bg, ctx := echo.NewScope(context.Background(), echo.WithCollectAll(),
		echo.WithErrorHandler(func(err error) {
			failures.Add(1) // e.g. slog.Error("background job failed", "err", err)
		}))
	for i := range 5 {
		echo.Go(ctx, echo.Low, func(context.Context) error {
			if i%2 == 0 {
				return fmt.Errorf("job %d failed", i)
			}
			return nil
		})
	}
	fmt.Println(bg.Wait(), failures.Load())
	// Output: <nil> 3
}

// Cancelling a scope skips its queued children, and Wait says how many;
// the error still matches context.Canceled. To lose nothing, stop feeding
// the scope and Wait without Cancel.
func ExampleSkippedError() {
	s, ctx := echo.NewScope(context.Background())
	s.Cancel(nil) // shutdown
	for range 3 {
		echo.Go(ctx, echo.Normal, func(context.Context) error { return nil })
	}
	err := s.Wait()
	var skipped *echo.SkippedError
	if errors.As(err, &skipped) {
		fmt.Println(skipped.Skipped, "jobs never ran;", errors.Is(err, context.Canceled))
	}
	// Output: 3 jobs never ran; true
}

// A request that knows it is urgent says so. Its body, and scopes nested
// under its ctx, run at High; and while the Nursery waits, its queued Normal
// and Low children run at High too, ahead of the process's Normal work.
func ExampleWithPriority() {
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		fmt.Println("the handler runs at", echo.PriorityOf(ctx))
		echo.Go(ctx, echo.Low, func(ctx context.Context) error { return nil }) // lifted while the Nursery waits
		return nil
	}, echo.WithPriority(echo.High))
	fmt.Println(err)
	// Output:
	// the handler runs at high
	// <nil>
}
