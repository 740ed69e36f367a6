package echo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/echo-scheduler/echo/pool"
)

// ScopeInfo describes one open scope in a snapshot from [Tree]: a value
// that marshals to JSON with the field names shown, which tools may rely
// on. Durations are in nanoseconds in JSON.
//
// The counts are read one after another while children move, so they may
// disagree by the few children that changed state meanwhile (as
// [pool.Stats]); they are never negative.
type ScopeInfo struct {
	// Name is the scope's [WithName] name, if any.
	Name string `json:"name,omitempty"`
	// Site is where the scope was opened, as file:line: the call of
	// [NewScope], or for a [Nursery] the start of its body function (for
	// the usual function literal, the line of the Nursery call).
	Site string `json:"site"`
	// Priority is the priority of the code that opened the scope ("high",
	// "normal" or "low"; see [WithPriority]). WaitedAt is the priority of
	// the most urgent code now waiting on the scope (in Wait, Start, or Go
	// for a WithLimit slot), to which its queued children are lifted;
	// empty when nobody waits.
	Priority string `json:"priority"`
	WaitedAt string `json:"waited_at,omitempty"`
	// Pool names the pool the scope's children run on (see [PoolInfo]).
	Pool string `json:"pool,omitempty"`
	// Age is how long the scope has been open.
	Age time.Duration `json:"age_ns"`

	// Queued children are accepted and not started; Running ones have
	// started and not returned; Done ones have returned (or were skipped
	// because the scope was cancelled); Failed is the number of errors the
	// scope has recorded so far (children's, and its Nursery body's).
	Queued  int `json:"queued"`
	Running int `json:"running"`
	Done    int `json:"done"`
	Failed  int `json:"failed"`

	// Cancelled says whether the scope's context is cancelled, and Cause
	// why (its context.Cause).
	Cancelled bool   `json:"cancelled"`
	Cause     string `json:"cause,omitempty"`

	// Children lists the running children, longest-running first.
	Children []ChildInfo `json:"running_children,omitempty"`
	// Scopes lists the open scopes nested in this one (opened with a
	// context of this scope or of one of its children), oldest first.
	Scopes []ScopeInfo `json:"scopes,omitempty"`
}

// ChildInfo describes a running child in a [ScopeInfo].
type ChildInfo struct {
	Priority string        `json:"priority"`   // the priority it runs at
	Running  time.Duration `json:"running_ns"` // how long it has run
}

// PoolInfo describes a pool used by tracked scopes, from [TreePools].
type PoolInfo struct {
	// Name is the pool's [pool.WithName] name, or "#N" (N counted from 1 in
	// the order the tree first saw the pools) for an unnamed pool.
	Name string `json:"name"`
	// Workers are the base workers, Extra the workers added while tasks
	// blocked, Blocked the tasks now inside [pool.Block].
	Workers int `json:"workers"`
	Extra   int `json:"extra_workers"`
	Blocked int `json:"blocked"`
	// Lanes holds the queue of each priority, most urgent first.
	Lanes []LaneInfo `json:"lanes"`
}

// LaneInfo is one priority's queue in a [PoolInfo]: tasks waiting now, and
// the wait (acceptance to start) of those started so far, as
// [pool.WaitStats] estimates it.
type LaneInfo struct {
	Priority string        `json:"priority"`
	Queued   int           `json:"queued"`
	Started  uint64        `json:"started"`
	WaitMean time.Duration `json:"wait_mean_ns"`
	WaitP99  time.Duration `json:"wait_p99_ns"`
	WaitMax  time.Duration `json:"wait_max_ns"`
}

// Tree returns a snapshot of the open scopes opened since [EnableTree]:
// the top-level ones, oldest first, each with the scopes nested in it.
// It returns nil while tracking is off or no tracked scope is open.
//
// Each scope's entry, with its running children and the list of its nested
// scopes, is taken under that scope's lock, so every child appears inside
// its own scope and every nested scope inside its parent; scopes that open
// or close while the snapshot is taken may or may not appear. Tree is safe
// to call at any time from any goroutine.
func Tree() []ScopeInfo {
	now := treeNow()
	names := poolNames()
	treeRoots.mu.Lock()
	roots := treeRoots.nested()
	treeRoots.mu.Unlock()
	return treeNodes(roots, now, names)
}

