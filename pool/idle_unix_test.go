//go:build unix

package pool

import (
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestIdleUsesNoCPU: a pool that has run work and gone idle burns no
// measurable CPU: every worker and the monitor are parked.
func TestIdleUsesNoCPU(t *testing.T) {
	p := New(WithWorkers(4))
	defer stop(t, p)
	var wg sync.WaitGroup
	for i := 0; i < 1000; i++ {
		wg.Add(1)
		if err := p.Submit(bg, Priority(i%3), wg.Done); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	waitFor(t, "all 4 workers and the monitor park", func() bool {
		return p.s.nidle.Load() == 4 && p.s.mon.parked.Load()
	})
	before := cpuTime(t)
	time.Sleep(500 * time.Millisecond) // the measurement window, not synchronisation
	used := cpuTime(t) - before
	t.Logf("process CPU time over 500 ms idle: %v", used)
	if used >= 25*time.Millisecond {
		t.Fatalf("idle pool used %v of CPU in 500 ms, want < 25ms", used)
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
