package echo

import (
	"context"
	"fmt"
	"runtime/debug"
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

// protect calls fn(ctx) and turns a panic into a *PanicError. If fn calls
// runtime.Goexit, protect's caller unwinds with it (recover returns nil then).
func protect(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	returned := false
	defer func() {
		if !returned {
			if v := recover(); v != nil {
				// Still on the panicking goroutine, below the panicking
				// frame: debug.Stack shows where the panic happened.
				err = &PanicError{Value: v, Stack: debug.Stack()}
			}
		}
	}()
	err = fn(ctx)
	returned = true
	return err
}
