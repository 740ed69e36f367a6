package pool

import (
	"context"
	"testing"
)

// testPool is a stopped pool: argument checks come before the closed check.
var testPool = func() *Pool {
	p := New(WithWorkers(1))
	p.Stop(context.Background())
	return p
}()

func TestDefault(t *testing.T) {
	if a, b := Default(), Default(); a != b {
		t.Fatal("Default returned two pools")
	}
	done := make(chan struct{})
	if err := Default().Submit(bg, Normal, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	recv(t, done, "a task on the Default pool")
	// TestMain stops Default at exit.
}

func TestWithName(t *testing.T) {
	p := New(WithWorkers(1), WithName("named"), WithCPUPinning())
	defer stop(t, p)
	done := make(chan struct{})
	if err := p.Submit(bg, Normal, func() { close(done) }); err != nil {
		t.Fatal(err)
	}
	recv(t, done, "a task on a named, pinned pool")
}
