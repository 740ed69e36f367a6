package deque

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// sliceDeque is the sequential model of a Deque: Push appends, Pop takes the
// newest value, Steal the oldest.
type sliceDeque []int

func (m *sliceDeque) push(v int) { *m = append(*m, v) }

func (m *sliceDeque) pop() (int, bool) {
	s := *m
	if len(s) == 0 {
		return 0, false
	}
	v := s[len(s)-1]
	*m = s[:len(s)-1]
	return v, true
}

func (m *sliceDeque) steal() (int, bool) {
	s := *m
	if len(s) == 0 {
		return 0, false
	}
	v := s[0]
	*m = s[1:]
	return v, true
}

// op is one step of a sequential script: a Push of v, or a Pop or Steal that
// must return (v, ok).
type op struct {
	kind byte // 'u' push, 'o' pop, 's' steal
	v    int
	ok   bool
}

func push(v int) op  { return op{kind: 'u', v: v} }
func pop(v int) op   { return op{kind: 'o', v: v, ok: true} }
func steal(v int) op { return op{kind: 's', v: v, ok: true} }
func popEmpty() op   { return op{kind: 'o'} }
func stealEmpty() op { return op{kind: 's'} }
func pushN(from, n int) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = push(from + i)
	}
	return ops
}

func TestDequeSequential(t *testing.T) {
	tests := []struct {
		name string
		ops  []op
	}{
		{"empty", []op{popEmpty(), stealEmpty(), popEmpty()}},
		{"pop is LIFO", []op{push(1), push(2), push(3), pop(3), pop(2), pop(1), popEmpty()}},
		{"steal is FIFO", []op{push(1), push(2), push(3), steal(1), steal(2), steal(3), stealEmpty()}},
		{"both ends meet", []op{push(1), push(2), push(3), steal(1), pop(3), steal(2), popEmpty(), stealEmpty()}},
		{"last value by pop", []op{push(7), pop(7), stealEmpty(), push(8), pop(8), popEmpty()}},
		{"last value by steal", []op{push(7), steal(7), popEmpty(), push(8), steal(8), stealEmpty()}},
		{"reuse after empty", []op{push(1), pop(1), popEmpty(), push(2), push(3), steal(2), pop(3)}},
		// 64 is the initial ring size: fill it exactly, then grow across
		// a wrapped ring (top is not at slot 0 when it grows).
		{"fill ring exactly", append(pushN(0, 64), pop(63), steal(0), steal(1))},
		{"grow wrapped ring", append(append(append(pushN(0, 40), steal(0), steal(1), steal(2)),
			pushN(40, 100)...), steal(3), pop(139), pop(138), steal(4))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New[int]()
			var model sliceDeque
			for i, o := range tt.ops {
				var v int
				var ok bool
				switch o.kind {
				case 'u':
					d.Push(o.v)
					model.push(o.v)
					continue
				case 'o':
					v, ok = d.Pop()
					model.pop()
				case 's':
					v, ok = d.Steal()
					model.steal()
				}
				if v != o.v || ok != o.ok {
					t.Fatalf("op %d (%c): got (%d, %v), want (%d, %v)", i, o.kind, v, ok, o.v, o.ok)
				}
				if got, want := d.Len(), len(model); got != want {
					t.Fatalf("op %d: Len() = %d, want %d", i, got, want)
				}
			}
		})
	}
}

// TestDequeRandomModel replays long random op sequences, with phases that
// favour pushing (growth) and phases that favour taking, against the model.
func TestDequeRandomModel(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		d := New[int]()
		var model sliceDeque
		next := 0
		for i := 0; i < 20000; i++ {
			pushBias := 2 // out of 4
			if (i/1000)%2 == 0 {
				pushBias = 3
			}
			switch r := rng.IntN(4); {
			case r < pushBias:
				d.Push(next)
				model.push(next)
				next++
			case rng.IntN(2) == 0:
				v, ok := d.Pop()
				mv, mok := model.pop()
				if v != mv || ok != mok {
					t.Fatalf("seed %d op %d: Pop() = (%d, %v), model (%d, %v)", seed, i, v, ok, mv, mok)
				}
			default:
				v, ok := d.Steal()
				mv, mok := model.steal()
				if v != mv || ok != mok {
					t.Fatalf("seed %d op %d: Steal() = (%d, %v), model (%d, %v)", seed, i, v, ok, mv, mok)
				}
			}
			if d.Len() != len(model) {
				t.Fatalf("seed %d op %d: Len() = %d, model %d", seed, i, d.Len(), len(model))
			}
		}
	}
}

