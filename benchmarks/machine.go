package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Machine describes where a run was measured.
type Machine struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"` // logical CPUs, runtime.NumCPU
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	// Speedup is measured, not assumed: how much faster GOMAXPROCS goroutines
	// burning CPU finish a fixed amount of work than one goroutine does. On a
	// machine with dedicated cores it is close to GOMAXPROCS; on shared
	// virtual CPUs it can be much lower, and every parallel figure with it.
	Speedup float64 `json:"parallel_speedup"`
}

func thisMachine() Machine {
	return Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
	}
}

// cpuModel reads the first "model name" of /proc/cpuinfo (Linux); elsewhere
// it says it does not know.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func (m Machine) String() string {
	s := fmt.Sprintf("%s, %d logical CPUs, GOMAXPROCS=%d, %s %s/%s",
		m.CPU, m.Cores, m.GOMAXPROCS, m.GoVersion, m.GOOS, m.GOARCH)
	if m.Speedup > 0 {
		s += fmt.Sprintf(", measured parallel speedup %.2fx of %d", m.Speedup, m.GOMAXPROCS)
	}
	return s
}
