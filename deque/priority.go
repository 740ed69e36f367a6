package deque

import "strconv"

// Priority is the urgency of a value in a [StealingQueue]: one lane per
// priority, served most urgent first: High, then Normal, then Low. The zero
// value is Normal, so a Priority nobody set means ordinary work. The
// numeric values do not follow the order: compare priorities by name, not
// with < or >.
type Priority uint8

const (
	// Normal is the default for ordinary work (the zero value).
	Normal Priority = iota
	// High is for latency-sensitive work: it is taken before Normal and Low.
	High
	// Low is for background work. It runs when nothing more urgent is
	// visible, and is protected from starvation by the scheduler above.
	Low

	// NumPriorities is the number of lanes: valid priorities are
	// 0 <= p < NumPriorities.
	NumPriorities = 3
)

// byUrgency lists the priorities in the order lanes are served, most urgent
// first. Lanes are arrays indexed by Priority; scans walk this list, so
// serving in urgency order costs no mapping on Push or take.
var byUrgency = [NumPriorities]Priority{High, Normal, Low}

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
