package memstore

import (
	"context"
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
