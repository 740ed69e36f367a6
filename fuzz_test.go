package echo

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/multierr"

	"github.com/echo-scheduler/echo/pool"
)

// FuzzScope decodes the input into a program of spawns (with priorities),
// child results (nil, an error, a panic, runtime.Goexit, blocking until
// released or cancelled), Cancel calls, nested Nurseries with WithCollectAll
// and WithLimit on or off, TryGo, Start, grandchildren, and spawns from a
// goroutine outside the scope racing the top Wait, runs it on a 2-worker
// pool (stopped after each input) and checks the semantic rules:
//
//   - in every scope, children started + children not started (notStarted)
//     == children accepted, where a spawn from outside racing Wait is
//     accepted if it returned and refused if it panicked as after Wait;
//   - no child starts after the top Wait has returned;
//   - every error Wait reports was produced by a child that ran (or is the
//     program's Cancel cause, which a nested scope may return to its
//     parent), none is reported twice, and panics are *PanicError whose
//     stack names the panicking function;
//   - with no Cancel in the program: if every scope collects all, the
//     reported set is exactly the produced set and every child started; if
//     some child failed, something is reported; if none failed, Wait
//     returns nil and every child started;
//   - with Cancel but no failure, the top Wait returns nil or the cause.
func FuzzScope(f *testing.F) {
	f.Add([]byte{0, 2, 3, 4, 5, 0})
	f.Add([]byte{1, 2, 3, 4, 5, 0, 10, 18, 26})
	f.Add([]byte{1, 6, 1, 4, 2, 3, 4, 5, 7})
	f.Add([]byte{0, 6, 0, 5, 2, 11, 19, 3, 12, 7, 5})
	f.Add([]byte{0, 5, 5, 5, 7, 2, 1})
	f.Add([]byte{1, 31, 2, 31, 3, 31, 4, 6, 1, 3, 4, 4, 4, 15, 2})
	f.Add([]byte{0, 6, 1, 5, 6, 0, 3, 2, 3, 4, 4, 2, 3, 7, 5, 2})
	f.Add([]byte{1, 23, 2, 23, 3, 23, 4, 23, 5, 12, 20, 28})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 256 {
			data = data[:256]
		}
		p := pool.New(pool.WithWorkers(2))
		defer stopPool(t, p)
		runFuzzProgram(t, p, data)
	})
}

// fuzzErr is an error a program's child produced.
type fuzzErr struct{ id int64 }

func (e *fuzzErr) Error() string { return fmt.Sprintf("fuzz child %d failed", e.id) }

// fuzzPanicValue is what a program's child panics with.
type fuzzPanicValue struct{ id int64 }

//go:noinline
func fuzzPanic(id int64) { panic(fuzzPanicValue{id}) }

var errFuzzCancel = errors.New("fuzz: Cancel")

// Op kinds of a decoded program.
const (
	opNil = iota
	opErr
	opPanic
	opGoexit
	opBlock  // wait until released (after the top body) or cancelled
	opNested // a child that opens a Nursery running sub
	opCancel // the scope's opener cancels it (errFuzzCancel)
	opYield  // the opener yields
)

// fuzzOp is one step of a program: a child to spawn, or a control step.
type fuzzOp struct {
	kind    int
	prio    Priority
	try     bool  // spawn with TryGo
	start   bool  // spawn with Start (the child calls ready first)
	outside bool  // top level: spawned by a goroutine outside the scope, racing Wait
	limit   int   // opNested: WithLimit(limit) if > 0
	grand   bool  // spawn from inside a child, as a grandchild in the same scope
	id      int64 // of the failure, for opErr and opPanic
	collect bool  // opNested: WithCollectAll
	sub     []fuzzOp
}

// fuzzDecoder turns bytes into a program.
type fuzzDecoder struct {
	data   []byte
	pos    int
	nextID int64
	ops    int
}

func (d *fuzzDecoder) byte() (byte, bool) {
	if d.pos >= len(d.data) || d.ops >= 200 {
		return 0, false
	}
	b := d.data[d.pos]
	d.pos++
	return b, true
}

// decode reads up to max ops (all that remain if max < 0).
func (d *fuzzDecoder) decode(max, depth int) []fuzzOp {
	var ops []fuzzOp
	try, grand, start, outside := false, false, false, false
	for i := 0; max < 0 || i < max; i++ {
		b, ok := d.byte()
		if !ok {
			break
		}
		d.ops++
		op := fuzzOp{prio: Priority((b >> 3) % 3), try: try, grand: grand, start: start, outside: outside && depth == 0}
		switch b % 8 {
		case 0, 1:
			op.kind = opNil
		case 2:
			d.nextID++
			op.kind, op.id = opErr, d.nextID
		case 3:
			d.nextID++
			op.kind, op.id = opPanic, d.nextID
		case 4:
			op.kind = opGoexit
		case 5:
			op.kind = opBlock
		case 6:
			if depth >= 3 {
				continue
			}
			opt, _ := d.byte()
			n, _ := d.byte()
			op.kind, op.collect, op.limit = opNested, opt&1 == 1, int(opt>>1)%4
			op.sub = d.decode(int(n%6), depth+1)
		case 7:
			switch (b >> 3) % 8 {
			case 0:
				ops = append(ops, fuzzOp{kind: opCancel, outside: outside && depth == 0})
			case 1:
				try = true
			case 2, 6:
				ops = append(ops, fuzzOp{kind: opYield})
			case 3:
				grand = true
			case 4:
				start = true
			case 5, 7:
				outside = true
			}
			continue
		}
		try, grand, start, outside = false, false, false, false
		ops = append(ops, op)
	}
	return ops
}

