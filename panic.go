package echo

import (
	"context"
	"fmt"
	"github.com/echo-scheduler/echo/internal/catch"
)

// PanicError is the error a child's (or a Nursery body's, or a Group
// function's) panic becomes. It counts as a failure like any other error:
// it cancels the scope (unless [WithCollectAll]) and is returned by Wait.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as formatted by
	// runtime/debug.Stack, taken where the panic was recovered, so it
	// includes the function that panicked.
	Stack []byte
}

// Error returns the panic value followed by the stack of the goroutine
// that panicked.
func (e *PanicError) Error() string {
	return fmt.Sprintf("echo: recovered panic: %v\n\ngoroutine stack at the panic:\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value if it is an error (for example a
// runtime.Error), so errors.Is and errors.As see it; otherwise nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// protect calls fn(ctx) and turns a panic into a *PanicError (also
// panic(nil) under GODEBUG=panicnil=1). If fn calls runtime.Goexit,
// protect's caller unwinds with it; if a deferred call panicked during that
// Goexit, exiting (if not nil) first gets the panic as a *PanicError, since
// it cannot be returned. catch.Call is the pool's helper too, so children
// and pool tasks follow one rule.
func protect(ctx context.Context, fn func(ctx context.Context) error, exiting func(err error)) (err error) {
	p := catch.Call(func() { err = fn(ctx) }, func(p *catch.Panic) {
		if p != nil && exiting != nil {
			exiting(&PanicError{Value: p.Value, Stack: p.Stack})
		}
	})
	if p != nil {
		return &PanicError{Value: p.Value, Stack: p.Stack}
	}
	return err
}
