package main

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"time"
)

// Sizes are the workload sizes of one run. They are printed with the results
// and stored in the JSON, so a table always says what it measured.
type Sizes struct {
	FanoutTasks   int           `json:"fanout_tasks"`
	Bound         int           `json:"bound"` // the "bounded" worker/limit count: GOMAXPROCS
	PrioWorkers   int           `json:"prio_workers"`
	PrioLow       int           `json:"prio_low"`
	PrioHigh      int           `json:"prio_high"`
	PrioLowWork   time.Duration `json:"prio_low_work_ns"`
	PrioInterval  time.Duration `json:"prio_interval_ns"`
	FibN          int           `json:"fib_n"`
	FibCutoff     int           `json:"fib_cutoff"`
	FibWorkers    int           `json:"fib_workers"`
	FibTimeout    time.Duration `json:"fib_timeout_ns"`
	IOTasks       int           `json:"io_tasks"`
	IOSleep       time.Duration `json:"io_sleep_ns"`
	IOWorkers     int           `json:"io_workers"`
	BusyTasks     int           `json:"busy_tasks"`
	BusySleep     time.Duration `json:"busy_sleep_ns"`
	BusyPool      int           `json:"busy_pool"`
	MemTasks      int           `json:"mem_tasks"`
	MemWorkers    int           `json:"mem_workers"`
	MapElems      int           `json:"map_elems"`
	MapWork       time.Duration `json:"map_work_ns"`
	SpinPerMicros float64       `json:"spin_iters_per_us"` // calibration of the CPU-burning loop

	// The server scenario (server.go).
	ServerRate     int           `json:"server_rate"` // requests per second
	ServerCPU      time.Duration `json:"server_cpu_ns"`
	ServerBackend  time.Duration `json:"server_backend_ns"`
	ServerLowWork  time.Duration `json:"server_low_work_ns"`
	ServerInFlight int           `json:"server_in_flight"`
	ServerWarmup   time.Duration `json:"server_warmup_ns"`
	ServerDuration time.Duration `json:"server_duration_ns"`
}

// defaultSizes are the sizes of the standard workloads (benchmarks/README.md); quick shrinks them
// for a smoke run (-quick).
func defaultSizes(quick bool) Sizes {
	s := Sizes{
		FanoutTasks:  200_000,
		Bound:        runtime.GOMAXPROCS(0),
		PrioWorkers:  2,
		PrioLow:      5_000,
		PrioHigh:     200,
		PrioLowWork:  100 * time.Microsecond,
		PrioInterval: time.Millisecond,
		FibN:         30,
		FibCutoff:    15,
		FibWorkers:   2,
		FibTimeout:   5 * time.Second,
		IOTasks:      2_000,
		IOSleep:      time.Millisecond,
		IOWorkers:    runtime.GOMAXPROCS(0),
		BusyTasks:    100,
		BusySleep:    5 * time.Millisecond,
		BusyPool:     100,
		MemTasks:     1_000_000,
		MemWorkers:   2,
		MapElems:     100_000,
		MapWork:      10 * time.Microsecond,

		ServerRate:     defaultServerRate,
		ServerCPU:      200 * time.Microsecond,
		ServerBackend:  2 * time.Millisecond,
		ServerLowWork:  500 * time.Microsecond,
		ServerInFlight: 64,
		ServerWarmup:   time.Second,
		ServerDuration: 5 * time.Second,
	}
	if serverRate > 0 {
		s.ServerRate = serverRate
	}
	if quick {
		s.FanoutTasks = 20_000
		s.PrioLow = 1_000
		s.PrioHigh = 50
		s.FibN = 22
		s.IOTasks = 200
		s.MemTasks = 50_000
		s.ServerWarmup = 200 * time.Millisecond
		s.ServerDuration = time.Second
		s.MapElems = 10_000
	}
	return s
}

// Metric is one measured quantity of a variant.
type Metric struct {
	Name string `json:"name"` // e.g. "ns/task"
	Unit string `json:"unit"` // for the chart axis, e.g. "ns"
}

