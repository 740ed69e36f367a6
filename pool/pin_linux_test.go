//go:build linux

package pool

import (
	"math/bits"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPUs returns the number of CPUs the calling thread may run on.
func threadCPUs() (int, error) {
	var set [16]uint64
	if _, _, errno := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(set), uintptr(unsafe.Pointer(&set))); errno != 0 {
		return 0, errno
	}
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	return n, nil
}

// A task on a pinned pool runs on a thread bound to exactly one CPU; on an
// unpinned pool, on a thread that may use the process's CPUs.
func TestCPUPinningBindsWorkerThread(t *testing.T) {
	if n, err := threadCPUs(); err != nil {
		t.Fatalf("sched_getaffinity: %v", err)
	} else if n < 2 {
		t.Skipf("the process may use %d CPU; pinning cannot be told apart", n)
	}
	for _, tc := range []struct {
		name   string
		opts   []Option
		pinned bool
	}{
		{"pinned", []Option{WithWorkers(1), WithCPUPinning()}, true},
		{"unpinned", []Option{WithWorkers(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(tc.opts...)
			defer stop(t, p)
			type result struct {
				n   int
				err error
			}
			got := make(chan result, 1)
			if err := p.Submit(bg, Normal, func() {
				n, err := threadCPUs()
				got <- result{n, err}
			}); err != nil {
				t.Fatal(err)
			}
			r := recv(t, got, "the affinity read by a task")
			if r.err != nil {
				t.Fatalf("sched_getaffinity in a task: %v", r.err)
			}
			n := r.n
			if tc.pinned && n != 1 {
				t.Fatalf("a task on a pinned pool runs on a thread allowed %d CPUs; want 1", n)
			}
			if !tc.pinned && n < 2 {
				t.Fatalf("a task on an unpinned pool runs on a thread allowed %d CPUs; want the process's", n)
			}
		})
	}
}
