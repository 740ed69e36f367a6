package main

import (
	"time"
)

// Scenario 4, I/O fan-out: N tasks that each sleep IOSleep (a stand-in for a
// blocking call), submitted from one goroutine; wall time until all are done.
// Unbounded is each library's default configuration. Bounded is each
// library's bounded configuration with W = IOWorkers: a fixed limit of W needs
// about N/W sleeps one after another; echo's pool of W workers may add workers
// while its workers are blocked.

func measureIO(body func() error) (Sample, error) {
	t0 := time.Now()
	if err := body(); err != nil {
		return nil, err
	}
	return Sample{"ms": float64(time.Since(t0).Nanoseconds()) / 1e6}, nil
}

func init() {
	registerSleepFanouts("iofanout/unbounded", "iofanout/bounded", "W",
		func(sz *Sizes) (int, time.Duration, int) { return sz.IOTasks, sz.IOSleep, sz.IOWorkers },
		measureIO)
}
