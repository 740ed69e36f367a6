package deque

import (
	"testing"

	"github.com/echo-scheduler/echo/internal/testseed"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testSeed is testseed.Seed: the -seed flag of the randomised tests.
func testSeed(t testing.TB) uint64 {
	t.Helper()
	return testseed.Seed(t)
}
