package echohttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

// stuckServer puts in place what a server looks like when a request is
// stuck on a slow backend, on a pool "server" of 3 workers that cannot
// grow: a High request "GET /checkout" whose two quick children are done,
// whose nested scope "inventory backend" waits on the backend (a running
// child that does not return), whose nested scope "recommendations" was
// cancelled by its deadline while its child, which ignores its context,
// still runs, and whose Low "audit log" child is queued; next to it a Low
// background job "reindex" with one child running and three queued. It
// returns once all of that shows in the tree, and stops it all at the end
// of the test. A hold above 0 makes times look like a real stall: the job
// runs hold/2 before the request comes, and the stall lasts hold.
func stuckServer(t *testing.T, hold time.Duration) {
	t.Helper()
	treeOnce.Do(echo.EnableTree)
	p := pool.New(pool.WithWorkers(3), pool.WithMaxWorkers(3), pool.WithName("server"))
	backend := make(chan struct{}) // the slow backend answers when closed
	var started sync.WaitGroup     // children that hold a worker
	started.Add(3)
	var quick sync.WaitGroup // the request's quick children
	quick.Add(2)
	stuck := func(context.Context) error { started.Done(); <-backend; return nil }
	noop := func(context.Context) error { return nil }

	var wg sync.WaitGroup
	wg.Add(2)
	bgHolds := make(chan struct{})
	go func() {
		defer wg.Done()
		err := echo.Nursery(context.Background(), func(ctx context.Context) error {
			echo.Go(ctx, echo.Low, func(ctx context.Context) error {
				close(bgHolds)
				return stuck(ctx)
			})
			started.Wait()
			for range 3 {
				echo.Go(ctx, echo.Low, noop)
			}
			return nil
		}, echo.WithPool(p), echo.WithName("reindex"), echo.WithPriority(echo.Low))
		if err != nil {
			t.Errorf("the background scope: %v", err)
		}
	}()
	<-bgHolds
	time.Sleep(hold / 2) // the job has run a while when the request comes
	go func() {
		defer wg.Done()
		err := echo.Nursery(context.Background(), func(ctx context.Context) error {
			for range 2 {
				echo.Go(ctx, echo.High, func(context.Context) error { quick.Done(); return nil })
			}
			quick.Wait()
			inventory, _ := echo.NewScope(ctx, echo.WithName("inventory backend"))
			inventory.Go(echo.High, stuck)
			recs, _ := echo.NewScope(ctx, echo.WithName("recommendations"))
			recs.Go(echo.Normal, stuck)
			started.Wait()
			recs.Cancel(context.DeadlineExceeded)
			echo.Go(ctx, echo.Low, noop) // the audit log
			return errors.Join(inventory.Wait(), recs.Wait())
		}, echo.WithPool(p), echo.WithName("GET /checkout"), echo.WithPriority(echo.High), echo.WithCollectAll())
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the request scope: %v", err)
		}
	}()
	t.Cleanup(func() {
		close(backend)
		wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Stop(ctx); err != nil {
			t.Errorf("stopping the pool: %v", err)
		}
	})
	debugWaitFor(t, "the stuck server's tree to settle", func() bool {
		var req, bg *echo.ScopeInfo
		tree := echo.Tree()
		for i := range tree {
			switch tree[i].Name {
			case "GET /checkout":
				req = &tree[i]
			case "reindex":
				bg = &tree[i]
			}
		}
		return req != nil && bg != nil && req.Done == 2 && req.Queued == 1 && len(req.Scopes) == 2 &&
			bg.Queued == 3 && bg.Running == 1
	})
	time.Sleep(hold) // for realistic times only; everything is in place already
}

// treeOnce turns the tree on once for the test binary.
var treeOnce sync.Once

// debugWaitFor polls cond until it holds, failing with what did not happen
// after a generous deadline.
func debugWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: %s did not happen", what)
		}
		time.Sleep(time.Millisecond) // polling interval, not synchronisation
	}
}

