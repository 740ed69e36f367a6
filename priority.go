package echo

import "github.com/echo-scheduler/echo/pool"

// Priority is the urgency of a child: [High], [Normal] or [Low]. It is the
// pool's priority type, so the same values work with package pool.
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