// nested returns the tracks in t's list, oldest first. t.mu must be held.
func (t *scopeTrack) nested() []*scopeTrack {
	var tracks []*scopeTrack
	for n := t.first; n != nil; n = n.next {
		tracks = append(tracks, n)
	}
	slices.Reverse(tracks) // the list is newest first
	return tracks
}

// treeNodes snapshots tracks and the scopes nested in them.
func treeNodes(tracks []*scopeTrack, now int64, names map[*pool.Pool]string) []ScopeInfo {
	var out []ScopeInfo
	for _, t := range tracks {
		if info, ok := t.info(now, names); ok {
			out = append(out, info)
		}
	}
	return out
}

// info snapshots t and the scopes nested in it; ok is false if t's scope
// has finished meanwhile.
func (t *scopeTrack) info(now int64, names map[*pool.Pool]string) (ScopeInfo, bool) {
	s := t.s
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return ScopeInfo{}, false
	}
	var kids []ChildInfo
	age := time.Duration(max(0, now-t.opened))
	for i := range t.run {
		if v := t.run[i].Load(); v != 0 {
			kids = append(kids, childInfo(v, now, age))
		}
	}
	for _, v := range t.over {
		kids = append(kids, childInfo(v, now, age))
	}
	nested := t.nested()
	t.mu.Unlock()

	info := ScopeInfo{
		Name:     s.cfg.name,
		Site:     t.site(),
		Priority: s.creator.String(),
		WaitedAt: waitedAt(s),
		Pool:     names[poolOf(s)],
		Age:      age,
		Children: kids,
	}
	slices.SortStableFunc(info.Children, func(a, b ChildInfo) int { return int(b.Running - a.Running) })
	live := int(s.live())
	accepted := int(t.accepted.Load())
	info.Running = len(kids)
	info.Queued = max(0, live-info.Running)
	info.Done = max(0, accepted-live)
	s.mu.Lock()
	info.Failed = len(s.errs)
	s.mu.Unlock()
	if s.ctx.Err() != nil {
		info.Cancelled = true
		if cause := context.Cause(s.ctx); cause != nil {
			info.Cause = cause.Error()
		}
	}
	// Nested scopes are visited after t's lock is released (one lock at a
	// time): one that has closed meanwhile is left out (see info's ok).
	info.Scopes = treeNodes(nested, now, names)
	return info, true
}

// waitedAt returns the priority of s's most urgent waiter, or "" if
// nobody waits.
func waitedAt(s *Scope) string {
	if l := s.lift.Load(); l > 0 {
		return byUrgency[l-1].String()
	}
	return ""
}

// childInfo unpacks a running child's slot; its running time is capped
// at its scope's age (see treeCoarse).
func childInfo(v uint64, now int64, age time.Duration) ChildInfo {
	start, p := unpackSlot(v)
	return ChildInfo{Priority: p.String(), Running: min(age, time.Duration(max(0, now-start)))}
}

// TreePools returns the state of every pool that a scope tracked since
// [EnableTree] has used and that is still reachable and not stopped, in the
// order the tree first saw them. The tree holds pools weakly: it does not
// keep a dropped pool alive.
func TreePools() []PoolInfo {
	var out []PoolInfo
	for i, p := range livePools() {
		st := p.Stats()
		if st.Workers+st.ExtraWorkers == 0 {
			continue // stopped: not collected yet, but of no more interest
		}
		pi := PoolInfo{
			Name:    poolName(p, i+1),
			Workers: st.Workers,
			Extra:   st.ExtraWorkers,
			Blocked: st.Blocked,
		}
		for _, prio := range [...]Priority{High, Normal, Low} {
			w := st.Wait[prio]
			pi.Lanes = append(pi.Lanes, LaneInfo{
				Priority: prio.String(),
				Queued:   st.Queued[prio],
				Started:  w.Count,
				WaitMean: w.Mean,
				WaitP99:  w.P99,
				WaitMax:  w.Max,
			})
		}
		out = append(out, pi)
	}
	return out
}

// poolOf returns the pool s runs its children on, or nil for a test's
// runner.
func poolOf(s *Scope) *pool.Pool {
	p, _ := s.run.(*pool.Pool)
	return p
}

// poolNames names the pools the tree knows, as TreePools does.
func poolNames() map[*pool.Pool]string {
	names := make(map[*pool.Pool]string)
	for i, p := range livePools() {
		names[p] = poolName(p, i+1)
	}
	return names
}

func poolName(p *pool.Pool, n int) string {
	if name := p.Name(); name != "" {
		return name
	}
	return fmt.Sprintf("#%d", n)
}
