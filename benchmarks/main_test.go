package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

// These tests cover the helpers only; none runs a scenario (they take
// minutes and belong to `go run .`).

func TestMain(m *testing.M) {
	// Importing ants starts its package-level default pool (two background
	// goroutines); release it so goleak sees only what the tests start.
	ants.Release()
	goleak.VerifyTestMain(m)
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5, 5, 1, 100, 5}, 5},
		{[]float64{-1, -3}, -2},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := median(in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("median modified its input: %v, was %v", in, tt.in)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100..1, unsorted on purpose
	}
	tests := []struct {
		in   []float64
		p    float64
		want float64
	}{
		{hundred, 50, 50},
		{hundred, 99, 99},
		{hundred, 100, 100},
		{hundred, 1, 1},
		{hundred, 0.5, 1},
		{[]float64{10, 20}, 50, 10}, // nearest rank: the lower middle
		{[]float64{10, 20}, 51, 20},
		{[]float64{42}, 99, 42},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(len %d, %v) = %v, want %v", len(tt.in), tt.p, got, tt.want)
		}
	}
	if hundred[0] != 100 {
		t.Errorf("percentile sorted its input in place")
	}
}

func TestStatsPanicOnBadInput(t *testing.T) {
	for name, f := range map[string]func(){
		"median empty":     func() { median(nil) },
		"percentile empty": func() { percentile(nil, 50) },
		"percentile p=0":   func() { percentile([]float64{1}, 0) },
		"percentile p=101": func() { percentile([]float64{1}, 101) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: did not panic", name)
				}
			}()
			f()
		}()
	}
}

func TestMedianSample(t *testing.T) {
	got := medianSample([]Sample{{"a": 1, "b": 10}, {"a": 3, "b": 30}, {"a": 2}})
	if got["a"] != 2 || got["b"] != 20 {
		t.Errorf("medianSample = %v, want a=2 b=20", got)
	}
}

// testRun is a small saved run with the awkward cases: a deadlock, a value
// far below the others, and text that needs XML escaping.
func testRun() *Run {
	vs := variants()
	return &Run{
		Command:  `go run . -scenario=fanout,forkjoin <&>`,
		Machine:  Machine{CPU: `Test "CPU" & <co>`, Cores: 2, GOMAXPROCS: 2, GoVersion: "go1.26", GOOS: "linux", GOARCH: "amd64"},
		Reps:     3,
		Sizes:    defaultSizes(false),
		Variants: []Variant{vs[0], vs[3]},
		Results: []Result{
			{Variant: vs[0].Key, Lib: "echo", Status: "ok", Median: Sample{"ns/task": 120, "allocs/task": 1, "B/task": 48}},
			{Variant: vs[0].Key, Lib: "errgroup", Status: "ok", Median: Sample{"ns/task": 300, "allocs/task": 1, "B/task": 40}},
			{Variant: vs[0].Key, Lib: "pond", Status: "ok", Median: Sample{"ns/task": 0.5, "allocs/task": 4, "B/task": 190}},
			{Variant: vs[3].Key, Lib: "errgroup", Status: "ok", Median: Sample{"ms": 3.2}},
			{Variant: vs[3].Key, Lib: "ants", Status: "deadlock (timeout 5s)"},
		},
	}
}