// fuzzRun is the state of one program run.
type fuzzRun struct {
	release chan struct{} // closed when the top body has issued its ops
	limited bool          // some scope has WithLimit: opBlock children return at once
	done    atomic.Bool   // the top Wait has returned
	late    atomic.Int64  // children that started after that

	mu       sync.Mutex
	produced map[int64]bool // failures of children that ran
	scopes   []*fuzzScope
}

// fuzzScope counts one scope's children.
type fuzzScope struct {
	s                 *Scope
	accepted, started atomic.Int64
}

func (r *fuzzRun) newScope(s *Scope) *fuzzScope {
	fs := &fuzzScope{s: s}
	r.mu.Lock()
	r.scopes = append(r.scopes, fs)
	r.mu.Unlock()
	return fs
}

func (r *fuzzRun) produce(id int64) {
	r.mu.Lock()
	r.produced[id] = true
	r.mu.Unlock()
}

// issue runs ops in scope fs with ctx (the scope's ctx or a body's).
func (r *fuzzRun) issue(fs *fuzzScope, ctx context.Context, ops []fuzzOp) {
	for _, op := range ops {
		switch op.kind {
		case opCancel:
			fs.s.Cancel(errFuzzCancel)
			continue
		case opYield:
			runtime.Gosched()
			continue
		}
		fn := r.behaviour(op)
		counted := func(ctx context.Context) error {
			if r.done.Load() {
				r.late.Add(1)
			}
			fs.started.Add(1)
			return fn(ctx)
		}
		// accepted is counted after the spawn returns: a spawn from
		// outside racing the end of Wait's join may panic instead.
		spawn := func(ctx context.Context) {
			switch {
			case op.try:
				if TryGo(ctx, op.prio, counted) {
					fs.accepted.Add(1)
				}
			case op.start:
				// The child is ready at once; a scope cancelled before it
				// starts skips it (notStarted) and Start returns the cause.
				Start(ctx, op.prio, func(ctx context.Context, ready func(struct{})) error {
					ready(struct{}{})
					return counted(ctx)
				})
				fs.accepted.Add(1)
			default:
				Go(ctx, op.prio, counted)
				fs.accepted.Add(1)
			}
		}
		if op.grand && !r.limited {
			// A child spawns it into the same scope, so it counts as
			// accepted only if the parent child ran. (Not under a limit:
			// slot holders that all wait for a slot of their own scope
			// wait for ever, as with errgroup.)
			Go(ctx, Normal, func(ctx context.Context) error {
				if r.done.Load() {
					r.late.Add(1)
				}
				fs.started.Add(1)
				spawn(ctx)
				return nil
			})
			fs.accepted.Add(1)
			continue
		}
		spawn(ctx)
	}
}

