package pool

// presizeFrame is presize's frame: with it, a goroutine that calls presize
// first gets a 4 KB stack. A 2 KB stack keeps about 1,120 bytes free for
// frames (the rest is the runtime's guard), so the frame must be larger than
// that to make it grow, and the runtime doubles a stack until the frame and
// the guard fit: 1,536 + 928 bytes fit in 4 KB. (1,024 bytes did not grow
// it: TestPresizeGrowsTheStackAtOnce fails with that.)
const presizeFrame = 1536

// presize grows the calling goroutine's stack from the 2 KB that a new
// goroutine starts with to 4 KB while the stack is still shallow. An extra
// worker that grow starts for a blocking backlog runs its first task at
// once. When that is a Go task from the root package (a scope's child), the
// frames from the worker's loop down to the child's function (the pool's
// and the child's panic guards, the scope's bookkeeping) leave a 2 KB stack
// almost full, and the child's first call into the runtime (time.Sleep
// allocating the goroutine's timer) made the runtime grow the stack, copying
// it and walking every frame of that chain: runtime.copystack was 28-35% of
// the CPU time of BenchmarkColdSleepFanout/scope. Growing it here, with two
// frames on it, costs less: runtime.newstack is then 17-21% of that
// benchmark's CPU time (about 1.6 µs per extra worker on the loaded 2-CPU
// machine, much of it the runtime's stack pool lock), all of it here, and
// the process used 1.7-2.8 s of CPU for 150 ops against 3.4-4.0 s without
// presize (same frames, interleaved runs). Plain Submit tasks are not presized:
// their chain is short (BenchmarkSleepFanout/pool grew no stack), and
// presizing cost that benchmark 10% more CPU for nothing. A goroutine that
// ends up using little of its stack has it shrunk by the garbage collector
// as any other.
//
//go:noinline
func presize(i int) byte {
	var b [presizeFrame]byte
	b[i%presizeFrame] = byte(i) // the frame must exist: the store cannot be elided
	return b[(i+1)%presizeFrame]
}
