package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alitto/pond/v2"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/echohttp"
	"github.com/echo-scheduler/echo/pool"
)

// Scenario 6, a server under an open-loop load generator.
//
// The server under test answers GET /work. Each request needs a High part,
// ~ServerCPU of CPU (a calibrated spin), and a call to a stub backend that
// answers after ServerBackend; the two run in parallel and the answer
// waits for both. Meanwhile a background job keeps ServerInFlight Low tasks
// of ~ServerLowWork CPU each in flight, so the CPUs are always busy.
//
// The server runs in its own process: this binary started with -serve, a
// fresh one per (variant, library, repetition). The load generator (vegeta,
// as a library) and the stub backend run in this process, so their
// goroutines do not compete for the server's Ps. vegeta sends ServerRate
// requests per second whatever the server does (open loop): a slow answer
// does not delay the next request. After ServerWarmup of load, the
// measured ServerDuration starts; the server reports how many background
// tasks it finished and how much CPU it used, over /stats, at both ends.

// serverConfig is what the parent passes to the server process (-serve).
type serverConfig struct {
	Lib        string `json:"lib"`        // echo, errgroup or pond
	Tuned      bool   `json:"tuned"`      // leave one P free for the network
	Background bool   `json:"background"` // run the background job
	Backend    string `json:"backend"`    // the stub backend's URL
	CPUIters   int    `json:"cpu_iters"`  // the High part's spin
	LowIters   int    `json:"low_iters"`  // a background task's spin
	InFlight   int    `json:"in_flight"`  // background tasks kept in flight
}

// serverStats is the server's /stats answer.
type serverStats struct {
	BgTasks int64 `json:"bg_tasks"` // background tasks finished so far
	CPUNs   int64 `json:"cpu_ns"`   // process CPU time (user+sys), or -1
	WallNs  int64 `json:"wall_ns"`  // since the server started
}

func init() {
	for _, v := range []struct {
		key   string
		tuned bool
	}{{"server/default", false}, {"server/tuned", true}} {
		tuned := v.tuned
		echoSetup := "echohttp.Handler on pool.Default() (GOMAXPROCS workers); High part echo.Go(High); background echo.Go(Low) with WithLimit(in-flight)"
		egSetup := "errgroup.WithContext per request (High part on a goroutine); background: go + semaphore of in-flight tasks"
		pondSetup := "errgroup.WithContext per request; background: pond.NewPool(GOMAXPROCS), in-flight tasks submitted"
		if tuned {
			echoSetup = "echohttp.Handler on pool.New(WithWorkers(GOMAXPROCS-1)); High part echo.Go(High); background echo.Go(Low) with WithLimit(in-flight)"
			egSetup = "errgroup.WithContext per request; background: go + semaphore of GOMAXPROCS-1 tasks in flight"
			pondSetup = "errgroup.WithContext per request; background: pond.NewPool(GOMAXPROCS-1), in-flight tasks submitted"
		}
		register(v.key, Impl{"echo", echoSetup, serverRun("echo", tuned, true)})
		register(v.key, Impl{"errgroup", egSetup, serverRun("errgroup", tuned, true)})
		register(v.key, Impl{"pond", pondSetup, serverRun("pond", tuned, true)})
	}
	register("server/requests-only", Impl{"echo", "echohttp.Handler on pool.Default(); no background job", serverRun("echo", false, false)})
	register("server/requests-only", Impl{"errgroup", "errgroup.WithContext per request (goroutine per request); no background job", serverRun("errgroup", false, false)})
}

func serverRun(lib string, tuned, background bool) func(sz *Sizes) (Sample, error) {
	return func(sz *Sizes) (Sample, error) {
		return runServerScenario(sz, serverConfig{
			Lib:        lib,
			Tuned:      tuned,
			Background: background,
			CPUIters:   spinFor(sz, sz.ServerCPU),
			LowIters:   spinFor(sz, sz.ServerLowWork),
			InFlight:   sz.ServerInFlight,
		})
	}
}

