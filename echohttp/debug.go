package echohttp

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/echo-scheduler/echo"
)

// DebugHandler returns a handler that shows what runs: the live tree of
// scopes ([echo.Tree]) and the pools they use ([echo.TreePools]). Call
// [echo.EnableTree] at start, or the tree stays empty. Mount it next to
// net/http/pprof:
//
//	echo.EnableTree()
//	mux.Handle("/debug/echo", echohttp.DebugHandler())
//
// It answers GET and HEAD with one of three forms of the same snapshot:
//
//   - text (the default): [echo.WriteTree]'s form, for curl and logs;
//   - JSON with ?format=json: {"scopes": [...], "pools": [...]}, with the
//     field names of [echo.ScopeInfo] and [echo.PoolInfo];
//   - HTML when the request's Accept header asks for text/html (a browser)
//     or with ?format=html: the tree as nested lists, with the counts,
//     priorities coloured, and running and queueing times. The page is
//     self-contained (no scripts, fonts or other files), and ?refresh=N
//     reloads it every N seconds (1 to 3600).
//
// Like pprof's handlers it shows the program's structure (names of scopes,
// source files and lines, error messages of cancellations): do not expose
// it to the public.
func DebugHandler() http.Handler { return debugHandler{} }

type debugHandler struct{}

// debugSnapshot is the JSON form, and the data of the HTML page.
type debugSnapshot struct {
	Scopes []echo.ScopeInfo `json:"scopes"`
	Pools  []echo.PoolInfo  `json:"pools"`
}

func (debugHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "echohttp: the debug handler answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	switch format {
	case "":
		format = "text"
		if acceptsHTML(r.Header.Values("Accept")) {
			format = "html"
		}
	case "text", "json", "html":
	default:
		http.Error(w, "echohttp: unknown format "+strconv.Quote(format)+"; want text, json or html", http.StatusBadRequest)
		return
	}
	refresh := 0
	if v := q.Get("refresh"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			http.Error(w, "echohttp: refresh="+strconv.Quote(v)+" is not a number of seconds from 1 to 3600", http.StatusBadRequest)
			return
		}
		refresh = n
	}

	// Render into a buffer, so that a failure is an error status, not a
	// truncated page.
	var b bytes.Buffer
	var err error
	switch format {
	case "text":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		err = echo.WriteTree(&b)
	case "json":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		err = enc.Encode(debugSnapshot{Scopes: nonNil(echo.Tree()), Pools: nonNil(echo.TreePools())})
	case "html":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		err = debugPage.Execute(&b, debugPageData{
			Snapshot: debugSnapshot{Scopes: echo.Tree(), Pools: echo.TreePools()},
			Taken:    time.Now().UTC().Format(time.RFC3339),
			Refresh:  refresh,
		})
	}
	if err != nil {
		http.Error(w, "echohttp: rendering the tree: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b.Bytes())
}

// nonNil makes an empty list marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// acceptsHTML reports whether Accept header values list text/html (with a
// nonzero q), as a browser's do.
func acceptsHTML(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, _ := strings.Cut(part, ";")
			if !strings.EqualFold(strings.TrimSpace(mt), "text/html") {
				continue
			}
			if acceptQ(params) > 0 {
				return true
			}
		}
	}
	return false
}

// acceptQ returns the q (weight) in the parameters of an Accept entry: 1
// unless given, 0 for an unreadable one.
func acceptQ(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "q") {
			q, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}

type debugPageData struct {
	Snapshot debugSnapshot
	Taken    string
	Refresh  int
}

var debugPage = template.Must(template.New("page").Funcs(template.FuncMap{
	"dur":  humanDuration,
	"base": func(site string) string { return filepath.Base(site) },
}).Parse(debugPageSource))