func TestDequeZeroAllocsSteadyState(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	d := New[int]()
	for i := 0; i < 8; i++ { // warm up: grow the ring and make the boxes once
		d.Push(i)
	}
	for i := 0; i < 8; i++ {
		d.Pop()
	}
	allocs := testing.AllocsPerRun(1000, func() {
		d.Push(1)
		d.Push(2)
		d.Pop()
		d.Pop()
	})
	if allocs != 0 {
		t.Fatalf("Push+Pop allocated %v times per run, want 0", allocs)
	}
}

// stressSize returns full when the test runs without -short, else short.
func stressSize(full, short int) int {
	if testing.Short() {
		return short
	}
	return full
}

// startThieves starts n goroutines that call Steal until stop is closed and
// the deque is empty, recording each value with record. The returned func
// closes stop, waits for the thieves, and returns how many values they took.
func startThieves(d *Deque[int], n int, record func(int)) (stopAndWait func() int64) {
	var (
		wg     sync.WaitGroup
		stolen atomic.Int64
		ready  sync.WaitGroup
		stop   = make(chan struct{})
	)
	ready.Add(n)
	for range n {
		wg.Go(func() {
			ready.Done()
			for {
				if v, ok := d.Steal(); ok {
					record(v)
					stolen.Add(1)
					continue
				}
				select {
				case <-stop:
					// The owner is done: one more pass finds anything
					// pushed before stop was closed.
					for {
						v, ok := d.Steal()
						if !ok {
							return
						}
						record(v)
						stolen.Add(1)
					}
				default:
					runtime.Gosched()
				}
			}
		})
	}
	ready.Wait() // every thief is running before the owner starts
	return func() int64 {
		close(stop)
		wg.Wait()
		return stolen.Load()
	}
}

