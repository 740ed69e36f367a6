// Command server is an HTTP server that runs each request in its own Echo
// scope, through echohttp.Handler, at the priority of the request's
// Priority header (RFC 9218). Each request fans out the parts of its answer
// as High children; a client that goes away cancels its request's scope,
// and with it every child; a panic becomes a logged 500. Work the answer
// does not wait for (an analytics write) goes at Low into the server's own
// long-lived scope, which supervises it and is joined at shutdown, after
// http.Server.Shutdown has waited for every request: nothing is
// fire-and-forget, and no request waits behind it.
//
// By default it tests itself: it listens on 127.0.0.1, sends itself requests
// through net/http while a CPU-heavy background job keeps the pool busy,
// prints the latencies and exits.
//
//	go run ./examples/server              # self-test, then exit
//	go run ./examples/server -selftest=false -addr 127.0.0.1:8080
//
// It tracks its scopes (echo.EnableTree) and serves the live tree at
// /debug/echo (echohttp.DebugHandler): text for curl, JSON with
// ?format=json, a page for a browser. To see a request stuck on a slow
// backend, make the stock service slow with -backend 30s, request /quote
// and look at /debug/echo meanwhile.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/echohttp"
	"github.com/echo-scheduler/echo/pool"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback)")
	selftest := flag.Bool("selftest", true, "send requests to itself, print latencies and exit")
	requests := flag.Int("requests", 200, "self-test requests (>= 1)")
	backend := flag.Duration("backend", 200*time.Microsecond, "how long the stock service takes to answer")
	flag.Parse()
	if *requests < 1 {
		fmt.Fprintf(os.Stderr, "server: -requests %d: need at least 1\n", *requests)
		os.Exit(2)
	}

	// One worker fewer than Ps: the pool keeps its workers busy while work
	// is queued, and Go polls the network late (up to 10 ms) when every P
	// runs CPU-bound code, so a server that mixes CPU-heavy background work
	// with network I/O leaves one P to the network goroutines.
	p := pool.New(pool.WithWorkers(max(1, runtime.GOMAXPROCS(0)-1)), pool.WithName("server"))
	defer p.Stop(context.Background())
	echo.EnableTree() // before any scope opens: /debug/echo shows them all
	srv := newServer(p)
	srv.backend = *backend

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	hs := &http.Server{Handler: srv.handler(), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()

	if !*selftest {
		fmt.Println("listening on", url, "(Ctrl-C to stop); try", url+"/quote?item=42", "and", url+"/debug/echo")
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		<-sig
	} else {
		err = selfTest(url, srv, *requests)
	}
	// Stop in order: Shutdown waits for every request, and so for every
	// request scope (echohttp.Handler returns after its scope); only then
	// can no handler spawn into the background scope, which is joined last.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := hs.Shutdown(ctx); err != nil {
		log.Println("shutdown:", err)
		hs.Close()
	}
	cancel()
	<-served
	srv.close()
	if *selftest {
		if err != nil {
			fmt.Fprintln(os.Stderr, "selftest:", err)
			os.Exit(1)
		}
		srv.report()
	}
}

// server answers /quote: price and stock are looked up in parallel (High),
// the request is logged for analytics (Low), all in one scope.
type server struct {
	pool      *pool.Pool
	bg        *echo.Scope  // the server's scope: work that outlives a request
	analytics atomic.Int64 // analytics records written
	cancelled atomic.Int64 // requests whose scope ended by client cancellation
	summary   string       // the self-test's findings, printed by report
	backend   time.Duration
}

func newServer(p *pool.Pool) *server {
	// Failures of background work are logged, not fatal to the server.
	bg, _ := echo.NewScope(context.Background(), echo.WithPool(p), echo.WithCollectAll(), echo.WithName("server"))
	return &server{pool: p, bg: bg}
}

// close joins the server's background work. Call it once no handler runs
// any more (after http.Server.Shutdown has returned): a handler still
// running could spawn into the scope after its Wait, which panics.
func (s *server) close() {
	if err := s.bg.Wait(); err != nil {
		log.Println("background work failed:", err)
	}
}

// handler routes /quote. echohttp.Handler runs every request in a scope on
// the server's pool at its Priority header's priority (none: Normal), with
// a 2 s deadline; r.Context() in the handlers carries that scope. The
// debug handler, next to it and outside any scope, shows the live tree.
func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quote", s.quote)
	root := http.NewServeMux()
	root.Handle("/debug/echo", echohttp.DebugHandler())
	root.Handle("/", echohttp.Handler(mux, echohttp.WithPool(s.pool),
		echohttp.WithScopeOptions(echo.WithName("request"), echo.WithTimeout(2*time.Second))))
	return root
}

