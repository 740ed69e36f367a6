// Package echo is context-native structured concurrency with priorities.
//
// A request handler opens a scope, spawns children into it, and waits for
// them all before it returns: no goroutine outlives the work that started
// it. The block form is [Nursery]; the spawning functions [Go], [TryGo] and
// [Start] find the innermost scope in the context they are given, so any
// code holding a child's ctx can add siblings or open nested scopes:
//
//	err := echo.Nursery(ctx, func(ctx context.Context) error {
//		echo.Go(ctx, echo.High, fetchUser)
//		echo.Go(ctx, echo.Low, warmCache)
//		return nil
//	})
//
// The rules users rely on:
//
//   - Fail-fast: the first error (or panic) cancels the scope's context with
//     that error as its cause; children still queued are not started, and
//     children that then return only the cancellation are not reported
//     again. [WithCollectAll] turns a scope into a supervisor instead, and
//     [WithErrorHandler] hands each failure to a function as it happens
//     instead of keeping it for Wait (a long-lived supervisor then keeps no
//     memory for its failures).
//   - Nothing accepted is lost silently: a scope cancelled from outside
//     that skipped queued children returns a [*SkippedError] with their
//     count (it still matches context.Canceled with errors.Is). To shut
//     down without losing accepted children, stop spawning and Wait,
//     without Cancel.
//   - [Scope.Wait] returns every reported error combined with
//     go.uber.org/multierr (a single error comes back as itself); a panic is
//     a [*PanicError] with the panicking goroutine's stack. Its Error is one
//     line, safe to show a client; %+v and log/slog print the stack.
//   - A [Scope] is single-use, and misuse (nil ctx or fn, an unknown
//     [Priority], Go after Wait, Go on a context without a scope) panics at
//     the call site with a message naming the function.
//   - A scope opened on a context that carries a scope is nested: it shares
//     the pool and inherits cancellation. [WithTimeout], [WithLimit] and
//     [WithName] bound and label a scope.
//
// Children run on a bounded, priority-aware, work-stealing [pool.Pool]
// ([pool.Default] unless [WithPool]): High children are started before
// Normal and Low ones whenever the machine is busy. Waiting never ties up
// the pool: a pool worker that waits in [Scope.Wait] runs that scope's
// queued children itself and otherwise blocks through [pool.Block], which
// lends the pool a spare worker, so recursive fork-join through nested
// scopes completes on a two-worker pool. (Code outside the pool, such as a
// request handler, just waits: its children run on the pool, within its
// bound and in priority order.) [Go] waiting for a [WithLimit] slot and
// [Start] waiting for ready do not run children while the pool can lend a
// worker, since their caller goes on afterwards and a child may be waiting
// for it; they do only on a pool that cannot lend one.
//
// Whoever waits lifts what it waits for (priority inheritance, as Swift's
// task groups do): while anything waits on a scope ([Scope.Wait], the end of
// [Nursery], [Start], a [Go] waiting for a [WithLimit] slot), every queued
// child of that scope below the waiter's priority runs at the waiter's
// priority, on the pool or off it, and so does every child spawned while it
// waits. The waiter's priority is [PriorityOf] its context: a child's own,
// or, for Wait, the priority of the code that opened the scope
// ([WithPriority], else what its context carries, else [Normal]). So a
// request is not stuck behind the process's Low backlog because of its own
// Low children, and a child that nobody waits on, such as one in a
// long-lived background scope, keeps its priority.
//
// The rules for concurrent use:
//
//   - Any goroutine may spawn into a scope until Wait's join ends; a spawn
//     racing the end of the join is either joined (Wait runs the child
//     before it returns) or panics, never dropped. Children's own spawns
//     are always joined.
//   - A spawner whose own ctx ends while Go or Start waits for a slot or
//     queue room gives up: the child is not started, which is not a
//     failure of the scope.
//   - A [Start] child's context carries the scope's deadline and
//     cancellation like any child's, plus the Start caller's
//     cancellation until ready.
//   - A goroutine that leaves a scope through runtime.Goexit (in Wait, or
//     in a Nursery body) first joins and closes the scope and hands its
//     failure to the enclosing scope; a panic raised during a Goexit is
//     reported as a [*PanicError].
//
// For results rather than just errors, [Map] applies a function to a slice
// and returns the results in input order (or the first failure), [First]
// returns the first of several functions to succeed and cancels and joins
// the rest ([Hedge] starts each only if the previous one is slow), and
// [Stream] maps an iterator lazily within a bounded window, yielding
// results in input order. Each runs its calls as children of a scope on
// ctx, so priorities, fail-fast, [*PanicError], help-while-waiting and
// nesting work as for [Go], and none leaves a goroutine behind.
//
// [Group] and [WithContext] are a drop-in replacement for
// golang.org/x/sync/errgroup with its exact semantics (every function on its
// own goroutine), except that panics are returned as [*PanicError].
package echo
