package pool

import (
	"fmt"
	"os"
	"testing"

	"github.com/echo-scheduler/echo/internal/testseed"

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

// testSeed is testseed.Seed: the -seed flag of the randomised tests.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	return testseed.Seed(t)
}
