package echo

import "github.com/echo-scheduler/echo/pool"

// Priority is the urgency of a child: [High], [Normal] or [Low], served in
// that order. The zero value is Normal, so a Priority field nobody set means
// ordinary work. It is the pool's priority type, so the same values work
// with package pool. The numeric values do not follow the order: compare
// priorities by name, not with < or >.
type Priority = pool.Priority

const (
	// High is for latency-sensitive children: the pool starts them before
	// Normal and Low work.
	High = pool.High
	// Normal is for ordinary children.
	Normal = pool.Normal
	// Low is for background children.
	Low = pool.Low
)
