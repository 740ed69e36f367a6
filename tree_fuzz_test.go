package echo

import (
	"context"
	"slices"
	"testing"
)

// FuzzTreeRunningChildren checks the running-children record of a tracked
// scope (lock-free slots, then the overflow map) against a model, a list of
// the children begun and not ended: the input is a program of "begin a
// child at priority b%3" and "end the (b/3)-th running child" steps, and
// after each step the scope's snapshot lists exactly the model's running
// children, by priority. Concurrency is TestTreeSnapshotsAreConsistent-
// WhileScopesComeAndGo's job; this covers every mix of slots and overflow.
func FuzzTreeRunningChildren(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 4, 7, 2, 2})
	f.Fuzz(func(t *testing.T, prog []byte) {
		treeOn.Store(true)
		s, _ := NewScope(context.Background(), withRunner(&fakePool{}))
		treeOn.Store(false)
		defer s.Wait()
		tr := s.track
		type running struct {
			c    *child
			slot int
		}
		var model []running
		for i, b := range prog {
			if b&1 == 0 || len(model) == 0 { // begin
				p := []Priority{High, Normal, Low}[int(b>>1)%3]
				c := &child{m: member{s: s, prio: p}}
				model = append(model, running{c, tr.begin(c)})
			} else { // end
				k := int(b>>1) % len(model)
				tr.end(model[k].c, model[k].slot)
				model = slices.Delete(model, k, k+1)
			}
			info, ok := tr.info(treeNow(), nil)
			if !ok {
				t.Fatalf("step %d: the open scope's track says closed", i)
			}
			var got, want []string
			for _, c := range info.Children {
				got = append(got, c.Priority)
			}
			for _, r := range model {
				want = append(want, r.c.m.prio.String())
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) || info.Running != len(model) {
				t.Fatalf("step %d: snapshot lists %v running (%d), model %v", i, got, info.Running, want)
			}
		}
		for _, r := range model {
			tr.end(r.c, r.slot)
		}
	})
}
