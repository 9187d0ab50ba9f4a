// Package memstore is an in-memory session.Store for tests and for a single
// process that can afford to lose every session on restart.
//
// It holds at most MaxRecords records, so a flood of sign-ins cannot
// exhaust memory: when it is full, Commit evicts the record committed least
// recently, which ends that session early.
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

// DefaultMaxRecords is the limit used when Store.MaxRecords is zero. At
// about 2 KB per signed-in session it caps the store near 200 MB.
const DefaultMaxRecords = 100_000

// Store is an in-memory session.Store, safe for concurrent use. Set its
// fields before first use.
type Store struct {
	// Now returns the current time. Nil means time.Now; tests inject a
	// clock here.
	Now func() time.Time
	// SweepInterval is how often, at most, Commit scans for expired
	// entries to free. Zero means DefaultSweepInterval.
	SweepInterval time.Duration
	// MaxRecords is how many records the store holds at most, counting
	// every key committed to it (sessions and whatever else shares the
	// store, such as token caches). Committing a new key to a full store
	// evicts the record whose last Commit is oldest. Replacing a key
	// counts as committing it now, so a session in use, which Touch
	// rewrites now and then, outlasts idle ones. Zero or less means
	// DefaultMaxRecords.
	MaxRecords int

	mu    sync.RWMutex
	items map[string]*entry
	// oldest and newest are the ends of a list of every entry in items,
	// in the order of their last Commit, so eviction takes the oldest
	// without a scan.
	oldest, newest *entry
	lastSweep      time.Time
}

type entry struct {
	key        string
	data       []byte
	expiry     time.Time
	prev, next *entry // towards oldest, towards newest
}

var _ session.Store = (*Store)(nil)

// New returns an empty Store that holds up to DefaultMaxRecords records.
// Set MaxRecords on the result, before first use, for another limit.
func New() *Store {
	return &Store{items: make(map[string]*entry)}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) maxRecords() int {
	if s.MaxRecords <= 0 {
		return DefaultMaxRecords
	}
	return s.MaxRecords
}

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	now := s.now()
	var data []byte
	var expiry time.Time
	s.mu.RLock()
	e, ok := s.items[key]
	if ok {
		data, expiry = e.data, e.expiry
	}
	s.mu.RUnlock()
	if !ok || !now.Before(expiry) {
		return nil, false, nil
	}
	// A stored slice is never written again (Commit replaces it with a
	// fresh copy), and Find's callers only read it: it is handed out as
	// it is, sparing a copy on every request.
	return data, true, nil
}

// Commit implements session.Store.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := s.now()
	data = append([]byte(nil), data...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.items == nil {
		s.items = make(map[string]*entry)
	}
	e := s.items[key]
	switch {
	case !now.Before(expiry):
		if e != nil {
			s.removeLocked(e)
		}
	case e != nil:
		e.data, e.expiry = data, expiry
		s.unlinkLocked(e)
		s.appendLocked(e)
	default:
		e = &entry{key: key, data: data, expiry: expiry}
		s.items[key] = e
		s.appendLocked(e)
	}
	// Sweep first, so that when a sweep is due the expired records go
	// before any live one is evicted.
	s.sweepLocked(now)
	for limit := s.maxRecords(); len(s.items) > limit; {
		s.removeLocked(s.oldest)
	}
	return nil
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if e, ok := s.items[key]; ok {
		s.removeLocked(e)
	}
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
	s.items, s.oldest, s.newest = nil, nil, nil
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
	for _, e := range s.items {
		if !now.Before(e.expiry) {
			s.removeLocked(e)
		}
	}
}

// appendLocked puts e at the newest end of the commit order.
func (s *Store) appendLocked(e *entry) {
	e.prev, e.next = s.newest, nil
	if s.newest != nil {
		s.newest.next = e
	} else {
		s.oldest = e
	}
	s.newest = e
}

// unlinkLocked takes e out of the commit order.
func (s *Store) unlinkLocked(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		s.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		s.newest = e.prev
	}
	e.prev, e.next = nil, nil
}

func (s *Store) removeLocked(e *entry) {
	delete(s.items, e.key)
	s.unlinkLocked(e)
}
