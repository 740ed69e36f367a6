package pool

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them. The
// Default pool, if a test used it, is not stopped: idle, its goroutines
// exit by themselves (see Default).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var seedFlag = flag.Uint64("seed", 0, "seed for the randomised tests (0: a random one); each logs the seed it used, so a failure can be replayed with -seed")

// testSeed returns the -seed flag's value, or a random seed without it, and
// logs it so that a failing run can be replayed.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	seed := *seedFlag
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -seed=%d)", seed, seed)
	return seed
}
