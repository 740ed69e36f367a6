// Command benchmarks runs the same workloads on Echo and on its peers
// (golang.org/x/sync/errgroup, github.com/sourcegraph/conc,
// github.com/panjf2000/ants/v2, github.com/alitto/pond/v2, and plain
// goroutines with sync.WaitGroup), each through its idiomatic API, in one
// process, and prints the medians over repetitions as a table with ratios to
// errgroup. It can save the raw results as JSON and draw them as an SVG chart,
// also from a saved run.
//
//	go run . -scenario=all -reps 5 -json results/results.json -svg results/chart.svg
//	go run . -from results/results.json -svg results/chart.svg
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Run is everything one invocation measured; it is the JSON format.
type Run struct {
	Command  string    `json:"command"`
	Date     string    `json:"date"`
	Source   Source    `json:"source"`
	Machine  Machine   `json:"machine"`
	Reps     int       `json:"reps"`
	Sizes    Sizes     `json:"sizes"`
	Variants []Variant `json:"variants"`
	Results  []Result  `json:"results"`
}

// Result is one library on one variant.
type Result struct {
	Variant string   `json:"variant"`
	Lib     string   `json:"lib"`
	Setup   string   `json:"setup"`
	Status  string   `json:"status"` // "ok", or what went wrong ("deadlock (timeout 5s)", "error: ...")
	Median  Sample   `json:"median"` // per metric, median over the successful repetitions
	Reps    []Sample `json:"reps"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchmarks:", err)
		os.Exit(1)
	}
	// A deadlocked library leaves goroutines blocked forever; returning from
	// main ends the process regardless of them.
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("benchmarks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenario := fs.String("scenario", "all", "comma-separated scenarios to run: "+strings.Join(scenarios, "|")+"|all")
	reps := fs.Int("reps", 5, "repetitions of every (scenario, library); the table shows medians")
	libs := fs.String("libs", "", "comma-separated libraries to run (default all): "+strings.Join(libOrder, ","))
	quick := fs.Bool("quick", false, "smaller workloads, for a smoke test")
	svgPath := fs.String("svg", "", "write an SVG chart of the results to this file")
	jsonPath := fs.String("json", "", "write the raw results as JSON to this file")
	from := fs.String("from", "", "do not measure: read results from this JSON file (then print, -svg)")
	rate := fs.Int("rate", 0, "requests per second of the server scenario (0: its default)")
	serve := fs.String("serve", "", "internal: be the server process of the server scenario, configured by this JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serve != "" {
		return serveUnderTest(*serve)
	}
	if *rate < 0 {
		return fmt.Errorf("-rate %d: need >= 0", *rate)
	}
	serverRate = *rate
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	var r *Run
	if *from != "" {
		data, err := os.ReadFile(*from)
		if err != nil {
			return err
		}
		r = new(Run)
		if err := json.Unmarshal(data, r); err != nil {
			return fmt.Errorf("%s: %w", *from, err)
		}
	} else {
		if *reps < 1 {
			return fmt.Errorf("-reps %d: need at least 1", *reps)
		}
		selected, err := selectVariants(*scenario)
		if err != nil {
			return err
		}
		libSet, err := selectLibs(*libs)
		if err != nil {
			return err
		}
		r = measure(selected, libSet, *reps, *quick, strings.Join(append([]string{"go run ."}, args...), " "), stderr)
	}

	printRun(stdout, r)
	if *jsonPath != "" {
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	if *svgPath != "" {
		f, err := os.Create(*svgPath)
		if err != nil {
			return err
		}
		if err := writeSVG(f, r); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func selectVariants(spec string) ([]Variant, error) {
	want := map[string]bool{}
	for _, s := range strings.Split(spec, ",") {
		s = strings.TrimSpace(s)
		if s == "all" {
			for _, n := range scenarios {
				want[n] = true
			}
			continue
		}
		if !slices.Contains(scenarios, s) {
			return nil, fmt.Errorf("-scenario %q: unknown scenario %q; want %s or all", spec, s, strings.Join(scenarios, ", "))
		}
		want[s] = true
	}
	var out []Variant
	for _, v := range variants() {
		if want[scenarioOf(v.Key)] {
			out = append(out, v)
		}
	}
	return out, nil
}

func selectLibs(spec string) (map[string]bool, error) {
	set := map[string]bool{}
	if spec == "" {
		for _, l := range libOrder {
			set[l] = true
		}
		return set, nil
	}
	for _, l := range strings.Split(spec, ",") {
		l = strings.TrimSpace(l)
		if !slices.Contains(libOrder, l) {
			return nil, fmt.Errorf("-libs %q: unknown library %q; want some of %s", spec, l, strings.Join(libOrder, ", "))
		}
		set[l] = true
	}
	return set, nil
}

// measure runs every selected variant: for each repetition, every library in
// turn, so slow drift of the machine spreads over all libraries alike.
func measure(vs []Variant, libSet map[string]bool, reps int, quick bool, command string, progress io.Writer) *Run {
	sz := defaultSizes(quick)
	sz.SpinPerMicros = calibrateSpin()
	r := &Run{
		Command:  command,
		Date:     time.Now().UTC().Format(time.RFC3339),
		Source:   thisSource(),
		Machine:  thisMachine(),
		Reps:     reps,
		Sizes:    sz,
		Variants: vs,
	}
	r.Machine.Speedup = parallelSpeedup(r.Machine.GOMAXPROCS)
	fmt.Fprintf(progress, "machine: %s\n", r.Machine)
	for _, v := range vs {
		var todo []Impl
		for _, im := range impls[v.Key] {
			if libSet[im.Lib] {
				todo = append(todo, im)
			}
		}
		res := make([]Result, len(todo))
		for i, im := range todo {
			res[i] = Result{Variant: v.Key, Lib: im.Lib, Setup: im.Setup, Status: "ok"}
		}
		for rep := 1; rep <= reps; rep++ {
			for k := range todo {
				// Alternate the order, so no library always runs first
				// (or right after a particular other one).
				i := k
				if rep%2 == 0 {
					i = len(todo) - 1 - k
				}
				im := todo[i]
				if res[i].Status != "ok" {
					continue // a library that failed once is not run again here
				}
				runtime.GC()
				s, err := attempt(v.Timeout, func() (Sample, error) { return im.Run(&sz) })
				switch {
				case errors.Is(err, errTimedOut):
					res[i].Status = v.OnTimeout
				case err != nil:
					res[i].Status = "error: " + err.Error()
				default:
					res[i].Reps = append(res[i].Reps, s)
				}
				fmt.Fprintf(progress, "%-20s rep %d/%d  %-11s %s\n", v.Key, rep, reps, im.Lib, progressText(v, s, res[i].Status))
			}
		}
		for i := range res {
			if len(res[i].Reps) > 0 {
				res[i].Median = medianSample(res[i].Reps)
			}
		}
		r.Results = append(r.Results, res...)
	}
	return r
}

func progressText(v Variant, s Sample, status string) string {
	if status != "ok" {
		return status
	}
	var parts []string
	for _, m := range v.Metrics {
		parts = append(parts, fmt.Sprintf("%s %s", fmtNum(s[m.Name]), m.Name))
	}
	return strings.Join(parts, ", ")
}
