package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/session/redisstore"
)

// BenchmarkFind measures a Find of a 600-byte record (a session's size)
// served from memory (hit), a first read that goes to Redis and starts
// tracking the key (miss), and a read with client-side caching off
// (uncached: a GET every time, as the store did before). Each variant
// checks with Redis's counters that it did what its name says.
func BenchmarkFind(b *testing.B) {
	srv := redistest.Start(b, redistest.Options{})
	ctx := context.Background()
	value := make([]byte, 600)
	expiry := time.Now().Add(time.Hour)

	b.Run("hit", func(b *testing.B) {
		s := openB(b, srv.URL())
		if err := s.Commit(ctx, "s:bench", value, expiry); err != nil {
			b.Fatal(err)
		}
		find(b, s, "s:bench")
		srv.ResetStats()
		b.ReportAllocs()
		for b.Loop() {
			find(b, s, "s:bench")
		}
		if calls := srv.Calls(); calls["get"] != 0 {
			b.Fatalf("hits cost %v", calls)
		}
	})
	b.Run("miss", func(b *testing.B) {
		s := openB(b, srv.URL())
		// A key never read before misses: write b.N of them first.
		keys := make([]string, b.N)
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := w; i < b.N; i += 8 {
					keys[i] = fmt.Sprint("s:miss-", b.N, "-", i)
					if err := s.Commit(ctx, keys[i], value, expiry); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		srv.ResetStats()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			find(b, s, keys[i])
		}
		b.StopTimer()
		if calls := srv.Calls(); calls["get"] != b.N {
			b.Fatalf("%d misses cost %v", b.N, calls)
		}
	})
	b.Run("uncached", func(b *testing.B) {
		s := openB(b, srv.URL()+"?client_cache=false")
		if err := s.Commit(ctx, "s:bench", value, expiry); err != nil {
			b.Fatal(err)
		}
		find(b, s, "s:bench")
		srv.ResetStats()
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			find(b, s, "s:bench")
			n++
		}
		if calls := srv.Calls(); calls["get"] != n {
			b.Fatalf("%d uncached finds cost %v", n, calls)
		}
	})
}

func openB(b *testing.B, url string) *redisstore.Store {
	b.Helper()
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s, err := redisstore.Open(url + sep + "key_prefix=" + uniquePrefix())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func find(b *testing.B, s *redisstore.Store, key string) {
	if _, found, err := s.Find(context.Background(), key); err != nil || !found {
		b.Fatal(found, err)
	}
}