// checkOnce fails unless every counts[i] is exactly 1.
func checkOnce(t *testing.T, counts []atomic.Int32) {
	t.Helper()
	bad := 0
	for i := range counts {
		if c := counts[i].Load(); c != 1 {
			if bad < 10 {
				t.Errorf("value %d delivered %d times, want exactly once", i, c)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%d of %d values not delivered exactly once", bad, len(counts))
	}
}

// TestDequeExactlyOnceStress: one owner pushes every value and pops some,
// thieves steal concurrently; every value must come out exactly once, and the
// thieves must actually have stolen some.
func TestDequeExactlyOnceStress(t *testing.T) {
	n := stressSize(1_000_000, 100_000)
	const thieves = 3
	d := New[int]()
	counts := make([]atomic.Int32, n)
	stopThieves := startThieves(d, thieves, func(v int) { counts[v].Add(1) })

	start := time.Now()
	popped := 0
	rng := rand.New(rand.NewPCG(1, 2))
	for v := 0; v < n; {
		// Push a burst of 1..8 values, then pop 0..7: the deque length
		// wanders, so Pop takes both its CAS-free path and the race for
		// the last value, and thieves find work.
		for k := 1 + rng.IntN(8); k > 0 && v < n; k-- {
			d.Push(v)
			v++
		}
		for k := rng.IntN(8); k > 0; k-- {
			if x, ok := d.Pop(); ok {
				counts[x].Add(1)
				popped++
			}
		}
	}
	// Drain what is left, still racing the thieves.
	for {
		x, ok := d.Pop()
		if !ok {
			break
		}
		counts[x].Add(1)
		popped++
	}
	stolen := stopThieves()
	t.Logf("%d values in %v: owner popped %d, thieves stole %d", n, time.Since(start), popped, stolen)
	if got := int64(popped) + stolen; got != int64(n) {
		t.Errorf("owner popped %d + thieves stole %d = %d values, want %d", popped, stolen, got, n)
	}
	if stolen == 0 {
		t.Error("thieves stole nothing: the test did not exercise concurrent stealing")
	}
	checkOnce(t, counts)
	if d.Len() != 0 {
		t.Errorf("Len() = %d after draining, want 0", d.Len())
	}
}

// spinSink keeps busy-wait loops from being optimised away.
var spinSink atomic.Int64

// TestDequeLastValueRace makes the owner's Pop and one thief's Steal race for
// a deque's only value, round after round: exactly one of them must get it.
func TestDequeLastValueRace(t *testing.T) {
	rounds := stressSize(50_000, 5_000)
	d := New[int]()
	var (
		round  atomic.Int64 // the round the thief may start; -1 stops it
		result atomic.Int64 // the thief's result for the round: 1 got it, 2 empty
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		for r := int64(1); ; r++ {
			for round.Load() < r {
				if round.Load() < 0 {
					return
				}
				runtime.Gosched()
			}
			if round.Load() < 0 {
				return
			}
			if v, ok := d.Steal(); ok {
				if v != int(r) {
					t.Errorf("round %d: thief stole %d", r, v)
				}
				result.Store(1)
			} else {
				result.Store(2)
			}
		}
	})
	// The deadline is per round: a round is one Push, one Pop and one
	// Steal, so 10 s means the thief is stuck, whatever GOMAXPROCS and
	// -race make of the total (a budget for all rounds failed at
	// GOMAXPROCS=8 under -race with a message blaming the thief).
	const roundLimit = 10 * time.Second
	ownerWins, thiefWins := 0, 0
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	for r := 1; r <= rounds; r++ {
		deadline := time.Now().Add(roundLimit)
		d.Push(r)
		result.Store(0)
		round.Store(int64(r))
		// A varying head start for the thief (timing only, not
		// synchronisation) so that both sides win some rounds.
		for k := rng.IntN(400); k > 0; k-- {
			spinSink.Add(1)
		}
		v, popped := d.Pop()
		var res int64
		for res = result.Load(); res == 0; res = result.Load() {
			if time.Now().After(deadline) {
				round.Store(-1)
				wg.Wait()
				t.Fatalf("round %d: the thief had not reported the result of its Steal %v after the owner's Pop", r, roundLimit)
			}
			runtime.Gosched()
		}
		thiefGot := res == 1
		switch {
		case popped && thiefGot:
			t.Fatalf("round %d: both the owner and the thief got the value", r)
		case !popped && !thiefGot:
			t.Fatalf("round %d: neither the owner nor the thief got the value", r)
		case popped:
			if v != r {
				t.Fatalf("round %d: Pop returned %d", r, v)
			}
			ownerWins++
		default:
			thiefWins++
			// White-box: the owner must not mark a box a thief won as its
			// own (invariant 4): in a real race the thief may still be
			// reading it when the owner's next Push would reuse it.
			if d.ring.Load().mine[(d.bottom.Load()-1)&d.ring.Load().mask] {
				t.Fatalf("round %d: the owner marked the stolen box as its own", r)
			}
		}
		if d.Len() != 0 {
			t.Fatalf("round %d: Len() = %d after the race, want 0", r, d.Len())
		}
	}
	round.Store(-1)
	wg.Wait()
	t.Logf("%d rounds: owner won %d, thief won %d", rounds, ownerWins, thiefWins)
}

// TestDequeGrowthWhileStealing pushes 1<<16 values without popping while
// thieves steal; the thieves are throttled to take at most half of what has
// been pushed so far, so the ring must grow many times under their feet.
func TestDequeGrowthWhileStealing(t *testing.T) {
	n := stressSize(1<<16, 1<<14)
	const thieves = 3
	d := New[int]()
	counts := make([]atomic.Int32, n)
	var pushed, taken atomic.Int64
	var wg sync.WaitGroup
	var ready sync.WaitGroup
	ready.Add(thieves)
	var stolen atomic.Int64
	for range thieves {
		wg.Go(func() {
			ready.Done()
			for {
				// Reserve one steal, keeping taken <= pushed/2.
				p := pushed.Load()
				tk := taken.Load()
				if tk >= p/2 {
					if p == int64(n) {
						return // the owner pops the rest
					}
					runtime.Gosched()
					continue
				}
				if !taken.CompareAndSwap(tk, tk+1) {
					continue
				}
				v, ok := d.Steal()
				if !ok {
					// Never empty here: at least half of what was
					// pushed is still in the deque.
					t.Errorf("Steal reported empty with %d pushed and %d taken", p, tk)
					return
				}
				counts[v].Add(1)
				stolen.Add(1)
			}
		})
	}
	ready.Wait()
	ringBefore := len(d.ring.Load().slots)
	for v := 0; v < n; v++ {
		d.Push(v)
		pushed.Store(int64(v + 1))
	}
	ringAfter := len(d.ring.Load().slots)
	wg.Wait()
	popped := 0
	for {
		v, ok := d.Pop()
		if !ok {
			break
		}
		counts[v].Add(1)
		popped++
	}
	t.Logf("ring grew from %d to %d slots; thieves stole %d, owner popped %d", ringBefore, ringAfter, stolen.Load(), popped)
	if stolen.Load() == 0 {
		t.Error("thieves stole nothing")
	}
	if ringAfter < n/2 {
		t.Errorf("ring has %d slots after pushing %d values with at most half taken; want >= %d", ringAfter, n, n/2)
	}
	checkOnce(t, counts)
}

// TestDequeStealNeverSpuriouslyEmpty: with the owner idle, thieves share n
// values; each makes exactly n/thieves Steal calls, all of which must succeed
// because the deque holds a value for every call.
func TestDequeStealNeverSpuriouslyEmpty(t *testing.T) {
	const thieves = 4
	per := stressSize(50_000, 5_000)
	for _, initialGrowth := range []bool{false, true} {
		t.Run(fmt.Sprintf("grown=%v", initialGrowth), func(t *testing.T) {
			n := thieves * per
			d := New[int]()
			if initialGrowth {
				// Leave the indices far from zero and the ring wrapped.
				for i := 0; i < 1000; i++ {
					d.Push(-1)
					d.Steal()
				}
			}
			for v := 0; v < n; v++ {
				d.Push(v)
			}
			counts := make([]atomic.Int32, n)
			var failures atomic.Int64
			var start sync.WaitGroup
			start.Add(1)
			var wg sync.WaitGroup
			for range thieves {
				wg.Go(func() {
					start.Wait()
					for range per {
						v, ok := d.Steal()
						if !ok {
							failures.Add(1)
							continue
						}
						counts[v].Add(1)
					}
				})
			}
			start.Done()
			wg.Wait()
			if f := failures.Load(); f != 0 {
				t.Fatalf("Steal reported empty %d times while values remained", f)
			}
			checkOnce(t, counts)
			if _, ok := d.Steal(); ok {
				t.Fatal("Steal succeeded after all values were taken")
			}
		})
	}
}

// payload is large enough and holds a pointer, so it is never a tiny
// allocation (whose cleanups may be delayed by neighbouring objects).
type payload struct {
	_ [64]byte
	_ *payload
}

// tracked returns a new *payload and a channel closed once the garbage
// collector has found it unreachable.
//
//go:noinline
func tracked() (*payload, <-chan struct{}) {
	p := &payload{}
	collected := make(chan struct{})
	runtime.AddCleanup(p, func(ch chan struct{}) { close(ch) }, collected)
	return p, collected
}

// awaitCollected runs the garbage collector until collected is closed, and
// fails if that has not happened after a few seconds.
func awaitCollected(t *testing.T, collected <-chan struct{}, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		case <-time.After(5 * time.Millisecond): // let the cleanup goroutine run
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: value still reachable after 5s of GC cycles; the queue retains a reference", what)
		}
	}
}

