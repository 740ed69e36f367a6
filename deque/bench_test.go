package deque

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Baselines. Each benchmark runs the same workload on a Deque or Injector and
// on these, in the same run, as sub-benchmarks named impl=NAME so that
// benchstat can put them side by side:
//
//	benchstat -col /impl bench.txt

// mutexDeque is the obvious alternative to a Chase–Lev deque: a growable
// ring under a mutex, with the same Push/Pop/Steal ends.
type mutexDeque struct {
	mu   sync.Mutex
	buf  []int // len is a power of two
	head int   // index of the oldest value
	n    int
}

func newMutexDeque() *mutexDeque { return &mutexDeque{buf: make([]int, initialRing)} }

func (d *mutexDeque) Push(v int) {
	d.mu.Lock()
	if d.n == len(d.buf) {
		buf := make([]int, 2*len(d.buf))
		for i := 0; i < d.n; i++ {
			buf[i] = d.buf[(d.head+i)&(len(d.buf)-1)]
		}
		d.buf, d.head = buf, 0
	}
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = v
	d.n++
	d.mu.Unlock()
}

func (d *mutexDeque) Pop() (int, bool) {
	d.mu.Lock()
	if d.n == 0 {
		d.mu.Unlock()
		return 0, false
	}
	d.n--
	i := (d.head + d.n) & (len(d.buf) - 1)
	v := d.buf[i]
	d.buf[i] = 0
	d.mu.Unlock()
	return v, true
}

func (d *mutexDeque) Steal() (int, bool) {
	d.mu.Lock()
	if d.n == 0 {
		d.mu.Unlock()
		return 0, false
	}
	v := d.buf[d.head]
	d.buf[d.head] = 0
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	d.mu.Unlock()
	return v, true
}

// mutexSliceQueue is the obvious alternative to the Injector: a slice under a
// mutex, appended at the tail and resliced at the head.
type mutexSliceQueue struct {
	mu sync.Mutex
	s  []int
}

func (q *mutexSliceQueue) Push(v int) {
	q.mu.Lock()
	q.s = append(q.s, v)
	q.mu.Unlock()
}

func (q *mutexSliceQueue) Pop() (int, bool) {
	q.mu.Lock()
	if len(q.s) == 0 {
		q.mu.Unlock()
		return 0, false
	}
	v := q.s[0]
	q.s[0] = 0
	q.s = q.s[1:]
	q.mu.Unlock()
	return v, true
}

// chanCap is the channel baselines' buffer: larger than any backlog here.
const chanCap = 1 << 16

// tryRecv is a channel's non-blocking Pop/Steal.
func tryRecv(ch chan int) (int, bool) {
	select {
	case v := <-ch:
		return v, true
	default:
		return 0, false
	}
}

// BenchmarkPushPop measures one uncontended Push followed by one Pop (per
// op) by the owner, on an otherwise empty queue: the Chase–Lev Pop then
// always takes its slow path (a CAS for the last value).
func BenchmarkPushPop(b *testing.B) {
	b.Run("impl=chaselev", func(b *testing.B) {
		b.ReportAllocs()
		d := New[int]()
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		d := newMutexDeque()
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		for i := 0; b.Loop(); i++ {
			ch <- i
			tryRecv(ch)
		}
	})
}

// backlog is how many values BenchmarkPushPopBacklog keeps under the top.
const backlog = 32

// BenchmarkPushPopBacklog is BenchmarkPushPop on a queue that holds 32
// other values, a busy worker's steady state: Pop takes the CAS-free path.
func BenchmarkPushPopBacklog(b *testing.B) {
	b.Run("impl=chaselev", func(b *testing.B) {
		b.ReportAllocs()
		d := New[int]()
		for i := range backlog {
			d.Push(i)
		}
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		d := newMutexDeque()
		for i := range backlog {
			d.Push(i)
		}
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		for i := range backlog {
			ch <- i
		}
		for i := 0; b.Loop(); i++ {
			ch <- i
			tryRecv(ch)
		}
	})
}

// runThieves starts n goroutines that call steal in a tight loop until the
// returned stop function is called; stop waits for them and returns how
// many values they took.
func runThieves(n int, steal func() bool) (stop func() int64) {
	var (
		done   atomic.Bool
		stolen atomic.Int64
		wg     sync.WaitGroup
		ready  sync.WaitGroup
	)
	ready.Add(n)
	for range n {
		wg.Go(func() {
			ready.Done()
			var mine int64
			for !done.Load() {
				if steal() {
					mine++
				}
			}
			stolen.Add(mine)
		})
	}
	ready.Wait()
	return func() int64 {
		done.Store(true)
		wg.Wait()
		return stolen.Load()
	}
}

