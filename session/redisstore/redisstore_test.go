package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/redisstore"
	"github.com/entraweb/entraweb/session/storetest"
)

func open(t *testing.T, c redisstore.Config) *redisstore.Store {
	t.Helper()
	s, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var prefixes atomic.Int64

// uniquePrefix gives each store of a test its own part of the database,
// so stores sharing one redis-server start empty.
func uniquePrefix() string { return fmt.Sprintf("t%d:", prefixes.Add(1)) }

func TestConformance(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	for _, q := range []string{"", "?client_cache=false"} {
		t.Run("client_cache="+strconv.FormatBool(q == ""), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) session.Store {
				return open(t, redisstore.Config{URL: srv.URL() + q, KeyPrefix: uniquePrefix()})
			})
		})
	}
}

func TestTTLIsTheExpiry(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := open(t, redisstore.Config{URL: srv.URL() + "?key_prefix=app1:"})
	ctx := context.Background()
	for _, ttl := range []time.Duration{90 * time.Second, 12 * time.Hour, 1500 * time.Millisecond} {
		if err := s.Commit(ctx, "s:ttl", []byte("x"), time.Now().Add(ttl)); err != nil {
			t.Fatal(err)
		}
		got, err := srv.Do("PTTL", "app1:s:ttl")
		if err != nil {
			t.Fatal(err)
		}
		ms, _ := strconv.ParseInt(got, 10, 64)
		if d := time.Duration(ms) * time.Millisecond; d > ttl || d < ttl-time.Second {
			t.Errorf("expiry in %v: Redis TTL %v", ttl, d)
		}
	}
}

