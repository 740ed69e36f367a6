// Package testseed gives the randomised tests of every package one -seed
// flag: a test calls Seed, which returns the flag's value (or a random seed
// without it) and logs it, so that a failing run can be replayed with
// -seed. Only test files import it.
package testseed

import (
	"flag"
	"math/rand/v2"
	"testing"
)

var seedFlag = flag.Uint64("seed", 0, "seed for the randomised tests (0: a random one); each logs the seed it used, so a failure can be replayed with -seed")

// Seed returns the -seed flag's value, or a random seed without it, and
// logs it on t.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return seed
}
