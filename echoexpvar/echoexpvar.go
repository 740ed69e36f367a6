// Package echoexpvar publishes Echo's live scope tree and pool metrics
// through the standard library's expvar, as the variable "echo": import it
// for its side effect, as net/http/pprof is imported.
//
//	import _ "github.com/echo-scheduler/echo/echoexpvar"
//
// Importing expvar registers the /debug/vars handler on
// http.DefaultServeMux, which is why the echo and pool packages do not do
// it themselves: only a program that imports this package gets it.
//
// The variable's value is a JSON object with "scopes" (the scopes that
// [echo.Tree] returns; empty until [echo.EnableTree] is called) and "pools"
// ([echo.TreePools]). It is computed when read, so publishing it costs
// nothing until /debug/vars is requested. For a page that people read, use
// echohttp.DebugHandler.
package echoexpvar

import (
	"expvar"

	"github.com/echo-scheduler/echo"
)

// Snapshot is the value of the "echo" variable.
type Snapshot struct {
	Scopes []echo.ScopeInfo `json:"scopes"`
	Pools  []echo.PoolInfo  `json:"pools"`
}

func init() {
	expvar.Publish("echo", expvar.Func(func() any {
		return Snapshot{Scopes: nonNil(echo.Tree()), Pools: nonNil(echo.TreePools())}
	}))
}

// nonNil makes an empty list marshal as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
