package pool

import (
	"context"
	"testing"
	"time"
)

// stop stops p and fails the test if that takes more than 10 s.
func stop(t testing.TB, p *Pool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// waitFor polls cond until it holds, failing with what after 10 s. It is
// for conditions with no event to wait on (counters inside the pool).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10s waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recv waits for a value on ch, failing with what after 10 s.
func recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out after 10s waiting for %s", what)
		panic("unreachable")
	}
}

// gate occupies the only worker of p until the returned release is called;
// it returns once the gate task is running.
func gate(t testing.TB, p *Pool) (release func()) {
	t.Helper()
	running := make(chan struct{})
	rel := make(chan struct{})
	if err := p.Submit(context.Background(), High, func() { close(running); <-rel }); err != nil {
		t.Fatalf("Submit gate: %v", err)
	}
	recv(t, running, "the gate task to start")
	return func() { close(rel) }
}

var bg = context.Background()
