package main

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strings"
)

// The chart: one panel per variant, showing its primary metric as
// horizontal bars, one per library, on a logarithmic axis (the values of one
// panel span several orders of magnitude: 50 µs against 250 ms of latency).
// Panels sit in two columns. A library that did not finish is shown as text
// in place of its bar. Colours are fixed per library across panels.

// libColor is one colour per library in libOrder (Okabe-Ito palette, readable
// by colour-blind readers).
var libColor = map[string]string{
	"echo":       "#D55E00",
	"echo.Group": "#E69F00",
	"errgroup":   "#0072B2",
	"conc":       "#009E73",
	"ants":       "#CC79A7",
	"pond":       "#56B4E9",
	"goroutines": "#666666",
}

const (
	svgWidth   = 1000
	svgColumns = 2
	panelW     = svgWidth / svgColumns
	labelW     = 84  // library names
	valueW     = 150 // value and ratio text after the bar
	barH       = 15
	barGap     = 5
	panelHead  = 58 // three title lines
	panelFoot  = 30 // axis labels
	headerH    = 78
)

type svgWriter struct {
	w   *bufio.Writer
	err error
}

func (s *svgWriter) printf(format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, format, args...)
	}
}

// esc escapes text for XML character data and attribute values.
func esc(text string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(text)) // writes to a Builder: cannot fail
	return b.String()
}

// writeSVG draws r as an SVG document.
func writeSVG(out io.Writer, r *Run) error {
	s := &svgWriter{w: bufio.NewWriter(out)}

	type panel struct {
		v    Variant
		rows []Result
	}
	var panels []panel
	for _, v := range r.Variants {
		p := panel{v: v}
		for _, res := range r.Results {
			if res.Variant == v.Key {
				p.rows = append(p.rows, res)
			}
		}
		if len(p.rows) > 0 {
			panels = append(panels, p)
		}
	}
	notes := chartNotes(r)
	panelH := func(p panel) int {
		if p.rows == nil { // the notes panel
			return 22 + 16*len(notes)
		}
		return panelHead + len(p.rows)*(barH+barGap) + panelFoot
	}
	panels = append(panels, panel{}) // the notes take the last grid cell

	// Row heights: the tallest panel of each row of panels.
	var rowH []int
	for i := 0; i < len(panels); i += svgColumns {
		h := 0
		for j := i; j < min(i+svgColumns, len(panels)); j++ {
			h = max(h, panelH(panels[j]))
		}
		rowH = append(rowH, h)
	}
	height := headerH
	for _, h := range rowH {
		height += h + 16
	}

	s.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	s.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	s.printf(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	s.printf(`<text x="12" y="24" font-size="17" font-weight="bold">%s</text>`+"\n",
		esc(fmt.Sprintf("Echo vs peers: median of %d repetitions per bar (lower is better; log scales)", r.Reps)))
	s.printf(`<text x="12" y="44" font-size="12">%s</text>`+"\n", esc(r.Machine.String()))
	s.printf(`<text x="12" y="62" font-size="11" fill="#444">%s</text>`+"\n",
		esc(fmt.Sprintf("%s — %s", r.Command, r.Date)))

	y := headerH
	for i, p := range panels {
		row, col := i/svgColumns, i%svgColumns
		if col == 0 && row > 0 {
			y += rowH[row-1] + 16
		}
		if p.rows == nil {
			drawNotes(s, notes, col*panelW, y)
			continue
		}
		drawPanel(s, r, p.v, p.rows, col*panelW, y)
	}
	s.printf("</svg>\n")
	if s.err != nil {
		return s.err
	}
	return s.w.Flush()
}

// chartNotes are the reading instructions printed in the chart's last cell.
func chartNotes(r *Run) []string {
	n := []string{
		fmt.Sprintf("Each bar is the median of %d repetitions; shorter is better.", r.Reps),
		"Ratios: the value divided by errgroup's on the same workload.",
	}
	has := map[string]bool{}
	for _, v := range r.Variants {
		has[scenarioOf(v.Key)] = true
	}
	if has["priority"] {
		n = append(n, "priority: only echo has priorities; the others run FIFO.",
			fmt.Sprintf("  GOMAXPROCS = %d (workers + 1) during that workload.", r.Sizes.PrioWorkers+1))
	}
	if has["forkjoin"] {
		n = append(n, "forkjoin: deadlock = no result within the timeout;",
			"  the attempt is abandoned, not retried.")
	}
	if has["memory"] {
		n = append(n, fmt.Sprintf("memory: echo and pond queue tasks on pools of %d workers", r.Sizes.MemWorkers),
			"  (echo's adds workers while tasks block: see goroutines);",
			"  the others hold one goroutine per pending task.")
	}
	n = append(n, "Setups, all metrics and sizes: the printed table",
		"  (go run . -from results.json).")
	return n
}

func drawNotes(s *svgWriter, notes []string, x0, y0 int) {
	s.printf(`<g transform="translate(%d,%d)">`+"\n", x0, y0)
	s.printf(`<text x="10" y="14" font-size="13" font-weight="bold">How to read</text>` + "\n")
	for i, line := range notes {
		s.printf(`<text x="10" y="%d" font-size="11" fill="#333" xml:space="preserve">%s</text>`+"\n", 32+16*i, esc(line))
	}
	s.printf("</g>\n")
}

// metricUnit is the unit of v's primary metric.
func metricUnit(v Variant) string {
	for _, m := range v.Metrics {
		if m.Name == v.Primary {
			return m.Unit
		}
	}
	return ""
}

func drawPanel(s *svgWriter, r *Run, v Variant, rows []Result, x0, y0 int) {
	unit := metricUnit(v)
	s.printf(`<g transform="translate(%d,%d)">`+"\n", x0, y0)
	s.printf(`<text x="10" y="14" font-size="13" font-weight="bold">%s</text>`+"\n", esc(v.Key+": "+v.Primary))
	s.printf(`<text x="10" y="29" font-size="11" fill="#444">%s</text>`+"\n", esc(v.Title+" (log scale)"))
	s.printf(`<text x="10" y="43" font-size="11" fill="#444">%s</text>`+"\n", esc(sizesOf(v.Key, r.Sizes)))

	// Axis: whole decades that contain every successful value.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, res := range rows {
		if res.Status == "ok" {
			if val := res.Median[v.Primary]; val > 0 {
				lo, hi = math.Min(lo, val), math.Max(hi, val)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 1, 10
	}
	// Half a value below the smallest, so its bar is at least 0.3 decades long.
	dLo, dHi := math.Floor(math.Log10(lo/2)), math.Ceil(math.Log10(hi))
	if dHi <= dLo {
		dHi = dLo + 1
	}
	barX, barW := float64(labelW), float64(panelW-labelW-valueW)
	xOf := func(val float64) float64 {
		return barX + (math.Log10(val)-dLo)/(dHi-dLo)*barW
	}
	plotTop := panelHead
	plotBottom := panelHead + len(rows)*(barH+barGap)

	// Decade grid lines, labelled; with many decades, label every other one.
	step := 1.0
	if dHi-dLo > 5 {
		step = 2
	}
	for d := dLo; d <= dHi; d++ {
		x := xOf(math.Pow(10, d))
		s.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, plotTop-4, x, plotBottom)
		if math.Mod(d-dLo, step) == 0 {
			s.printf(`<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#555">%s</text>`+"\n",
				x, plotBottom+13, esc(humanize(math.Pow(10, d), unit)))
		}
	}

	base, haveBase := baseline(r, v)
	for i, res := range rows {
		y := plotTop + i*(barH+barGap)
		color := libColor[res.Lib]
		if color == "" {
			color = "#999999"
		}
		s.printf(`<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", labelW-6, y+barH-3, esc(res.Lib))
		if res.Status != "ok" {
			s.printf(`<text x="%.1f" y="%d" fill="#B00020" font-style="italic">%s</text>`+"\n",
				barX+4, y+barH-3, esc(res.Status))
			continue
		}
		val := res.Median[v.Primary]
		w := 2.0
		if val > 0 {
			w = math.Max(2, xOf(val)-barX)
		}
		s.printf(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", barX, y, w, barH, color)
		label := humanize(val, unit)
		if haveBase && base > 0 && res.Lib != "errgroup" {
			label += " (" + fmtRatio(val/base) + " errgroup)"
		}
		s.printf(`<text x="%.1f" y="%d" font-size="11">%s</text>`+"\n", barX+w+4, y+barH-3, esc(label))
	}
	s.printf(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/>`+"\n", barX, plotTop-4, barX, plotBottom)
	s.printf("</g>\n")
}

// unitFamilies rescale a value to a readable unit: each family lists its
// units from smallest to largest with their size in the family's base unit.
type scaledUnit struct {
	name  string
	scale float64
}

var unitFamilies = [][]scaledUnit{
	{{"ns", 1}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}},
	{{"B", 1}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}},
}

