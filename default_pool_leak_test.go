package echo

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"go.uber.org/goleak"
)

// TestDefaultPoolLeavesNoGoroutinesAfterUse: a test that runs one Nursery
// on the default pool and then calls goleak.VerifyNone(t) with its default
// options passes, without stopping the default pool: an idle default pool's
// workers and monitor exit by themselves (and start again on the next
// submit). It runs in a fresh test process, so that no other test's
// goroutines (or this package's TestMain, which would stop the pool) are
// involved.
func TestDefaultPoolLeavesNoGoroutinesAfterUse(t *testing.T) {
	if os.Getenv("ECHO_DEFAULT_POOL_LEAK_CHILD") == "1" {
		err := Nursery(context.Background(), func(ctx context.Context) error {
			for range 10 {
				Go(ctx, Normal, func(context.Context) error { return nil })
			}
			return nil
		})
		if err != nil {
			t.Fatalf("Nursery: %v", err)
		}
		goleak.VerifyNone(t)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestDefaultPoolLeavesNoGoroutinesAfterUse$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "ECHO_DEFAULT_POOL_LEAK_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("in a fresh process, goleak.VerifyNone after one Nursery on the default pool failed (%v):\n%s", err, out)
	}
}
