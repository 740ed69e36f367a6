package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sync/errgroup"
)

// group is the API that errgroup.Group and Group share. The compatibility
// tests run against both through it, so that "drop-in replacement" is
// checked against the original, not just claimed.
type group interface {
	Go(f func() error)
	TryGo(f func() error) bool
	SetLimit(n int)
	Wait() error
}

type groupImpl struct {
	name        string
	zero        func() group
	withContext func(ctx context.Context) (group, context.Context)
}

var groupImpls = []groupImpl{
	{"errgroup", func() group { return new(errgroup.Group) },
		func(ctx context.Context) (group, context.Context) { return errgroup.WithContext(ctx) }},
	{"echo.Group", func() group { return new(Group) },
		func(ctx context.Context) (group, context.Context) { return WithContext(ctx) }},
}

// forEachGroup runs test as a subtest against errgroup and against Group.
func forEachGroup(t *testing.T, test func(t *testing.T, gi groupImpl)) {
	for _, gi := range groupImpls {
		t.Run(gi.name, func(t *testing.T) { test(t, gi) })
	}
}

// A zero Group: Wait returns the identical first error, and keeps returning
// it when Go follows Wait, as errgroup's Group does. (Neither promises
// reuse: a Group should not be reused for another task.)
func TestGroupZeroValueFirstErrorAcrossReuse(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		cases := [][]error{
			{},
			{nil},
			{errA},
			{nil, errA, nil, errB},
			{errB, errA},
		}
		for _, errs := range cases {
			g := gi.zero()
			var first error
			for i, err := range errs {
				g.Go(func() error { return err })
				if first == nil {
					first = err
				}
				if got := g.Wait(); got != first {
					t.Errorf("errors %v: Wait after %d Go calls = %v; want %v", errs, i+1, got, first)
				}
			}
		}
	})
}

// WithContext: Wait returns the first error; the ctx is done after Wait
// with that error, or context.Canceled, as its cause. Go and TryGo alike.
func TestGroupWithContextCancelsWithCause(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		cases := []struct {
			errs []error
			want error
		}{
			{nil, nil},
			{[]error{nil}, nil},
			{[]error{errA}, errA},
			{[]error{errA, nil}, errA},
		}
		for _, useTry := range []bool{false, true} {
			for _, tc := range cases {
				g, ctx := gi.withContext(context.Background())
				for _, err := range tc.errs {
					f := func() error { return err }
					if useTry {
						g.TryGo(f)
					} else {
						g.Go(f)
					}
				}
				if err := g.Wait(); err != tc.want {
					t.Errorf("TryGo=%v errs %v: Wait = %v; want %v", useTry, tc.errs, err, tc.want)
				}
				select {
				case <-ctx.Done():
				default:
					t.Errorf("TryGo=%v errs %v: ctx not done after Wait", useTry, tc.errs)
				}
				wantCause := tc.want
				if wantCause == nil {
					wantCause = context.Canceled
				}
				if c := context.Cause(ctx); c != wantCause {
					t.Errorf("TryGo=%v errs %v: Cause = %v; want %v", useTry, tc.errs, c, wantCause)
				}
			}
		}
	})
}

// The first error cancels the ctx at once, before Wait.
func TestGroupFirstErrorCancelsBeforeWait(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		g, ctx := gi.withContext(context.Background())
		g.Go(func() error { return errA })
		var cause error
		g.Go(func() error {
			<-ctx.Done()
			cause = context.Cause(ctx)
			return ctx.Err()
		})
		if err := g.Wait(); err != errA {
			t.Fatalf("Wait = %v; want errA (not the later cancellation)", err)
		}
		if cause != errA {
			t.Fatalf("sibling saw cause %v; want errA", cause)
		}
	})
}

