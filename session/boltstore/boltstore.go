// Package boltstore is a persistent session.Store in a single bbolt file:
// the default for one process, which keeps its sessions across restarts.
//
// bbolt locks the file, so only one process can open it at a time; run
// several instances against Redis instead. Each value is stored with its
// expiry; expired entries are invisible at once and a background sweep
// frees their space.
//
// Because no other process can write the file, the store keeps the records
// it reads in memory too (a bounded, write-through cache): a busy
// session's request reads memory, not a bbolt transaction, and every
// Commit and Delete passes through this store, so the cache is never stale.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/entraweb/entraweb/session"
)

// Defaults for the zero values of Config's fields.
const (
	DefaultLockTimeout   = 5 * time.Second
	DefaultSweepInterval = 5 * time.Minute
)

// bucket holds every entry. Sessions and token caches share it; their keys
// carry distinct prefixes.
var bucket = []byte("entraweb")

// expirySize is the length of the big-endian Unix-nanosecond expiry that
// precedes each stored value.
const expirySize = 8

// Config opens a Store with settings other than the defaults.
type Config struct {
	// Path is the database file, created with mode 0600 if missing.
	Path string
	// LockTimeout bounds the wait for the file lock another process
	// holds. Zero means DefaultLockTimeout.
	LockTimeout time.Duration
	// SweepInterval is how often a background goroutine deletes expired
	// entries. Zero means DefaultSweepInterval; negative disables the
	// goroutine (call Sweep yourself).
	SweepInterval time.Duration
	// Now returns the current time. Nil means time.Now; tests inject a
	// clock here.
	Now func() time.Time
	// Logger receives sweep failures. Nil means slog.Default().
	Logger *slog.Logger
	// CacheSize bounds how many records are kept in memory besides the
	// file. Zero means DefaultCacheSize; negative turns the cache off.
	CacheSize int
}

// DefaultCacheSize is how many records a Store keeps in memory by default.
const DefaultCacheSize = 10000

// Store is a session.Store in a bbolt file, safe for concurrent use.
type Store struct {
	db     *bolt.DB
	now    func() time.Time
	logger *slog.Logger
	stop   chan struct{}
	done   chan struct{}

	closeOnce sync.Once
	closeErr  error

	cacheSize int
	mu        sync.RWMutex
	cache     map[string]cachedValue
	writes    uint64 // Commits and Deletes so far, under mu: see Find
}

// cachedValue is a record as the file holds it. data is never written
// again: Commit replaces it.
type cachedValue struct {
	data   []byte
	expiry int64 // Unix nanoseconds
}

var _ session.Store = (*Store)(nil)

// Open opens or creates the store at path with the default Config.
func Open(path string) (*Store, error) {
	return Config{Path: path}.Open()
}

// Open opens or creates the store c describes and starts its sweep.
func (c Config) Open() (*Store, error) {
	if c.Path == "" {
		return nil, errors.New("boltstore: Config.Path is empty")
	}
	timeout := c.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	db, err := bolt.Open(c.Path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: %s is locked by another process (waited %v); stop it, or give this process its own file, or use Redis for several instances: %w", c.Path, timeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", c.Path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", c.Path, err)
	}
	s := &Store{db: db, now: c.Now, logger: c.Logger, stop: make(chan struct{}), done: make(chan struct{}),
		cacheSize: c.CacheSize, cache: map[string]cachedValue{}}
	if s.cacheSize == 0 {
		s.cacheSize = DefaultCacheSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	interval := c.SweepInterval
	if interval == 0 {
		interval = DefaultSweepInterval
	}
	if interval > 0 {
		go s.sweepLoop(interval)
	} else {
		close(s.done)
	}
	return s, nil
}

// Find implements session.Store.
func (s *Store) Find(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	if key == "" {
		return nil, false, nil // bbolt has no empty keys, so none is ever stored
	}
	now := s.now()
	s.mu.RLock()
	c, cached := s.cache[key]
	writes := s.writes
	s.mu.RUnlock()
	if cached {
		if now.UnixNano() < c.expiry {
			return c.data, true, nil // read-only for the caller, as Find's contract says
		}
		return nil, false, nil
	}
	var out []byte
	var expiry int64
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucket).Get([]byte(key))
		if len(v) < expirySize || !live(v, now) {
			return nil
		}
		// bbolt's slice is only valid inside the transaction.
		out = append(make([]byte, 0, len(v)-expirySize), v[expirySize:]...)
		expiry = int64(binary.BigEndian.Uint64(v))
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("boltstore: find: %w", err)
	}
	if out != nil {
		// Kept only if no write came between the read and now: a Commit
		// racing this Find must not be overtaken by the older value.
		s.mu.Lock()
		if s.writes == writes {
			s.remember(key, cachedValue{data: out, expiry: expiry})
		}
		s.mu.Unlock()
	}
	return out, out != nil, nil
}

