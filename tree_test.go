package echo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// trackTree turns tracking on for the rest of the test and off again at
// its end (tracking cannot be turned off in production; tests share the
// package variable). At the end it checks that the tree is empty: every
// scope the test opened has left it.
func trackTree(t *testing.T) {
	t.Helper()
	treeOn.Store(true)
	t.Cleanup(func() {
		treeOn.Store(false)
		if n := len(Tree()); n != 0 && !t.Failed() {
			t.Errorf("%d scopes still in the tree after the test; every finished scope must leave it", n)
		}
	})
}

// durations matches the durations that WriteTree prints.
var durations = regexp.MustCompile(`\b[0-9]+(\.[0-9]+)?(ns|µs|ms|s|m|h)\b`)

// knownProgram runs a Nursery "request" (High) on a pool that cannot grow,
// with a Normal child that holds the only worker, a Low child queued
// behind it, and a nested scope "backend" that is cancelled with a queued
// Normal child; while all of that is in place it calls inspect with the
// files:lines where the two scopes were opened. Then it lets everything
// finish.
func knownProgram(t *testing.T, inspect func(p *pool.Pool, outerSite, innerSite string)) {
	p := pool.New(pool.WithWorkers(1), pool.WithMaxWorkers(1), pool.WithName("tree-test"))
	defer stopPool(t, p)
	held, release := make(chan struct{}), make(chan struct{})
	_, file, line, _ := runtime.Caller(0)
	outerSite := fmt.Sprintf("%s:%d", file, line+3) // a Nursery's site is its body's
	var innerSite string
	err := Nursery(context.Background(), func(ctx context.Context) error {
		Go(ctx, Normal, func(context.Context) error {
			close(held)
			<-release
			return nil
		})
		<-held
		Go(ctx, Low, func(context.Context) error { return nil })
		_, file, line, _ := runtime.Caller(0)
		inner, _ := NewScope(ctx, WithName("backend"))
		innerSite = fmt.Sprintf("%s:%d", file, line+1)
		inner.Go(Normal, func(context.Context) error { return nil })
		inner.Cancel(errBackendTooSlow)
		inspect(p, outerSite, innerSite)
		close(release)
		return inner.Wait()
	}, WithPool(p), WithName("request"), WithPriority(High))
	if !errors.Is(err, errBackendTooSlow) {
		t.Fatalf("Nursery returned %v, want the backend's cancellation cause", err)
	}
}

var errBackendTooSlow = errors.New("backend too slow")

// poolNamed returns the newest pool of TreePools with that name (an older
// one from an earlier run of the test may not be collected yet).
func poolNamed(t *testing.T, name string) []PoolInfo {
	t.Helper()
	var found []PoolInfo
	for _, p := range TreePools() {
		if p.Name == name {
			found = []PoolInfo{p}
		}
	}
	if found == nil {
		t.Fatalf("pool %q not in TreePools()", name)
	}
	return found
}

// The tree of a known program, as text: each scope with its name, site,
// priority, pool and counts, its running child, its nested scope with its
// cancellation cause, and the pool's workers and queues per priority.
func TestTreeTextShowsScopesChildrenAndPools(t *testing.T) {
	trackTree(t)
	knownProgram(t, func(p *pool.Pool, outerSite, innerSite string) {
		var b bytes.Buffer
		if err := writeTree(&b, Tree(), poolNamed(t, "tree-test")); err != nil {
			t.Fatal(err)
		}
		got := durations.ReplaceAllString(b.String(), "D")
		want := fmt.Sprintf(`scope "request" (%s) high, age D, pool tree-test: 1 queued, 1 running, 0 done, 0 failed
    running normal D
    scope "backend" (%s) high, age D, pool tree-test: 1 queued, 0 running, 0 done, 0 failed, cancelled: backend too slow
pool tree-test: workers 1 + 0 extra, 0 blocked
    high: 0 queued, 0 started, wait mean D, p99 <= D, max D
    normal: 1 queued, 1 started, wait mean D, p99 <= D, max D
    low: 1 queued, 0 started, wait mean D, p99 <= D, max D
`, filepath.Base(outerSite), filepath.Base(innerSite))
		if got != want {
			t.Errorf("WriteTree (durations as D):\n%s\nwant:\n%s", got, want)
		}
	})
}