// TryGo and SetLimit account slots as errgroup does: a full group refuses,
// Wait frees every slot, changing the limit between Waits works, and a
// limit of 0 refuses everything.
func TestGroupTryGoSlots(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		g := gi.zero()
		const n = 10
		g.SetLimit(n)
		hold := make(chan struct{})
		f := func() error { <-hold; return nil }
		for i := range n {
			if !g.TryGo(f) {
				t.Fatalf("TryGo %d refused below the limit", i)
			}
		}
		if g.TryGo(f) {
			t.Fatal("TryGo accepted beyond the limit")
		}
		close(hold)
		g.Wait()
		// The slot is released before the goroutine is done, so right after
		// Wait every slot is free.
		nop := func() error { return nil }
		if !g.TryGo(nop) {
			t.Fatal("TryGo refused right after Wait")
		}
		g.Wait()

		g.SetLimit(1)
		block := make(chan struct{})
		if !g.TryGo(func() error { <-block; return nil }) {
			t.Fatal("TryGo refused with limit 1 and nothing active")
		}
		if g.TryGo(nop) {
			t.Fatal("TryGo accepted a second goroutine with limit 1")
		}
		close(block)
		g.Wait()

		g.SetLimit(0)
		for range 100 {
			if g.TryGo(nop) {
				t.Fatal("TryGo accepted with limit 0")
			}
		}
		g.Wait()

		g.SetLimit(-1)
		for range 100 {
			if !g.TryGo(nop) {
				t.Fatal("TryGo refused with no limit")
			}
		}
		g.Wait()
	})
}

// Go blocks at the limit: never more than limit goroutines active.
func TestGroupGoLimitPeak(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		const limit = 4
		g := gi.zero()
		g.SetLimit(limit)
		var active atomic.Int32
		for range 500 {
			g.Go(func() error {
				if n := active.Add(1); n > limit {
					return fmt.Errorf("%d active goroutines; limit %d", n, limit)
				}
				runtime.Gosched()
				active.Add(-1)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// SetLimit while goroutines are active panics (Group's message names
// Group.SetLimit and says what to do instead).
func TestGroupSetLimitWhileActivePanics(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		g := gi.zero()
		g.SetLimit(2)
		release := make(chan struct{})
		g.Go(func() error { <-release; return nil })
		defer func() {
			r := recover()
			close(release)
			g.Wait()
			if r == nil {
				t.Fatal("SetLimit with a goroutine active did not panic")
			}
			want := "echo: Group.SetLimit called while 1 goroutines of the group are active; change the limit only between Waits"
			if _, ours := g.(*Group); ours && fmt.Sprint(r) != want {
				t.Fatalf("recovered %v; want panic %q", r, want)
			}
		}()
		g.SetLimit(3)
	})
}

// Every function runs on its own goroutine, concurrently with all others:
// a chain where each waits for the one started after it completes.
func TestGroupEachFunctionHasOwnGoroutine(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		const n = 200
		g := gi.zero()
		chans := make([]chan struct{}, n+1)
		for i := range chans {
			chans[i] = make(chan struct{})
		}
		close(chans[n])
		for i := range n {
			g.Go(func() error {
				<-chans[i+1] // started later
				close(chans[i])
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// runtime.Goexit counts as done with no error.
func TestGroupGoexit(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		g, ctx := gi.withContext(context.Background())
		g.Go(func() error { runtime.Goexit(); return errA })
		if err := g.Wait(); err != nil {
			t.Fatalf("Wait = %v; want nil", err)
		}
		if context.Cause(ctx) != context.Canceled {
			t.Fatalf("Cause = %v; want context.Canceled", context.Cause(ctx))
		}
	})
}

// The one difference from errgroup: a panic comes back as *PanicError and
// cancels the ctx; an earlier error stays the first error.
func TestGroupPanic(t *testing.T) {
	g, ctx := WithContext(context.Background())
	g.Go(func() error { panic("echo_test: group") })
	err := g.Wait()
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "echo_test: group" {
		t.Fatalf("Wait = %v; want *PanicError", err)
	}
	if context.Cause(ctx) != err {
		t.Fatalf("Cause = %v; want the *PanicError", context.Cause(ctx))
	}

	g, ctx = WithContext(context.Background())
	g.Go(func() error { return errA })
	g.Go(func() error {
		<-ctx.Done() // after errA was recorded
		panic("late")
	})
	if err := g.Wait(); err != errA {
		t.Fatalf("Wait = %v; want errA (the first error)", err)
	}
}

// Group's goroutines are plain goroutines, so testing/synctest bubbles
// them as it does errgroup's: an hour of fake time passes at once.
func TestGroupInSynctestBubble(t *testing.T) {
	forEachGroup(t, func(t *testing.T, gi groupImpl) {
		synctest.Test(t, func(t *testing.T) {
			g, ctx := gi.withContext(context.Background())
			start := time.Now()
			for range 10 {
				g.Go(func() error {
					select {
					case <-time.After(time.Hour):
						return nil
					case <-ctx.Done():
						return ctx.Err()
					}
				})
			}
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d != time.Hour {
				t.Fatalf("fake time advanced %v; want exactly 1h", d)
			}
		})
	})
}
