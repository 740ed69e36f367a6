//go:build !linux

package pool

// pin does nothing: CPU pinning is only implemented on Linux.
func pin(int) {}
