package deque

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// item is a test value: an id and a priority.
type item struct {
	id   int
	prio Priority
}

func (it item) Priority() Priority { return it.prio }

// noFair disables fair picks for tests of the plain priority rule.
const noFair = 1 << 30

func TestStealingQueuePriorityOrder(t *testing.T) {
	q := NewStealingQueue[item](noFair)
	l := q.AddLocal()
	// Outside values (injector) and own values, all priorities mixed.
	q.Push(item{1, Low})
	q.Push(item{2, Normal})
	l.Push(item{3, Low})
	q.Push(item{4, High})
	l.Push(item{5, Normal})
	l.Push(item{6, High})
	q.Push(item{7, High})
	// High: own newest first (6), then injector FIFO (4, 7); Normal: own (5),
	// injector (2); Low: own (3), injector (1).
	want := []int{6, 4, 7, 5, 2, 3, 1}
	for i, w := range want {
		v, stolen, ok := l.Next()
		if !ok || v.id != w || stolen {
			t.Fatalf("take %d: got %+v stolen=%v ok=%v, want id %d", i, v, stolen, ok, w)
		}
	}
	if _, _, ok := l.Next(); ok {
		t.Fatal("Next reported a value from an empty queue")
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len = %d after draining, want 0", n)
	}
}

func TestStealingQueueNoInversion(t *testing.T) {
	tests := []struct {
		name   string
		higher func(q *StealingQueue[item], victim *Local[item])
	}{
		{"injector", func(q *StealingQueue[item], _ *Local[item]) { q.Push(item{100, High}) }},
		{"victim", func(_ *StealingQueue[item], v *Local[item]) { v.Push(item{100, High}) }},
		{"victim-normal", func(_ *StealingQueue[item], v *Local[item]) { v.Push(item{100, Normal}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := NewStealingQueue[item](noFair)
			l := q.AddLocal()
			victim := q.AddLocal()
			for i := 0; i < 10; i++ {
				l.Push(item{i, Low})
			}
			tt.higher(q, victim)
			v, stolen, ok := l.Next()
			if !ok || v.id != 100 {
				t.Fatalf("Next = %+v, %v: took own Low while a higher value was visible", v, ok)
			}
			if wantStolen := tt.name != "injector"; stolen != wantStolen {
				t.Fatalf("stolen = %v, want %v", stolen, wantStolen)
			}
			if n := q.LenPriority(Low); n != 10 {
				t.Fatalf("LenPriority(Low) = %d, want 10", n)
			}
		})
	}
}

// A Local added while values wait in another's deques steals them, each
// exactly once, and its own values are visible to the others.
func TestStealingQueueAddLocalJoinsTheVictims(t *testing.T) {
	q := NewStealingQueue[item](noFair)
	b := q.AddLocal()
	for i := 0; i < 300; i++ {
		b.Push(item{i, Priority(i % 3)})
	}
	a := q.AddLocal()
	a.Push(item{300, Low})
	seen := make(map[int]bool)
	for {
		v, stolen, ok := a.Next()
		if !ok {
			break
		}
		if stolen != (v.id < 300) {
			t.Fatalf("value %d: stolen = %v; want true exactly for b's values", v.id, stolen)
		}
		if seen[v.id] {
			t.Fatalf("value %d taken twice", v.id)
		}
		seen[v.id] = true
	}
	if len(seen) != 301 {
		t.Fatalf("took %d values, want 301", len(seen))
	}
	if n := len(*q.locals.Load()); n != 2 {
		t.Fatalf("victims = %d, want 2", n)
	}
}

func TestStealingQueueFairShare(t *testing.T) {
	const k = 4
	q := NewStealingQueue[item](k)
	l := q.AddLocal()
	q.Push(item{-1, Low})
	q.Push(item{-2, Normal})
	// A continuous High flood: always 2 High values visible.
	next := 0
	refill := func() {
		for q.LenPriority(High) < 2 {
			l.Push(item{next, High})
			next++
		}
	}
	var got []int
	for len(got) < 3*k {
		refill()
		v, _, ok := l.Next()
		if !ok {
			t.Fatal("Next found nothing with values queued")
		}
		got = append(got, v.id)
	}
	// Takes k, 2k are fair picks: the lowest non-empty lane first (Low, then
	// Normal); every other take is High.
	for i, id := range got {
		switch {
		case i == k-1 && id != -1:
			t.Fatalf("take %d = %d, want the Low value (fair pick): %v", i, id, got)
		case i == 2*k-1 && id != -2:
			t.Fatalf("take %d = %d, want the Normal value (fair pick): %v", i, id, got)
		case i != k-1 && i != 2*k-1 && id < 0:
			t.Fatalf("take %d = %d, a fair pick off schedule: %v", i, id, got)
		}
	}
}

func TestNewStealingQueuePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("NewStealingQueue(0) did not panic")
		}
	}()
	NewStealingQueue[item](0)
}

func TestStealingQueueInvalidPriorityPanics(t *testing.T) {
	q := NewStealingQueue[item](noFair)
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("Push with an invalid priority did not panic")
		}
	}()
	q.Push(item{0, NumPriorities})
}