// BenchmarkOwnerWithThief measures the owner's Push followed by Pop (per op)
// while one thief goroutine tries to steal in a tight loop. The thief takes
// some values (reported as stolen/op), so some Pops find the queue empty.
func BenchmarkOwnerWithThief(b *testing.B) {
	b.Run("impl=chaselev", func(b *testing.B) {
		b.ReportAllocs()
		d := New[int]()
		stop := runThieves(1, func() bool { _, ok := d.Steal(); return ok })
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		d := newMutexDeque()
		stop := runThieves(1, func() bool { _, ok := d.Steal(); return ok })
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		stop := runThieves(1, func() bool { _, ok := tryRecv(ch); return ok })
		for i := 0; b.Loop(); i++ {
			ch <- i
			tryRecv(ch)
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
}

// BenchmarkOwnerWithYieldingThief is BenchmarkOwnerWithThief with a thief
// that, like an idle pool worker, backs off (runtime.Gosched) after a failed
// steal instead of re-reading the queue at once.
func BenchmarkOwnerWithYieldingThief(b *testing.B) {
	yielding := func(steal func() bool) func() bool {
		return func() bool {
			if steal() {
				return true
			}
			runtime.Gosched()
			return false
		}
	}
	b.Run("impl=chaselev", func(b *testing.B) {
		b.ReportAllocs()
		d := New[int]()
		stop := runThieves(1, yielding(func() bool { _, ok := d.Steal(); return ok }))
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		d := newMutexDeque()
		stop := runThieves(1, yielding(func() bool { _, ok := d.Steal(); return ok }))
		for i := 0; b.Loop(); i++ {
			d.Push(i)
			d.Pop()
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		stop := runThieves(1, yielding(func() bool { _, ok := tryRecv(ch); return ok }))
		for i := 0; b.Loop(); i++ {
			ch <- i
			tryRecv(ch)
		}
		b.ReportMetric(float64(stop())/float64(b.N), "stolen/op")
	})
}

// stealChunk is how many values BenchmarkSteal2Thieves queues (with the
// timer stopped) before the two thieves take them (timed).
const stealChunk = 1 << 14

// BenchmarkSteal2Thieves measures steal throughput: two thieves take values
// from a queue that nobody pushes to while they run; ns/op is the wall time
// per value taken. Filling the queue is not timed, so for the Chase–Lev
// deque the allocation of each stolen value's box (at Push) is not counted.
func BenchmarkSteal2Thieves(b *testing.B) {
	run := func(b *testing.B, fill func(n int), steal func() bool) {
		b.ReportAllocs()
		for left := b.N; left > 0; left -= stealChunk {
			n := min(left, stealChunk)
			b.StopTimer()
			fill(n)
			var todo atomic.Int64 // values the thieves still have to take
			todo.Store(int64(n))
			b.StartTimer()
			// Starting two goroutines per chunk costs about a
			// microsecond, under 1% of a chunk's time.
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for todo.Load() > 0 {
						if steal() {
							todo.Add(-1)
						}
					}
				})
			}
			wg.Wait()
		}
	}
	b.Run("impl=chaselev", func(b *testing.B) {
		d := New[int]()
		run(b, func(n int) {
			for i := range n {
				d.Push(i)
			}
		}, func() bool { _, ok := d.Steal(); return ok })
	})
	b.Run("impl=mutex", func(b *testing.B) {
		d := newMutexDeque()
		run(b, func(n int) {
			for i := range n {
				d.Push(i)
			}
		}, func() bool { _, ok := d.Steal(); return ok })
	})
	b.Run("impl=channel", func(b *testing.B) {
		ch := make(chan int, chanCap)
		run(b, func(n int) {
			for i := range n {
				ch <- i
			}
		}, func() bool { _, ok := tryRecv(ch); return ok })
	})
}

// BenchmarkInjectorPushPop measures one uncontended Push followed by one Pop
// (per op) on an otherwise empty FIFO queue.
func BenchmarkInjectorPushPop(b *testing.B) {
	b.Run("impl=injector", func(b *testing.B) {
		b.ReportAllocs()
		q := NewInjector[int]()
		for i := 0; b.Loop(); i++ {
			q.Push(i)
			q.Pop()
		}
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		var q mutexSliceQueue
		for i := 0; b.Loop(); i++ {
			q.Push(i)
			q.Pop()
		}
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		for i := 0; b.Loop(); i++ {
			ch <- i
			tryRecv(ch)
		}
	})
}

// BenchmarkInjectorParallel measures Push followed by Pop (per op) from
// GOMAXPROCS goroutines at once: the contended MPMC case.
func BenchmarkInjectorParallel(b *testing.B) {
	b.Run("impl=injector", func(b *testing.B) {
		b.ReportAllocs()
		q := NewInjector[int]()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				q.Push(i)
				q.Pop()
			}
		})
	})
	b.Run("impl=mutex", func(b *testing.B) {
		b.ReportAllocs()
		var q mutexSliceQueue
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				q.Push(i)
				q.Pop()
			}
		})
	})
	b.Run("impl=channel", func(b *testing.B) {
		b.ReportAllocs()
		ch := make(chan int, chanCap)
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				ch <- i
				tryRecv(ch)
			}
		})
	})
}
