// Package catch runs a function and tells how it ended: it returned, it
// panicked, or it called runtime.Goexit. The pool's workers and the root
// package's children, Nursery bodies and Group functions all end user code
// through it, so they follow one rule.
//
// Two cases defeat the obvious "recover() != nil means a panic":
//
//   - panic(nil) under GODEBUG=panicnil=1 is recovered with a nil value;
//   - a panic raised by a deferred call while runtime.Goexit unwinds is
//     recovered like any other, but the Goexit then resumes: control never
//     comes back to the caller, so a panic noted only "after the call" is
//     lost.
//
// Call tells them apart with two levels of defer (as x/sync's singleflight
// does): the inner deferred call recovers; reaching the code after the
// inner call means the recover stopped a panic, whatever its value; the
// outer deferred call running without that means Goexit, and a non-nil
// value recovered on the way is a panic raised during it.
package catch

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/debug"
)

// A Panic is a recovered panic.
type Panic struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the panicking goroutine's stack, taken in the deferred call
	// that recovered it, so it includes the frame that panicked.
	Stack []byte

	pcs []uintptr // the frames, until Stack is formatted from them
}

// maxFrames bounds the frames kept for a panic(nil) under panicnil=1.
const maxFrames = 64

// format writes frames as debug.Stack does, without the goroutine header
// and arguments, which runtime.Callers does not give.
func format(pcs []uintptr) []byte {
	var b bytes.Buffer
	b.WriteString("goroutine stack (panic(nil) under GODEBUG=panicnil=1):\n")
	frames := runtime.CallersFrames(pcs)
	for {
		f, more := frames.Next()
		fmt.Fprintf(&b, "%s(...)\n\t%s:%d\n", f.Function, f.File, f.Line)
		if !more {
			return b.Bytes()
		}
	}
}

// Call calls fn on the calling goroutine. If fn returns, Call returns nil.
// If fn panics, Call recovers and returns the panic (also for panic(nil)
// under GODEBUG=panicnil=1).
//
// If fn calls runtime.Goexit, nothing can stop the goroutine from exiting
// and Call does not return; before the goroutine goes on unwinding, Call
// calls exiting (if not nil) with the panic that a deferred call raised
// during the Goexit, if any, else with nil. (A panic(nil) raised during a
// Goexit under GODEBUG=panicnil=1 cannot be told from none.)
func Call(fn func(), exiting func(p *Panic)) *Panic {
	var c call
	defer c.unwound(exiting)
	c.run(fn)
	if !c.returned {
		c.recovered = true // control came back: the recover stopped a panic
		if c.caught.Stack == nil {
			c.caught.Stack = format(c.caught.pcs)
			c.caught.pcs = nil
		}
		return c.caught
	}
	return nil
}

// call is the state of one Call. The deferred calls are its methods, not
// closures, which keeps Call's frames small: the pool's workers and the
// root package's children run user code two Calls deep, often on a new
// goroutine's 2 KB stack, and closures capturing the state by reference
// made every byte of it a slot in the frame (Call's frames were 104 and 48
// bytes, a tenth of what a new goroutine can use before its stack must be
// copied to grow).
type call struct {
	caught    *Panic
	returned  bool // fn returned
	recovered bool // the recover in stopped stopped a panic
}

// run calls fn; stopped sees whether it returned.
func (c *call) run(fn func()) {
	defer c.stopped()
	fn()
	c.returned = true
}

// stopped is run's deferred call.
func (c *call) stopped() {
	if c.returned {
		return
	}
	// A panic or a Goexit. Take the stack now, below the panicking frame,
	// while it is still there.
	if v := recover(); v != nil {
		c.caught = &Panic{Value: v, Stack: debug.Stack()}
	} else {
		// A Goexit (common: testing's FailNow, or a task that ends its
		// goroutine) or panic(nil) under GODEBUG=panicnil=1; only the code
		// after run can tell which. debug.Stack formats the whole stack,
		// which costs microseconds that a Goexit would throw away (it
		// doubled the time of a storm of 1e5 tasks, a third of them
		// Goexits): keep the raw frames and format them only for a panic.
		pcs := make([]uintptr, maxFrames)
		c.caught = &Panic{pcs: pcs[:runtime.Callers(1, pcs)]}
	}
}

// unwound is Call's deferred call.
func (c *call) unwound(exiting func(p *Panic)) {
	if c.returned || c.recovered {
		return
	}
	// runtime.Goexit: the recover in stopped, if it got a value, stopped a
	// panic raised during it, and the Goexit resumed.
	if exiting != nil {
		if c.caught != nil && c.caught.Value == nil {
			c.caught = nil
		}
		exiting(c.caught)
	}
}
