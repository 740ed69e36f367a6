package pool

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func TestBadInputPanics(t *testing.T) {
	fn := func() {}
	cfn := func(context.Context) {}
	var nilCtx context.Context
	tests := []struct {
		name, want string
		f          func()
	}{
		{"WithWorkers(0)", "WithWorkers called with n = 0", func() { WithWorkers(0) }},
		{"WithQueueCapacity(0)", "WithQueueCapacity called with n = 0", func() { WithQueueCapacity(0) }},
		{"WithQueueCapacity(-1)", "WithQueueCapacity called with n = -1", func() { WithQueueCapacity(-1) }},
		{"WithMaxWorkers(0)", "WithMaxWorkers called with n = 0", func() { WithMaxWorkers(0) }},
		{"WithIdleTimeout(0)", "WithIdleTimeout called with d = 0s", func() { WithIdleTimeout(0) }},
		{"WithPanicHandler(nil)", "WithPanicHandler called with a nil handler", func() { WithPanicHandler(nil) }},
		{"max below workers", "WithMaxWorkers(2) below the 4 base workers", func() { New(WithWorkers(4), WithMaxWorkers(2)) }},
		{"Submit nil fn", "Submit called with a nil function", func() { testPool.Submit(bg, Normal, nil) }},
		{"Submit bad priority", "Submit called with invalid priority Priority(7)", func() { testPool.Submit(bg, 7, fn) }},
		{"Submit nil ctx", "Submit called with a nil context", func() { testPool.Submit(nilCtx, Normal, fn) }},
		{"TrySubmit nil fn", "TrySubmit called with a nil function", func() { testPool.TrySubmit(Normal, nil) }},
		{"Go nil fn", "Go called with a nil function", func() { testPool.Go(bg, Normal, nil) }},
		{"Go nil ctx", "Go called with a nil context", func() { testPool.Go(nilCtx, Normal, cfn) }},
		{"TryGo bad priority", "TryGo called with invalid priority Priority(3)", func() { testPool.TryGo(bg, 3, cfn) }},
		{"Block nil fn", "Block called with a nil function", func() { Block(bg, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("did not panic")
				}
				if msg := fmt.Sprint(r); !strings.HasPrefix(msg, "pool: ") || !strings.Contains(msg, tt.want) {
					t.Fatalf("panic %q, want it to contain %q", msg, tt.want)
				}
			}()
			tt.f()
		})
	}
}

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
