package deque

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestInjectorSequential(t *testing.T) {
	q := NewInjector[int]()
	if v, ok := q.Pop(); ok || v != 0 {
		t.Fatalf("Pop() on a new injector = (%d, %v), want (0, false)", v, ok)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len() on a new injector = %d, want 0", n)
	}
	// Random pushes and pops against a slice model, in phases that favour
	// pushing (growth, also of a wrapped ring) and phases that favour popping.
	rng := rand.New(rand.NewPCG(5, 6))
	var model []int
	next := 0
	for i := 0; i < 50000; i++ {
		pushBias := 1 // out of 3
		if (i/2000)%2 == 0 {
			pushBias = 2
		}
		if rng.IntN(3) < pushBias {
			q.Push(next)
			model = append(model, next)
			next++
		} else {
			v, ok := q.Pop()
			if len(model) == 0 {
				if ok {
					t.Fatalf("op %d: Pop() = (%d, true) on an empty injector", i, v)
				}
			} else {
				if !ok || v != model[0] {
					t.Fatalf("op %d: Pop() = (%d, %v), want (%d, true)", i, v, ok, model[0])
				}
				model = model[1:]
			}
		}
		if q.Len() != len(model) {
			t.Fatalf("op %d: Len() = %d, want %d", i, q.Len(), len(model))
		}
	}
}

// TestInjectorMPMCExactlyOnce: several producers push disjoint ranges while
// several consumers pop; every value comes out exactly once, and each
// consumer sees each producer's values in the order they were pushed.
func TestInjectorMPMCExactlyOnce(t *testing.T) {
	const producers, consumers = 4, 4
	per := stressSize(100_000, 10_000)
	n := producers * per
	q := NewInjector[int]()
	counts := make([]atomic.Int32, n)
	var producing sync.WaitGroup
	var consuming sync.WaitGroup
	var done atomic.Bool
	var popped atomic.Int64
	for c := 0; c < consumers; c++ {
		consuming.Go(func() {
			last := make([]int, producers) // last value seen from each producer
			for i := range last {
				last[i] = -1
			}
			take := func(v int) {
				counts[v].Add(1)
				popped.Add(1)
				p := v / per
				if v <= last[p] {
					t.Errorf("consumer %d got %d after %d from producer %d: not FIFO", c, v, last[p], p)
				}
				last[p] = v
			}
			for {
				if v, ok := q.Pop(); ok {
					take(v)
					continue
				}
				if done.Load() {
					// Producers finished before done was set: drain.
					for v, ok := q.Pop(); ok; v, ok = q.Pop() {
						take(v)
					}
					return
				}
				runtime.Gosched()
			}
		})
	}
	for p := 0; p < producers; p++ {
		producing.Go(func() {
			for v := p * per; v < (p+1)*per; v++ {
				q.Push(v)
			}
		})
	}
	producing.Wait()
	done.Store(true)
	consuming.Wait()
	if got := popped.Load(); got != int64(n) {
		t.Errorf("consumers popped %d values, want %d", got, n)
	}
	checkOnce(t, counts)
	if q.Len() != 0 {
		t.Errorf("Len() = %d after draining, want 0", q.Len())
	}
}

// TestInjectorSPSCOrder: with one producer and one consumer running
// concurrently, values come out in exactly the order they went in.
func TestInjectorSPSCOrder(t *testing.T) {
	n := stressSize(200_000, 20_000)
	q := NewInjector[int]()
	var wg sync.WaitGroup
	wg.Go(func() {
		for v := 0; v < n; v++ {
			q.Push(v)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for want := 0; want < n; {
		v, ok := q.Pop()
		if !ok {
			if time.Now().After(deadline) {
				t.Fatalf("value %d not received by the deadline", want)
			}
			runtime.Gosched()
			continue
		}
		if v != want {
			t.Fatalf("Pop() = %d, want %d", v, want)
		}
		want++
	}
	wg.Wait()
	if v, ok := q.Pop(); ok {
		t.Fatalf("Pop() = (%d, true) after all values, want empty", v)
	}
}

//go:noinline
func pushTrackedInjector(q *Injector[*payload]) <-chan struct{} {
	p, collected := tracked()
	q.Push(p)
	return collected
}

func TestInjectorNoRetainedReferences(t *testing.T) {
	q := NewInjector[*payload]()
	q.Push(&payload{})
	collected := pushTrackedInjector(q)
	for range 200 { // grow past the initial ring while the value is queued
		q.Push(&payload{})
	}
	assertReachable(t, collected, "queued")
	for range 2 {
		if _, ok := q.Pop(); !ok {
			t.Fatal("Pop failed")
		}
	}
	awaitCollected(t, collected, "popped from the injector")
	runtime.KeepAlive(q)
}
