package deque

import (
	"slices"
	"sync"
	"testing"
)

// maxFuzzOps bounds the work per fuzz input.
const maxFuzzOps = 4096

// concurrently runs fns on their own goroutines, released together, and
// waits for all of them.
func concurrently(fns ...func()) {
	var start, done sync.WaitGroup
	start.Add(1)
	for _, fn := range fns {
		done.Go(func() {
			start.Wait()
			fn()
		})
	}
	start.Done()
	done.Wait()
}

// FuzzDeque decodes each input byte as one operation and replays the
// sequence against a slice model. Values pushed are 0, 1, 2, ..., so the
// model is always sorted. The low three bits choose the operation:
//
//	0-2  Push the next value
//	3    Pop
//	4    Steal
//	5    Push a burst of 1..32 values (drives growth)
//	6    k = 1..8 concurrent Steals, owner idle: they must take exactly the
//	     oldest min(k, Len) values, none reporting empty while one remains
//	7    k concurrent Steals racing one owner Pop: all take min(k+1, Len)
//	     values exactly once; the Pop gets the newest if it gets one, and
//	     the thieves the oldest k when Len > k
func FuzzDeque(f *testing.F) {
	f.Add([]byte{0, 0, 3, 4, 3, 4})
	f.Add([]byte{0, 1, 2, 4, 4, 4, 3})
	f.Add([]byte{0xfd, 0xfd, 0xfd, 4, 3, 0xfd, 0x3e, 0x3f})
	f.Add([]byte{0, 0, 0, 6, 7, 0x0f, 0x0e, 0x3f, 3, 4})
	f.Add([]byte{0x7d, 0x7d, 0x7d, 0x7d, 0x7d, 0x3e, 0x3f, 0x3e, 0x3f, 3, 3, 4, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > maxFuzzOps {
			ops = ops[:maxFuzzOps]
		}
		d := New[int]()
		var model sliceDeque
		next := 0
		pushOne := func() {
			d.Push(next)
			model.push(next)
			next++
		}
		for i, b := range ops {
			switch b & 7 {
			case 0, 1, 2:
				pushOne()
			case 3:
				v, ok := d.Pop()
				mv, mok := model.pop()
				if v != mv || ok != mok {
					t.Fatalf("op %d: Pop() = (%d, %v), model (%d, %v)", i, v, ok, mv, mok)
				}
			case 4:
				v, ok := d.Steal()
				mv, mok := model.steal()
				if v != mv || ok != mok {
					t.Fatalf("op %d: Steal() = (%d, %v), model (%d, %v)", i, v, ok, mv, mok)
				}
			case 5:
				for k := int(b>>3) + 1; k > 0; k-- {
					pushOne()
				}
			case 6:
				k := int(b>>3)%8 + 1
				got := stealBurst(d, k, nil)
				want := model[:min(k, len(model))]
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: %d concurrent Steals on %v took %v, want %v", i, k, model, got, want)
				}
				model = model[len(want):]
			case 7:
				k := int(b>>3)%8 + 1
				var pv int
				var pok bool
				got := stealBurst(d, k, func() { pv, pok = d.Pop() })
				n := len(model)
				if n > k {
					if !pok || pv != model[n-1] {
						t.Fatalf("op %d: Pop racing %d Steals on %v = (%d, %v), want (%d, true)", i, k, model, pv, pok, model[n-1])
					}
					if want := model[:k]; !slices.Equal(got, want) {
						t.Fatalf("op %d: %d Steals racing Pop on %v took %v, want %v", i, k, model, got, want)
					}
					model = model[k : n-1]
					break
				}
				if pok {
					if n == 0 || pv != model[n-1] {
						t.Fatalf("op %d: Pop racing %d Steals on %v = (%d, true), want the newest value", i, k, model, pv)
					}
					got = append(got, pv)
					slices.Sort(got)
				}
				if !slices.Equal(got, model) {
					t.Fatalf("op %d: %d Steals and a Pop on %v took %v (Pop ok=%v), want every value once", i, k, model, got, pok)
				}
				model = model[:0]
			}
			if d.Len() != len(model) {
				t.Fatalf("op %d: Len() = %d, model %d", i, d.Len(), len(model))
			}
		}
		// Drain by stealing: the model's order must come out.
		for _, want := range model {
			if v, ok := d.Steal(); !ok || v != want {
				t.Fatalf("drain: Steal() = (%d, %v), want (%d, true)", v, ok, want)
			}
		}
		if v, ok := d.Pop(); ok {
			t.Fatalf("drain: Pop() = (%d, true) on an empty deque", v)
		}
	})
}

// stealBurst runs k concurrent Steals, and owner (if not nil) concurrently
// with them, and returns the stolen values sorted.
func stealBurst(d *Deque[int], k int, owner func()) []int {
	results := make([]int, k)
	oks := make([]bool, k)
	fns := make([]func(), 0, k+1)
	for j := range k {
		fns = append(fns, func() { results[j], oks[j] = d.Steal() })
	}
	if owner != nil {
		fns = append(fns, owner)
	}
	concurrently(fns...)
	var got []int
	for j := range k {
		if oks[j] {
			got = append(got, results[j])
		}
	}
	slices.Sort(got)
	return got
}

// FuzzInjector replays byte-coded operations against a FIFO slice model:
// low two bits 0-1 Push the next value, 2 Pop, 3 a burst of k = 1..8
// concurrent Pops, which must take exactly the oldest min(k, Len) values.
func FuzzInjector(f *testing.F) {
	f.Add([]byte{0, 0, 2, 2, 2})
	f.Add([]byte{0, 1, 0, 1, 3, 0x1f, 2})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > maxFuzzOps {
			ops = ops[:maxFuzzOps]
		}
		q := NewInjector[int]()
		var model []int
		next := 0
		for i, b := range ops {
			switch b & 3 {
			case 0, 1:
				q.Push(next)
				model = append(model, next)
				next++
			case 2:
				v, ok := q.Pop()
				if len(model) == 0 {
					if ok {
						t.Fatalf("op %d: Pop() = (%d, true) on an empty injector", i, v)
					}
					break
				}
				if !ok || v != model[0] {
					t.Fatalf("op %d: Pop() = (%d, %v), want (%d, true)", i, v, ok, model[0])
				}
				model = model[1:]
			case 3:
				k := int(b>>2)%8 + 1
				results := make([]int, k)
				oks := make([]bool, k)
				fns := make([]func(), k)
				for j := range k {
					fns[j] = func() { results[j], oks[j] = q.Pop() }
				}
				concurrently(fns...)
				var got []int
				for j := range k {
					if oks[j] {
						got = append(got, results[j])
					}
				}
				slices.Sort(got)
				want := model[:min(k, len(model))]
				if !slices.Equal(got, want) {
					t.Fatalf("op %d: %d concurrent Pops on %v took %v, want %v", i, k, model, got, want)
				}
				model = model[len(want):]
			}
			if q.Len() != len(model) {
				t.Fatalf("op %d: Len() = %d, model %d", i, q.Len(), len(model))
			}
		}
	})
}
