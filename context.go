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

// priorityOf reports the priority the holder of ctx runs at, if ctx comes
// from a scope.
func priorityOf(ctx context.Context) (Priority, bool) {
	if m := memberOf(ctx); m != nil {
		return m.prio, true
	}
	return 0, false
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
