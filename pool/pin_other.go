//go:build !linux

package pool

import "runtime"

// pin locks the calling goroutine to its OS thread; CPU affinity is only
// set on Linux.
func pin(int) { runtime.LockOSThread() }
