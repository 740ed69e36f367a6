package echo

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
	"weak"

	"github.com/echo-scheduler/echo/pool"
)

// The live tree of scopes: which scopes are open, what their children are
// doing, and on which pools. [Tree] and [WriteTree] read it.
//
// Cost. Until EnableTree is called, NewScope and Nursery do one atomic
// load of treeOn and every other hook is "if s.track != nil" on a field the scope
// already holds: nothing is allocated and nothing shared is written.
// Afterwards each new scope gets a scopeTrack (one allocation, where it
// was opened, one lock of its parent's track to link it in), each accepted
// child one atomic add, and each running child a coarse time stamp (an
// atomic load, see treeCoarse), one CAS to take a slot and one store to
// free it: no lock, no allocation and almost never a clock read per child,
// unless more than runSlots children of one scope run at once.
//
// Structure. Every track sits in one list: the nested list of the track of
// the scope it was opened in, or treeRoots' list for a top-level scope
// (or one opened in an untracked or already closed scope). A scope leaves
// its list when it finishes, so the tree holds exactly the open tracked
// scopes and nothing else: a scope that is never waited for stays (it is
// still open, and seeing it is the point). If a scope closes while scopes
// opened in it are still open, they move to the top level.
//
// Locks: a track's mu guards its nested list, the links (prev, next) of the
// tracks in it, their owner pointers, its own closed flag and its
// overflow map. A goroutine holds at most one track's mu, except that
// close holds the closing track's mu and then treeRoots.mu to move
// orphans; nothing takes a track's mu while holding treeRoots.mu, so there
// is no cycle. A snapshot locks one track at a time, top down.

// treeOn says whether scopes opened now are tracked. It is read once per
// NewScope or Nursery (the only cost of the feature while it is off) and
// only ever goes from false to true (tests set it back).
var treeOn atomic.Bool

// EnableTree turns on tracking for scopes opened from now on, so that
// [Tree] and [WriteTree] show them. Tracking is off by default; a server
// turns it on at start. It cannot be turned off: scopes opened while it
// was on stay tracked until they finish.
//
// While tracking is on, opening a scope costs one more allocation and
// records where it was opened, and each child four atomic operations more
// (start times come from a clock read at most once a millisecond, so they
// may be early by about that much); while it is off, nothing.
func EnableTree() { treeOn.Store(true) }

// treeEpoch is the base of the tree's timestamps: time.Since of a Time
// with a monotonic reading costs one monotonic clock read.
var treeEpoch = time.Now()

func treeNow() int64 { return int64(time.Since(treeEpoch)) }

// Start times of scopes and children come from a coarse clock, because a
// clock read costs as much as the rest of the tree's work per child (20 to
// 100 ns on a virtual machine): treeCoarse holds treeNow()+1 from the
// moment a stamp last read the clock, until treeTick fires a millisecond
// later and clears it (0: not armed). While it is armed, stamps take its
// value: a start time is early by at most a millisecond and the timer's
// lateness, so a running time or an age is long by as much, never short.
// While no scope opens and no child starts, nothing arms the timer, and an
// idle process does nothing.
//
// Ordering: only the stamp whose CAS moves treeCoarse from 0 arms the
// timer, and only the timer's function stores 0, after which the timer is
// no longer pending: so Reset is never called on a pending timer, and
// every armed period ends. A stamp that loses the race to arm takes the
// winner's value if it is earlier, so stamps of one period agree. (A
// stamp preempted between its clock read and its CAS for longer than a
// period can arm an older value; the snapshot therefore caps a child's
// running time at its scope's age.)
var (
	treeCoarse atomic.Int64
	// treeTick is made at init, on no synctest bubble: a timer made in a
	// bubble could not be reset outside it.
	treeTick = time.AfterFunc(time.Hour, func() { treeCoarse.Store(0) })
)

func init() { treeTick.Stop() }