func TestKeyPrefixSeparatesApps(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	a := open(t, redisstore.Config{URL: srv.URL() + "?key_prefix=a:"})
	b := open(t, redisstore.Config{URL: srv.URL(), KeyPrefix: "b:"})
	d := open(t, redisstore.Config{URL: srv.URL()})
	for _, s := range []*redisstore.Store{a, b, d} {
		if err := s.Commit(ctx, "s:same", []byte(fmt.Sprintf("%p", s)), time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := srv.Do("KEYS", "*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a:s:same", "b:s:same", redisstore.DefaultKeyPrefix + "s:same"} {
		if !strings.Contains("\n"+keys+"\n", "\n"+k+"\n") {
			t.Errorf("key %s missing; keys: %q", k, keys)
		}
	}
	if err := a.Delete(ctx, "s:same"); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := b.Find(ctx, "s:same"); !found {
		t.Error("deleting in one prefix deleted in another")
	}
}

func TestPasswordAndDatabase(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{Password: "s3cret-pw"})
	ctx := context.Background()
	s := open(t, redisstore.Config{URL: srv.URL() + "/5"})
	if err := s.Commit(ctx, "s:db", []byte("x"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	info, err := srv.Do("INFO", "keyspace")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "db5:keys=1") {
		t.Errorf("the key is not in database 5: %q", info)
	}

	wrong := open(t, redisstore.Config{URL: "redis://:not-it@" + srv.Addr})
	_, _, err = wrong.Find(ctx, "s:db")
	if err == nil {
		t.Fatal("a wrong password was accepted")
	}
	if strings.Contains(err.Error(), "not-it") {
		t.Errorf("error %q shows the password", err)
	}
}

// TestCommandsPerCall counts, with Redis's own statistics, what each
// operation costs. The Manager's steady state is a Find of a key it read
// before: with client-side caching that costs no command at all.
func TestCommandsPerCall(t *testing.T) {
	tests := []struct {
		name  string
		query string
		// per round of Commit, Find (a miss: the key was just written),
		// Find again, Delete
		want map[string]int
	}{
		// The miss asks Redis to track the key (CLIENT CACHING YES) and
		// reads its TTL with the value, in a MULTI; each write is
		// followed by a PTTL that orders its invalidation (see write).
		{"cached", "", map[string]int{"set": 1, "del": 1, "pttl": 3, "client|caching": 1, "multi": 1, "get": 1, "exec": 1}},
		{"uncached", "?client_cache=false", map[string]int{"get": 2, "set": 1, "del": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			ctx := context.Background()
			s := open(t, redisstore.Config{URL: srv.URL() + tt.query})
			if err := s.Ping(ctx); err != nil { // connect before counting
				t.Fatal(err)
			}
			srv.ResetStats()
			const n = 50
			for i := range n {
				k := fmt.Sprint("s:", i)
				if err := s.Commit(ctx, k, []byte("v"), time.Now().Add(time.Minute)); err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if _, found, err := s.Find(ctx, k); err != nil || !found {
						t.Fatal(found, err)
					}
				}
				if err := s.Delete(ctx, k); err != nil {
					t.Fatal(err)
				}
			}
			calls := srv.Calls()
			for cmd, per := range tt.want {
				if calls[cmd] != per*n {
					t.Errorf("%s: %d calls, want %d", cmd, calls[cmd], per*n)
				}
			}
			if len(calls) != len(tt.want) {
				t.Errorf("commands for %d rounds: %v; want only %v", n, calls, tt.want)
			}
		})
	}
}

// TestOutageFailsFastAndRecovers stops Redis under a store: every call
// fails quickly with an error (never "absent"), and once Redis is back
// the same store works again, with the data it held before.
func TestOutageFailsFastAndRecovers(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	s := open(t, redisstore.Config{URL: srv.URL()})
	if err := s.Commit(ctx, "s:kept", []byte("record"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	for i := range 30 {
		start := time.Now()
		_, found, err := s.Find(ctx, "s:kept")
		if err == nil || found {
			t.Fatalf("call %d during the outage: found=%v err=%v; want an error", i, found, err)
		}
		// Fails at once rather than waiting on timeouts: a bound far
		// from both (the time is not a speed claim).
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("call %d during the outage took %v", i, d)
		}
	}
	if err := s.Commit(ctx, "s:new", []byte("x"), time.Now().Add(time.Hour)); err == nil {
		t.Error("Commit during the outage succeeded")
	}
	srv.Restart()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, found, err := s.Find(ctx, "s:kept")
		if err == nil {
			if !found || string(got) != "record" {
				t.Fatalf("after the restart: %q, found=%v", got, found)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 5s after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestHungRedisTimesOut puts a listener that accepts connections and
// never answers where Redis should be: calls must end at the timeout.
func TestHungRedisTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	s := open(t, redisstore.Config{URL: "redis://" + ln.Addr().String() + "?read_timeout=200ms", OpTimeout: time.Second})
	start := time.Now()
	_, _, err = s.Find(context.Background(), "s:x")
	if err == nil {
		t.Fatal("a Redis that never answers answered")
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Find took %v with a 1s operation timeout", d)
	}
	var ne net.Error
	if !errors.As(err, &ne) && !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("error (not a timeout type, still fine): %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := (redisstore.Config{}).Open(); err == nil || !strings.Contains(err.Error(), "URL is empty") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := redisstore.Open("redis://u:s3cret@h?bogus=1"); err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestRegistered(t *testing.T) {
	if _, ok := session.Opener("redis"); !ok {
		t.Fatal(`importing redisstore does not register "redis"`)
	}
}

// TestWritesSurviveAKilledConnection: when Redis drops the store's
// connections (a restart, CLIENT KILL, a proxy's idle timeout), the next
// write is not lost to the dead connection: it is sent again on the new
// one. Before, a Delete right after the kill failed with EOF about one
// time in five.
func TestWritesSurviveAKilledConnection(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	s := open(t, redisstore.Config{URL: srv.URL()})
	ctx := context.Background()
	for i := range 20 {
		if err := s.Commit(ctx, "s:k", []byte("v"), time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("round %d, commit: %v", i, err)
		}
		if _, err := srv.Do("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"); err != nil {
			t.Fatal(err)
		}
		var err error
		if i%2 == 0 {
			err = s.Delete(ctx, "s:k")
		} else {
			err = s.Commit(ctx, "s:k", []byte("w"), time.Now().Add(time.Minute))
		}
		if err != nil {
			t.Fatalf("round %d, the write after the connection was killed: %v", i, err)
		}
	}
}
