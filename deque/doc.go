// Package deque provides generic concurrent queues for work-stealing
// schedulers. It knows nothing of pools, tasks or scopes: the values are any
// T, and the scheduler above decides what they mean.
//
// # Which type to use
//
//   - [Deque] is a Chase–Lev work-stealing deque with one owner. The owner
//     pushes and pops at the bottom (LIFO, so it runs what it queued last
//     while that is still in cache); other goroutines steal the oldest value
//     from the top. Owner operations take no locks and, in steady state,
//     allocate nothing. Use one per worker for the work that worker spawns.
//   - [Injector] is a multi-producer, multi-consumer FIFO queue under a short
//     mutex. Use it for work submitted from outside any worker, which has no
//     deque of its own to go to.
//   - StealingQueue combines them into one lane per [Priority], for values
//     that implement [Prioritized].
//
// # Ownership
//
// A [Deque] has exactly one owner at a time. Only the owner calls Push and
// Pop; any goroutine may call Steal and Len. Ownership may move between
// goroutines as long as each owner call happens-before the next one (the
// hand-over goes through a mutex, a channel or an atomic flag). Breaking the
// rule corrupts the deque; the race detector usually reports it, because the
// owner's state is plain memory. [Injector] has no owner: any goroutine may
// call any method.
//
// # Guarantees
//
// Every value pushed is returned exactly once, by Pop or Steal on a Deque or
// by Pop on an Injector. Both types grow as needed and have no capacity
// limit. Steal reports false only when the deque is empty (a lost race with
// another thief or the owner is retried, not reported). Neither type keeps a
// reference to a value it has handed out, so a taken value can be garbage
// collected as soon as its taker drops it.
package deque