// treeStamp returns a start time for the tree: treeNow, at most about a
// millisecond early (see treeCoarse).
func treeStamp() int64 {
	if v := treeCoarse.Load(); v != 0 {
		return v - 1
	}
	t := time.Now()
	now := int64(t.Sub(treeEpoch))
	if t.Round(0) == t {
		// No monotonic reading: a synctest bubble's fake clock, against
		// which the real timer would be set wrong. Do not arm it.
		return now
	}
	if treeCoarse.CompareAndSwap(0, now+1) {
		treeTick.Reset(time.Millisecond)
		return now
	}
	// Another stamp armed it meanwhile: take its value if earlier, so
	// that stamps of one armed period agree.
	if v := treeCoarse.Load(); v != 0 && v-1 < now {
		return v - 1
	}
	return now
}

// runSlots is how many running children of one scope are listed without a
// lock. Few children of one scope run at once on a small machine; beyond
// that they are mostly waiting for I/O, and the overflow map's lock costs
// them nothing that matters. Each slot is 8 bytes of every tracked scope.
const runSlots = 4

// scopeTrack is the tree's record of one open scope.
type scopeTrack struct {
	// run lists running children lock-free: 0 is a free slot, else
	// packSlot(start, priority). A child takes a slot with a CAS when it
	// starts and frees it with a store when it returns; a snapshot loads
	// each slot once, so it sees a start time and priority that belong
	// together.
	run [runSlots]atomic.Uint64

	s      *Scope
	opened int64 // treeStamp at open
	// pc is where the scope was opened, resolved to file:line only when
	// shown: the entry of a Nursery's body (if entry), or the return
	// address into NewScope's caller.
	pc uintptr

	// owner is the track whose list holds t (treeRoots for the top
	// level). It changes only under both the old and the new owner's mu,
	// so a holder of either sees it stable.
	owner      atomic.Pointer[scopeTrack]
	prev, next *scopeTrack // siblings, under owner.mu

	mu     sync.Mutex
	closed bool              // the scope has finished
	entry  bool              // see pc (set before t is shared)
	first  *scopeTrack       // nested scopes, newest first
	over   map[*child]uint64 // running children that found no free slot

	// accepted counts the children accepted so far. Spawners write it,
	// workers write run: it is at the other end of the record (a 128-byte
	// object, aligned to 128), so the two do not share a cache line.
	accepted atomic.Int64
}

// treeRoots is the sentinel whose list holds the top-level scopes. It is
// never closed.
var treeRoots scopeTrack

// openTrack starts tracking s, just opened on ctx by NewScope (body is
// nil) or by Nursery with *body, and links it into the tree. It is called
// before s is shared with any other goroutine, so s.track needs no
// synchronisation.
func openTrack(s *Scope, ctx context.Context, body *func(context.Context) error) *scopeTrack {
	t := &scopeTrack{s: s, opened: treeStamp()}
	if body != nil {
		t.pc, t.entry = funcEntry(body), true
	} else {
		// Frames: 0 Callers, 1 openTrack, 2 NewScope, 3 its caller.
		var pc [1]uintptr
		runtime.Callers(3, pc[:])
		t.pc = pc[0]
	}
	var up *scopeTrack
	if outer := memberOf(ctx); outer != nil {
		up = outer.s.track
	}
	if up == nil || !up.link(t) {
		up = &treeRoots
		up.link(t)
	}
	if p, ok := s.run.(*pool.Pool); ok && (up == &treeRoots || up.s.run != s.run) {
		notePool(p)
	}
	return t
}

// funcEntry returns the entry address of the code of *fn: a func value
// points to a record whose first word is that address (what reflect's
// Value.Pointer reads). Read through a pointer to the caller's variable,
// so that fn does not escape: reflect.ValueOf would move every Nursery's
// body closure to the heap, tracked or not. For a Nursery, whose body is
// usually a function literal written where the scope is opened, this
// locates the scope at no cost next to unwinding the stack (Nursery is the
// form that recursive fork-join opens by the thousand).
func funcEntry(fn *func(context.Context) error) uintptr {
	return **(**uintptr)(unsafe.Pointer(fn))
}

