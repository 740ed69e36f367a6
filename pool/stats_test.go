package pool

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestStats(t *testing.T) {
	p := New(WithWorkers(1), WithMaxWorkers(1))
	defer stop(t, p)
	release := gate(t, p) // a High task
	const n = 200         // per priority: enough for the 1-in-8 wait sample
	for prio := range Priority(3) {
		for i := 0; i < n; i++ {
			if err := p.Submit(bg, prio, func() {}); err != nil {
				t.Fatal(err)
			}
		}
	}
	st := p.Stats()
	if st.Submitted != 3*n+1 || st.Queued != [3]int{n, n, n} || st.Workers != 1 || st.ExtraWorkers != 0 {
		t.Fatalf("with a gate and %d queued tasks: %+v", 3*n, st)
	}
	time.Sleep(2 * time.Millisecond) // let the queued tasks wait a measurable time
	release()
	waitFor(t, "all tasks complete", func() bool { return p.Stats().Completed == 3*n+1 })
	st = p.Stats()
	if st.Queued != [3]int{} || st.Wait[High].Count != n+1 || st.Wait[Normal].Count != n || st.Wait[Low].Count != n {
		t.Fatalf("after the run: %+v", st)
	}
	for prio, w := range st.Wait {
		// Every queued task waited >= 2ms; only the gate task (High) did not.
		if w.Max < 2*time.Millisecond || w.Mean > w.Max || w.P99 > w.Max {
			t.Errorf("%v wait summary %+v: want max >= 2ms, mean and p99 <= max", Priority(prio), w)
		}
		if Priority(prio) != High && (w.Mean < 2*time.Millisecond || w.P99 < 2*time.Millisecond) {
			t.Errorf("%v wait summary %+v: want mean and p99 >= 2ms", Priority(prio), w)
		}
	}
	s := st.String()
	for _, want := range []string{"submitted=601", "completed=601", "high", "normal", "low"} {
		if !strings.Contains(s, want) {
			t.Errorf("Stats.String() lacks %q:\n%s", want, s)
		}
	}
}

// TestStatsStolen: tasks pushed on a worker's own deque while it blocks can
// only run by being stolen.
func TestStatsStolen(t *testing.T) {
	p := New(WithWorkers(2))
	defer stop(t, p)
	ran := make(chan struct{}, 10)
	done := make(chan struct{})
	err := p.Go(bg, Normal, func(ctx context.Context) {
		for i := 0; i < 10; i++ {
			if err := p.Submit(ctx, Normal, func() { ran <- struct{}{} }); err != nil {
				t.Error(err)
			}
		}
		for i := 0; i < 10; i++ {
			<-ran // blocks this worker: other workers must steal
		}
		close(done)
	})
	if err != nil {
		t.Fatal(err)
	}
	recv(t, done, "the children on the blocked worker's deque to be stolen")
	if st := p.Stats(); st.Stolen != 10 {
		t.Fatalf("Stolen = %d, want 10", st.Stolen)
	}
}

func TestBucket(t *testing.T) {
	for _, v := range []uint64{0, 1, 3, 4, 5, 7, 8, 100, 1000, 12345, 1e6, 1e9, 1 << 40} {
		i := bucket(v)
		lo := uint64(0)
		if i > 0 {
			lo = bucketUpper(i - 1)
		}
		if v < lo || v >= bucketUpper(i) {
			t.Errorf("bucket(%d) = %d covering [%d, %d)", v, i, lo, bucketUpper(i))
		}
		if v >= 4 && float64(bucketUpper(i)) > 1.25*float64(v)+1 {
			t.Errorf("bucket(%d) upper bound %d: more than 25%% above", v, bucketUpper(i))
		}
	}
}

// Stats.String lists the priorities most urgent first.
func TestStatsStringMostUrgentFirst(t *testing.T) {
	s := Stats{}.String()
	h, n, l := strings.Index(s, "\nhigh "), strings.Index(s, "\nnormal "), strings.Index(s, "\nlow ")
	if h < 0 || n < 0 || l < 0 || !(h < n && n < l) {
		t.Fatalf("Stats.String lists the priorities out of order (want high, normal, low):\n%s", s)
	}
}