// The same tree as JSON, with the field names tools rely on; sites are
// full paths.
func TestTreeJSONShowsScopesChildrenAndPools(t *testing.T) {
	trackTree(t)
	knownProgram(t, func(p *pool.Pool, outerSite, innerSite string) {
		tree := Tree()
		if len(tree) != 1 {
			t.Fatalf("Tree() has %d top-level scopes, want 1: %+v", len(tree), tree)
		}
		zeroDurations(tree)
		got, err := json.MarshalIndent(tree, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf(`[
  {
    "name": "request",
    "site": %q,
    "priority": "high",
    "pool": "tree-test",
    "age_ns": 0,
    "queued": 1,
    "running": 1,
    "done": 0,
    "failed": 0,
    "cancelled": false,
    "running_children": [
      {
        "priority": "normal",
        "running_ns": 0
      }
    ],
    "scopes": [
      {
        "name": "backend",
        "site": %q,
        "priority": "high",
        "pool": "tree-test",
        "age_ns": 0,
        "queued": 1,
        "running": 0,
        "done": 0,
        "failed": 0,
        "cancelled": true,
        "cause": "backend too slow"
      }
    ]
  }
]`, outerSite, innerSite)
		if string(got) != want {
			t.Errorf("Tree() as JSON (durations zeroed):\n%s\nwant:\n%s", got, want)
		}
	})
}

func zeroDurations(tree []ScopeInfo) {
	for i := range tree {
		tree[i].Age = 0
		for j := range tree[i].Children {
			tree[i].Children[j].Running = 0
		}
		zeroDurations(tree[i].Scopes)
	}
}

// Ages and running times are real: a child held for a while shows at least
// that long, and its scope is at least as old.
func TestTreeAgesGrowWithTime(t *testing.T) {
	trackTree(t)
	release := make(chan struct{})
	started := make(chan struct{})
	s, _ := NewScope(context.Background(), WithPool(newPool(t, 1)))
	s.Go(High, func(context.Context) error { close(started); <-release; return nil })
	<-started
	time.Sleep(20 * time.Millisecond) // the duration being measured, not synchronisation
	tree := Tree()
	close(release)
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || len(tree[0].Children) != 1 {
		t.Fatalf("want one scope with one running child, got %+v", tree)
	}
	if c := tree[0].Children[0]; c.Running < 20*time.Millisecond || c.Priority != "high" {
		t.Errorf("running child %+v: want high, running >= 20ms", c)
	}
	if tree[0].Age < tree[0].Children[0].Running {
		t.Errorf("scope age %v < its child's running time %v", tree[0].Age, tree[0].Children[0].Running)
	}
	if len(Tree()) != 0 {
		t.Errorf("the scope is still in the tree after Wait returned")
	}
}

// Running children beyond the lock-free slots are listed too, and leave
// the tree when they return.
func TestTreeListsEveryRunningChild(t *testing.T) {
	trackTree(t)
	const n = 3 * runSlots
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(n)
	// Children on their own goroutines: a pool of n workers.
	s, _ := NewScope(context.Background(), WithPool(newPool(t, n)))
	for range n {
		s.Go(Low, func(context.Context) error { started.Done(); <-release; return nil })
	}
	started.Wait()
	tree := Tree()
	close(release)
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || tree[0].Running != n || len(tree[0].Children) != n || tree[0].Queued != 0 {
		t.Fatalf("want one scope with %d running children listed and none queued, got %+v", n, tree)
	}
	var b strings.Builder
	if err := writeTree(&b, tree, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), fmt.Sprintf("... %d more running", n-maxTextChildren)) {
		t.Errorf("text does not count the running children beyond %d:\n%s", maxTextChildren, b.String())
	}
}

