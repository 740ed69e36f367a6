package echohttp

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/echo-scheduler/echo"
)

// untilStatus sends requests at priority prio until one is answered with
// want, and fails with what did not happen after d.
func untilStatus(t *testing.T, c *http.Client, url, prio string, want int, d time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, retry, _ := get(t, c, url, prio)
		if code == want {
			return retry
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: a request with Priority %q was not answered %d (last: %d)", d, prio, want, code)
		}
	}
}

func TestSheddingRejectsLowFirstAndKeepsServingHigh(t *testing.T) {
	p := newPool(t, 1)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(Handler(ok, WithPool(p), WithShedding(20*time.Millisecond, 1500*time.Millisecond)))
	defer srv.Close()
	c := srv.Client()
	const high, normal, low = "u=0", "u=3", "u=7"

	for _, prio := range []string{high, normal, low} {
		if code, _, _ := get(t, c, srv.URL, prio); code != http.StatusOK {
			t.Fatalf("idle pool: Priority %s answered %d; want 200", prio, code)
		}
	}

	// Occupy the only worker, then queue a Low task behind it: Low's wait
	// grows while Normal and High have nothing queued.
	running := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // also when the test fails early, so the pool can stop
	p.Go(context.Background(), echo.High, func(context.Context) { close(running); <-release })
	wait(t, running, 10*time.Second, "the blocking task starting")
	lowRan := make(chan struct{})
	p.Go(context.Background(), echo.Low, func(context.Context) { close(lowRan) })

	if retry := untilStatus(t, c, srv.URL, low, http.StatusServiceUnavailable, 10*time.Second); retry != "2" {
		t.Errorf("Retry-After %q; want \"2\" (1.5 s rounded up)", retry)
	}
	for _, prio := range []string{high, normal} {
		if code, _, _ := get(t, c, srv.URL, prio); code != http.StatusOK {
			t.Errorf("only Low waits: Priority %s answered %d; want 200", prio, code)
		}
	}

	// Now Normal waits too: Normal and Low are shed, High is served.
	normalRan := make(chan struct{})
	p.Go(context.Background(), echo.Normal, func(context.Context) { close(normalRan) })
	untilStatus(t, c, srv.URL, normal, http.StatusServiceUnavailable, 10*time.Second)
	if code, _, _ := get(t, c, srv.URL, low); code != http.StatusServiceUnavailable {
		t.Errorf("Normal waits: Low answered %d; want 503", code)
	}
	if code, _, _ := get(t, c, srv.URL, high); code != http.StatusOK {
		t.Errorf("Normal waits: High answered %d; want 200", code)
	}

	// The backlog drains: everything is served again.
	unblock()
	wait(t, normalRan, 10*time.Second, "the queued Normal task running")
	wait(t, lowRan, 10*time.Second, "the queued Low task running")
	untilStatus(t, c, srv.URL, low, http.StatusOK, 10*time.Second)
	if code, _, _ := get(t, c, srv.URL, normal); code != http.StatusOK {
		t.Errorf("after the backlog drained: Normal answered %d; want 200", code)
	}
}

func TestSheddingWhenHighWaitsTurnsAwayNormalAndLowButNotHigh(t *testing.T) {
	p := newPool(t, 1)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(Handler(ok, WithPool(p), WithShedding(20*time.Millisecond, 0)))
	defer srv.Close()
	c := srv.Client()

	running := make(chan struct{})
	release := make(chan struct{})
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	defer unblock() // also when the test fails early, so the pool can stop
	p.Go(context.Background(), echo.High, func(context.Context) { close(running); <-release })
	wait(t, running, 10*time.Second, "the blocking task starting")
	highRan := make(chan struct{})
	p.Go(context.Background(), echo.High, func(context.Context) { close(highRan) })

	if retry := untilStatus(t, c, srv.URL, "u=3", http.StatusServiceUnavailable, 10*time.Second); retry != "1" {
		t.Errorf("Retry-After %q; want \"1\" (the minimum)", retry)
	}
	if code, _, _ := get(t, c, srv.URL, "u=7"); code != http.StatusServiceUnavailable {
		t.Errorf("High waits: Low answered %d; want 503", code)
	}
	if code, _, _ := get(t, c, srv.URL, "u=0"); code != http.StatusOK {
		t.Errorf("High waits: High answered %d; want 200 (High is never shed)", code)
	}
	unblock()
	wait(t, highRan, 10*time.Second, "the queued High task running")
}