// TestStealingQueueExactlyOnce runs owners that push and take, thieves,
// outside producers, and locals added on the fly; every value
// must be taken exactly once.
func TestStealingQueueExactlyOnce(t *testing.T) {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	const owners, producers = 3, 2
	q := NewStealingQueue[item](7)
	taken := make([]atomic.Int32, n)
	var total, stolen atomic.Int64
	take := func(v item, st bool) {
		if taken[v.id].Add(1) != 1 {
			t.Errorf("value %d taken twice", v.id)
		}
		total.Add(1)
		if st {
			stolen.Add(1)
		}
	}
	var ids atomic.Int64
	ids.Store(3) // ids 0-2 are owner 0's first values
	nextID := func() int {
		id := int(ids.Add(1) - 1)
		if id >= n {
			return -1
		}
		return id
	}
	var producing sync.WaitGroup
	var wg sync.WaitGroup
	for i := 0; i < producers; i++ {
		producing.Add(1)
		go func() {
			defer producing.Done()
			for id := nextID(); id >= 0; id = nextID() {
				q.Push(item{id, Priority(id % 3)})
			}
		}()
	}
	for i := 0; i < owners; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := q.AddLocal()
			for round := 0; ; round++ {
				// Push a few own values, take a few. Owner 0's first three
				// are ids 0-2, kept back from nextID: at GOMAXPROCS 1 the
				// others may have used up every id before it runs.
				for j := 0; j < 3; j++ {
					if i == 0 && round == 0 {
						l.Push(item{j, Priority(j % 3)})
					} else if id := nextID(); id >= 0 {
						l.Push(item{id, Priority((id + i) % 3)})
					}
				}
				if i == 0 && round == 0 {
					// Make sure stealing happens: owner 0 takes nothing until
					// someone has stolen (its values can only go that way).
					deadline := time.Now().Add(10 * time.Second)
					for stolen.Load() == 0 {
						if time.Now().After(deadline) {
							t.Error("no value was stolen from an owner that stopped taking")
							break
						}
						runtime.Gosched()
					}
				}
				for j := 0; j < 2; j++ {
					if v, st, ok := l.Next(); ok {
						take(v, st)
					}
				}
				if round%1000 == 999 {
					// Churn: register a fresh local while the others take,
					// and leave this one's values to the thieves.
					l = q.AddLocal()
				}
				if total.Load() == int64(n) {
					return
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() { // a thief without deques
		defer wg.Done()
		th := q.NewThief()
		for total.Load() < int64(n) {
			if v, st, ok := th.Next(); ok {
				take(v, st)
			}
		}
	}()
	producing.Wait()
	wg.Wait()
	if got := total.Load(); got != int64(n) {
		t.Fatalf("took %d values, want %d", got, n)
	}
	for id := range taken {
		if c := taken[id].Load(); c != 1 {
			t.Fatalf("value %d taken %d times", id, c)
		}
	}
	if stolen.Load() == 0 {
		t.Fatal("no value was stolen: the test did not exercise stealing")
	}
	if q.Len() != 0 {
		t.Fatalf("Len = %d after all values were taken", q.Len())
	}
}

func BenchmarkStealingQueueLocalPushNext(b *testing.B) {
	q := NewStealingQueue[item](61)
	l := q.AddLocal()
	q.AddLocal()
	b.ReportAllocs()
	for b.Loop() {
		l.Push(item{1, Normal})
		l.Next()
	}
}

func BenchmarkStealingQueueInjectorPushNext(b *testing.B) {
	q := NewStealingQueue[item](61)
	l := q.AddLocal()
	b.ReportAllocs()
	for b.Loop() {
		q.Push(item{1, Normal})
		l.Next()
	}
}

// The zero Priority is Normal, and lanes are served High, Normal, Low
// whatever the numeric values; a fair pick takes the least urgent lane.
func TestZeroPriorityIsNormalLanesMostUrgentFirst(t *testing.T) {
	var zero Priority
	if zero != Normal || zero.String() != "normal" {
		t.Fatalf("the zero Priority is %v; want normal", zero)
	}
	q := NewStealingQueue[item](noFair)
	l := q.AddLocal()
	q.Push(item{1, Low})
	q.Push(item{2, Normal})
	q.Push(item{3, High})
	for _, want := range []int{3, 2, 1} {
		if v, _, ok := l.Next(); !ok || v.id != want {
			t.Fatalf("Next = %+v, %v; want item %d (most urgent lane first)", v, ok, want)
		}
	}
	q = NewStealingQueue[item](1) // every take is a fair pick
	l = q.AddLocal()
	q.Push(item{1, High})
	q.Push(item{2, Normal})
	q.Push(item{3, Low})
	for _, want := range []int{3, 2, 1} {
		if v, _, ok := l.Next(); !ok || v.id != want {
			t.Fatalf("fair Next = %+v, %v; want item %d (least urgent lane first)", v, ok, want)
		}
	}
}

// TestStealTurnBound: a value in the deque of a Local that takes nothing (its
// owner is busy, for example waiting for that value) is taken by another
// Local within fairEvery*L of its takes while the injector of the same lane
// stays full.
func TestStealTurnBound(t *testing.T) {
	const fair = 16
	q := NewStealingQueue[item](fair)
	blocked := q.AddLocal()
	other := q.AddLocal()
	locals := 2
	blocked.Push(item{id: -1, prio: Normal})
	for i := range 10 * fair * locals {
		q.Push(item{id: i, prio: Normal})
	}
	for takes := 1; takes <= fair*locals; takes++ {
		v, stolen, ok := other.Next()
		if !ok {
			t.Fatal("Next found nothing with the injector full")
		}
		if v.id == -1 {
			if !stolen {
				t.Fatal("the value from the other Local's deque was not reported stolen")
			}
			t.Logf("taken at take %d", takes)
			return
		}
	}
	t.Fatalf("the value in a non-taking Local's deque was not taken within %d takes of another Local", fair*locals)
}