type quote struct {
	Item  int     `json:"item"`
	Price float64 `json:"price"`
	Stock int     `json:"stock"`
}

func (s *server) quote(w http.ResponseWriter, r *http.Request) {
	item, err := strconv.Atoi(r.URL.Query().Get("item"))
	if err != nil || item < 0 {
		http.Error(w, "item must be a non-negative integer", http.StatusBadRequest)
		return
	}
	var q quote
	q.Item = item
	// The request's scope is cancelled when the client goes away, and so is
	// this nested one, which waits for the two parts of the answer.
	err = echo.Nursery(r.Context(), func(ctx context.Context) error {
		echo.Go(ctx, echo.High, func(ctx context.Context) error {
			q.Price = price(item)
			return ctx.Err()
		})
		echo.Go(ctx, echo.High, func(ctx context.Context) error {
			n, err := stock(ctx, item, s.backend)
			q.Stock = n
			return err
		})
		return nil
	}, echo.WithName("quote"))
	switch {
	case errors.Is(err, context.Canceled):
		s.cancelled.Add(1)
		return // the client is gone; nobody reads the answer
	case err != nil:
		// Not err.Error(): errors are for the log, not for the client.
		log.Printf("quote %d: %v", item, err)
		http.Error(w, "quote unavailable", http.StatusServiceUnavailable)
		return
	}
	s.bg.Go(echo.Low, func(ctx context.Context) error {
		s.analytics.Add(1) // a write to an analytics store
		return nil
	})
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(q)
}

// price is a small CPU-bound computation.
func price(item int) float64 {
	h := fnv.New64a()
	for i := range 2000 {
		fmt.Fprint(h, item, i)
	}
	return float64(h.Sum64()%10000) / 100
}

// stock simulates a call to another service, which takes d to answer and
// honours cancellation.
func stock(ctx context.Context, item int, d time.Duration) (int, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return item % 17, nil
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
}

// selfTest keeps the pool busy with Low background work, sends requests
// sequentially and a few that it abandons, and prints what it saw.
func selfTest(url string, s *server, n int) error {
	bgCtx, stopBackground := context.WithCancel(context.Background())
	var bg sync.WaitGroup
	bg.Go(func() { background(bgCtx, s.pool) })

	client := &http.Client{Timeout: 5 * time.Second}
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		resp, err := client.Get(fmt.Sprintf("%s/quote?item=%d", url, i))
		if err != nil {
			stopBackground()
			bg.Wait()
			return err
		}
		var q quote
		err = json.NewDecoder(resp.Body).Decode(&q)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || q.Item != i {
			stopBackground()
			bg.Wait()
			return fmt.Errorf("request %d: status %d, %+v, %v", i, resp.StatusCode, q, err)
		}
		lat = append(lat, time.Since(start))
	}

	// A client that gives up: its request's scope is cancelled.
	abandoned := 0
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Microsecond)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/quote?item=%d", url, i), nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		} else {
			abandoned++
		}
		cancel()
	}
	stopBackground()
	bg.Wait()

	slices.Sort(lat)
	s.summary = fmt.Sprintf("%d requests on a pool of %d workers kept busy by Low background work:\n", n, s.pool.Stats().Workers) +
		fmt.Sprintf("  latency p50 %v  p99 %v  max %v\n", lat[len(lat)/2].Round(time.Microsecond),
			lat[len(lat)*99/100].Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond)) +
		fmt.Sprintf("  abandoned by the client: %d", abandoned)
	return nil
}

// report prints what the self-test saw, once the server has shut down and
// its background work is joined, so the counts are final.
func (s *server) report() {
	fmt.Println(s.summary)
	fmt.Printf("  scopes that saw their client go away: %d\n", s.cancelled.Load())
	fmt.Printf("  analytics records written (Low): %d\n", s.analytics.Load())
}

// background keeps the pool busy with CPU-bound Low tasks until ctx ends,
// as a batch job sharing the server's pool would.
func background(ctx context.Context, p *pool.Pool) {
	echo.Nursery(ctx, func(ctx context.Context) error {
		for ctx.Err() == nil {
			echo.Go(ctx, echo.Low, func(ctx context.Context) error {
				spin(500 * time.Microsecond)
				return nil
			})
		}
		return nil
	}, echo.WithPool(p), echo.WithLimit(64), echo.WithName("background"))
}

func spin(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}
