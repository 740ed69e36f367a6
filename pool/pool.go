// Package pool is a bounded, priority-aware, work-stealing worker pool.
//
// TEMPORARY STUB: this file fixes the API the root package builds on; every
// task runs on its own goroutine. It is being replaced by the real pool.
package pool

import (
	"context"
	"errors"
	"sync"

	"github.com/echo-scheduler/echo/deque"
)

// Priority is a task's urgency; see deque.Priority.
type Priority = deque.Priority

const (
	High   = deque.High
	Normal = deque.Normal
	Low    = deque.Low
)

var (
	ErrClosed    = errors.New("pool: closed")
	ErrQueueFull = errors.New("pool: queue full")
)

type config struct{ workers, capacity int }

type Option func(*config)

func WithWorkers(n int) Option       { return func(c *config) { c.workers = n } }
func WithQueueCapacity(n int) Option { return func(c *config) { c.capacity = n } }

type Pool struct {
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
}

type Stats struct {
	Submitted, Completed uint64
	Workers              int
}

func New(opts ...Option) *Pool { return &Pool{} }

var defaultPool = sync.OnceValue(func() *Pool { return New() })

func Default() *Pool { return defaultPool() }

func (p *Pool) Submit(ctx context.Context, prio Priority, fn func()) error {
	return p.Go(ctx, prio, func(context.Context) { fn() })
}

func (p *Pool) TrySubmit(prio Priority, fn func()) error {
	return p.Go(context.Background(), prio, func(context.Context) { fn() })
}

// Go is Submit for tasks that take a context: fn receives ctx, annotated
// with the worker that runs fn, so that Go, Submit and Block calls made with
// it from inside fn use that worker (its own deque; a spare worker while
// blocked). Errors as Submit.
func (p *Pool) Go(ctx context.Context, prio Priority, fn func(ctx context.Context)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	p.wg.Add(1)
	go func() { defer p.wg.Done(); fn(ctx) }()
	return nil
}

// TryGo is Go without waiting: ErrQueueFull when the queue is full.
func (p *Pool) TryGo(ctx context.Context, prio Priority, fn func(ctx context.Context)) error {
	return p.Go(ctx, prio, fn)
}

// Block runs fn, which is about to block; if ctx came from a task of a pool
// (see Go), that pool lends a spare worker for the duration.
func Block(ctx context.Context, fn func()) { fn() }

func (p *Pool) Stop(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

func (p *Pool) Stats() Stats { return Stats{} }
