package echo

import (
	"context"
	"slices"
	"sync"
	"testing"
)

// WithPriority sets the priority of the code that opens the scope: the
// body's ctx and nested scopes carry it; children carry their own; a ctx
// with no scope is Normal.
func TestWithPrioritySetsTheOpenersPriority(t *testing.T) {
	if got := PriorityOf(context.Background()); got != Normal {
		t.Fatalf("PriorityOf(Background) = %v, want normal", got)
	}
	p := newPool(t, 2)
	var body, nested, child, childScope Priority
	err := Nursery(context.Background(), func(ctx context.Context) error {
		body = PriorityOf(ctx)
		Nursery(ctx, func(ctx context.Context) error { nested = PriorityOf(ctx); return nil })
		Go(ctx, High, func(ctx context.Context) error {
			child = PriorityOf(ctx)
			return Nursery(ctx, func(ctx context.Context) error { childScope = PriorityOf(ctx); return nil })
		})
		return nil
	}, WithPool(p), WithPriority(Low))
	if err != nil {
		t.Fatal(err)
	}
	if body != Low || nested != Low || child != High || childScope != High {
		t.Errorf("body %v, nested scope %v, High child %v, scope opened by the child %v; want low, low, high, high",
			body, nested, child, childScope)
	}
	// An explicit option overrides what the ctx carries.
	Nursery(context.Background(), func(ctx context.Context) error {
		Nursery(ctx, func(ctx context.Context) error { nested = PriorityOf(ctx); return nil }, WithPriority(High))
		return nil
	}, WithPool(p), WithPriority(Low))
	if nested != High {
		t.Errorf("nested scope WithPriority(High) under a Low scope runs at %v, want high", nested)
	}
}

// The zero Priority is Normal, so a struct field nobody set is ordinary
// work, not the most urgent; the order High > Normal > Low holds in the
// pool: a busy 1-worker pool starts queued work most urgent first.
func TestZeroPriorityIsNormal(t *testing.T) {
	var zero Priority
	if zero != Normal || zero.String() != "normal" {
		t.Fatalf("the zero Priority is %v (%q); want Normal (\"normal\")", zero, zero.String())
	}
	p := newPool(t, 1)
	gate := make(chan struct{})
	started := make(chan struct{})
	if err := p.Go(context.Background(), Normal, func(context.Context) { close(started); <-gate }); err != nil {
		t.Fatal(err)
	}
	<-started
	var mu sync.Mutex
	var order []Priority
	var wg sync.WaitGroup
	for _, prio := range []Priority{Low, Normal, High, Low, High, Normal} {
		wg.Add(1)
		if err := p.Go(context.Background(), prio, func(context.Context) {
			mu.Lock()
			order = append(order, prio)
			mu.Unlock()
			wg.Done()
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(gate)
	within(t, timeoutLong, "the queued tasks", wg.Wait)
	want := []Priority{High, High, Normal, Normal, Low, Low}
	if !slices.Equal(order, want) {
		t.Fatalf("a 1-worker pool started queued tasks in the order %v; want %v", order, want)
	}
}
