package redisstore

import (
	"context"
	"sync"
	"time"
)

// bound gives ctx the store's deadline unless it has a sooner one. The
// caller must release the opContext (which may be nil) when the operation
// is over.
func (s *Store) bound(ctx context.Context) (context.Context, *opContext) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.opTimeout {
		return ctx, nil
	}
	c := &opContext{Context: ctx, deadline: time.Now().Add(s.opTimeout)}
	return c, c
}

// opContext is context.WithDeadline that starts its timer only when
// something asks for Done or Err. A Find that rueidis answers from memory
// never does; with context.WithTimeout, the timer was most of its cost
// (750ns and five allocations a hit, against 400ns and two).
type opContext struct {
	context.Context // the caller's
	deadline        time.Time

	once   sync.Once
	timed  context.Context
	cancel context.CancelFunc
}

// doneContext stands in for the timed context of an operation that ended
// without one: a late reader sees it canceled, as after a cancel func.
var doneContext = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

func (c *opContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *opContext) Done() <-chan struct{}       { return c.start().Done() }
func (c *opContext) Err() error                  { return c.start().Err() }

func (c *opContext) start() context.Context {
	c.once.Do(func() { c.timed, c.cancel = context.WithDeadline(c.Context, c.deadline) })
	return c.timed
}

func (c *opContext) release() {
	if c == nil {
		return
	}
	c.once.Do(func() { c.timed = doneContext })
	if c.cancel != nil {
		c.cancel()
	}
}