// humanize prints v, measured in unit, in the largest unit of unit's family
// in which it is at least 1: 63226 µs prints as "63.23 ms". A unit outside
// the families ("MiB", "goroutines") prints as it is.
func humanize(v float64, unit string) string {
	for _, fam := range unitFamilies {
		for _, u := range fam {
			if u.name != unit {
				continue
			}
			base, best := v*u.scale, fam[0]
			for _, c := range fam {
				if math.Abs(base) >= c.scale*0.9999 {
					best = c
				}
			}
			return trimNum(base/best.scale) + " " + best.name
		}
	}
	return trimNum(v) + " " + unit
}

// trimNum is fmtNum without trailing zeros after the point (1.000 -> 1).
func trimNum(v float64) string {
	s := fmtNum(v)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// fmtRatio prints a ratio with precision that suits its size.
func fmtRatio(x float64) string {
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0fx", x)
	case x >= 10:
		return fmt.Sprintf("%.1fx", x)
	case x >= 0.1:
		return fmt.Sprintf("%.2fx", x)
	}
	return fmt.Sprintf("%.2gx", x) // 0.0047x, not 0.00x
}

// decadeLabel writes 10^d compactly: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M...
func decadeLabel(d float64) string {
	switch {
	case d < 0:
		return strings.TrimRight(fmt.Sprintf("%.*f", int(-d), math.Pow(10, d)), "0")
	case d < 3:
		return fmt.Sprintf("%.0f", math.Pow(10, d))
	case d < 6:
		return fmt.Sprintf("%.0fk", math.Pow(10, d-3))
	case d < 9:
		return fmt.Sprintf("%.0fM", math.Pow(10, d-6))
	}
	return fmt.Sprintf("1e%.0f", d)
}
