package oidc

import (
	"hash/maphash"
	"sync"
	"time"
)

// validatedCache remembers access tokens that passed validation, so a
// client sending the same token again costs a hash and a map lookup
// instead of an RSA verification.
//
// Entries are keyed by a keyed hash of the token (maphash with a seed
// drawn at start: nobody outside the process can aim for a collision)
// and hold the token itself, which a hit must equal: a collision can
// never hand one caller another's claims. SHA-256 would need no such
// comparison but costs over a microsecond per kilobyte-sized token, the
// whole budget of a hit. An entry ends when its token expires (without
// the verifier's skew: past exp, the token is verified again) or when the
// key set's generation moves (a key was retired: the token is verified
// again against the keys published now), and the count is bounded.
type validatedCache struct {
	seed maphash.Seed
	max  int

	mu sync.RWMutex
	m  map[uint64]*validated
}

type validated struct {
	token  string
	claims *AccessClaims
	exp    time.Time
	gen    uint64 // the key set's generation when it was verified
}

func newValidatedCache(size int) *validatedCache {
	return &validatedCache{seed: maphash.MakeSeed(), max: size, m: make(map[uint64]*validated, min(size, 1024))}
}

// get returns the claims of raw when it was validated before, with the
// keys of generation gen, and has not expired. A nil cache holds nothing.
func (c *validatedCache) get(raw string, now time.Time, gen uint64) (*AccessClaims, bool) {
	if c == nil {
		return nil, false
	}
	h := maphash.String(c.seed, raw)
	c.mu.RLock()
	e := c.m[h]
	c.mu.RUnlock()
	if e == nil || e.token != raw || !now.Before(e.exp) || e.gen != gen {
		return nil, false
	}
	return e.claims, true
}

// put remembers raw's claims, verified with the keys of generation gen,
// until exp. When full, expired entries go first, then an arbitrary one.
func (c *validatedCache) put(raw string, claims *AccessClaims, exp, now time.Time, gen uint64) {
	if c == nil || !now.Before(exp) {
		return
	}
	h := maphash.String(c.seed, raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[h]; !ok && len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[h] = &validated{token: raw, claims: claims, exp: exp, gen: gen}
}

func (c *validatedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
