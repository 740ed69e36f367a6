//go:build !race

package pool

// raceEnabled reports whether the race detector is on: it slows every task
// down several times, so a few timing guards are relaxed under it.
const raceEnabled = false
