// Package storetest is the conformance suite every session.Store passes.
// A new store proves itself with one call from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) session.Store {
//			s := mystore.New()
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite uses the wall clock only to make expiries that are clearly in
// the past or the future; it never sleeps.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
)

// Run runs the suite as subtests of t. newStore must return an empty store
// each time it is called and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s session.Store)
	}{
		{"MissingKey", testMissingKey},
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"Expired", testExpired},
		{"KeyIsolation", testKeyIsolation},
		{"LargeValue", testLargeValue},
		{"NoAliasing", testNoAliasing},
		{"Concurrent", testConcurrent},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// far is an expiry no test outlives.
func far() time.Time { return time.Now().Add(time.Hour) }

func mustCommit(t *testing.T, s session.Store, key string, data []byte, expiry time.Time) {
	t.Helper()
	if err := s.Commit(context.Background(), key, data, expiry); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

func mustDelete(t *testing.T, s session.Store, key string) {
	t.Helper()
	if err := s.Delete(context.Background(), key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
}

// wantFound checks that key holds want.
func wantFound(t *testing.T, s session.Store, key string, want []byte) {
	t.Helper()
	got, found, err := s.Find(context.Background(), key)
	if err != nil {
		t.Fatalf("Find(%q): %v", key, err)
	}
	if !found {
		t.Fatalf("Find(%q): not found, want %d bytes", key, len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Find(%q) = %d bytes %.32x..., want %d bytes %.32x...", key, len(got), got, len(want), want)
	}
}

// wantMissing checks that key is absent.
func wantMissing(t *testing.T, s session.Store, key string) {
	t.Helper()
	got, found, err := s.Find(context.Background(), key)
	if err != nil {
		t.Fatalf("Find(%q): %v", key, err)
	}
	if found || got != nil {
		t.Fatalf("Find(%q) = %q, found=%v; want absent", key, got, found)
	}
}

func testMissingKey(t *testing.T, s session.Store) {
	wantMissing(t, s, "s:never-committed")
}

func testRoundTrip(t *testing.T, s session.Store) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"every byte value", all},
		{"zeros", make([]byte, 64)},
		{"invalid utf-8", []byte{0xff, 0xfe, 0xc3, 0x28}},
		{"empty", []byte{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("s:roundtrip-%d", i)
			mustCommit(t, s, key, tt.data, far())
			wantFound(t, s, key, tt.data)
		})
	}
}

func testOverwrite(t *testing.T, s session.Store) {
	const key = "s:overwrite"
	mustCommit(t, s, key, []byte("first, and longer than the second"), far())
	mustCommit(t, s, key, []byte("second"), far())
	wantFound(t, s, key, []byte("second"))

	// Replacing with an expiry in the past must not leave the old value.
	mustCommit(t, s, key, []byte("third"), time.Now().Add(-time.Minute))
	wantMissing(t, s, key)

	// And a key that expired can be committed again.
	mustCommit(t, s, key, []byte("fourth"), far())
	wantFound(t, s, key, []byte("fourth"))
}

func testDelete(t *testing.T, s session.Store) {
	const key = "s:delete"
	mustDelete(t, s, key) // absent: not an error
	mustCommit(t, s, key, []byte("v"), far())
	mustDelete(t, s, key)
	wantMissing(t, s, key)
	mustDelete(t, s, key) // twice: still not an error
	wantMissing(t, s, key)
}

func testExpired(t *testing.T, s session.Store) {
	tests := []struct {
		name   string
		expiry time.Time
		found  bool
	}{
		{"an hour ago", time.Now().Add(-time.Hour), false},
		{"a second ago", time.Now().Add(-time.Second), false},
		{"the zero time", time.Time{}, false},
		{"in an hour", time.Now().Add(time.Hour), true},
		{"in a year", time.Now().AddDate(1, 0, 0), true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("s:expired-%d", i)
			data := []byte("data " + tt.name)
			mustCommit(t, s, key, data, tt.expiry)
			if tt.found {
				wantFound(t, s, key, data)
			} else {
				wantMissing(t, s, key)
			}
		})
	}
}