// humanDuration rounds d to what a person reads on the page.
func humanDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// debugPageSource is the HTML page: the scope tree as nested lists, then
// the pools. Everything it needs is inline.
const debugPageSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">
{{end}}<title>Echo: what runs</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.2em 1.6em; color: #1f2328; background: #fff; }
h1 { font-size: 1.35em; margin: 0 0 .2em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.meta { color: #656d76; margin: 0 0 1em; }
code, .site { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; color: #57606a; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding: 0; }
ul.tree ul { margin-left: .9em; padding-left: 1em; border-left: 2px solid #d0d7de; }
li.scope { margin: .35em 0; }
.head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25em .55em; }
.name { font-weight: 600; }
.prio { display: inline-block; min-width: 3.6em; text-align: center; border-radius: 4px; padding: 0 .45em; font-size: 12px; font-weight: 600; }
.prio.high { background: #ffebe9; color: #b3261e; border: 1px solid #ffc1bb; }
.prio.normal { background: #ddf4ff; color: #0550ae; border: 1px solid #b6e3ff; }
.prio.low { background: #f0f1f3; color: #57606a; border: 1px solid #d0d7de; }
.counts span { margin-right: .6em; white-space: nowrap; }
.counts .zero { color: #8c959f; }
.counts .queued b { color: #9a6700; }
.counts .running b { color: #1a7f37; }
.counts .failed b { color: #cf222e; }
.counts .zero b { color: inherit; }
.cancelled { color: #cf222e; font-weight: 600; }
li.child { margin: .15em 0; color: #1f2328; }
li.child .time { font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; margin: .3em 0 1em; }
th, td { text-align: left; padding: .2em .9em .2em 0; border-bottom: 1px solid #eaeef2; font-variant-numeric: tabular-nums; }
th { color: #57606a; font-weight: 600; }
.empty { color: #656d76; font-style: italic; }
</style>
</head>
<body>
<h1>Echo: what runs</h1>
<p class="meta">Snapshot at {{.Taken}}{{if .Refresh}}, reloading every {{.Refresh}}s{{end}}.
Also as <a href="?format=text">text</a> and <a href="?format=json">JSON</a>.</p>
{{with .Snapshot.Scopes}}<ul class="tree">{{range .}}{{template "scope" .}}{{end}}</ul>
{{else}}<p class="empty">No open scopes (tracking starts with echo.EnableTree).</p>
{{end}}
{{range .Snapshot.Pools}}<h2>Pool {{.Name}}</h2>
<p>{{.Workers}} workers{{if .Extra}} + {{.Extra}} extra{{end}}, {{.Blocked}} blocked</p>
<table>
<tr><th>priority</th><th>queued</th><th>started</th><th>wait mean</th><th>p99 &le;</th><th>max</th></tr>
{{range .Lanes}}<tr><td><span class="prio {{.Priority}}">{{.Priority}}</span></td><td>{{.Queued}}</td><td>{{.Started}}</td><td>{{dur .WaitMean}}</td><td>{{dur .WaitP99}}</td><td>{{dur .WaitMax}}</td></tr>
{{end}}</table>
{{end}}
</body>
</html>
{{define "scope"}}<li class="scope">
<div class="head"><span class="prio {{.Priority}}">{{.Priority}}</span>
{{if .Name}}<span class="name">{{.Name}}</span>{{end}}
<span class="site" title="{{.Site}}">{{base .Site}}</span>
<span>age {{dur .Age}}{{if .Pool}}, pool {{.Pool}}{{end}}{{with .WaitedAt}}, waited on at {{.}}{{end}}</span>
<span class="counts"><span class="queued{{if not .Queued}} zero{{end}}"><b>{{.Queued}}</b> queued</span><span class="running{{if not .Running}} zero{{end}}"><b>{{.Running}}</b> running</span><span class="done{{if not .Done}} zero{{end}}"><b>{{.Done}}</b> done</span><span class="failed{{if not .Failed}} zero{{end}}"><b>{{.Failed}}</b> failed</span></span>
{{if .Cancelled}}<span class="cancelled">cancelled: {{.Cause}}</span>{{end}}
</div>
{{if or .Children .Scopes}}<ul>
{{range .Children}}<li class="child"><span class="prio {{.Priority}}">{{.Priority}}</span> child running for <span class="time">{{dur .Running}}</span></li>
{{end}}{{range .Scopes}}{{template "scope" .}}{{end}}</ul>{{end}}
</li>
{{end}}`
