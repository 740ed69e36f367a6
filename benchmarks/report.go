package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// fmtNum prints a measurement with about three significant digits.
func fmtNum(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 10:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// sizesOf says which sizes a variant used.
func sizesOf(key string, sz Sizes) string {
	switch scenarioOf(key) {
	case "fanout":
		if key == "fanout/bounded" {
			return fmt.Sprintf("N=%d tasks, limit=%d (GOMAXPROCS)", sz.FanoutTasks, sz.Bound)
		}
		return fmt.Sprintf("N=%d tasks", sz.FanoutTasks)
	case "priority":
		return fmt.Sprintf("W=%d workers, %d Low tasks x %v CPU, then %d High tasks every %v",
			sz.PrioWorkers, sz.PrioLow, sz.PrioLowWork, sz.PrioHigh, sz.PrioInterval)
	case "forkjoin":
		return fmt.Sprintf("fib(%d), sequential below %d, W=%d, timeout %v",
			sz.FibN, sz.FibCutoff, sz.FibWorkers, sz.FibTimeout)
	case "iofanout":
		if key == "iofanout/bounded" {
			return fmt.Sprintf("N=%d tasks x sleep %v, W=%d", sz.IOTasks, sz.IOSleep, sz.IOWorkers)
		}
		return fmt.Sprintf("N=%d tasks x sleep %v", sz.IOTasks, sz.IOSleep)
	case "busyio":
		return fmt.Sprintf("N=%d tasks x sleep %v, GOMAXPROCS spinners outside the pools; pool100: limit %d",
			sz.BusyTasks, sz.BusySleep, sz.BusyPool)
	case "memory":
		return fmt.Sprintf("N=%d pending tasks, pools with %d workers", sz.MemTasks, sz.MemWorkers)
	case "server":
		return fmt.Sprintf("%d requests/s for %v after %v of warm-up; High part %v CPU + backend %v; background %d tasks x %v CPU in flight",
			sz.ServerRate, sz.ServerDuration, sz.ServerWarmup, sz.ServerCPU, sz.ServerBackend, sz.ServerInFlight, sz.ServerLowWork)
	case "map":
		switch key {
		case "map/10us":
			return fmt.Sprintf("N=%d elements x %v CPU", sz.MapElems, sz.MapWork)
		case "map/io":
			return fmt.Sprintf("N=%d elements x sleep %v", sz.IOTasks, sz.IOSleep)
		}
		return fmt.Sprintf("N=%d elements", sz.MapElems)
	}
	return ""
}

// printRun prints the machine, the sizes and one table per variant. Every
// number is the median over the repetitions; the ratio column divides the
// variant's primary metric by errgroup's (below 1 is better than errgroup);
// min..max is the primary metric's range over the repetitions.
func printRun(w io.Writer, r *Run) {
	fmt.Fprintf(w, "machine: %s\n", r.Machine)
	fmt.Fprintf(w, "run:     %s  (%s)\n", r.Command, r.Date)
	if r.Source.Commit != "" { // runs saved before the field existed have none
		fmt.Fprintf(w, "code:    %s\n", r.Source)
	}
	fmt.Fprintf(w, "every figure is the MEDIAN over %d repetitions; lower is better everywhere\n", r.Reps)
	fmt.Fprintf(w, "CPU spin calibration: %.0f iterations/µs\n", r.Sizes.SpinPerMicros)
	for _, v := range r.Variants {
		fmt.Fprintf(w, "\n== %s: %s\n   %s\n   sizes: %s\n", v.Key, v.Title, v.Description, sizesOf(v.Key, r.Sizes))
		base, haveBase := baseline(r, v)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		hdr := []string{"library"}
		for _, m := range v.Metrics {
			hdr = append(hdr, m.Name)
		}
		hdr = append(hdr, "vs errgroup", v.Primary+" min..max", "")
		fmt.Fprintln(tw, strings.Join(hdr, "\t")+"\t")
		for _, res := range r.Results {
			if res.Variant != v.Key {
				continue
			}
			row := []string{res.Lib}
			if res.Status != "ok" {
				for range v.Metrics {
					row = append(row, "-")
				}
				row = append(row, "-", "-", "  "+res.Status+"; "+res.Setup)
			} else {
				for _, m := range v.Metrics {
					row = append(row, fmtNum(res.Median[m.Name]))
				}
				ratio := "-"
				if haveBase && base > 0 {
					ratio = fmtRatio(res.Median[v.Primary] / base)
				}
				row = append(row, ratio, spread(res.Reps, v.Primary), "  "+res.Setup)
			}
			fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		}
		tw.Flush()
	}
}

// spread is the smallest and largest value of metric over the repetitions,
// to show how much the median hides.
func spread(reps []Sample, metric string) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range reps {
		if v, ok := r[metric]; ok {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return "-"
	}
	return fmtNum(lo) + ".." + fmtNum(hi)
}

// baseline is errgroup's primary metric on v, if it ran successfully.
func baseline(r *Run, v Variant) (float64, bool) {
	for _, res := range r.Results {
		if res.Variant == v.Key && res.Lib == "errgroup" && res.Status == "ok" {
			return res.Median[v.Primary], true
		}
	}
	return 0, false
}
