package echohttp

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// An Option configures a [Handler].
type Option func(*config)

type config struct {
	priority   func(*http.Request) echo.Priority
	pool       *pool.Pool
	scopeOpts  []echo.Option
	logger     *slog.Logger
	shedWait   time.Duration // 0: no shedding
	retryAfter time.Duration
}

// WithPriorityFunc takes each request's priority from f instead of the
// Priority header, for example by path or by tenant. f runs on the
// request's goroutine before any work; it must return High, Normal or Low
// (Handler panics otherwise, naming the function). WithPriorityFunc panics
// if f is nil.
func WithPriorityFunc(f func(r *http.Request) echo.Priority) Option {
	if f == nil {
		panic("echohttp: WithPriorityFunc called with a nil function")
	}
	return func(c *config) { c.priority = f }
}

// WithPool runs the request scopes on p (as [echo.WithPool]); with
// [WithShedding] it is the pool whose queue wait is watched. Without it
// scopes run on [pool.Default]. WithPool panics if p is nil.
func WithPool(p *pool.Pool) Option {
	if p == nil {
		panic("echohttp: WithPool called with a nil pool")
	}
	return func(c *config) { c.pool = p }
}

// WithScopeOptions adds opts to every request scope, for example
// echo.WithTimeout to bound each request, echo.WithLimit to bound its
// children, or echo.WithName to label it in profiles. The request's
// priority is set by the Handler (an echo.WithPriority among opts is
// overridden). Set the pool with [WithPool], not echo.WithPool here, so
// that [WithShedding] watches the pool the requests run on.
func WithScopeOptions(opts ...echo.Option) Option {
	for i, o := range opts {
		if o == nil {
			panic(fmt.Sprintf("echohttp: WithScopeOptions called with a nil option at index %d", i))
		}
	}
	return func(c *config) { c.scopeOpts = append(c.scopeOpts, opts...) }
}

// WithLogger logs recovered panics and failed request scopes to l instead
// of [slog.Default]. WithLogger panics if l is nil.
func WithLogger(l *slog.Logger) Option {
	if l == nil {
		panic("echohttp: WithLogger called with a nil logger")
	}
	return func(c *config) { c.logger = l }
}

// WithShedding turns on load shedding: while the pool's queue wait for a
// priority (tasks' time from acceptance to start, over the last few
// milliseconds) exceeds maxWait, new requests of that priority or lower are
// answered 503 Service Unavailable with a Retry-After of retryAfter (whole
// seconds, at least 1) before their scope is opened, so they cost almost
// nothing. High requests are always served. Because the pool runs High
// before Normal before Low, Low's wait grows first, and Low requests are the
// first to be shed. The wait is that of every user of the pool: a Low batch
// job sharing it keeps Low's wait long, and Low requests shed, for as long
// as it runs. WithShedding panics if maxWait <= 0 or retryAfter < 0.
func WithShedding(maxWait, retryAfter time.Duration) Option {
	if maxWait <= 0 {
		panic(fmt.Sprintf("echohttp: WithShedding called with maxWait = %v; need > 0", maxWait))
	}
	if retryAfter < 0 {
		panic(fmt.Sprintf("echohttp: WithShedding called with retryAfter = %v; need >= 0", retryAfter))
	}
	return func(c *config) { c.shedWait, c.retryAfter = maxWait, retryAfter }
}
