package echo

import (
	"context"
	"fmt"
)

// memberKey is the context key under which a *member is stored.
type memberKey struct{}

// member tags a context with the scope its holder belongs to and the priority
// its holder runs at. Children's contexts carry one, and so does a scope's own
// context (with the creator's priority), so the innermost scope and the
// current priority are a single ctx.Value away.
type member struct {
	s    *Scope
	prio Priority
}

func memberOf(ctx context.Context) *member {
	m, _ := ctx.Value(memberKey{}).(*member)
	return m
}

// PriorityOf returns the priority that the holder of ctx runs at: a
// child's priority for a child's context, the priority of the code that
// opened the scope (see [WithPriority]) for a scope's or a [Nursery] body's
// context, and [Normal] for a context that carries no scope. Scopes opened
// on ctx inherit it. It panics if ctx is nil.
func PriorityOf(ctx context.Context) Priority {
	if ctx == nil {
		panic("echo: PriorityOf called with a nil ctx")
	}
	if m := memberOf(ctx); m != nil {
		return m.prio
	}
	return Normal
}

// taggedCtx is a scope's context with a member tag: context.WithValue with
// the tag inline, so that it can live inside the Scope.
type taggedCtx struct {
	context.Context
	m member
}

func (c *taggedCtx) Value(key any) any {
	if key == (memberKey{}) {
		return &c.m
	}
	return c.Context.Value(key)
}

func (c *taggedCtx) String() string {
	return fmt.Sprintf("%v.WithValue(echo scope, priority %v)", c.Context, c.m.prio)
}
