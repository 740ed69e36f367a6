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
