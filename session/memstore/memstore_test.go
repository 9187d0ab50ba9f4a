package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) session.Store {
		s := New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestExpiryAndSweep drives the store's clock: entries vanish from Find at
// their expiry and are freed by the next Commit after a sweep interval.
func TestExpiryAndSweep(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s := New()
	s.Now = func() time.Time { return now }
	s.SweepInterval = time.Minute

	if err := s.Commit(ctx, "short", []byte("a"), now.Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, "long", []byte("b"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		advance          time.Duration
		commit           bool
		shortFound, long bool
		len              int
	}{
		{advance: 9 * time.Second, shortFound: true, long: true, len: 2},
		{advance: time.Second, shortFound: false, long: true, len: 2},                    // expired exactly at its expiry, not yet swept
		{advance: 10 * time.Second, commit: true, shortFound: false, long: true, len: 3}, // within the interval: no sweep
		{advance: time.Minute, commit: true, shortFound: false, long: true, len: 2},      // swept
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if st.commit {
			if err := s.Commit(ctx, "filler", []byte("c"), now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		_, short, _ := s.Find(ctx, "short")
		_, long, _ := s.Find(ctx, "long")
		if short != st.shortFound || long != st.long || s.Len() != st.len {
			t.Errorf("step %d: short found=%v long found=%v len=%d; want %v %v %d", i, short, long, s.Len(), st.shortFound, st.long, st.len)
		}
	}
}

// TestEvictsOldest fills a store past its limit: exactly the k oldest
// records go, and the rest stay readable.
func TestEvictsOldest(t *testing.T) {
	const limit = 5
	ctx := context.Background()
	for _, k := range []int{0, 1, 3, limit, 2*limit + 1} {
		t.Run(fmt.Sprintf("limit+%d", k), func(t *testing.T) {
			s := New()
			s.MaxRecords = limit
			var keys []string
			for i := range limit + k {
				keys = append(keys, fmt.Sprintf("k%02d", i))
				if err := s.Commit(ctx, keys[i], []byte(keys[i]), far()); err != nil {
					t.Fatal(err)
				}
			}
			for i, key := range keys {
				data, found, err := s.Find(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if evicted := i < k; found == evicted || (found && string(data) != key) {
					t.Errorf("%s: found=%v data=%q; want evicted=%v", key, found, data, evicted)
				}
			}
			checkOrder(t, s, keys[k:])
		})
	}
}

// TestEvictionOrder runs sequences of calls on a store of three records
// and checks what it holds, oldest commit first. In ops, "+a" commits a
// for an hour, "~a" for ten seconds, "!a" with an expiry already passed,
// "-a" deletes a, and ">" moves the clock on by two sweep intervals.
func TestEvictionOrder(t *testing.T) {
	tests := []struct {
		name string
		ops  string
		want []string
	}{
		{"under the limit", "+a +b", []string{"a", "b"}},
		{"full", "+a +b +c +d", []string{"b", "c", "d"}},
		{"rewriting makes a record newest", "+a +b +c +a +d", []string{"c", "a", "d"}},
		{"rewriting does not count twice", "+a +a +a +a +b +c", []string{"a", "b", "c"}},
		{"rewriting does not queue twice", "+a +a +a +b +c +d +e", []string{"c", "d", "e"}},
		{"rewriting the newest", "+a +b +c +c +d", []string{"b", "c", "d"}},
		{"deleted records leave room", "+a +b +c -b +d", []string{"a", "c", "d"}},
		{"deleting the oldest and newest", "+a +b +c -a -c +d +e", []string{"b", "d", "e"}},
		{"deleting an absent key", "+a -z +b", []string{"a", "b"}},
		{"an expired commit removes the key", "+a +b +c !a +d", []string{"b", "c", "d"}},
		{"an expired commit of an absent key", "+a !z +b", []string{"a", "b"}},
		{"expired records are swept before live ones are evicted", "+b ~a +c > +d", []string{"b", "c", "d"}},
		{"emptied and refilled", "+a +b -a -b +c +d +e +f", []string{"d", "e", "f"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			s := New()
			s.Now = func() time.Time { return now }
			s.MaxRecords = 3
			s.Commit(ctx, "warm-up", nil, now) // the first Commit sweeps; later ones wait an interval
			for op := range strings.FieldsSeq(tt.ops) {
				key := op[1:]
				var err error
				switch op[0] {
				case '+':
					err = s.Commit(ctx, key, []byte(key), now.Add(time.Hour))
				case '~':
					err = s.Commit(ctx, key, []byte(key), now.Add(10*time.Second))
				case '!':
					err = s.Commit(ctx, key, []byte(key), now.Add(-time.Second))
				case '-':
					err = s.Delete(ctx, key)
				case '>':
					now = now.Add(2 * DefaultSweepInterval)
				default:
					t.Fatalf("bad op %q", op)
				}
				if err != nil {
					t.Fatalf("%s: %v", op, err)
				}
			}
			checkOrder(t, s, tt.want)
		})
	}
}

// checkOrder checks that s holds exactly want, each findable, and that its
// eviction list runs through them in that order in both directions.
func checkOrder(t *testing.T, s *Store, want []string) {
	t.Helper()
	var forward, backward []string
	for e := s.oldest; e != nil; e = e.next {
		if e.next != nil && e.next.prev != e {
			t.Fatalf("list broken after %q", e.key)
		}
		if s.items[e.key] != e {
			t.Fatalf("listed %q is not the entry the map holds", e.key)
		}
		forward = append(forward, e.key)
	}
	for e := s.newest; e != nil; e = e.prev {
		backward = append(backward, e.key)
	}
	slices.Reverse(backward)
	if !slices.Equal(forward, want) || !slices.Equal(backward, want) || s.Len() != len(want) {
		t.Fatalf("store holds %d records, listed %v (backwards %v); want %v", s.Len(), forward, backward, want)
	}
	for _, key := range want {
		if _, found, _ := s.Find(context.Background(), key); !found {
			t.Errorf("Find(%q): not found", key)
		}
	}
}

func far() time.Time { return time.Now().Add(time.Hour) }

// BenchmarkCommit commits a typical sealed session (about 1.7 KB). "full"
// is a store at its limit taking a new key each time, so every Commit
// evicts the oldest record; "replace" rewrites a key already held, as
// Touch does, and evicts nothing.
func BenchmarkCommit(b *testing.B) {
	const limit = 10_000
	ctx := context.Background()
	data := make([]byte, 1700)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// Twice the limit: a key comes round again only after limit newer
	// ones, by which time it has been evicted, so each Commit inserts.
	keys := make([]string, 2*limit)
	for i := range keys {
		keys[i] = fmt.Sprintf("s:%043d", i)
	}
	newFull := func(b *testing.B) *Store {
		s := New()
		s.MaxRecords = limit
		s.Now = func() time.Time { return now } // one sweep, at the first Commit
		for _, k := range keys[:limit] {
			if err := s.Commit(ctx, k, data, now.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		return s
	}

	b.Run("full", func(b *testing.B) {
		s := newFull(b)
		i := limit
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Commit(ctx, keys[i%len(keys)], data, now.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		// Every Commit above was of a key the store did not hold, so a
		// store still at its limit evicted once per Commit.
		last, evicted := keys[(i-1)%len(keys)], keys[(i-1-limit)%len(keys)]
		_, hasLast, _ := s.Find(ctx, last)
		_, hasEvicted, _ := s.Find(ctx, evicted)
		if s.Len() != limit || !hasLast || hasEvicted {
			b.Fatalf("after %d commits: %d records, newest held=%v, oldest gone=%v", i-limit, s.Len(), hasLast, !hasEvicted)
		}
	})
	b.Run("replace", func(b *testing.B) {
		s := newFull(b)
		i := 0
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Commit(ctx, keys[i%limit], data, now.Add(time.Hour)); err != nil {
				b.Fatal(err)
			}
			i++
		}
		if s.Len() != limit {
			b.Fatalf("%d records after replacing, want %d", s.Len(), limit)
		}
	})
}