// runServerScenario starts the stub backend here and the server under test
// in a fresh process, loads it, and returns what it measured.
func runServerScenario(sz *Sizes, cfg serverConfig) (Sample, error) {
	backend, err := startBackend(sz.ServerBackend)
	if err != nil {
		return nil, err
	}
	defer backend.Close()
	cfg.Backend = "http://" + backend.addr

	srv, err := startServerProcess(cfg)
	if err != nil {
		return nil, err
	}
	defer srv.stop()

	target := vegeta.Target{Method: http.MethodGet, URL: "http://" + srv.addr + "/work"}
	// An Attacker serves one attack; the client, and so the connections
	// opened during the warm-up, are shared.
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 10_000, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	rate := vegeta.Rate{Freq: sz.ServerRate, Per: time.Second}
	attack := func(d time.Duration) (lat []time.Duration, failed int) {
		attacker := vegeta.NewAttacker(vegeta.Client(client))
		for res := range attacker.Attack(vegeta.NewStaticTargeter(target), rate, d, "server") {
			if res.Error != "" || res.Code != http.StatusOK {
				failed++
				continue
			}
			lat = append(lat, res.Latency)
		}
		return lat, failed
	}
	attack(sz.ServerWarmup)
	s0, err := srv.stats()
	if err != nil {
		return nil, err
	}
	gen0, mach0 := processCPU(), readMachineCPU()
	lat, failed := attack(sz.ServerDuration)
	gen1, mach1 := processCPU(), readMachineCPU()
	s1, err := srv.stats()
	if err != nil {
		return nil, err
	}
	if len(lat) == 0 {
		return nil, fmt.Errorf("no successful request (%d failed)", failed)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	wall := float64(s1.WallNs - s0.WallNs)
	s := Sample{
		"p50 ms":     ms(lat[len(lat)/2]),
		"p99 ms":     ms(lat[(len(lat)*99+99)/100-1]),
		"max ms":     ms(lat[len(lat)-1]),
		"bg tasks/s": float64(s1.BgTasks-s0.BgTasks) / (wall / 1e9),
		"failed %":   100 * float64(failed) / float64(failed+len(lat)),
	}
	if s0.CPUNs >= 0 {
		s["server CPU %"] = 100 * float64(s1.CPUNs-s0.CPUNs) / wall / float64(runtime.NumCPU())
	}
	if gen0 >= 0 {
		s["generator CPU %"] = 100 * float64(gen1-gen0) / wall / float64(runtime.NumCPU())
	}
	if mach0.ok && mach1.ok && mach1.total > mach0.total {
		s["machine CPU %"] = 100 * float64(mach1.busy-mach0.busy) / float64(mach1.total-mach0.total)
	}
	return s, nil
}

// machineCPU is the machine's CPU time so far, busy and total, in ticks,
// from the first line of /proc/stat (Linux); ok is false elsewhere.
type machineCPU struct {
	busy, total uint64
	ok          bool
}

func readMachineCPU() machineCPU {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return machineCPU{}
	}
	var m machineCPU
	// user nice system idle iowait irq softirq steal; guest and guest_nice
	// are already counted in user and nice.
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return machineCPU{}
		}
		m.total += n
		if i != 3 && i != 4 { // idle and iowait
			m.busy += n
		}
	}
	m.ok = true
	return m
}

// backendStub answers every request after a fixed delay, as a remote
// service would; it runs in the load generator's process.
type backendStub struct {
	addr string
	srv  *http.Server
}

func startBackend(delay time.Duration) (*backendStub, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &backendStub{addr: ln.Addr().String()}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		io.WriteString(w, "ok")
	})}
	go b.srv.Serve(ln)
	return b, nil
}

func (b *backendStub) Close() { b.srv.Close() }

