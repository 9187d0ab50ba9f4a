// Package memstore is an in-memory session.Store for tests and for a single
// process that can afford to lose every session on restart.
//
// It starts no goroutine: expired entries are invisible at once and are
// swept during Commit, the only call that adds memory, at most once per
// SweepInterval.
package memstore

import (
	"context"
	"sync"
	"time"

	"github.com/entraweb/entraweb/session"
)

// DefaultSweepInterval is the sweep interval used when
// Store.SweepInterval is zero.
const DefaultSweepInterval = time.Minute

// Store is an in-memory session.Store, safe for concurrent use. Set its
// fields before first use.
type Store struct {
	// Now returns the current time. Nil means time.Now; tests inject a
	// clock here.
	Now func() time.Time
	// SweepInterval is how often, at most, Commit scans for expired
	// entries to free. Zero means DefaultSweepInterval.
	SweepInterval time.Duration

	mu        sync.RWMutex
	items     map[string]item
	lastSweep time.Time
}

type item struct {
	data   []byte
	expiry time.Time
}

var _ session.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store {
	return &Store{items: make(map[string]item)}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	now := s.now()
	s.mu.RLock()
	it, ok := s.items[key]
	s.mu.RUnlock()
	if !ok || !now.Before(it.expiry) {
		return nil, false, nil
	}
	// The stored slice is never written again (Commit replaces it), so
	// copying outside the lock is safe; the copy keeps callers from
	// changing what the store holds.
	return append([]byte(nil), it.data...), true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	it := item{data: append([]byte(nil), data...), expiry: expiry}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = make(map[string]item)
	}
	if now.Before(expiry) {
		s.items[key] = it
	} else {
		delete(s.items, key)
	}
	s.sweepLocked(now)
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.items, key)
	s.mu.Unlock()
	return nil
}

// Len returns the number of entries held, expired ones not yet swept
// included. It is meant for tests and metrics.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// Close releases the entries. It exists so that every store can be closed
// the same way; the Store must not be used afterwards.
func (s *Store) Close() error {
	s.mu.Lock()
	s.items = nil
	s.mu.Unlock()
	return nil
}

func (s *Store) sweepLocked(now time.Time) {
	interval := s.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	if now.Sub(s.lastSweep) < interval {
		return
	}
	s.lastSweep = now
	for k, it := range s.items {
		if !now.Before(it.expiry) {
			delete(s.items, k)
		}
	}
}
