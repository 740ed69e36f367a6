package deque_test

import (
	"fmt"
	"sync"

	"github.com/echo-scheduler/echo/deque"
)

// The owner pushes work and pops the newest; a thief on another goroutine
// steals the oldest.
func Example() {
	d := deque.New[string]()
	for _, task := range []string{"a", "b", "c", "d"} {
		d.Push(task) // owner only
	}

	var wg sync.WaitGroup
	wg.Go(func() { // a thief: any goroutine may steal
		if task, ok := d.Steal(); ok {
			fmt.Println("thief stole", task)
		}
	})
	wg.Wait()

	for {
		task, ok := d.Pop() // owner only
		if !ok {
			break
		}
		fmt.Println("owner popped", task)
	}
	// Output:
	// thief stole a
	// owner popped d
	// owner popped c
	// owner popped b
}

// Producers outside any worker push into an Injector; any goroutine pops in
// FIFO order.
func ExampleInjector() {
	q := deque.NewInjector[int]()
	var producers sync.WaitGroup
	for p := range 3 {
		producers.Go(func() { q.Push(p) })
	}
	producers.Wait()
	fmt.Println("queued:", q.Len())

	sum := 0
	for {
		v, ok := q.Pop()
		if !ok {
			break
		}
		sum += v
	}
	fmt.Println("sum:", sum, "left:", q.Len())
	// Output:
	// queued: 3
	// sum: 3 left: 0
}

// Ownership of a deque can move between goroutines when the hand-over
// orders one owner's calls before the next owner's, here via a channel.
func ExampleDeque_handOver() {
	d := deque.New[int]()
	d.Push(1)
	d.Push(2)

	handOver := make(chan *deque.Deque[int])
	done := make(chan struct{})
	go func() {
		mine := <-handOver // this goroutine is now the owner
		v, _ := mine.Pop()
		fmt.Println("new owner popped", v)
		close(done)
	}()
	handOver <- d // the old owner makes no more owner calls
	<-done
	fmt.Println("left:", d.Len())
	// Output:
	// new owner popped 2
	// left: 1
}
