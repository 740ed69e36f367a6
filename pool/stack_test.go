package pool

import (
	"testing"
	"unsafe"
)

// deepCall uses about 1,600 bytes of stack: more than a 2 KB stack leaves
// free above the runtime's guard, less than a 4 KB one does.
//
//go:noinline
func deepCall(i int) byte {
	var b [1600]byte
	b[i%len(b)] = byte(i)
	return b[(i+1)%len(b)]
}

// stackMoved reports whether the calling goroutine's stack was copied (so
// grown) by deepCall, after presize if pre: a local variable's address
// changes when the runtime copies the stack.
func stackMoved(pre bool) bool {
	ch := make(chan bool)
	go func() {
		if pre {
			presize(0)
		}
		var x byte
		before := uintptr(unsafe.Pointer(&x))
		deepCall(int(x))
		ch <- uintptr(unsafe.Pointer(&x)) != before
	}()
	return <-ch
}

// TestPresizeGrowsTheStackAtOnce: after presize, a goroutine can use about
// 1.6 KB more of its stack without the runtime copying it; without presize
// (the control: the probe works) the same call copies it. presizeFrame
// depends on the runtime's stack guard, so a runtime that changes it shows
// up here, not only as a slower cold fan-out.
func TestPresizeGrowsTheStackAtOnce(t *testing.T) {
	if !stackMoved(false) {
		// The runtime starts goroutines with a larger stack (the race
		// detector's guard, or an adaptive starting size): nothing to test.
		t.Skip("a new goroutine's stack did not grow for deepCall: the runtime starts goroutines with larger stacks here")
	}
	if stackMoved(true) {
		t.Fatal("a goroutine that called presize still had its stack copied by a call of ~1.6 KB: presize did not grow it to 4 KB (see presizeFrame)")
	}
}
