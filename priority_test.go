package echo

import (
	"context"
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