// site returns where t's scope was opened, as file:line.
func (t *scopeTrack) site() string {
	switch {
	case t.pc == 0:
	case t.entry:
		if f := runtime.FuncForPC(t.pc); f != nil {
			file, line := f.FileLine(t.pc)
			return fmt.Sprintf("%s:%d", file, line)
		}
	default:
		if f, _ := runtime.CallersFrames([]uintptr{t.pc}).Next(); f.File != "" {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
	}
	return ""
}

// link adds t to u's nested list, unless u is closed; it reports whether
// it did.
func (u *scopeTrack) link(t *scopeTrack) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return false
	}
	u.push(t)
	return true
}

// push puts t at the head of u's list. u.mu must be held.
func (u *scopeTrack) push(t *scopeTrack) {
	t.prev, t.next = nil, u.first
	if u.first != nil {
		u.first.prev = t
	}
	u.first = t
	t.owner.Store(u)
}

// unlink removes t from u's list. u.mu must be held.
func (u *scopeTrack) unlink(t *scopeTrack) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		u.first = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	}
	t.prev, t.next = nil, nil
}

// close takes t out of the tree when its scope finishes. Scopes still open
// in it move to the top level. Afterwards nothing in the tree points to t.
func (t *scopeTrack) close() {
	t.mu.Lock()
	t.closed = true
	if t.first != nil {
		treeRoots.mu.Lock()
		for o := t.first; o != nil; {
			next := o.next
			treeRoots.push(o) // o's owner changes under t.mu and treeRoots.mu
			o = next
		}
		treeRoots.mu.Unlock()
		t.first = nil
	}
	t.over = nil
	t.mu.Unlock()
	for {
		// owner may change (to treeRoots) while we wait for its mu: check
		// again once it is held.
		u := t.owner.Load()
		u.mu.Lock()
		if t.owner.Load() == u {
			u.unlink(t)
			u.mu.Unlock()
			return
		}
		u.mu.Unlock()
	}
}

// packSlot packs a running child's start (treeStamp, in µs, which lasts
// 2^56 µs) and priority into a nonzero slot value.
func packSlot(start int64, p Priority) uint64 {
	return uint64(start/int64(time.Microsecond))<<8 | uint64(p) + 1
}

func unpackSlot(v uint64) (start int64, p Priority) {
	return int64(v>>8) * int64(time.Microsecond), Priority(v&0xff - 1)
}

// begin lists c as running and returns the slot it took, or -1 if it went
// to the overflow map. end(c, slot) unlists it.
func (t *scopeTrack) begin(c *child) int {
	v := packSlot(treeStamp(), c.m.prio)
	for i := range t.run {
		if t.run[i].Load() == 0 && t.run[i].CompareAndSwap(0, v) {
			return i
		}
	}
	t.mu.Lock()
	if !t.closed {
		if t.over == nil {
			t.over = make(map[*child]uint64)
		}
		t.over[c] = v
	}
	t.mu.Unlock()
	return -1
}

// end unlists a child that begin listed in slot.
func (t *scopeTrack) end(c *child, slot int) {
	if slot >= 0 {
		t.run[slot].Store(0)
		return
	}
	t.mu.Lock()
	delete(t.over, c)
	t.mu.Unlock()
}

// The pools that tracked scopes have used, held weakly: a pool seen in the
// tree can still be dropped (and then stopped by its cleanup). Only
// top-level scopes and scopes on another pool than their parent's register
// their pool, and a pool is listed once.
var (
	poolsMu sync.Mutex
	pools   []weak.Pointer[pool.Pool]
)

func notePool(p *pool.Pool) {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	for _, w := range pools {
		if w.Value() == p {
			return
		}
	}
	pools = append(pools, weak.Make(p))
}

// livePools returns the pools seen so far that are still reachable,
// forgetting the others.
func livePools() []*pool.Pool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	var live []*pool.Pool
	kept := pools[:0]
	for _, w := range pools {
		if p := w.Value(); p != nil {
			live = append(live, p)
			kept = append(kept, w)
		}
	}
	clear(pools[len(kept):])
	pools = kept
	return live
}
