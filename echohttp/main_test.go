package echohttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/echo-scheduler/echo/pool"
)

// TestMain runs the tests, stops the default pool (its workers would
// otherwise live until the process exits), and checks that no goroutine is
// left: every test closes its servers and its clients' idle connections.
func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if err := pool.Default().Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "stopping pool.Default:", err)
		code = 1
	}
	cancel()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// wait waits for ch to be closed (or to deliver), failing the test with
// what did not happen after d.
func wait[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("after %v: %s did not happen", d, what)
		panic("unreachable")
	}
}

// newPool returns a pool of n workers that cannot grow, stopped when the
// test ends.
func newPool(t *testing.T, n int) *pool.Pool {
	t.Helper()
	p := pool.New(pool.WithWorkers(n), pool.WithMaxWorkers(n))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stopping the test pool: %v", err)
		}
	})
	return p
}

// get sends a GET to url with the given Priority header lines and returns
// the status, the Retry-After header and the body.
func get(t *testing.T, c *http.Client, url string, prio ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range prio {
		req.Header.Add("Priority", v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(body)
}

// logBuffer is a slog logger writing text to a buffer, safe for concurrent
// use and for reading after the requests are done.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
