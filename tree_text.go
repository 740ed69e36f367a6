package echo

import (
	"bufio"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// maxTextChildren is how many running children of one scope the text form
// lists; it counts the rest.
const maxTextChildren = 10

// WriteTree writes the snapshot of [Tree] and [TreePools] as text for
// people, one scope per line, nested scopes and running children indented
// under their scope, then one block per pool:
//
//	scope "GET /slow" (server.go:41) high, age 2.013s, pool default: 0 queued, 1 running, 2 done, 0 failed
//	    running high 2.001s
//	    scope (backend.go:17) high, age 2.001s, pool default: 0 queued, 1 running, 0 done, 0 failed
//	        running high 2.001s
//	pool default: workers 2 + 0 extra, 1 blocked
//	    high: 0 queued, 12 started, wait mean 1ms, p99 <= 2ms, max 3ms
//
// Sites are shown as file base name and line (the JSON form of ScopeInfo
// has the full path). It returns the first error from w.
func WriteTree(w io.Writer) error {
	return writeTree(w, Tree(), TreePools())
}

func writeTree(w io.Writer, scopes []ScopeInfo, pools []PoolInfo) error {
	b := bufio.NewWriter(w)
	if len(scopes) == 0 {
		if treeOn.Load() {
			b.WriteString("no open scopes\n")
		} else {
			b.WriteString("no open scopes: tracking is off (see echo.EnableTree)\n")
		}
	}
	for i := range scopes {
		writeScope(b, &scopes[i], 0)
	}
	for _, p := range pools {
		fmt.Fprintf(b, "pool %s: workers %d + %d extra, %d blocked\n", p.Name, p.Workers, p.Extra, p.Blocked)
		for _, l := range p.Lanes {
			fmt.Fprintf(b, "    %s: %d queued, %d started, wait mean %s, p99 <= %s, max %s\n",
				l.Priority, l.Queued, l.Started, textDuration(l.WaitMean), textDuration(l.WaitP99), textDuration(l.WaitMax))
		}
	}
	return b.Flush()
}

func writeScope(b *bufio.Writer, s *ScopeInfo, depth int) {
	indent := strings.Repeat("    ", depth)
	b.WriteString(indent)
	b.WriteString("scope ")
	if s.Name != "" {
		b.WriteString(strconv.Quote(s.Name))
		b.WriteByte(' ')
	}
	fmt.Fprintf(b, "(%s) %s", shortSite(s.Site), s.Priority)
	if s.WaitedAt != "" {
		fmt.Fprintf(b, ", waited on at %s", s.WaitedAt)
	}
	fmt.Fprintf(b, ", age %s", textDuration(s.Age))
	if s.Pool != "" {
		fmt.Fprintf(b, ", pool %s", s.Pool)
	}
	fmt.Fprintf(b, ": %d queued, %d running, %d done, %d failed", s.Queued, s.Running, s.Done, s.Failed)
	if s.Cancelled {
		fmt.Fprintf(b, ", cancelled: %s", s.Cause)
	}
	b.WriteByte('\n')
	for i, c := range s.Children {
		if i == maxTextChildren {
			fmt.Fprintf(b, "%s    ... %d more running\n", indent, len(s.Children)-i)
			break
		}
		fmt.Fprintf(b, "%s    running %s %s\n", indent, c.Priority, textDuration(c.Running))
	}
	for i := range s.Scopes {
		writeScope(b, &s.Scopes[i], depth+1)
	}
}

// shortSite shortens file:line to the file's base name and line.
func shortSite(site string) string {
	if site == "" {
		return "unknown site"
	}
	return filepath.Base(site)
}

// textDuration rounds d to what a person reads: milliseconds from 1ms up,
// microseconds below.
func textDuration(d time.Duration) string {
	if d >= time.Millisecond {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Microsecond).String()
}
