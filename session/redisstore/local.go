package redisstore

import (
	"sync"
	"time"
)

// DefaultLocalCacheSize bounds the local cache when
// Config.LocalCacheSize is zero.
const DefaultLocalCacheSize = 10000

// localCache keeps what Find read from Redis for a short time, so a busy
// session is read from Redis about once per TTL per instance instead of on
// every request. What this instance writes or deletes leaves the cache at
// once; what other instances write or delete is seen within the TTL.
type localCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	m  map[string]localEntry
	// gen counts local writes and deletes. A Find puts what it read into
	// the cache only if no write or delete happened meanwhile, so a
	// value read just before this instance deleted the key never
	// outlives the delete.
	gen uint64
}

type localEntry struct {
	data  []byte
	until time.Time
}

func newLocalCache(ttl time.Duration, max int) *localCache {
	if max <= 0 {
		max = DefaultLocalCacheSize
	}
	return &localCache{ttl: ttl, max: max, m: map[string]localEntry{}}
}

// get returns a copy of key's value if it was read less than the TTL
// ago, else the generation to hand to put after reading Redis.
func (c *localCache) get(key string, now time.Time) ([]byte, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if ok && now.Before(e.until) {
		return append([]byte(nil), e.data...), true, 0
	}
	if ok {
		delete(c.m, key)
	}
	return nil, false, c.gen
}

// put keeps a copy of data, read from Redis at generation gen.
func (c *localCache) put(key string, data []byte, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.until) {
				delete(c.m, k)
			}
		}
		// Still full: make room for a tenth more, so the next puts do
		// not scan again.
		for k := range c.m {
			if len(c.m) < c.max-c.max/10 {
				break
			}
			delete(c.m, k) // at random: map order
		}
	}
	c.m[key] = localEntry{data: append([]byte(nil), data...), until: now.Add(c.ttl)}
}

// drop forgets key after this instance wrote or deleted it in Redis.
func (c *localCache) drop(key string) {
	c.mu.Lock()
	c.gen++
	delete(c.m, key)
	c.mu.Unlock()
}