// A scope that closes while a scope opened in it is still open (its Wait
// was never called) does not take that scope out of the tree: the nested
// scope moves to the top level, where its leak can be seen, and leaves
// when it finishes.
func TestTreeKeepsScopesThatOutliveTheirParent(t *testing.T) {
	trackTree(t)
	var leaked *Scope
	err := Nursery(context.Background(), func(ctx context.Context) error {
		leaked, _ = NewScope(ctx, WithName("leaked"))
		return nil
	}, WithName("outer"))
	if err != nil {
		t.Fatal(err)
	}
	tree := Tree()
	if len(tree) != 1 || tree[0].Name != "leaked" || len(tree[0].Scopes) != 0 {
		t.Fatalf("want the leaked scope alone at the top level, got %+v", tree)
	}
	leaked.Wait()
	if tree := Tree(); len(tree) != 0 {
		t.Fatalf("the leaked scope is still in the tree after its Wait: %+v", tree)
	}
}

// Tracking starts at EnableTree: scopes opened before it are not tracked,
// scopes opened in them after it are, at the top level.
func TestTreeTracksOnlyScopesOpenedAfterEnable(t *testing.T) {
	before, ctx := NewScope(context.Background(), WithName("before"))
	trackTree(t)
	after, _ := NewScope(ctx, WithName("after"))
	tree := Tree()
	if err := after.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := before.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || tree[0].Name != "after" {
		t.Fatalf("want only the scope opened after tracking began, at the top level; got %+v", tree)
	}
	if before.track != nil {
		t.Errorf("a scope opened while tracking was off has a track")
	}
}

// Snapshots taken while scopes open and close at random, on several
// goroutines, are consistent trees: every nested scope sits under the
// scope it was opened in (names encode the path), every running child
// inside its own scope (Running equals the children listed), and no count
// is negative. Afterwards the tree is empty. Run it under -race.
func TestTreeSnapshotsAreConsistentWhileScopesComeAndGo(t *testing.T) {
	trackTree(t)
	p := newPool(t, 4)
	const drivers = 4
	rounds := 500
	if testing.Short() {
		rounds = 50
	}
	var wg sync.WaitGroup
	for d := range drivers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(d), 1))
			for r := range rounds {
				if err := randomScopes(context.Background(), p, fmt.Sprintf("d%d.%d", d, r), 3, rng.Uint64()); err != nil {
					t.Errorf("driver %d: %v", d, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	snapshots := 0
	for {
		select {
		case <-done:
			if snapshots == 0 {
				t.Fatalf("no snapshot was taken while the scopes ran")
			}
			t.Logf("%d snapshots checked", snapshots)
			if tree := Tree(); len(tree) != 0 {
				t.Fatalf("%d scopes left in the tree after all closed", len(tree))
			}
			return
		default:
		}
		if err := checkTree(Tree(), ""); err != nil {
			t.Error(err)
			<-done // let the drivers finish before the pool stops
			return
		}
		var b bytes.Buffer
		if err := WriteTree(&b); err != nil {
			t.Fatal(err)
		}
		snapshots++
		runtime.Gosched()
	}
}

// randomScopes opens a Nursery named name with a few children, some of
// which open nested scopes (to depth), some fail, some are cancelled.
func randomScopes(ctx context.Context, p *pool.Pool, name string, depth int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, 2))
	err := Nursery(ctx, func(ctx context.Context) error {
		for i := range rng.IntN(5) {
			prio := []Priority{High, Normal, Low}[rng.IntN(3)]
			kind, sub := rng.IntN(4), rng.Uint64()
			Go(ctx, prio, func(ctx context.Context) error {
				switch {
				case kind == 0 && depth > 0:
					return randomScopes(ctx, p, fmt.Sprintf("%s/%d", name, i), depth-1, sub)
				case kind == 1:
					return errFromTreeTest
				default:
					runtime.Gosched()
					return nil
				}
			})
		}
		return nil
	}, WithName(name), WithPool(p), WithCollectAll())
	if err != nil && !errors.Is(err, errFromTreeTest) {
		return err
	}
	return nil
}

var errFromTreeTest = errors.New("a child failed on purpose")

