package redisstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/redis/rueidis"
)

// errClosed is what calls after Close return.
var errClosed = errors.New("redisstore: the store is closed")

// redialAfter spaces connection attempts while Redis cannot be reached
// at all, so calls in between fail at once instead of each dialling.
const redialAfter = 500 * time.Millisecond

// run calls op with the client, connecting first if need be. When Redis
// refuses client-side caching on a connection made after the store
// started caching (a failover to an older server, a proxy put in
// between), the store drops the caching client, goes on without caching
// and runs op again once.
func (s *Store) run(ctx context.Context, op func(*client) error) error {
	for try := 0; ; try++ {
		c := s.cur.Load()
		if c == nil {
			var err error
			if c, err = s.connect(ctx); err != nil {
				return err
			}
		}
		err := op(c)
		if c.cached && try == 0 && errors.Is(err, rueidis.ErrNoCache) {
			s.uncache(c, err)
			continue
		}
		return err
	}
}

// startDial starts a connection attempt unless one is under way, a client
// exists or the last attempt failed too recently. It reports the channel
// to wait on, or nil with the reason there is nothing to wait for.
func (s *Store) startDial() (chan struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return nil, errClosed
	case s.cur.Load() != nil:
		return nil, nil
	case s.dialing != nil:
		return s.dialing, nil
	case time.Now().Before(s.retryAt):
		return nil, s.dialErr
	}
	s.dialing = make(chan struct{})
	go s.dial(s.dialing)
	return s.dialing, nil
}

// connect waits for a client, starting an attempt if none is under way.
func (s *Store) connect(ctx context.Context) (*client, error) {
	ch, err := s.startDial()
	if err != nil {
		return nil, err
	}
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if c := s.cur.Load(); c != nil {
		return c, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	return nil, s.dialErr
}

// dial makes a client. It runs on its own, so a caller that gives up
// waiting leaves no half-made client behind.
func (s *Store) dial(done chan struct{}) {
	c, err := s.newClient()
	s.mu.Lock()
	s.dialing = nil
	if s.closed && c != nil {
		defer c.Close()
		c = nil
	}
	if c != nil {
		s.cur.Store(c)
	} else if err != nil {
		s.dialErr, s.retryAt = err, time.Now().Add(redialAfter)
	}
	s.mu.Unlock()
	close(done)
}

func (s *Store) newClient() (*client, error) {
	s.mu.Lock()
	noCache := s.noCache
	s.mu.Unlock()
	opt := s.opt
	opt.InitAddress = slices.Clone(opt.InitAddress)
	opt.DisableCache = noCache
	c, err := rueidis.NewClient(opt)
	if !noCache && errors.Is(err, rueidis.ErrNoCache) {
		if c != nil {
			c.Close()
		}
		s.trackingRefused(err)
		return s.newClient()
	}
	if c == nil {
		return nil, err
	}
	// A single server's client comes back even when its first dial
	// failed; it dials again on use, which is what the store wants.
	return &client{Client: c, cached: !noCache}, nil
}

// uncache replaces a caching client whose connection Redis refused
// tracking on. The next call connects again, without caching.
func (s *Store) uncache(c *client, err error) {
	s.trackingRefused(err)
	s.mu.Lock()
	swapped := s.cur.CompareAndSwap(c, nil)
	s.mu.Unlock()
	if swapped {
		go c.Close() // it waits for calls still running on it
	}
}

// trackingRefused turns caching off for good and says so, once.
func (s *Store) trackingRefused(err error) {
	s.mu.Lock()
	first := !s.noCache
	s.noCache = true
	s.mu.Unlock()
	if first {
		s.log.Warn("redisstore: Redis refused client-side caching (CLIENT TRACKING needs RESP3 and Redis 6 or later, with no proxy in between); every Find now reads Redis",
			"url", s.url, "error", err)
	}
}