// remember puts a record in the cache, under mu, making room by dropping
// an entry when it is full.
func (s *Store) remember(key string, v cachedValue) {
	if s.cacheSize < 0 {
		return
	}
	if _, ok := s.cache[key]; !ok && len(s.cache) >= s.cacheSize {
		for k := range s.cache {
			delete(s.cache, k)
			break
		}
	}
	s.cache[key] = v
}

// Commit implements session.Store. An expiry that has passed deletes key.
func (s *Store) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return errors.New("boltstore: commit: empty key")
	}
	if !s.now().Before(expiry) {
		return s.Delete(ctx, key)
	}
	v := make([]byte, expirySize+len(data))
	binary.BigEndian.PutUint64(v, uint64(unixNano(expiry)))
	copy(v[expirySize:], data)
	s.forget(key)
	defer s.forget(key)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Put([]byte(key), v)
	}); err != nil {
		return fmt.Errorf("boltstore: commit: %w", err)
	}
	return nil
}

// forget drops key from the cache and counts a write, before a write (so
// no Find caches what it read before it) and after (so none keeps what it
// read while the write was under way). The lock is never held across
// the file's write, which syncs to disk.
func (s *Store) forget(key string) {
	s.mu.Lock()
	s.writes++
	delete(s.cache, key)
	s.mu.Unlock()
}

// Delete implements session.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return nil
	}
	s.forget(key)
	defer s.forget(key)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).Delete([]byte(key))
	}); err != nil {
		return fmt.Errorf("boltstore: delete: %w", err)
	}
	return nil
}

// Sweep deletes every expired entry and reports how many it deleted. The
// background goroutine calls it; tests call it directly.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	now := s.now()
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		// Collect first: deleting under a cursor can skip the next key.
		var expired [][]byte
		if err := b.ForEach(func(k, v []byte) error {
			if len(v) < expirySize || !live(v, now) {
				expired = append(expired, append([]byte(nil), k...))
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range expired {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: sweep: %w", err)
	}
	s.mu.Lock()
	for k, v := range s.cache {
		if now.UnixNano() >= v.expiry {
			delete(s.cache, k)
		}
	}
	s.mu.Unlock()
	return n, nil
}

// Close stops the sweep and closes the file, releasing its lock.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

func (s *Store) sweepLoop(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if _, err := s.Sweep(context.Background()); err != nil {
				s.logger.Error("boltstore: sweeping expired entries", "error", err)
			}
		}
	}
}

// live reports whether the stored value v has not yet expired at now.
func live(v []byte, now time.Time) bool {
	return now.UnixNano() < int64(binary.BigEndian.Uint64(v))
}

// unixNano is t.UnixNano, saturated for times past 2262 that it cannot
// represent, so a far-future expiry does not wrap into the past.
func unixNano(t time.Time) int64 {
	if t.Unix() >= math.MaxInt64/int64(time.Second) {
		return math.MaxInt64
	}
	return t.UnixNano()
}