// assertReachable runs a few GC cycles and fails if collected gets closed: a
// control showing that awaitCollected can fail.
func assertReachable(t *testing.T, collected <-chan struct{}, what string) {
	t.Helper()
	for range 3 {
		runtime.GC()
		select {
		case <-collected:
			t.Fatalf("%s: value collected while still queued", what)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

//go:noinline
func pushTracked(d *Deque[*payload]) <-chan struct{} {
	p, collected := tracked()
	d.Push(p)
	return collected
}

// TestDequeNoRetainedReferences: once Pop or Steal has handed a value out,
// the deque (its ring and boxes) must not keep it reachable.
func TestDequeNoRetainedReferences(t *testing.T) {
	filler := func(d *Deque[*payload], n int) {
		for range n {
			d.Push(&payload{})
		}
	}
	tests := []struct {
		name string
		// run queues a tracked value in d, with others around it as it
		// likes, and takes the tracked value out again.
		run func(t *testing.T, d *Deque[*payload])
	}{
		{"pop last value", func(t *testing.T, d *Deque[*payload]) {
			collected := pushTracked(d)
			assertReachable(t, collected, "queued")
			if _, ok := d.Pop(); !ok {
				t.Fatal("Pop failed")
			}
			awaitCollected(t, collected, "popped")
		}},
		{"pop above others", func(t *testing.T, d *Deque[*payload]) {
			filler(d, 3)
			collected := pushTracked(d)
			if _, ok := d.Pop(); !ok {
				t.Fatal("Pop failed")
			}
			awaitCollected(t, collected, "popped")
		}},
		{"steal", func(t *testing.T, d *Deque[*payload]) {
			collected := pushTracked(d)
			filler(d, 3)
			if _, ok := d.Steal(); !ok {
				t.Fatal("Steal failed")
			}
			awaitCollected(t, collected, "stolen")
		}},
		{"steal last value", func(t *testing.T, d *Deque[*payload]) {
			collected := pushTracked(d)
			if _, ok := d.Steal(); !ok {
				t.Fatal("Steal failed")
			}
			awaitCollected(t, collected, "stolen")
		}},
		{"steal after growth", func(t *testing.T, d *Deque[*payload]) {
			collected := pushTracked(d)
			filler(d, 500) // several resizes copy the tracked box
			assertReachable(t, collected, "queued across growth")
			if _, ok := d.Steal(); !ok {
				t.Fatal("Steal failed")
			}
			awaitCollected(t, collected, "stolen after growth")
		}},
		{"pop after growth", func(t *testing.T, d *Deque[*payload]) {
			filler(d, 100)
			collected := pushTracked(d)
			filler(d, 500)
			for range 501 {
				if _, ok := d.Pop(); !ok {
					t.Fatal("Pop failed")
				}
			}
			awaitCollected(t, collected, "popped after growth")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New[*payload]()
			tt.run(t, d)
			// The deque itself stays reachable until here, so only
			// its not holding the value can let it be collected.
			runtime.KeepAlive(d)
		})
	}
}

// TestDequePopRacesThieves releases one Pop and k Steals together on a deque
// of n values, for small n and k, so that every path of Pop (one value, two
// or more, thieves emptying it meanwhile) races thieves: all values must be
// taken exactly once, the Pop only ever getting the newest.
func TestDequePopRacesThieves(t *testing.T) {
	rounds := stressSize(2000, 200)
	for n := 0; n <= 4; n++ {
		for k := 1; k <= 3; k++ {
			t.Run(fmt.Sprintf("n=%d/k=%d", n, k), func(t *testing.T) {
				d := New[int]()
				popWins := 0
				for r := 0; r < rounds; r++ {
					for v := 0; v < n; v++ {
						d.Push(v)
					}
					var pv int
					var pok bool
					got := stealBurst(d, k, func() { pv, pok = d.Pop() })
					if pok {
						if pv != n-1 {
							t.Fatalf("round %d: Pop got %d, want the newest value %d", r, pv, n-1)
						}
						got = append(got, pv)
						popWins++
					}
					// Every taker takes one value while any remain.
					if want := min(n, k+1); len(got) != want {
						t.Fatalf("round %d: %d values taken, want %d", r, len(got), want)
					}
					seen := make(map[int]bool)
					for _, v := range got {
						if seen[v] {
							t.Fatalf("round %d: value %d taken twice", r, v)
						}
						seen[v] = true
					}
					for d.Len() > 0 { // leave the deque empty for the next round
						if _, ok := d.Pop(); !ok {
							t.Fatalf("round %d: Pop failed with Len() = %d", r, d.Len())
						}
					}
				}
				if n > k && popWins != rounds {
					t.Errorf("Pop got a value in %d of %d rounds, want all: with n > k it has no competitor for the newest", popWins, rounds)
				}
			})
		}
	}
}
