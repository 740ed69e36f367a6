package echohttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/echo-scheduler/echo"
)

// writePriority answers with the priority the request's ctx carries.
var writePriority = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, echo.PriorityOf(r.Context()).String())
})

func TestHandlerRunsTheRequestAtTheHeadersPriority(t *testing.T) {
	srv := httptest.NewServer(Handler(writePriority))
	defer srv.Close()
	for _, tc := range []struct {
		prio []string
		want string
	}{
		{nil, "normal"},
		{[]string{"u=0"}, "high"},
		{[]string{"u=2, i"}, "high"},
		{[]string{"u=3"}, "normal"},
		{[]string{"u=4"}, "low"},
		{[]string{"u=7;x=1", "i"}, "low"},
		{[]string{"u=8"}, "normal"},
		{[]string{"u=1,"}, "normal"},
	} {
		if code, _, body := get(t, srv.Client(), srv.URL, tc.prio...); code != http.StatusOK || body != tc.want {
			t.Errorf("Priority %q: got %d %q; want 200 %q", tc.prio, code, body, tc.want)
		}
	}
}

func TestHandlerTakesThePriorityFromWithPriorityFunc(t *testing.T) {
	byPath := func(r *http.Request) echo.Priority {
		if strings.HasPrefix(r.URL.Path, "/batch/") {
			return echo.Low
		}
		return echo.High
	}
	srv := httptest.NewServer(Handler(writePriority, WithPriorityFunc(byPath)))
	defer srv.Close()
	if _, _, body := get(t, srv.Client(), srv.URL+"/batch/x", "u=0"); body != "low" {
		t.Errorf("/batch/x with u=0: priority %q; want low (the function, not the header)", body)
	}
	if _, _, body := get(t, srv.Client(), srv.URL+"/api"); body != "high" {
		t.Errorf("/api: priority %q; want high", body)
	}
}

func TestHandlerWaitsForChildrenSpawnedOnTheRequestContext(t *testing.T) {
	var finished atomic.Int32
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
				time.Sleep(time.Millisecond) // work the handler does not wait for itself
				finished.Add(1)
				return nil
			})
		}
	}), WithScopeOptions(echo.WithName("req"))))
	defer srv.Close()
	code, _, _ := get(t, srv.Client(), srv.URL)
	if code != http.StatusOK || finished.Load() != 10 {
		t.Fatalf("status %d, %d of 10 children finished when the response arrived; want 200 and all 10", code, finished.Load())
	}
}

func TestClientDisconnectCancelsTheScope(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan error, 1)
	returned := make(chan struct{})
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
			close(started)
			<-ctx.Done()
			cancelled <- context.Cause(ctx)
			return ctx.Err()
		})
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		close(returned)
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	done := make(chan error, 1)
	go func() {
		resp, err := srv.Client().Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	wait(t, started, 10*time.Second, "the request's child starting")
	cancel() // the client goes away: its connection closes
	if err := wait(t, done, 10*time.Second, "the client's Do returning after cancel"); !errors.Is(err, context.Canceled) {
		t.Errorf("client: %v; want context.Canceled", err)
	}
	if cause := wait(t, cancelled, 10*time.Second, "the child seeing its ctx cancelled after the client went away"); cause == nil {
		t.Error("child ctx cause is nil")
	}
	wait(t, returned, 10*time.Second, "ServeHTTP returning after its scope was cancelled")
}

func TestPanicBecomes500WithoutTheStackInTheBody(t *testing.T) {
	for _, where := range []string{"handler", "child"} {
		t.Run(where, func(t *testing.T) {
			var log logBuffer
			srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if where == "handler" {
					panic("secret panic value")
				}
				echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
					panic("secret panic value")
				})
			}), WithLogger(log.logger())))
			defer srv.Close()
			code, _, body := get(t, srv.Client(), srv.URL)
			if code != http.StatusInternalServerError {
				t.Errorf("status %d; want 500", code)
			}
			for _, leak := range []string{"secret", "goroutine", ".go:", "panic"} {
				if strings.Contains(body, leak) {
					t.Errorf("body %q contains %q", body, leak)
				}
			}
			got := log.String()
			for _, want := range []string{"secret panic value", "goroutine", "handler_test.go", "level=ERROR"} {
				if !strings.Contains(got, want) {
					t.Errorf("log does not contain %q:\n%s", want, got)
				}
			}
		})
	}
}

func TestPanicAfterTheResponseBeganAbortsIt(t *testing.T) {
	var log logBuffer
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "partial")
		http.NewResponseController(w).Flush()
		panic("late panic")
	}), WithLogger(log.logger())))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("reading the body of a response whose handler panicked midway: no error; want a broken response")
	}
	if !strings.Contains(log.String(), "late panic") {
		t.Errorf("the panic was not logged:\n%s", log.String())
	}
}

func TestChildErrorWithNothingWrittenIs500(t *testing.T) {
	var log logBuffer
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
			return errors.New("backend said no")
		})
	}), WithLogger(log.logger())))
	defer srv.Close()
	if code, _, body := get(t, srv.Client(), srv.URL); code != http.StatusInternalServerError || strings.Contains(body, "backend") {
		t.Errorf("got %d %q; want 500 without the error text", code, body)
	}
	if !strings.Contains(log.String(), "backend said no") {
		t.Errorf("the error was not logged:\n%s", log.String())
	}
}

func TestShutdownWaitsForRequestScopes(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	var childDone atomic.Bool
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
			close(started)
			<-release
			childDone.Store(true)
			return nil
		})
		io.WriteString(w, "ok")
	})))
	defer srv.Close()

	resp := make(chan int, 1)
	go func() {
		r, err := srv.Client().Get(srv.URL)
		if err != nil {
			resp <- 0
			return
		}
		r.Body.Close()
		resp <- r.StatusCode
	}()
	wait(t, started, 10*time.Second, "the request's child starting")
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shutdown <- srv.Config.Shutdown(ctx)
	}()
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned (%v) while a request's child was still running", err)
	default:
	}
	close(release)
	if err := wait(t, shutdown, 30*time.Second, "Shutdown returning after the child finished"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if !childDone.Load() {
		t.Error("Shutdown returned before the request scope's child finished")
	}
	if code := wait(t, resp, 10*time.Second, "the response"); code != http.StatusOK {
		t.Errorf("status %d; want 200", code)
	}
}

func TestPanicWithErrAbortHandlerAbortsWithoutALog(t *testing.T) {
	var log logBuffer
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	}), WithLogger(log.logger())))
	defer srv.Close()
	if resp, err := srv.Client().Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Errorf("got a response (%d); want the connection aborted", resp.StatusCode)
	}
	if got := log.String(); got != "" {
		t.Errorf("logged %q; want nothing (http.ErrAbortHandler is a request to abort, not a failure)", got)
	}
}

func TestScopeDeadlineWithNothingWrittenIs503(t *testing.T) {
	var log logBuffer
	srv := httptest.NewServer(Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		echo.Go(r.Context(), echo.High, func(ctx context.Context) error {
			<-ctx.Done() // a backend that does not answer in time
			return ctx.Err()
		})
	}), WithScopeOptions(echo.WithTimeout(10*time.Millisecond)), WithLogger(log.logger())))
	defer srv.Close()
	if code, _, _ := get(t, srv.Client(), srv.URL); code != http.StatusServiceUnavailable {
		t.Errorf("status %d; want 503 for a request scope cut short by its deadline", code)
	}
}
