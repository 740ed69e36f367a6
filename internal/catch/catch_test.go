package catch

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// onGoroutine runs Call on a goroutine of its own (Goexit ends it) and
// returns what Call returned and what exiting was called with.
func onGoroutine(fn func()) (ret *Panic, returned bool, exit *Panic, exited bool) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ret = Call(fn, func(p *Panic) { exit, exited = p, true })
		returned = true
	}()
	wg.Wait()
	return
}

func TestReturnIsNoPanic(t *testing.T) {
	ret, returned, _, exited := onGoroutine(func() {})
	if !returned || ret != nil || exited {
		t.Fatalf("Call = %v (returned %v, exiting called %v); want nil, true, false", ret, returned, exited)
	}
}

func TestPanicIsReturnedWithItsStack(t *testing.T) {
	ret, returned, _, exited := onGoroutine(func() { panic("boom") })
	if !returned || exited || ret == nil || ret.Value != "boom" {
		t.Fatalf("Call = %+v (returned %v, exiting called %v); want the panic", ret, returned, exited)
	}
	if !strings.Contains(string(ret.Stack), "TestPanicIsReturnedWithItsStack") {
		t.Fatalf("stack does not show the panicking function:\n%s", ret.Stack)
	}
}

func TestGoexitCallsExitingWithNil(t *testing.T) {
	_, returned, exit, exited := onGoroutine(func() { runtime.Goexit() })
	if returned || !exited || exit != nil {
		t.Fatalf("returned %v, exiting called %v with %v; want false, true, nil", returned, exited, exit)
	}
}

// A panic raised by a deferred call during Goexit is recovered (so it does
// not crash the program) and handed to exiting: the Goexit resumes after
// the recover, so it could not be returned.
func TestPanicDuringGoexitGoesToExiting(t *testing.T) {
	_, returned, exit, exited := onGoroutine(func() {
		defer func() { panic("during goexit") }()
		runtime.Goexit()
	})
	if returned || !exited || exit == nil || exit.Value != "during goexit" {
		t.Fatalf("returned %v, exiting called %v with %+v; want the deferred call's panic", returned, exited, exit)
	}
}

// panic(nil) is a panic even under GODEBUG=panicnil=1, where recover
// returns nil for it. The check runs in a child process with that setting.
func TestPanicNilUnderPanicnil1(t *testing.T) {
	if os.Getenv("CATCH_PANICNIL_CHILD") == "1" {
		ret, returned, _, exited := onGoroutine(func() { panic(nil) })
		if !returned || exited || ret == nil || ret.Value != nil {
			t.Fatalf("Call = %+v (returned %v, exiting called %v); want a panic with a nil value", ret, returned, exited)
		}
		if !strings.Contains(string(ret.Stack), "TestPanicNilUnderPanicnil1") {
			t.Fatalf("stack does not show the panicking function:\n%s", ret.Stack)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPanicNilUnderPanicnil1$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CATCH_PANICNIL_CHILD=1", "GODEBUG=panicnil=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with GODEBUG=panicnil=1: %v\n%s", err, out)
	}
}

// BenchmarkCallGoexit is the cost of ending a goroutine through Call with
// runtime.Goexit (the stack is not formatted for a Goexit).
func BenchmarkCallGoexit(b *testing.B) {
	b.ReportAllocs()
	var wg sync.WaitGroup
	for b.Loop() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Call(runtime.Goexit, nil)
		}()
		wg.Wait()
	}
}