// Variant is one workload configuration: every library runs it once per
// repetition. Its description is stored in the results so that a saved run
// can be printed and charted without this program's tables.
type Variant struct {
	Key         string        `json:"key"` // "fanout/unbounded"
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Metrics     []Metric      `json:"metrics"`
	Primary     string        `json:"primary"` // the metric charted and compared to errgroup
	Timeout     time.Duration `json:"-"`
	OnTimeout   string        `json:"-"` // status reported when an attempt times out
}

var serverMetrics = []Metric{{"p50 ms", "ms"}, {"p99 ms", "ms"}, {"max ms", "ms"}, {"bg tasks/s", "tasks/s"},
	{"server CPU %", "%"}, {"generator CPU %", "%"}, {"machine CPU %", "%"}, {"failed %", "%"}}

// Sample is the metrics of one attempt.
type Sample map[string]float64

// Impl is one library's implementation of a variant.
type Impl struct {
	Lib   string // a name from libOrder
	Setup string // how the library is configured, printed in the table
	Run   func(sz *Sizes) (Sample, error)
}

// libOrder fixes the row order and colours of every table and chart.
var libOrder = []string{"echo", "echo.Group", "errgroup", "conc", "ants", "pond", "goroutines"}

func libRank(name string) int {
	for i, n := range libOrder {
		if n == name {
			return i
		}
	}
	return len(libOrder)
}

var impls = map[string][]Impl{}

// register adds an implementation of the variant key. Files register in init,
// so a library's code lives in its own file (echo's in echo.go).
func register(key string, im Impl) {
	if _, ok := variantByKey(key); !ok {
		panic(fmt.Sprintf("register: unknown variant %q", key))
	}
	impls[key] = append(impls[key], im)
	sort.SliceStable(impls[key], func(i, j int) bool {
		return libRank(impls[key][i].Lib) < libRank(impls[key][j].Lib)
	})
}

func variantByKey(key string) (Variant, bool) {
	for _, v := range variants() {
		if v.Key == key {
			return v, true
		}
	}
	return Variant{}, false
}

// scenarioOf is the scenario name of a variant key ("fanout" of "fanout/bounded").
func scenarioOf(key string) string {
	for i := range key {
		if key[i] == '/' {
			return key[:i]
		}
	}
	return key
}

var scenarios = []string{"fanout", "priority", "forkjoin", "iofanout", "busyio", "memory", "server", "map"}

// defaultServerRate is the server scenario's load (see server.go);
// serverRate, from -rate, overrides it.
const defaultServerRate = 1800

var serverRate int

// variants lists every workload in run order.
func variants() []Variant {
	return slices.Concat(coreVariants(), busyioVariants())
}

