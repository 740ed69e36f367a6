//go:build race

package deque

// raceEnabled reports whether the race detector is on: it allocates and
// slows atomics, so allocation checks are skipped under it.
const raceEnabled = true
