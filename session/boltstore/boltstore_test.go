package boltstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	berrors "go.etcd.io/bbolt/errors"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/storetest"
)

func open(t *testing.T, c Config) *Store {
	t.Helper()
	if c.Path == "" {
		c.Path = filepath.Join(t.TempDir(), "sessions.db")
	}
	s, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store { return open(t, Config{}) })
}

func TestSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sessions.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "s:kept", []byte("session record"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, Config{Path: path})
	got, found, err := s.Find(ctx, "s:kept")
	if err != nil || !found || string(got) != "session record" {
		t.Fatalf("after reopening: Find = %q, %v, %v; want the record", got, found, err)
	}
}

func TestLockedByAnotherOpener(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	open(t, Config{Path: path})

	// flock locks belong to the open file, so a second open in this
	// process waits just as another process would.
	_, err := Config{Path: path, LockTimeout: 50 * time.Millisecond}.Open()
	if err == nil {
		t.Fatal("second Open of a locked file succeeded")
	}
	if !errors.Is(err, berrors.ErrTimeout) || !strings.Contains(err.Error(), "locked by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("error %q should wrap bbolt's timeout and name the locked file", err)
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
		want string
	}{
		{"empty path", "", "Path is empty"},
		{"missing directory", filepath.Join(t.TempDir(), "no", "such", "dir", "s.db"), "boltstore: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.path)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := open(t, Config{SweepInterval: -1, Now: func() time.Time { return now }})
	for _, c := range []struct {
		key string
		ttl time.Duration
	}{{"a", time.Minute}, {"b", time.Hour}, {"c", 2 * time.Minute}} {
		if err := s.Commit(ctx, c.key, []byte(c.key), now.Add(c.ttl)); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		advance time.Duration
		swept   int
	}{{30 * time.Second, 0}, {30 * time.Second, 1}, {time.Minute, 1}, {time.Minute, 0}, {time.Hour, 1}}
	for i, st := range steps {
		now = now.Add(st.advance)
		n, err := s.Sweep(ctx)
		if err != nil || n != st.swept {
			t.Errorf("step %d: Sweep = %d, %v; want %d", i, n, err, st.swept)
		}
	}
}

// TestBackgroundSweep runs the sweep goroutine in a synctest bubble, whose
// clock only moves when every goroutine in it is blocked: the sleep below
// takes no real time.
func TestBackgroundSweep(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, err := Config{Path: path, SweepInterval: time.Minute}.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Commit(ctx, "old", []byte("x"), time.Now().Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, "new", []byte("y"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute + time.Second)
		synctest.Wait()
		// A sweep now finds nothing: the goroutine already removed "old".
		if n, err := s.Sweep(ctx); err != nil || n != 0 {
			t.Errorf("Sweep after the background sweep = %d, %v; want 0", n, err)
		}
		if _, found, _ := s.Find(ctx, "new"); !found {
			t.Error("the sweep removed a live entry")
		}
	})
}

func TestCloseTwice(t *testing.T) {
	s := open(t, Config{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCacheStaysCoherent: readers and writers of the same keys at once,
// then one last write per key: every key then reads back its last write,
// from the cache as from the file (a fresh Store on the same file).
func TestCacheStaysCoherent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, Config{Path: path})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 30 {
				s.Commit(ctx, fmt.Sprintf("k%d", i%3), []byte(fmt.Sprintf("w%d-%d", w, i)), exp)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 200 {
				s.Find(ctx, fmt.Sprintf("k%d", i%3))
			}
		}()
	}
	wg.Wait()
	for i := range 3 {
		if err := s.Commit(ctx, fmt.Sprintf("k%d", i), []byte("last"), exp); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		s.Find(ctx, fmt.Sprintf("k%d", i)) // into the cache
		if got, ok, _ := s.Find(ctx, fmt.Sprintf("k%d", i)); !ok || string(got) != "last" {
			t.Errorf("k%d = %q, %v from the cache", i, got, ok)
		}
	}
	if err := s.Delete(ctx, "k0"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Find(ctx, "k0"); ok {
		t.Error("a deleted key is still served")
	}
	s.Close()
	s2 := open(t, Config{Path: path})
	if got, ok, _ := s2.Find(ctx, "k1"); !ok || string(got) != "last" {
		t.Errorf("the file holds %q, %v", got, ok)
	}
}