// serverProcess is a running server under test.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startServerProcess starts this binary with -serve and reads the address
// it listens on from its first line of output.
func startServerProcess(cfg serverConfig) (*serverProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	arg, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, "-serve", string(arg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &serverProcess{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("server process: reading its address: %v", err)
	}
	p.addr = strings.TrimSpace(line)
	return p, nil
}

func (p *serverProcess) stats() (serverStats, error) {
	var st serverStats
	resp, err := http.Get("http://" + p.addr + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// stop closes the server's stdin, which makes it exit, and waits for it
// (killing it after 10 s).
func (p *serverProcess) stop() {
	p.stdin.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// serveUnderTest is the server process (-serve): it serves /work and
// /stats on 127.0.0.1, prints its address, runs the background job, and
// exits when its stdin closes.
func serveUnderTest(arg string) error {
	var cfg serverConfig
	if err := json.Unmarshal([]byte(arg), &cfg); err != nil {
		return fmt.Errorf("-serve: %v", err)
	}
	start := time.Now()
	procs := runtime.GOMAXPROCS(0)
	bgCtx, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	var bgTasks atomic.Int64
	lowTask := func() {
		spin(cfg.LowIters)
		bgTasks.Add(1)
	}
	inFlight := cfg.InFlight
	if cfg.Tuned && cfg.Lib == "errgroup" {
		inFlight = max(1, procs-1) // goroutines: at most GOMAXPROCS-1 running
	}

	base := &http.Transport{MaxIdleConnsPerHost: 1024}
	var client *http.Client
	callBackend := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Backend, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}

	var work http.Handler
	var bg sync.WaitGroup
	switch cfg.Lib {
	case "echo":
		p := pool.Default()
		if cfg.Tuned {
			p = pool.New(pool.WithWorkers(max(1, procs-1)))
		}
		client = &http.Client{Transport: echohttp.Transport(base)}
		work = echohttp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			err := echo.Nursery(r.Context(), func(ctx context.Context) error {
				echo.Go(ctx, echo.High, func(context.Context) error {
					spin(cfg.CPUIters)
					return nil
				})
				return callBackend(ctx)
			})
			if err != nil {
				http.Error(w, "backend failed", http.StatusBadGateway)
				return
			}
			io.WriteString(w, "ok")
		}), echohttp.WithPool(p))
		if cfg.Background {
			bg.Go(func() {
				echo.Nursery(bgCtx, func(ctx context.Context) error {
					for ctx.Err() == nil {
						echo.Go(ctx, echo.Low, func(context.Context) error {
							lowTask()
							return nil
						})
					}
					return nil
				}, echo.WithPool(p), echo.WithLimit(inFlight))
			})
		}
	case "errgroup", "pond":
		client = &http.Client{Transport: base}
		work = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			g, ctx := errgroup.WithContext(r.Context())
			g.Go(func() error {
				spin(cfg.CPUIters)
				return nil
			})
			err := callBackend(ctx)
			if werr := g.Wait(); err == nil {
				err = werr
			}
			if err != nil {
				http.Error(w, "backend failed", http.StatusBadGateway)
				return
			}
			io.WriteString(w, "ok")
		})
		if cfg.Background {
			submit := func(task func()) { go task() }
			if cfg.Lib == "pond" {
				size := procs
				if cfg.Tuned {
					size = max(1, procs-1)
				}
				pp := pond.NewPool(size)
				defer pp.StopAndWait()
				submit = func(task func()) { pp.Submit(task) }
			}
			sem := make(chan struct{}, inFlight)
			bg.Go(func() {
				for {
					select {
					case sem <- struct{}{}:
					case <-bgCtx.Done():
						return
					}
					submit(func() {
						lowTask()
						<-sem
					})
				}
			})
		}
	default:
		return fmt.Errorf("-serve: unknown lib %q", cfg.Lib)
	}

	mux := http.NewServeMux()
	mux.Handle("GET /work", work)
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(serverStats{BgTasks: bgTasks.Load(), CPUNs: processCPU(), WallNs: int64(time.Since(start))})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	fmt.Println(ln.Addr())

	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	stopBg()
	bg.Wait()
	if err := hs.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
