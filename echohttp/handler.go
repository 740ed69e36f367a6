package echohttp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// Handler returns a handler that serves each request inside its own scope:
// an [echo.Nursery] whose body is next.ServeHTTP, with the request's ctx
// replaced by the scope's. next and the code it calls spawn into that scope
// with [echo.Go](r.Context(), ...), and the scope runs at the request's
// priority ([echo.PriorityOf](r.Context()) returns it): from the Priority
// header (see [ParsePriority]) or from [WithPriorityFunc].
//
// The scope is bound to the request's context, so a client that goes away
// cancels it, and its children see ctx.Done. ServeHTTP returns only once
// the body and every child have returned.
//
// A panic in next or in a child is recovered: it is logged with its stack
// (see [WithLogger]) and, if nothing was written yet, answered with a bare
// 500 Internal Server Error; the panic value and stack never reach the
// client. If the response had already begun, the handler aborts it with
// [http.ErrAbortHandler] instead, as net/http does, so the client sees a
// broken response rather than a truncated one that looks whole. A panic
// with http.ErrAbortHandler itself is passed on without a log. A scope that
// ends with an error (a child's) is logged and answered 500 if nothing was
// written (503 if the cause was an [echo.WithTimeout] deadline); errors
// after the client went away are not logged.
//
// Handler panics if next or an option is nil.
func Handler(next http.Handler, opts ...Option) http.Handler {
	if next == nil {
		panic("echohttp: Handler called with a nil next handler")
	}
	var c config
	for _, o := range opts {
		if o == nil {
			panic("echohttp: Handler called with a nil Option")
		}
		o(&c)
	}
	h := &handler{next: next, priority: c.priority, logger: c.logger}
	for p := range h.opts {
		o := append([]echo.Option(nil), c.scopeOpts...)
		if c.pool != nil {
			o = append(o, echo.WithPool(c.pool))
		}
		h.opts[p] = append(o, echo.WithPriority(echo.Priority(p)))
	}
	if c.shedWait > 0 {
		h.shed = newShedder(c.pool, c.shedWait, c.retryAfter)
	}
	return h
}

type handler struct {
	next     http.Handler
	priority func(*http.Request) echo.Priority // nil: the Priority header
	logger   *slog.Logger                      // nil: slog.Default()
	opts     [pool.NumPriorities][]echo.Option // scope options, indexed by priority
	shed     *shedder                          // nil: no shedding
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p echo.Priority
	if h.priority != nil {
		p = h.priority(r)
		if !p.Valid() {
			panic("echohttp: the WithPriorityFunc function returned unknown priority " + p.String() + "; want echo.High, echo.Normal or echo.Low")
		}
	} else {
		p = ParsePriority(r.Header.Values("Priority")...)
	}
	if h.shed != nil && h.shed.reject(p) {
		w.Header().Set("Retry-After", h.shed.retryAfter)
		http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		return
	}
	tw := &trackingWriter{ResponseWriter: w}
	err := echo.Nursery(r.Context(), func(ctx context.Context) error {
		h.next.ServeHTTP(tw, r.WithContext(ctx))
		return nil
	}, h.opts[p]...)
	if err != nil {
		h.fail(tw, r, err)
	}
}

// fail logs err, the error of r's scope, and answers for it if it can.
func (h *handler) fail(w *trackingWriter, r *http.Request, err error) {
	logger := h.logger
	if logger == nil {
		logger = slog.Default()
	}
	panics, abort := panicsIn(err, nil)
	if abort {
		panic(http.ErrAbortHandler) // next asked for it: net/http stays quiet
	}
	for _, pe := range panics {
		logger.LogAttrs(r.Context(), slog.LevelError, "echohttp: panic serving request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Any("panic", pe.Value), slog.String("stack", string(pe.Stack)))
	}
	clientGone := r.Context().Err() != nil
	if len(panics) == 0 && !clientGone {
		logger.LogAttrs(r.Context(), slog.LevelError, "echohttp: request scope failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	switch {
	case !w.wrote:
		code := http.StatusInternalServerError
		if len(panics) == 0 && errors.Is(err, context.DeadlineExceeded) {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, http.StatusText(code), code)
	case len(panics) > 0:
		panic(http.ErrAbortHandler)
	}
}

// panicsIn collects the *echo.PanicError values in err's tree (a scope's
// error may join several) and reports whether one of them is a panic with
// http.ErrAbortHandler.
func panicsIn(err error, acc []*echo.PanicError) ([]*echo.PanicError, bool) {
	abort := false
	if pe, ok := err.(*echo.PanicError); ok {
		if pe.Value == http.ErrAbortHandler {
			return acc, true
		}
		return append(acc, pe), false // do not descend into the panic value
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			var a bool
			acc, a = panicsIn(e, acc)
			abort = abort || a
		}
	case interface{ Unwrap() error }:
		if e := u.Unwrap(); e != nil {
			acc, abort = panicsIn(e, acc)
		}
	}
	return acc, abort
}

// trackingWriter records whether the response has begun, so that a failed
// scope is answered only when nothing was sent. It passes Flush and Hijack
// on, and Unwrap lets http.ResponseController reach the rest.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *trackingWriter) WriteHeader(code int) {
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wrote = true // 1xx other than 101 are informational: more follows
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *trackingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *trackingWriter) Flush() {
	w.wrote = true
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.wrote = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

// ReadFrom keeps io.Copy to the response on the underlying writer's fast
// path (sendfile) where it has one.
func (w *trackingWriter) ReadFrom(r io.Reader) (int64, error) {
	w.wrote = true
	return io.Copy(w.ResponseWriter, r)
}

func (w *trackingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
