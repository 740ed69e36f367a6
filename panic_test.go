package echo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

//go:noinline
func panickingChild(context.Context) error {
	panic("echo_test: boom")
}

// A panic becomes a *PanicError with the panicking goroutine's stack, it
// cancels the siblings at once (while they still run), and it counts as
// the scope's error.
func TestPanicBecomesPanicErrorAndCancelsSiblings(t *testing.T) {
	p := newPool(t, 2)
	var siblingCause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			siblingCause = context.Cause(ctx)
			return ctx.Err()
		})
		<-started
		Go(ctx, Normal, panickingChild)
		return nil
	}, WithPool(p))
	var pe *PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("Nursery = %v; want a *PanicError", err)
	}
	if err != error(pe) {
		t.Fatalf("Nursery = %v; want the *PanicError alone (the sibling's cancellation is not reported)", err)
	}
	if pe.Value != "echo_test: boom" {
		t.Fatalf("Value = %v; want the panic value", pe.Value)
	}
	if !strings.Contains(string(pe.Stack), "panickingChild") {
		t.Fatalf("Stack does not show the panicking function:\n%s", pe.Stack)
	}
	if !strings.Contains(pe.Error(), "echo_test: boom") {
		t.Fatalf("Error() = %q; want the value", pe.Error())
	}
	if siblingCause != err {
		t.Fatalf("sibling saw cause %v; want the *PanicError", siblingCause)
	}
}

// Unwrap exposes an error panic value (e.g. a runtime error) to errors.Is/As.
func TestPanicErrorUnwrap(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(context.Context) error { panic(errA) })
		return nil
	})
	if !errors.Is(err, errA) {
		t.Fatalf("Nursery = %v; want errors.Is(err, errA) through PanicError.Unwrap", err)
	}
	err = Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(context.Context) error {
			m := nilMap()
			m["x"] = 1 // runtime error: assignment to entry in nil map
			return nil
		})
		return nil
	})
	var re runtime.Error
	if !errors.As(err, &re) {
		t.Fatalf("Nursery = %v; want a runtime.Error via Unwrap", err)
	}
	if (&PanicError{Value: "text"}).Unwrap() != nil {
		t.Fatal("Unwrap of a non-error value is not nil")
	}
}

// panic(nil) is still a panic (Go 1.21+: *runtime.PanicNilError).
func TestPanicNil(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(context.Context) error { panic(nil) })
		return nil
	})
	var pn *runtime.PanicNilError
	if !errors.As(err, &pn) {
		t.Fatalf("Nursery = %v; want a PanicError wrapping *runtime.PanicNilError", err)
	}
}

// A panicking body is reported like a child's panic, after the children.
func TestBodyPanic(t *testing.T) {
	var childCause error
	err := Nursery(context.Background(), func(ctx context.Context) error {
		started := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			childCause = context.Cause(ctx)
			return nil
		})
		<-started
		panic("echo_test: body")
	})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "echo_test: body" {
		t.Fatalf("Nursery = %v; want *PanicError of the body", err)
	}
	if childCause != err {
		t.Fatalf("child saw cause %v; want the body's *PanicError", childCause)
	}
}

// runtime.Goexit in a child: the child counts as done with no error and
// Wait does not hang.
func TestChildGoexit(t *testing.T) {
	p := newPool(t, 2)
	within(t, timeoutLong, "Nursery with a Goexit child", func() {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			started := make(chan struct{})
			Go(ctx, Normal, func(context.Context) error {
				close(started)
				runtime.Goexit()
				return errA
			})
			<-started // runs on a pool worker, not on the waiter
			return nil
		}, WithPool(p))
		if err != nil {
			t.Errorf("Nursery = %v; want nil (Goexit is done with no error)", err)
		}
	})
}

// runtime.Goexit in the body (t.FailNow does this): the children are
// cancelled and joined before the goroutine exits.
func TestBodyGoexitJoinsChildren(t *testing.T) {
	var childFinished atomic.Bool
	var childCause error
	type outcome struct{ returned, childFinished bool }
	exited := make(chan outcome, 1)
	go func() {
		returned := false
		defer func() { exited <- outcome{returned, childFinished.Load()} }()
		Nursery(context.Background(), func(ctx context.Context) error {
			started := make(chan struct{})
			Go(ctx, Normal, func(ctx context.Context) error {
				close(started)
				<-ctx.Done()
				childCause = context.Cause(ctx)
				childFinished.Store(true)
				return nil
			})
			<-started
			runtime.Goexit()
			return nil
		})
		returned = true
	}()
	got := <-exited
	if got.returned {
		t.Fatal("Nursery returned normally after its body called Goexit")
	}
	if !got.childFinished {
		t.Fatal("the goroutine exited before Nursery joined the child")
	}
	if childCause != errBodyGoexit {
		t.Fatalf("child saw cause %v; want errBodyGoexit", childCause)
	}
}

// nilMap returns a nil map, for a test that needs a runtime.Error panic.
func nilMap() map[string]int { return nil }

// PanicError.Error is one line (a handler may write it to a client): the
// stack stays in Stack, and %+v and slog (LogValuer) print it.
func TestPanicErrorIsOneLineStackInPlusVAndSlog(t *testing.T) {
	for _, value := range []any{"echo_test: boom", "two\nlines", errA} {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			Go(ctx, Normal, func(ctx context.Context) error { panickingWith(value); return nil })
			return nil
		})
		var pe *PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Nursery = %v; want a *PanicError", err)
		}
		for _, s := range []string{pe.Error(), fmt.Sprint(pe), fmt.Sprintf("%s", pe), fmt.Sprintf("%v", err)} {
			if strings.Contains(s, "\n") || strings.Contains(s, "goroutine") || !strings.Contains(s, "recovered panic") {
				t.Errorf("panic %q: %q; want one line with the value and no stack", value, s)
			}
		}
		if got, want := fmt.Sprintf("%q", pe), strconv.Quote(pe.Error()); got != want {
			t.Errorf("%%q = %s, want %s", got, want)
		}
		for _, verb := range []string{"%+v"} {
			s := fmt.Sprintf(verb, pe)
			if !strings.HasPrefix(s, pe.Error()+"\n") || !strings.Contains(s, "panickingWith") {
				t.Errorf("%s of the *PanicError = %q; want Error() then the stack naming panickingWith", verb, s)
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Error("child failed", "err", pe)
		var rec struct {
			Err struct{ Panic, Stack string }
		}
		if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
			t.Fatalf("slog JSON %s: %v", buf.Bytes(), err)
		}
		if rec.Err.Panic != fmt.Sprint(value) || !strings.Contains(rec.Err.Stack, "panickingWith") {
			t.Errorf("slog logged %s; want err.panic = the value and err.stack naming panickingWith", buf.Bytes())
		}
	}
}

//go:noinline
func panickingWith(v any) { panic(v) }
