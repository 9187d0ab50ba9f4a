package redisstore

import (
	"context"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/storetest"
)

func TestConformanceWithLocalCache(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	n := 0
	storetest.Run(t, func(t *testing.T) session.Store {
		n++
		s, err := Config{URL: srv.URL(), KeyPrefix: "lc" + string(rune('a'+n)) + ":", LocalCacheTTL: time.Minute}.Open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestLocalCacheStaleness checks the documented bound: a delete on
// another instance is seen within LocalCacheTTL, a delete on this one at
// once, and a cached key costs no Redis command.
func TestLocalCacheStaleness(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	now := time.Now()
	const ttl = 2 * time.Second
	cached, err := Open(srv.URL() + "?local_cache_ttl=2s")
	if err != nil {
		t.Fatal(err)
	}
	defer cached.Close()
	cached.now = func() time.Time { return now }
	other, err := Open(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	find := func(s *Store) bool {
		t.Helper()
		_, found, err := s.Find(ctx, "s:k")
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	if err := other.Commit(ctx, "s:k", []byte("v"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	find(cached)
	srv.ResetStats()
	for range 20 {
		if !find(cached) {
			t.Fatal("cached key not found")
		}
	}
	if calls := srv.Calls(); len(calls) != 0 {
		t.Errorf("20 finds of a cached key cost %v; want no command", calls)
	}

	if err := other.Delete(ctx, "s:k"); err != nil {
		t.Fatal(err)
	}
	now = now.Add(ttl - time.Millisecond)
	if !find(cached) {
		t.Log("the other instance's delete was seen early (fine)")
	}
	now = now.Add(time.Millisecond)
	if find(cached) {
		t.Fatalf("a key deleted on another instance is still found %v later (LocalCacheTTL %v)", ttl, ttl)
	}

	// This instance's own delete is seen at once.
	if err := cached.Commit(ctx, "s:k", []byte("v2"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if !find(cached) {
		t.Fatal("own commit not found")
	}
	if err := cached.Delete(ctx, "s:k"); err != nil {
		t.Fatal(err)
	}
	if find(cached) {
		t.Fatal("own delete not seen at once")
	}
}

// TestLocalCacheReadRacingDelete: a value read from Redis before this
// instance deleted the key must not be cached after the delete.
func TestLocalCacheReadRacingDelete(t *testing.T) {
	now := time.Now()
	c := newLocalCache(time.Minute, 0)
	_, hit, gen := c.get("k", now) // a Find misses and goes to Redis...
	if hit {
		t.Fatal("hit in an empty cache")
	}
	c.drop("k")                         // ...meanwhile Delete runs...
	c.put("k", []byte("old"), gen, now) // ...and the Find comes back with the old value
	if _, hit, _ := c.get("k", now); hit {
		t.Error("a value read before a delete was cached after it")
	}
}

func TestLocalCacheBounded(t *testing.T) {
	now := time.Now()
	c := newLocalCache(time.Minute, 100)
	for i := range 1000 {
		_, _, gen := c.get(string(rune(i)), now)
		c.put(string(rune(i)), []byte("v"), gen, now)
		if len(c.m) > 100 {
			t.Fatalf("%d entries, bound 100", len(c.m))
		}
	}
}
