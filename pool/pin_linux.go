//go:build linux

package pool

import (
	"runtime"
	"syscall"
	"unsafe"
)

// pin locks the calling goroutine to its OS thread and pins the thread to
// the i-th CPU (round robin) of the process's affinity set. Errors are
// ignored: pinning is a performance hint, and a failure (for example in a
// restricted container) leaves the worker running unpinned.
func pin(i int) {
	runtime.LockOSThread()
	var set [16]uint64 // 1024 CPUs, the kernel's default cpumask size
	size := unsafe.Sizeof(set)
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, size, uintptr(unsafe.Pointer(&set))); errno != 0 {
		return
	}
	var cpus []int
	for w, bits := range set {
		for b := 0; b < 64; b++ {
			if bits&(1<<b) != 0 {
				cpus = append(cpus, w*64+b)
			}
		}
	}
	if len(cpus) == 0 {
		return
	}
	cpu := cpus[i%len(cpus)]
	var one [16]uint64
	one[cpu/64] = 1 << (cpu % 64)
	syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, size, uintptr(unsafe.Pointer(&one)))
}