func testKeyIsolation(t *testing.T, s session.Store) {
	// Keys that are prefixes of each other, differ in case, or share a
	// hash-like shape must not collide.
	keys := []string{"a", "ab", "a:", "A", "s:abc", "s:abd", "t:abc", "s:ABC", "s:abc ", "ü", "s:" + string(bytes.Repeat([]byte("x"), 200))}
	for i, k := range keys {
		mustCommit(t, s, k, []byte(fmt.Sprint("value ", i)), far())
	}
	for i, k := range keys {
		wantFound(t, s, k, []byte(fmt.Sprint("value ", i)))
	}
	mustDelete(t, s, "s:abc")
	wantMissing(t, s, "s:abc")
	for i, k := range keys {
		if k != "s:abc" {
			wantFound(t, s, k, []byte(fmt.Sprint("value ", i)))
		}
	}
}

func testLargeValue(t *testing.T, s session.Store) {
	const key = "s:large"
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7 >> 3)
	}
	mustCommit(t, s, key, data, far())
	wantFound(t, s, key, data)
}

// testNoAliasing checks that the store copies what it is given: callers
// reuse the slices they commit. (What Find returns is read-only for its
// callers, so a store may hand out its own bytes; a slice once returned
// must not change under the caller either, which a later Commit of the
// same key checks.)
func testNoAliasing(t *testing.T, s session.Store) {
	const key = "s:alias"
	in := []byte("original")
	mustCommit(t, s, key, in, far())
	copy(in, "MODIFIED")
	wantFound(t, s, key, []byte("original"))

	out, _, err := s.Find(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	mustCommit(t, s, key, []byte("replaced"), far())
	if string(out) != "original" {
		t.Errorf("a slice Find returned changed when the key was committed again: %q", out)
	}
}

func testConcurrent(t *testing.T, s session.Store) {
	const workers, rounds = 8, 50
	ctx := context.Background()
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			errc <- func() error {
				own := fmt.Sprintf("s:worker-%d", w)
				for i := range rounds {
					want := []byte(fmt.Sprintf("%d/%d", w, i))
					if err := s.Commit(ctx, own, want, far()); err != nil {
						return fmt.Errorf("Commit(%s): %w", own, err)
					}
					got, found, err := s.Find(ctx, own)
					if err != nil || !found || !bytes.Equal(got, want) {
						return fmt.Errorf("Find(%s) = %q, %v, %v; want %q", own, got, found, err, want)
					}
					// Everyone writes, reads and deletes a shared key: any
					// outcome is fine except an error or a torn value.
					if err := s.Commit(ctx, "s:shared", want, far()); err != nil {
						return fmt.Errorf("Commit(shared): %w", err)
					}
					if got, found, err := s.Find(ctx, "s:shared"); err != nil {
						return fmt.Errorf("Find(shared): %w", err)
					} else if found && !bytes.Contains(got, []byte("/")) {
						return fmt.Errorf("Find(shared) = %q, a torn value", got)
					}
					if i%10 == 0 {
						if err := s.Delete(ctx, "s:shared"); err != nil {
							return fmt.Errorf("Delete(shared): %w", err)
						}
					}
				}
				if err := s.Delete(ctx, own); err != nil {
					return fmt.Errorf("Delete(%s): %w", own, err)
				}
				return nil
			}()
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Error(err)
		}
	}
	for w := range workers {
		wantMissing(t, s, fmt.Sprintf("s:worker-%d", w))
	}
}

// testCanceledContext allows a store to ignore cancellation (an in-memory
// call finishes at once) or honour it with an error wrapping
// context.Canceled. What it must never do is answer "absent" for a key it
// holds, which the Manager would take for "signed out".
func testCanceledContext(t *testing.T, s session.Store) {
	const key = "s:canceled"
	mustCommit(t, s, key, []byte("kept"), far())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	check := func(op string, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context: error %v does not wrap context.Canceled", op, err)
		}
	}
	got, found, err := s.Find(ctx, key)
	check("Find", err)
	if err == nil && (!found || string(got) != "kept") {
		t.Errorf("Find with a canceled context = %q, found=%v, nil error; want the value or an error", got, found)
	}
	check("Commit", s.Commit(ctx, "s:canceled-new", []byte("x"), far()))
	check("Delete", s.Delete(ctx, "s:canceled-other"))
	// Whatever the store did with the canceled calls, it still works.
	wantFound(t, s, key, []byte("kept"))
}
