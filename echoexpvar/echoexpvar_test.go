package echoexpvar

import (
	"context"
	"encoding/json"
	"expvar"
	"testing"

	"go.uber.org/goleak"

	"github.com/echo-scheduler/echo"
	"github.com/echo-scheduler/echo/pool"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The "echo" variable holds the live tree and the pools, as JSON, read at
// the time /debug/vars is.
func TestEchoVariableShowsTheTreeAndPools(t *testing.T) {
	v := expvar.Get("echo")
	if v == nil {
		t.Fatal(`expvar has no "echo" variable`)
	}
	echo.EnableTree()
	p := pool.New(pool.WithWorkers(1), pool.WithName("expvar-test"))
	defer p.Stop(context.Background())
	var got Snapshot
	err := echo.Nursery(context.Background(), func(ctx context.Context) error {
		if err := json.Unmarshal([]byte(v.String()), &got); err != nil {
			t.Fatalf("the variable is not the JSON of a Snapshot: %v\n%s", err, v.String())
		}
		return nil
	}, echo.WithPool(p), echo.WithName("expvar-scope"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range got.Scopes {
		found = found || s.Name == "expvar-scope"
	}
	if !found {
		t.Errorf("the open scope %q is not in the variable's scopes: %+v", "expvar-scope", got.Scopes)
	}
	seen := false
	for _, pi := range got.Pools {
		seen = seen || pi.Name == "expvar-test"
	}
	if !seen {
		t.Errorf("the scope's pool %q is not in the variable's pools: %+v", "expvar-test", got.Pools)
	}
	// After the scope closed, it has left the tree.
	if err := json.Unmarshal([]byte(v.String()), &got); err != nil {
		t.Fatal(err)
	}
	for _, s := range got.Scopes {
		if s.Name == "expvar-scope" {
			t.Errorf("the closed scope is still in the variable")
		}
	}
}
