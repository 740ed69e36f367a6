// Package pool is a bounded, priority-aware, work-stealing worker pool.
package pool
