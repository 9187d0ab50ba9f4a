package session_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

// clock is a settable time source shared by a Manager and its store.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                   { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }
func testKey(b byte) []byte              { return bytes.Repeat([]byte{b}, session.KeySize) }
func mustBox(t testing.TB, keys ...[]byte) *session.Box {
	t.Helper()
	b, err := session.NewBox(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countingStore wraps a Store to count and record calls, and fails every
// call with err when err is set.
type countingStore struct {
	session.Store
	mu                      sync.Mutex
	finds, commits, deletes int
	findKeys                []string
	err                     error
}

func (s *countingStore) Find(ctx context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	s.finds++
	s.findKeys = append(s.findKeys, key)
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	return s.Store.Find(ctx, key)
}

func (s *countingStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	s.commits++
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Store.Commit(ctx, key, data, expiry)
}

func (s *countingStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	s.deletes++
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.Store.Delete(ctx, key)
}

func (s *countingStore) reset() {
	s.mu.Lock()
	s.finds, s.commits, s.deletes, s.findKeys = 0, 0, 0, nil
	s.mu.Unlock()
}

// newManager returns a Manager with short, distinct timeouts over a
// memstore, both on the same clock.
func newManager(t testing.TB) (*session.Manager, *countingStore, *clock) {
	t.Helper()
	clk := newClock()
	mem := memstore.New()
	mem.Now = clk.Now
	store := &countingStore{Store: mem}
	m := &session.Manager{
		Store:         store,
		Box:           mustBox(t, testKey(1)),
		IdleTimeout:   30 * time.Minute,
		Lifetime:      8 * time.Hour,
		TouchInterval: time.Minute,
		Now:           clk.Now,
		Logger:        slog.New(slog.DiscardHandler),
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	return m, store, clk
}

func newRequest(secure bool, cookies ...*http.Cookie) *http.Request {
	target := "http://app.example/"
	if secure {
		target = "https://app.example/" // httptest sets r.TLS for https
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// start signs in on a fresh request and returns the session and the
// cookie the browser would keep.
func start(t testing.TB, m *session.Manager, secure bool, values map[string]string) (*session.Session, *http.Cookie) {
	t.Helper()
	w := httptest.NewRecorder()
	s, err := m.Start(context.Background(), w, newRequest(secure), values)
	if err != nil {
		t.Fatal(err)
	}
	return s, onlyCookie(t, w)
}

func onlyCookie(t testing.TB, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("response sets %d cookies, want 1: %q", len(cs), w.Header().Values("Set-Cookie"))
	}
	return cs[0]
}

// load loads with the given cookie on a request of the given security.
func load(t testing.TB, m *session.Manager, secure bool, c *http.Cookie) *session.Session {
	t.Helper()
	s, err := m.Load(context.Background(), newRequest(secure, c))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeKey is the spec's store key for a cookie value, derived here
// independently of the package.
func storeKey(t testing.TB, cookieValue string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(cookieValue)
	if err != nil {
		t.Fatalf("cookie value %q: %v", cookieValue, err)
	}
	sum := sha256.Sum256(raw)
	return "s:" + base64.RawURLEncoding.EncodeToString(sum[:])
}
