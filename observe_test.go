package echo

import (
	"bytes"
	"context"
	"runtime/pprof"
	"runtime/trace"
	"testing"
)

// WithName puts the scope's name and each child's priority in pprof labels
// (pprof.Do also puts them in the ctx it passes on, which the child sees).
// The scope is opened at Low, so its Wait lifts no child.
func TestWithNamePprofLabels(t *testing.T) {
	type labels struct{ scope, prio string }
	var got [3]labels
	err := Nursery(context.Background(), func(ctx context.Context) error {
		for i, p := range []Priority{High, Normal, Low} {
			Go(ctx, p, func(ctx context.Context) error {
				got[i].scope, _ = pprof.Label(ctx, "echo.scope")
				got[i].prio, _ = pprof.Label(ctx, "echo.priority")
				return nil
			})
		}
		return nil
	}, WithName("checkout"), WithPriority(Low))
	if err != nil {
		t.Fatal(err)
	}
	want := [3]labels{{"checkout", "high"}, {"checkout", "normal"}, {"checkout", "low"}}
	if got != want {
		t.Fatalf("labels = %v; want %v", got, want)
	}
}

// Unnamed scopes add no labels.
func TestUnnamedScopeHasNoLabels(t *testing.T) {
	var ok bool
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, High, func(ctx context.Context) error {
			_, ok = pprof.Label(ctx, "echo.priority")
			return nil
		})
		return nil
	})
	if err != nil || ok {
		t.Fatalf("Nursery = %v, label present = %v; want nil, false", err, ok)
	}
}

// With tracing on, a named scope is a trace task and children are regions;
// the trace must at least record them without error.
func TestTraceTaskAndRegions(t *testing.T) {
	if trace.IsEnabled() {
		t.Skip("tracing already enabled by the test binary")
	}
	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Fatal(err)
	}
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Low, func(ctx context.Context) error { return nil })
		return nil
	}, WithName("traced"), WithPriority(Low))
	trace.Stop()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"echo.scope traced", "echo.child low"} {
		if !bytes.Contains(buf.Bytes(), []byte(s)) {
			t.Errorf("trace does not mention %q", s)
		}
	}
}
