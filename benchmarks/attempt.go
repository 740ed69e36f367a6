package main

import (
	"fmt"
	"time"
)

// errTimedOut marks an attempt that did not finish within its variant's
// timeout.
var errTimedOut = fmt.Errorf("attempt timed out")

// attempt runs fn on its own goroutine and waits at most timeout for it, so a
// library that deadlocks cannot hang the program. A timed-out attempt is
// abandoned: its goroutine, and whatever workers it is stuck with, stay
// blocked until the process exits. That leak is the price of never hanging
// and is confined to this benchmark binary; the caller runs no further
// repetitions of that library in that variant.
func attempt(timeout time.Duration, fn func() (Sample, error)) (Sample, error) {
	type outcome struct {
		s   Sample
		err error
	}
	done := make(chan outcome, 1) // buffered: a late finisher must not block forever
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- outcome{nil, fmt.Errorf("panic: %v", v)}
			}
		}()
		s, err := fn()
		done <- outcome{s, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case o := <-done:
		return o.s, o.err
	case <-t.C:
		return nil, errTimedOut
	}
}
