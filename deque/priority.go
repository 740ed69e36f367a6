package deque

import "strconv"

// Priority is the urgency of a value in a [StealingQueue]: one lane per
// priority, most urgent first. The zero value is High.
type Priority uint8

const (
	// High is for latency-sensitive work: it is taken before Normal and Low.
	High Priority = iota
	// Normal is the default for ordinary work.
	Normal
	// Low is for background work. It runs when nothing more urgent is
	// visible, and is protected from starvation by the scheduler above.
	Low

	// NumPriorities is the number of lanes: valid priorities are
	// 0 <= p < NumPriorities.
	NumPriorities = 3
)

// String returns "high", "normal" or "low", or "Priority(N)" for an
// invalid value.
func (p Priority) String() string {
	switch p {
	case High:
		return "high"
	case Normal:
		return "normal"
	case Low:
		return "low"
	}
	return "Priority(" + strconv.Itoa(int(p)) + ")"
}

// Valid reports whether p is High, Normal or Low.
func (p Priority) Valid() bool { return p < NumPriorities }

// Prioritized is implemented by values that a [StealingQueue] sorts into
// lanes.
type Prioritized interface {
	Priority() Priority
}