// debugDurations matches the durations the text and HTML forms print.
var debugDurations = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|ms|s|m|h)\b`)

func debugGet(t *testing.T, srv *httptest.Server, path, accept string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp, string(body)
}

// The handler serves the text form by default, the same as echo.WriteTree.
func TestDebugHandlerServesTheTreeAsText(t *testing.T) {
	stuckServer(t, 0)
	srv := httptest.NewServer(DebugHandler())
	defer srv.Close()
	// The tree is live and global: scopes of an earlier test may still be
	// leaving it between the two snapshots, so compare a few times.
	var resp *http.Response
	var body, got, wantS string
	for range 100 {
		resp, body = debugGet(t, srv, "/debug/echo", "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("status %d, Content-Type %q; want 200, text/plain", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var want bytes.Buffer
		if err := echo.WriteTree(&want); err != nil {
			t.Fatal(err)
		}
		got, wantS = debugDurations.ReplaceAllString(body, "D"), debugDurations.ReplaceAllString(want.String(), "D")
		if got == wantS {
			break
		}
		runtime.Gosched()
	}
	if got != wantS {
		t.Errorf("text (durations as D):\n%s\nwant echo.WriteTree's:\n%s", got, wantS)
	}
	for _, line := range []string{
		`scope "GET /checkout" (debug_test.go:`,
		`) high, age D, pool server: 1 queued, 0 running, 2 done, 0 failed`,
		`    scope "inventory backend" (debug_test.go:`,
		`        running high D`,
		`, cancelled: context deadline exceeded`,
		`        running normal D`,
		`scope "reindex" (debug_test.go:`,
		`) low, waited on at low, age D, pool server: 3 queued, 1 running, 0 done, 0 failed`,
		`pool server: workers 3 + 0 extra, 0 blocked`,
		`    low: 4 queued, 1 started,`,
	} {
		if !strings.Contains(got, line) {
			t.Errorf("text lacks %q:\n%s", line, got)
		}
	}
}

// ?format=json gives the scopes and the pools with the documented names.
func TestDebugHandlerServesTheTreeAsJSON(t *testing.T) {
	stuckServer(t, 0)
	srv := httptest.NewServer(DebugHandler())
	defer srv.Close()
	resp, body := debugGet(t, srv, "/debug/echo?format=json", "text/html")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, Content-Type %q; want 200, application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var snap struct {
		Scopes []echo.ScopeInfo `json:"scopes"`
		Pools  []echo.PoolInfo  `json:"pools"`
	}
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	var req *echo.ScopeInfo
	for i := range snap.Scopes {
		if snap.Scopes[i].Name == "GET /checkout" {
			req = &snap.Scopes[i]
		}
	}
	if req == nil || req.Priority != "high" || req.Pool != "server" || len(req.Scopes) != 2 {
		t.Fatalf("no High request scope on pool server with two nested scopes in %s", body)
	}
	inv, recs := req.Scopes[0], req.Scopes[1]
	if inv.Name != "inventory backend" || inv.Running != 1 || len(inv.Children) != 1 || inv.Children[0].Priority != "high" || inv.Cancelled {
		t.Errorf("inventory backend: %+v; want one High child running, not cancelled", inv)
	}
	if recs.Name != "recommendations" || !recs.Cancelled || recs.Cause != context.DeadlineExceeded.Error() || recs.Running != 1 {
		t.Errorf("recommendations: %+v; want cancelled by its deadline, one child still running", recs)
	}
	for _, field := range []string{`"age_ns":`, `"running_children":`, `"running_ns":`, `"lanes":`, `"wait_p99_ns":`, `"extra_workers":`} {
		if !strings.Contains(body, field) {
			t.Errorf("JSON lacks %s", field)
		}
	}
	found := false
	for _, p := range snap.Pools {
		if p.Name == "server" && p.Workers == 3 && len(p.Lanes) == 3 && p.Lanes[2].Priority == "low" && p.Lanes[2].Queued == 4 {
			found = true
		}
	}
	if !found {
		t.Errorf("no pool server with 3 workers and 4 Low tasks queued in %+v", snap.Pools)
	}
}

// A browser (Accept: text/html) gets a self-contained page: the tree as
// nested lists with priorities as coloured classes, and ?refresh=N adds a
// reload. Bad parameters and methods are refused with a clear status.
func TestDebugHandlerServesAPageToBrowsers(t *testing.T) {
	stuckServer(t, 0)
	srv := httptest.NewServer(DebugHandler())
	defer srv.Close()
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	resp, body := debugGet(t, srv, "/debug/echo?refresh=5", browser)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("status %d, Content-Type %q; want 200, text/html", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`<ul class="tree">`,
		`<span class="name">GET /checkout</span>`,
		`<span class="name">inventory backend</span>`,
		`<span class="prio high">high</span>`,
		`<span class="prio low">low</span>`,
		`<span class="cancelled">cancelled: context deadline exceeded</span>`,
		`child running for <span class="time">`,
		`<h2>Pool server</h2>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	for _, external := range []string{"<script", "src=", "<link", "@import", "url(", "http://", "https://"} {
		if strings.Contains(body, external) {
			t.Errorf("page is not self-contained: it has %q", external)
		}
	}
	if _, body := debugGet(t, srv, "/debug/echo", browser); strings.Contains(body, "http-equiv") {
		t.Errorf("page without ?refresh reloads itself")
	}
	if _, body := debugGet(t, srv, "/debug/echo", "text/html;q=0, text/plain"); strings.Contains(body, "<html") {
		t.Errorf("Accept text/html;q=0 got the page")
	}
	if _, body := debugGet(t, srv, "/debug/echo?format=html", ""); !strings.Contains(body, "<html") {
		t.Errorf("?format=html did not give the page")
	}
	for _, path := range []string{"/debug/echo?refresh=0", "/debug/echo?refresh=x", "/debug/echo?format=xml"} {
		if resp, body := debugGet(t, srv, path, browser); resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(body, "echohttp: ") {
			t.Errorf("GET %s: %d %q; want 400 saying what is wrong", path, resp.StatusCode, body)
		}
	}
	resp, err := srv.Client().Post(srv.URL+"/debug/echo", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405, GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// The page as a person sees it: headless Chromium (Debian's chromium
// package) loads it like a browser, and what it renders has the tree in
// it; its screenshot is a real PNG. Set ECHO_TREE_SCREENSHOT=path to keep
// the screenshot (docs/tree.png in the README is made so, with the stall
// held for 2s so that times look real). Skipped when no browser is
// installed.
func TestDebugPageRendersInChromium(t *testing.T) {
	browser := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			browser = path
			break
		}
	}
	if browser == "" {
		t.Skip("no chromium installed (apt-get install chromium)")
	}
	keep := os.Getenv("ECHO_TREE_SCREENSHOT")
	hold := time.Duration(0)
	if keep != "" {
		hold = 2 * time.Second
	}
	stuckServer(t, hold)
	srv := httptest.NewServer(DebugHandler())
	defer srv.Close()

	dir := t.TempDir()
	run := func(args ...string) []byte {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--window-size=1000,560"}, args...)
		cmd := exec.CommandContext(ctx, browser, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", browser, strings.Join(args, " "), err, stderr.String())
		}
		return out
	}
	dom := string(run("--dump-dom", srv.URL+"/debug/echo"))
	for _, want := range []string{"GET /checkout", "inventory backend", "recommendations", "reindex", "Pool server"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page Chromium rendered lacks %q:\n%s", want, dom)
		}
	}
	shot := filepath.Join(dir, "tree.png")
	run("--screenshot="+shot, srv.URL+"/debug/echo")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("Chromium made no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 800 || b.Dy() < 400 {
		t.Errorf("screenshot is %v; want the window size", b)
	}
	if keep != "" {
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keep, data, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot kept in %s (%d bytes)", keep, len(data))
	}
}
