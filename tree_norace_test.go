//go:build !race

package echo

// treeRaceEnabled says the race detector is on: it allocates, so memory
// and allocation tests skip.
const treeRaceEnabled = false