func (r *fuzzRun) behaviour(op fuzzOp) func(ctx context.Context) error {
	switch op.kind {
	case opErr:
		return func(context.Context) error { r.produce(op.id); return &fuzzErr{op.id} }
	case opPanic:
		return func(context.Context) error { r.produce(op.id); fuzzPanic(op.id); return nil }
	case opGoexit:
		return func(context.Context) error { runtime.Goexit(); return nil }
	case opBlock:
		if r.limited {
			// Blocked slot holders would keep a spawner waiting for a
			// slot until release, which comes after the spawns: a
			// deadlock of the program (errgroup's too), not of the scope.
			return func(context.Context) error { return nil }
		}
		return func(ctx context.Context) error {
			select {
			case <-r.release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	case opNested:
		return func(ctx context.Context) error {
			var opts []Option
			if op.collect {
				opts = append(opts, WithCollectAll())
			}
			if op.limit > 0 {
				opts = append(opts, WithLimit(op.limit))
			}
			return Nursery(ctx, func(ctx context.Context) error {
				r.issue(r.newScope(memberOf(ctx).s), ctx, op.sub)
				return nil
			}, opts...)
		}
	}
	return func(context.Context) error { return nil }
}

// walk calls f for every op of ops, nested ones included.
func walk(ops []fuzzOp, f func(op fuzzOp)) {
	for _, op := range ops {
		f(op)
		walk(op.sub, f)
	}
}

// runFuzzProgram runs the program data encodes on p and checks it.
func runFuzzProgram(t testing.TB, p *pool.Pool, data []byte) {
	if len(data) == 0 {
		return
	}
	collectTop := data[0]&1 == 1
	limitTop := int(data[0]>>1) % 4
	d := &fuzzDecoder{data: data, pos: 1}
	prog := d.decode(-1, 0)
	var hasCancel, allCollect, limited = false, collectTop, limitTop > 0
	walk(prog, func(op fuzzOp) {
		if op.kind == opCancel {
			hasCancel = true
		}
		if op.kind == opNested && !op.collect {
			allCollect = false
		}
		if op.limit > 0 {
			limited = true
		}
	})
	var inside, outside []fuzzOp
	for _, op := range prog {
		if op.outside {
			outside = append(outside, op)
		} else {
			inside = append(inside, op)
		}
	}

	r := &fuzzRun{release: make(chan struct{}), produced: map[int64]bool{}, limited: limited}
	opts := []Option{WithPool(p)}
	if collectTop {
		opts = append(opts, WithCollectAll())
	}
	if limitTop > 0 {
		opts = append(opts, WithLimit(limitTop))
	}
	s, ctx := NewScope(context.Background(), opts...)
	top := r.newScope(s)
	r.issue(top, ctx, inside)
	close(r.release)

	// The outside goroutine spawns into the top scope while Wait runs: each
	// spawn is joined or panics as after Wait (then it is not accepted).
	goOutside := make(chan struct{})
	outsideDone := make(chan struct{})
	go func() {
		defer close(outsideDone)
		<-goOutside
		for _, op := range outside {
			func() {
				defer func() {
					if v := recover(); v != nil {
						if msg, ok := v.(string); !ok || !strings.Contains(msg, "after Wait") {
							panic(v)
						}
					}
				}()
				r.issue(top, ctx, []fuzzOp{op})
			}()
		}
	}()
	close(goOutside)

	var err error
	waited := make(chan bool, 1)
	go func() {
		returned := false
		defer func() { waited <- returned }()
		err = s.Wait()
		returned = true
	}()
	select {
	case returned := <-waited:
		if !returned {
			// A Goexit child ran inline on the waiter, which joined the
			// scope before it exited; Wait again for the result.
			err = s.Wait()
		}
	case <-time.After(10 * time.Second):
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("Wait did not return within 10s (program %v); goroutines:\n%s", data, buf)
	}
	r.done.Store(true)
	select {
	case <-outsideDone:
	case <-time.After(10 * time.Second):
		t.Fatalf("the outside spawner did not finish within 10s of Wait (program %v)", data)
	}
	if n := r.late.Load(); n != 0 {
		t.Fatalf("%d children started after the top Wait returned (program %v)", n, data)
	}

	// Children: started + not started == accepted, in every scope.
	r.mu.Lock()
	scopes := r.scopes
	produced := r.produced
	r.mu.Unlock()
	notStarted := int64(0)
	for i, fs := range scopes {
		st, ns, acc := fs.started.Load(), fs.s.notStarted.Load(), fs.accepted.Load()
		if st+ns != acc {
			t.Fatalf("scope %d: %d started + %d not started != %d accepted (program %v)", i, st, ns, acc, data)
		}
		if n := fs.s.live(); n != 0 {
			t.Fatalf("scope %d: %d children pending after Wait", i, n)
		}
		notStarted += ns
	}

	// Errors: produced, once, panics with their stack.
	reported := map[int64]bool{}
	for _, e := range multierr.Errors(err) {
		var pe *PanicError
		var fe *fuzzErr
		var id int64
		switch {
		case errors.As(e, &pe):
			v, ok := pe.Value.(fuzzPanicValue)
			if !ok {
				t.Fatalf("panic %v is not a program's panic (program %v)", pe.Value, data)
			}
			id = v.id
			if !strings.Contains(string(pe.Stack), "echo.fuzzPanic") {
				t.Fatalf("panic %d: stack does not name echo.fuzzPanic:\n%s", id, pe.Stack)
			}
		case errors.As(e, &fe):
			id = fe.id
		case errors.Is(e, errFuzzCancel) && hasCancel:
			continue
		default:
			t.Fatalf("Wait reported %v, which the program did not produce (program %v)", e, data)
		}
		if !produced[id] {
			t.Fatalf("Wait reported failure %d of a child that did not fail (program %v)", id, data)
		}
		if reported[id] {
			t.Fatalf("failure %d reported twice (program %v)", id, data)
		}
		reported[id] = true
	}
	if !hasCancel {
		switch {
		case allCollect:
			if len(reported) != len(produced) {
				t.Fatalf("collect-all program: reported %d failures, produced %d (program %v): %v", len(reported), len(produced), data, err)
			}
			if notStarted != 0 {
				t.Fatalf("collect-all program: %d children not started (program %v)", notStarted, data)
			}
		case len(produced) > 0:
			if len(reported) == 0 {
				t.Fatalf("children failed but Wait = %v (program %v)", err, data)
			}
		default:
			if err != nil || notStarted != 0 {
				t.Fatalf("no failure, no cancel: Wait = %v, %d not started (program %v)", err, notStarted, data)
			}
		}
	} else if len(produced) == 0 && err != nil && !errors.Is(err, errFuzzCancel) {
		t.Fatalf("no failure: Wait = %v; want nil or the Cancel cause (program %v)", err, data)
	}
}
