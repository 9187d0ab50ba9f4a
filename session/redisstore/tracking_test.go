package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/redisstore"
	"github.com/entraweb/entraweb/session/storetest"
)

// TestOwnWritesSeenAtOnce: a Find after this instance's own Commit or
// Delete returns what was written, never the copy it cached before,
// however soon it follows. (Redis pushes the invalidation after the
// write's reply; the PTTL the store sends after each write on the same
// connection is what makes this hold. Without it, or with several
// connections per node, this test fails within a few hundred rounds.)
func TestOwnWritesSeenAtOnce(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := open(t, redisstore.Config{URL: srv.URL()})
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			k := fmt.Sprint("s:own-", w)
			for i := range 300 {
				v := []byte(fmt.Sprint(i))
				if err := s.Commit(ctx, k, v, time.Now().Add(time.Minute)); err != nil {
					t.Error(err)
					return
				}
				for range 2 { // the second is served from memory
					if got, found, err := s.Find(ctx, k); err != nil || !found || !bytes.Equal(got, v) {
						t.Errorf("round %d: Find after Commit = %q, %v, %v; want %q", i, got, found, err, v)
						return
					}
				}
				if i%3 == 0 {
					if err := s.Delete(ctx, k); err != nil {
						t.Error(err)
						return
					}
					if got, found, err := s.Find(ctx, k); err != nil || found {
						t.Errorf("round %d: Find after Delete = %q, %v, %v; want absent", i, got, found, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestOtherInstancesWritesInvalidate: two stores on one Redis, as two app
// instances. What A serves from memory changes as soon as B writes or
// deletes the key, because Redis pushes the invalidation to A.
func TestOtherInstancesWritesInvalidate(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	a := open(t, redisstore.Config{URL: srv.URL()})
	b := open(t, redisstore.Config{URL: srv.URL()})
	ctx := context.Background()
	find := func() string {
		t.Helper()
		v, found, err := a.Find(ctx, "s:k")
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return "(absent)"
		}
		return string(v)
	}
	// waitFor polls A until it answers want and returns how long that
	// took after B's write returned.
	waitFor := func(want string, since time.Time) time.Duration {
		t.Helper()
		for find() != want {
			// A liveness bound, not a speed claim: the time is returned
			// and logged, and only a write never seen fails.
			if time.Since(since) > 5*time.Second {
				t.Fatalf("A still answers %q 5s after B's write; want %q", find(), want)
			}
			time.Sleep(time.Millisecond) // the poll interval, not a wait for an outcome
		}
		return time.Since(since)
	}

	if err := b.Commit(ctx, "s:k", []byte("v1"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := find(); got != "v1" {
		t.Fatalf("A reads %q", got)
	}
	srv.ResetStats()
	for range 20 {
		find()
	}
	if calls := srv.Calls(); len(calls) != 0 {
		t.Fatalf("20 finds of a key A read before cost %v; want no command", calls)
	}

	start := time.Now()
	if err := b.Commit(ctx, "s:k", []byte("v2"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("A saw B's overwrite after %v", waitFor("v2", start))

	find() // cache v2 again
	start = time.Now()
	if err := b.Delete(ctx, "s:k"); err != nil {
		t.Fatal(err)
	}
	t.Logf("A saw B's delete after %v", waitFor("(absent)", start))

	// An absent key is cached too; B creating it ends that.
	find()
	start = time.Now()
	if err := b.Commit(ctx, "s:k", []byte("v3"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("A saw B's new key after %v", waitFor("v3", start))
}

// TestCacheEndsAtExpiry: a value served from memory is not served past
// the record's expiry, even when Redis sends no invalidation for it (here
// active expiry is off, so Redis does not delete the key until it is
// read, and never tells the clients). rueidis reads the key's PTTL with
// the value and keeps it no longer.
func TestCacheEndsAtExpiry(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Debug: true})
	if _, err := srv.Do("DEBUG", "SET-ACTIVE-EXPIRE", "0"); err != nil {
		t.Fatal(err)
	}
	s := open(t, redisstore.Config{URL: srv.URL()})
	ctx := context.Background()
	expiry := time.Now().Add(300 * time.Millisecond)
	if err := s.Commit(ctx, "s:short", []byte("v"), expiry); err != nil {
		t.Fatal(err)
	}
	for {
		_, found, err := s.Find(ctx, "s:short")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if !found {
			if now.Before(expiry) {
				t.Fatalf("gone %v before its expiry", expiry.Sub(now))
			}
			t.Logf("gone %v after its expiry", now.Sub(expiry))
			break
		}
		if now.After(expiry.Add(100 * time.Millisecond)) {
			t.Fatalf("still found %v after its expiry", now.Sub(expiry))
		}
		time.Sleep(5 * time.Millisecond) // the poll interval
	}
}

// syncBuffer collects log output written from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestTrackingRefused plays a Redis that refuses client-side caching, as
// one behind a proxy or a managed service that blocks CLIENT commands
// does: an ACL user that may run everything but CLIENT TRACKING (a server
// without RESP3 is not at hand; rueidis reports both the same way,
// ErrNoCache). The store says so once in the log, without the password,
// and works uncached: the conformance suite passes.
func TestTrackingRefused(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	if _, err := srv.Do("ACL", "SETUSER", "app", "on", ">app-pw", "~*", "&*", "+@all", "-client|tracking"); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	url := "redis://app:app-pw@" + srv.Addr
	var stores int
	storetest.Run(t, func(t *testing.T) session.Store {
		stores++
		return open(t, redisstore.Config{URL: url, KeyPrefix: uniquePrefix(), Logger: logger})
	})
	out := logs.String()
	if n := strings.Count(out, "refused client-side caching"); n != stores {
		t.Errorf("%d stores logged the refusal %d times; want once each:\n%s", stores, n, out)
	}
	if strings.Contains(out, "app-pw") {
		t.Errorf("the log shows the password:\n%s", out)
	}
	t.Logf("the log line: %s", strings.SplitN(out, "\n", 2)[0])

	// Every Find reads Redis.
	s := open(t, redisstore.Config{URL: url, Logger: logger})
	ctx := context.Background()
	if err := s.Commit(ctx, "s:k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	for range 10 {
		if _, found, err := s.Find(ctx, "s:k"); err != nil || !found {
			t.Fatal(found, err)
		}
	}
	if calls := srv.Calls(); calls["get"] != 10 {
		t.Errorf("10 uncached finds cost %v; want 10 GETs", calls)
	}
}

// TestTrackingRefusedLater: Redis accepted tracking when the store
// connected and refuses it after a reconnection (the user lost the right,
// a proxy was put in between). The store drops its caching client, says
// so once and goes on uncached; the call that met the refusal succeeds.
func TestTrackingRefusedLater(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	if _, err := srv.Do("ACL", "SETUSER", "app", "on", ">app-pw", "~*", "&*", "+@all"); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	s := open(t, redisstore.Config{URL: "redis://app:app-pw@" + srv.Addr, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx := context.Background()
	if err := s.Commit(ctx, "s:k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, found, err := s.Find(ctx, "s:k"); err != nil || !found {
			t.Fatal(found, err)
		}
	}
	if out := logs.String(); out != "" {
		t.Fatalf("logged with tracking on: %s", out)
	}

	for _, cmd := range [][]string{
		{"ACL", "SETUSER", "app", "-client|tracking"},
		{"CLIENT", "KILL", "USER", "app"},
	} {
		if _, err := srv.Do(cmd...); err != nil {
			t.Fatal(cmd, err)
		}
	}
	for i := range 20 {
		got, found, err := s.Find(ctx, "s:k")
		if err != nil || !found || string(got) != "v" {
			t.Fatalf("find %d after tracking was refused: %q, %v, %v", i, got, found, err)
		}
	}
	if err := s.Delete(ctx, "s:k"); err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Find(ctx, "s:k"); err != nil || found {
		t.Fatalf("after Delete: %v, %v", found, err)
	}
	out := logs.String()
	if n := strings.Count(out, "refused client-side caching"); n != 1 {
		t.Errorf("logged the refusal %d times; want once:\n%s", n, out)
	}
	if strings.Contains(out, "app-pw") {
		t.Errorf("the log shows the password:\n%s", out)
	}
}

// TestLocalCacheTTLIsIgnored: a URL written for the retired local cache
// still opens, and the store says once that the parameter does nothing.
func TestLocalCacheTTLIsIgnored(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	logs := &syncBuffer{}
	s := open(t, redisstore.Config{URL: srv.URL() + "?local_cache_ttl=1s", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); strings.Count(out, "local_cache_ttl no longer has an effect") != 1 {
		t.Errorf("log: %q", out)
	}
}