func TestWriteSVGIsWellFormedXML(t *testing.T) {
	var buf bytes.Buffer
	if err := writeSVG(&buf, testRun()); err != nil {
		t.Fatalf("writeSVG: %v", err)
	}
	dec := xml.NewDecoder(&buf)
	var root string
	rects, texts := 0, []string{}
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				root = el.Name.Local
			}
			depth++
			if el.Name.Local == "rect" {
				rects++
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if s := strings.TrimSpace(string(el)); s != "" {
				texts = append(texts, s)
			}
		}
	}
	if root != "svg" || depth != 0 {
		t.Fatalf("root element %q, final depth %d; want a closed <svg>", root, depth)
	}
	// One background rect plus one bar per successful result (4).
	if rects != 5 {
		t.Errorf("got %d <rect> elements, want 5 (background + 4 bars)", rects)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"deadlock (timeout 5s)", `Test "CPU" & <co>`, "0.40x errgroup", "<&>"} {
		if !strings.Contains(all, want) {
			t.Errorf("chart text lacks %q; text was:\n%s", want, all)
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteSVGReportsWriteError(t *testing.T) {
	if err := writeSVG(failingWriter{}, testRun()); err == nil {
		t.Fatal("writeSVG to a failing writer returned nil")
	}
}

func TestRunFromSavedJSON(t *testing.T) {
	data, err := json.Marshal(testRun())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in, svg := dir+"/r.json", dir+"/c.svg"
	if err := writeFile(in, data); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run([]string{"-from", in, "-svg", svg}, &out, io.Discard); err != nil {
		t.Fatalf("run -from: %v", err)
	}
	table := out.String()
	for _, want := range []string{"MEDIAN over 3 repetitions", "0.40x", "deadlock (timeout 5s)", "machine: Test"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

func TestFlagsRejectUnknownNames(t *testing.T) {
	for _, args := range [][]string{{"-scenario", "nope"}, {"-libs", "tokio"}, {"-reps", "0"}, {"extra"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
}

func TestAttempt(t *testing.T) {
	s, err := attempt(time.Minute, func() (Sample, error) { return Sample{"x": 1}, nil })
	if err != nil || s["x"] != 1 {
		t.Errorf("attempt of a quick fn = %v, %v", s, err)
	}
	if _, err := attempt(time.Minute, func() (Sample, error) { panic("boom") }); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("attempt of a panicking fn: err = %v, want one naming the panic", err)
	}
	release := make(chan struct{})
	_, err = attempt(10*time.Millisecond, func() (Sample, error) { <-release; return nil, nil })
	if !errors.Is(err, errTimedOut) {
		t.Errorf("attempt of a stuck fn: err = %v, want errTimedOut", err)
	}
	close(release) // lets the abandoned goroutine finish, for goleak
}

func TestDecadeLabel(t *testing.T) {
	for d, want := range map[float64]string{-2: "0.01", -1: "0.1", 0: "1", 2: "100", 3: "1k", 5: "100k", 6: "1M", 9: "1e9"} {
		if got := decadeLabel(d); got != want {
			t.Errorf("decadeLabel(%v) = %q, want %q", d, got, want)
		}
	}
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

func TestHumanize(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		unit string
		want string
	}{
		{63226, "µs", "63.23 ms"},
		{0.5, "µs", "500 ns"},
		{274, "ns", "274 ns"},
		{1058, "ns", "1.058 µs"},
		{2675, "B", "2.675 kB"},
		{1.5, "MiB", "1.5 MiB"},
		{50001, "goroutines", "50001 goroutines"},
	} {
		if got := humanize(tt.v, tt.unit); got != tt.want {
			t.Errorf("humanize(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestFmtRatio(t *testing.T) {
	for x, want := range map[float64]string{3871.2: "3871x", 12.34: "12.3x", 1: "1.00x", 0.4: "0.40x", 0.0047: "0.0047x"} {
		if got := fmtRatio(x); got != want {
			t.Errorf("fmtRatio(%v) = %q, want %q", x, got, want)
		}
	}
}

// A run records the commit it measured, and whether the tree was dirty.
func TestSourceNamesTheCommit(t *testing.T) {
	src := thisSource()
	if src.Commit == "unknown" {
		t.Skip("not in a git work tree")
	}
	if len(src.Commit) != 40 || strings.Trim(src.Commit, "0123456789abcdef") != "" {
		t.Fatalf("thisSource().Commit = %q, want a 40-digit hex commit", src.Commit)
	}
}
