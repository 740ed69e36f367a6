package pool

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them. The
// Default pool, if a test created it, is stopped first (the documented use:
// stop it only at test exit).
func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Default().Stop(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pool: stopping Default:", err)
		code = 1
	}
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
