package echo

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/echo-scheduler/echo/internal/catch"
)

// PanicError is the error a child's (or a Nursery body's, or a Group
// function's) panic becomes. It counts as a failure like any other error:
// it cancels the scope (unless [WithCollectAll]) and is returned by Wait.
// Its Error is one line; %+v and log/slog also print the stack.
type PanicError struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the stack of the panicking goroutine, as formatted by
	// runtime/debug.Stack, taken where the panic was recovered, so it
	// includes the function that panicked.
	Stack []byte
}

// Error returns one line: "echo: recovered panic: " and the panic value
// (quoted if it spans lines). It never includes the stack, so it is safe to
// show to a client; print the error with %+v, or log it with log/slog, to
// get the stack.
func (e *PanicError) Error() string {
	v := fmt.Sprint(e.Value)
	if strings.ContainsAny(v, "\r\n") {
		v = strconv.Quote(v)
	}
	return "echo: recovered panic: " + v
}

// Format implements fmt.Formatter: %v and %s print Error(), %q prints it
// quoted, and %+v prints Error() followed by the stack of the goroutine that
// panicked.
func (e *PanicError) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v':
		io.WriteString(f, e.Error())
		if f.Flag('+') {
			io.WriteString(f, "\n\ngoroutine stack at the panic:\n")
			f.Write(e.Stack)
		}
	case 's':
		io.WriteString(f, e.Error())
	case 'q':
		io.WriteString(f, strconv.Quote(e.Error()))
	default:
		fmt.Fprintf(f, "%%!%c(*echo.PanicError=%s)", verb, e.Error())
	}
}

// LogValue implements slog.LogValuer: a PanicError logged with log/slog is
// a group of the panic value ("panic") and the stack ("stack"), so logs
// keep the stack that Error leaves out.
func (e *PanicError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("panic", fmt.Sprint(e.Value)),
		slog.String("stack", string(e.Stack)),
	)
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