func coreVariants() []Variant {
	return []Variant{
		{
			Key:         "fanout/unbounded",
			Title:       "fan-out of no-op tasks, unbounded",
			Description: "submit N no-op tasks and wait for all; each library's default (no limit)",
			Metrics:     []Metric{{"ns/task", "ns"}, {"allocs/task", "allocs"}, {"B/task", "B"}},
			Primary:     "ns/task",
			Timeout:     60 * time.Second,
			OnTimeout:   "timeout",
		},
		{
			Key:         "fanout/bounded",
			Title:       "fan-out of no-op tasks, bounded to GOMAXPROCS",
			Description: "as unbounded, with each library's limit set to GOMAXPROCS",
			Metrics:     []Metric{{"ns/task", "ns"}, {"allocs/task", "allocs"}, {"B/task", "B"}},
			Primary:     "ns/task",
			Timeout:     60 * time.Second,
			OnTimeout:   "timeout",
		},
		{
			Key:   "priority/saturated",
			Title: "High-priority latency behind a Low backlog",
			Description: "2 workers; a backlog of Low CPU tasks is submitted first (one caller goroutine per submit), " +
				"then High tasks arrive at fixed intervals; latency = High submit call -> High task start. " +
				"Libraries without priorities run everything FIFO. GOMAXPROCS = W+1 here, so submitters get a P; " +
				"submit lag = how late the High submit calls were against their schedule",
			Metrics: []Metric{{"p50 µs", "µs"}, {"p99 µs", "µs"}, {"max µs", "µs"}, {"total ms", "ms"}, {"submit lag p99 µs", "µs"}},
			Primary: "p99 µs",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "forkjoin/fib",
			Title: "fork-join: recursive fib through nested groups, bounded",
			Description: "each call above the cutoff forks fib(n-1) and fib(n-2) into a nested group and waits; " +
				"pools share one pool of W workers, group libraries set a per-group limit of W",
			Metrics: []Metric{{"ms", "ms"}},
			Primary: "ms",
			Timeout: 5 * time.Second, OnTimeout: "deadlock (timeout 5s)",
		},
		{
			Key:         "iofanout/unbounded",
			Title:       "I/O fan-out (tasks sleep), unbounded",
			Description: "N tasks that each sleep; each library's default configuration; wall time",
			Metrics:     []Metric{{"ms", "ms"}},
			Primary:     "ms",
			Timeout:     60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "iofanout/bounded",
			Title: "I/O fan-out (tasks sleep), bounded to W workers",
			Description: "as unbounded, with each library's bounded configuration of W workers/limit; " +
				"a fixed limit needs N/W sleeps in sequence, echo's pool may add workers for blocked tasks",
			Metrics: []Metric{{"ms", "ms"}},
			Primary: "ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "memory/pending",
			Title: "memory with N tasks pending at once",
			Description: "submit N tasks that each wait on one gate channel, then open the gate; " +
				"peak (heap in use + stacks) above the baseline, sampled, and peak goroutines",
			Metrics: []Metric{{"peak MiB", "MiB"}, {"B/task", "B"}, {"goroutines", "goroutines"}},
			Primary: "B/task",
			Timeout: 120 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "server/requests-only",
			Title: "HTTP server under an open-loop load, no background job (the load's CPU cost)",
			Description: "the server scenario's requests alone, on a fresh server process: " +
				"server CPU % is the share of all the machine's CPUs that serving them takes",
			Metrics: serverMetrics,
			Primary: "p99 ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "server/default",
			Title: "HTTP server under an open-loop load, background job, each library by default",
			Description: "a fresh server process per run answers GET /work: a High part (CPU spin) in parallel with a call " +
				"to a stub backend; a background job keeps Low CPU tasks in flight; vegeta (in this process) " +
				"sends a fixed rate (open loop); latency percentiles over the measured window, background tasks finished per second",
			Metrics: serverMetrics,
			Primary: "p99 ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "server/tuned",
			Title: "HTTP server under an open-loop load, background job, one P left free for the network",
			Description: "as server/default, with each library tuned as an expert would: " +
				"GOMAXPROCS-1 pool workers, or at most GOMAXPROCS-1 background goroutines",
			Metrics: serverMetrics,
			Primary: "p99 ms",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "map/noop",
			Title: "Map: a function over a slice, results in order, no-op function",
			Description: "out[i] = fn(in[i]) for N elements, each library's idiomatic map with results " +
				"(echo.Map, conc iter.MapErr, errgroup by hand: a goroutine per element writing out[i])",
			Metrics: []Metric{{"ns/elem", "ns"}, {"allocs/elem", "allocs"}, {"B/elem", "B"}},
			Primary: "ns/elem",
			Timeout: 60 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:         "map/10us",
			Title:       "Map: a function over a slice, results in order, 10 µs of CPU per element",
			Description: "as map/noop, with a function that spins the CPU for about 10 µs (calibrated, not a sleep)",
			Metrics:     []Metric{{"ns/elem", "ns"}, {"allocs/elem", "allocs"}, {"B/elem", "B"}},
			Primary:     "ns/elem",
			Timeout:     120 * time.Second, OnTimeout: "timeout",
		},
		{
			Key:   "map/io",
			Title: "Map: a function over a slice, results in order, the function sleeps (I/O)",
			Description: "as map/noop, with a function that sleeps (a stand-in for a backend call); wall time per element: " +
				"a map with a fixed number of goroutines needs N/that many sleeps in sequence",
			Metrics: []Metric{{"ns/elem", "ns"}, {"allocs/elem", "allocs"}, {"B/elem", "B"}},
			Primary: "ns/elem",
			Timeout: 120 * time.Second, OnTimeout: "timeout",
		},
	}
}