// checkTree checks one level of a snapshot (see the test above) and
// returns what is wrong with it.
func checkTree(scopes []ScopeInfo, parent string) error {
	for _, s := range scopes {
		if parent == "" && strings.Contains(s.Name, "/") {
			return fmt.Errorf("nested scope %q at the top level", s.Name)
		}
		if parent != "" && (!strings.HasPrefix(s.Name, parent+"/") || strings.Contains(s.Name[len(parent)+1:], "/")) {
			return fmt.Errorf("scope %q listed under %q", s.Name, parent)
		}
		if s.Queued < 0 || s.Running < 0 || s.Done < 0 || s.Failed < 0 || s.Age < 0 {
			return fmt.Errorf("negative count or age in %+v", s)
		}
		if s.Running != len(s.Children) {
			return fmt.Errorf("scope %q: %d running but %d listed", s.Name, s.Running, len(s.Children))
		}
		for _, c := range s.Children {
			if c.Running < 0 || (c.Priority != "high" && c.Priority != "normal" && c.Priority != "low") {
				return fmt.Errorf("scope %q: bad running child %+v", s.Name, c)
			}
		}
		if !strings.Contains(s.Site, "tree_test.go:") {
			return fmt.Errorf("scope %q: site %q is not where it was opened", s.Name, s.Site)
		}
		if err := checkTree(s.Scopes, s.Name); err != nil {
			return err
		}
	}
	return nil
}

// Many scopes opened and closed with tracking on leave nothing behind: the
// registry is empty and the heap does not grow from one batch to the next
// (a server with the tree on for a day must not grow).
func TestTreeMemoryIsFlatAfterManyScopes(t *testing.T) {
	if treeRaceEnabled {
		t.Skip("the race detector allocates; run without -race")
	}
	trackTree(t)
	p := newPool(t, 2)
	batch := func() {
		for range 20_000 {
			err := Nursery(context.Background(), func(ctx context.Context) error {
				Go(ctx, Normal, func(ctx context.Context) error {
					s, _ := NewScope(ctx)
					s.Go(Low, func(context.Context) error { return nil })
					return s.Wait()
				})
				return nil
			}, WithPool(p))
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	batch()
	h1 := heap()
	batch()
	batch()
	h2 := heap()
	treeRoots.mu.Lock()
	left := treeRoots.first
	treeRoots.mu.Unlock()
	if left != nil {
		t.Fatalf("the tree still holds a scope after every scope finished")
	}
	t.Logf("heap in use after 20k scopes: %d B; after 60k: %d B", h1, h2)
	if h2 > h1+256<<10 {
		t.Fatalf("the heap grew by %d B over 40,000 more tracked scopes; finished scopes must leave nothing behind", h2-h1)
	}
}

// With the tree off, spawning and joining allocate no more than before the
// tree existed (the counts below were measured on commits a929d69 and
// 5fe408f, the code without it; lower is fine). With it on, each scope allocates one
// thing more (its track) and each child nothing.
//
// That the off path also writes nothing shared is by construction: the
// only code the tree adds to spawn, start, finish and join of an untracked
// scope is "if s.track != nil", a read of a field of the scope itself, and
// newScope's one atomic load of treeOn, which is only written by
// EnableTree (and by tests).
func TestTreeOffAllocatesNothingOnSpawnAndJoin(t *testing.T) {
	if treeRaceEnabled {
		t.Skip("the race detector allocates; run without -race")
	}
	p := newPool(t, 1)
	noop := func(context.Context) error { return nil }
	cases := []struct {
		name   string
		before float64 // allocations per run without the tree (a929d69, 5fe408f)
		run    func()
	}{
		{"NewScope, one child, Wait", 7, func() {
			s, _ := NewScope(context.Background(), WithPool(p))
			s.Go(Normal, noop)
			s.Wait()
		}},
		{"NewScope, four children, Wait", 14, func() {
			s, _ := NewScope(context.Background(), WithPool(p))
			for range 4 {
				s.Go(Normal, noop)
			}
			s.Wait()
		}},
		{"Nursery, one child", 7, func() {
			Nursery(context.Background(), func(ctx context.Context) error {
				Go(ctx, Normal, noop)
				return nil
			}, WithPool(p))
		}},
	}
	for _, c := range cases {
		off := testing.AllocsPerRun(1000, c.run)
		if off > c.before {
			t.Errorf("%s with the tree off: %v allocations, %v before the tree existed", c.name, off, c.before)
		}
		treeOn.Store(true)
		on := testing.AllocsPerRun(1000, c.run)
		treeOn.Store(false)
		if on != off+1 {
			t.Errorf("%s with the tree on: %v allocations, want %v (off) + 1 for the scope's track, none per child", c.name, on, off)
		}
	}
}
