//go:build race

package echo

// raceEnabled reports whether the race detector is on: it slows deep
// stacks and atomics several times, so some tests size themselves down.
const raceEnabled = true
