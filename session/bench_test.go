package session_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/boltstore"
	"github.com/entraweb/entraweb/session/memstore"
)

// typicalValues is what entraweb keeps for a signed-in user.
var typicalValues = map[string]string{
	"name":     "Ada Lovelace",
	"username": "ada.lovelace@contoso.onmicrosoft.com",
	"oid":      "4f5b1c2e-8a9d-4e3f-b2c1-0d9e8f7a6b5c",
	"tid":      "72f988bf-86f1-41af-91ab-2d7cd011db47",
	"roles":    "DemoApp.Admin DemoApp.Write DemoApp.Read",
	"groups": strings.Join([]string{
		"0a1b2c3d-0000-4000-8000-000000000001", "0a1b2c3d-0000-4000-8000-000000000002",
		"0a1b2c3d-0000-4000-8000-000000000003", "0a1b2c3d-0000-4000-8000-000000000004",
		"0a1b2c3d-0000-4000-8000-000000000005",
	}, " "),
}

func benchStores(b *testing.B) []struct {
	name  string
	store session.Store
} {
	bolt, err := boltstore.Config{Path: filepath.Join(b.TempDir(), "bench.db"), SweepInterval: -1}.Open()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bolt.Close() })
	return []struct {
		name  string
		store session.Store
	}{{"memstore", memstore.New()}, {"boltstore", bolt}}
}

// BenchmarkLoadTouch is the per-request cost of a signed-in request in
// steady state: Touch finds LastSeen fresh, so it is one store read and
// no write. "no cookie" is the baseline of an anonymous request.
func BenchmarkLoadTouch(b *testing.B) {
	ctx := context.Background()
	now := time.Now()
	for _, st := range benchStores(b) {
		m := &session.Manager{Store: st.store, Box: mustBox(b, testKey(1)), Now: func() time.Time { return now }}
		_, c := start(b, m, true, typicalValues)
		b.Run(st.name, func(b *testing.B) {
			r := newRequest(true, c)
			b.ReportAllocs()
			for b.Loop() {
				s, err := m.Load(ctx, r)
				if err != nil || s == nil {
					b.Fatalf("Load = %v, %v", s, err)
				}
				if err := m.Touch(ctx, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("no cookie", func(b *testing.B) {
		m := &session.Manager{Store: memstore.New(), Box: mustBox(b, testKey(1))}
		r := newRequest(true, &http.Cookie{Name: "other", Value: "1"})
		b.ReportAllocs()
		for b.Loop() {
			if s, err := m.Load(ctx, r); s != nil || err != nil {
				b.Fatal(s, err)
			}
		}
	})
}

// sizeStore records the size of the last value committed.
type sizeStore struct {
	session.Store
	last int
}

func (s *sizeStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	s.last = len(key) + len(data)
	return s.Store.Commit(ctx, key, data, expiry)
}

// BenchmarkSave measures a Save of a session with typicalValues and
// reports what it costs in the store (key plus sealed record).
func BenchmarkSave(b *testing.B) {
	ctx := context.Background()
	store := &sizeStore{Store: memstore.New()}
	m := &session.Manager{Store: store, Box: mustBox(b, testKey(1))}
	s, _ := start(b, m, true, typicalValues)
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(store.last), "stored-bytes/session")
}
