package echo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/multierr"
)

// uncomparableErr is an error type whose values cannot be compared with ==.
type uncomparableErr struct{ parts []string }

func (e uncomparableErr) Error() string { return "uncomparable: " + strings.Join(e.parts, ",") }

// The cancellation-noise rule: once a failure has cancelled the scope, a
// sibling returning that cause again (even an uncomparable value, or
// wrapped with %w) or the ctx's Err is not a second failure; a panic is
// always reported, even panic(ctx.Err()). Before the fix the first two
// were reported twice and the panic was dropped.
func TestCancellationNoiseRule(t *testing.T) {
	cause := uncomparableErr{[]string{"a"}}
	cases := []struct {
		name  string
		first error
		late  func(ctx context.Context) error
		want  int // errors Wait reports
		panic bool
	}{
		{"uncomparable cause again", cause, func(ctx context.Context) error { return context.Cause(ctx) }, 1, false},
		{"wrapped cause", errA, func(ctx context.Context) error { return fmt.Errorf("late: %w", context.Cause(ctx)) }, 1, false},
		{"ctx.Err", errA, func(ctx context.Context) error { return ctx.Err() }, 1, false},
		{"panic(ctx.Err())", errA, func(ctx context.Context) error { panic(ctx.Err()) }, 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Nursery(context.Background(), func(ctx context.Context) error {
				started := make(chan struct{})
				Go(ctx, Normal, func(ctx context.Context) error {
					close(started)
					<-ctx.Done()
					return c.late(ctx)
				})
				<-started
				return c.first
			})
			errs := multierr.Errors(err)
			if len(errs) != c.want {
				t.Fatalf("Nursery = %v (%d errors); want %d", err, len(errs), c.want)
			}
			var pe *PanicError
			if c.panic != errors.As(err, &pe) {
				t.Fatalf("Nursery = %v; want a *PanicError: %v", err, c.panic)
			}
		})
	}
}

// The panic that cancelled a scope, coming back from a nested scope's Wait
// (which returns the cause that cut it short), is that same panic, not a
// second failure. (FuzzScope found this: the rule "a panic is never noise"
// reported it twice.)
func TestPanicCauseComingBackIsReportedOnce(t *testing.T) {
	err := Nursery(context.Background(), func(ctx context.Context) error {
		nested := make(chan struct{})
		Go(ctx, Normal, func(ctx context.Context) error {
			return Nursery(ctx, func(ctx context.Context) error {
				Go(ctx, Normal, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
				close(nested)
				return nil
			})
		})
		<-nested
		Go(ctx, Normal, func(context.Context) error { panic("first") })
		return nil
	})
	var pe *PanicError
	if errs := multierr.Errors(err); len(errs) != 1 || !errors.As(err, &pe) {
		t.Fatalf("Nursery = %v (%d errors); want the one *PanicError", err, len(errs))
	}
}
