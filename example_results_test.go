package echo_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/echo-scheduler/echo"
)

// A request handler asks three backends for a price at once and gets the
// answers back in the order it asked, or the first failure (the other
// calls are then cancelled).
func ExampleMap() {
	prices := map[string]int{"eu.example": 120, "us.example": 95, "ap.example": 130}
	quote := func(ctx context.Context, backend string) (int, error) {
		// A real handler makes an RPC with ctx here.
		p, ok := prices[backend]
		if !ok {
			return 0, fmt.Errorf("%s: no such backend", backend)
		}
		return p, nil
	}

	ctx := context.Background()
	quotes, err := echo.Map(ctx, echo.High, []string{"eu.example", "us.example", "ap.example"}, quote,
		echo.WithTimeout(time.Second), echo.WithName("quotes"))
	fmt.Println(quotes, err)

	_, err = echo.Map(ctx, echo.High, []string{"eu.example", "mars.example"}, quote)
	fmt.Println(err)
	// Output:
	// [120 95 130] <nil>
	// mars.example: no such backend
}

// replica stands in for an HTTP client: get returns a response body that,
// like an *http.Response's, can only be read while the request's ctx is
// live. A replica that is slow answers only once its ctx is cancelled.
type replica struct {
	name string
	slow bool
}

func (r replica) get(ctx context.Context, key string) (io.ReadCloser, error) {
	if r.slow {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &ctxBody{ctx: ctx, r: strings.NewReader(key + " from " + r.name)}, nil
}

type ctxBody struct {
	ctx context.Context
	r   io.Reader
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err // the connection went with the request's ctx
	}
	return b.r.Read(p)
}

func (b *ctxBody) Close() error { return nil }

// Hedge two replicas: whichever answers first wins and the other is
// cancelled. The body is read and closed inside fn: once First returns,
// the winner's ctx is cancelled too, so a body returned unread from fn
// could no longer be read (the bug hedging code keeps hitting).
func ExampleFirst() {
	ask := func(r replica) func(ctx context.Context) ([]byte, error) {
		return func(ctx context.Context) ([]byte, error) {
			body, err := r.get(ctx, "user 42")
			if err != nil {
				return nil, err
			}
			defer body.Close()
			return io.ReadAll(body) // consume it here, while ctx is live
		}
	}
	a, b := replica{name: "replica-a", slow: true}, replica{name: "replica-b"}
	v, err := echo.First(context.Background(), echo.High, ask(a), ask(b))
	fmt.Printf("%s %v\n", v, err)

	// The mistake: returning the body and reading it after First.
	body, err := echo.First(context.Background(), echo.High, func(ctx context.Context) (io.ReadCloser, error) {
		return b.get(ctx, "user 42")
	})
	if err == nil {
		_, err = io.ReadAll(body)
	}
	fmt.Println(err)
	// Output:
	// user 42 from replica-b <nil>
	// context canceled
}

// Hedge asks the second replica only if the first has not answered within
// d (here the first never does): most requests cost one call, and a slow
// replica costs d more, not a timeout.
func ExampleHedge() {
	slow, fast := replica{name: "replica-a", slow: true}, replica{name: "replica-b"}
	ask := func(r replica) func(ctx context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			body, err := r.get(ctx, "user 42")
			if err != nil {
				return "", err
			}
			defer body.Close()
			b, err := io.ReadAll(body)
			return string(b), err
		}
	}
	v, err := echo.Hedge(context.Background(), echo.High, 10*time.Millisecond, ask(slow), ask(fast))
	fmt.Println(v, err)
	// Output: user 42 from replica-b <nil>
}

// Parse a large file's lines concurrently and consume the records in file
// order. Stream takes lines from the scanner only as the window frees up,
// so memory stays bounded however large the file; a malformed line ends
// the stream at its position.
func ExampleStream() {
	// An in-memory stand-in for a large log file: "id=N bytes=M" lines.
	var file strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&file, "id=%d bytes=%d\n", i, i%100)
	}
	file.WriteString("id=oops\n")

	lines := func(r io.Reader) iter.Seq[string] {
		return func(yield func(string) bool) {
			sc := bufio.NewScanner(r)
			for sc.Scan() && yield(sc.Text()) {
			}
		}
	}
	type record struct{ id, bytes int }
	parse := func(ctx context.Context, line string) (record, error) {
		var rec record
		for _, field := range strings.Fields(line) {
			k, v, _ := strings.Cut(field, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				return record{}, fmt.Errorf("line %q: %s: %w", line, k, err)
			}
			switch k {
			case "id":
				rec.id = n
			case "bytes":
				rec.bytes = n
			}
		}
		return rec, nil
	}

	total, n, next := 0, 0, 0
	for rec, err := range echo.Stream(context.Background(), echo.Low, lines(strings.NewReader(file.String())), parse) {
		if err != nil {
			fmt.Println("stopped:", err)
			break
		}
		if rec.id != next {
			fmt.Println("out of order") // never: Stream keeps input order
		}
		next++
		total += rec.bytes
		n++
	}
	fmt.Println(n, "records,", total, "bytes")
	// Output:
	// stopped: line "id=oops": id: strconv.Atoi: parsing "oops": invalid syntax
	// 10000 records, 495000 bytes
}
