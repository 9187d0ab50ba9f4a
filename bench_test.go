package entraweb_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
	_ "github.com/entraweb/entraweb/session/boltstore"
	"github.com/entraweb/entraweb/session/memstore"
)

// What a signed-in request costs: the same handler served bare and behind
// RequireLogin, in process (no network), with a real session made by a
// sign-in through the emulator. The ratio of the two is entraweb's cost.

// bareHandler is the application: a short response and nothing else, so
// that what RequireLogin adds is not hidden behind the handler's own work.
var bareHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "hello\n")
})

// serve runs one request through h as net/http would, minus the network.
func serve(b *testing.B, h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %.200s", w.Code, w.Body)
	}
}

// signedIn builds an Auth from cfg, signs user in through the emulator
// against an app server using that Auth, and returns the Auth and a GET
// request for the app carrying the session cookie from the browser's jar.
func signedIn(b *testing.B, srv *entratest.Server, cfg entraweb.Config, user string) (*entraweb.Auth, *http.Request, *http.Cookie) {
	b.Helper()
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close() })
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(bareHandler))
	hs := httptest.NewServer(mux)
	b.Cleanup(hs.Close)

	br := srv.Browser()
	resp, body, err := br.Visit(context.Background(), hs.URL+"/", user+"@"+entratest.DemoTenantDomain, entratest.DemoPassword)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || body != "hello\n" {
		b.Fatalf("sign-in as %s landed on %s: %d %.200q", user, resp.Request.URL, resp.StatusCode, body)
	}
	var cookie *http.Cookie
	for _, c := range br.AppClient().Jar.Cookies(resp.Request.URL) {
		if c.Name == session.DefaultCookieName {
			cookie = c
		}
	}
	if cookie == nil {
		b.Fatalf("no %s cookie after signing in as %s", session.DefaultCookieName, user)
	}
	r := httptest.NewRequest(http.MethodGet, hs.URL+"/", nil)
	r.Header.Set("Accept", "text/html")
	r.AddCookie(cookie)
	return auth, r, cookie
}

// storeConfigs are the session stores compared: memory, and bolt in a file
// of the benchmark's temporary directory.
func storeConfigs(b *testing.B, srv *entratest.Server) []struct {
	name string
	cfg  entraweb.Config
} {
	mem := testConfig(srv)
	mem.Session.Store = "memory"
	bolt := testConfig(srv)
	bolt.Session.Store = "bolt"
	bolt.Session.Path = filepath.Join(b.TempDir(), "sessions.db")
	return []struct {
		name string
		cfg  entraweb.Config
	}{{"memstore", mem}, {"boltstore", bolt}}
}

// BenchmarkBare is the baseline: the handler alone.
func BenchmarkBare(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
	r.Header.Set("Accept", "text/html")
	b.ReportAllocs()
	for b.Loop() {
		serve(b, bareHandler, r)
	}
}

// BenchmarkProtected is the same handler behind RequireLogin, with alice's
// session: one store read, one decryption, the user decoded, no write
// (Touch writes at most once a minute).
func BenchmarkProtected(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	for _, st := range storeConfigs(b, srv) {
		auth, r, _ := signedIn(b, srv, st.cfg, "alice")
		h := auth.RequireLogin(bareHandler)
		b.Run(st.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, r)
			}
		})
	}
}

// BenchmarkProtectedVsBare times bare and protected requests interleaved
// in the same run, in alternating batches, so that a shared machine slows
// both alike; it reports each one's ns/request and ratio, the protected
// throughput as a fraction of the bare one. (Its own ns/op is that of one
// batch pair and means little.)
func BenchmarkProtectedVsBare(b *testing.B) {
	const batch = 64
	srv := entratest.NewServer(b, nil)
	for _, st := range storeConfigs(b, srv) {
		auth, r, _ := signedIn(b, srv, st.cfg, "alice")
		h := auth.RequireLogin(bareHandler)
		b.Run(st.name, func(b *testing.B) {
			var bare, prot time.Duration
			var n int
			b.ReportAllocs()
			for b.Loop() {
				// Alternate which goes first, so neither always runs on
				// the other's warm (or cold) caches.
				first, second, d1, d2 := http.Handler(bareHandler), h, &bare, &prot
				if n%2 == 1 {
					first, second, d1, d2 = h, bareHandler, &prot, &bare
				}
				t0 := time.Now()
				for range batch {
					serve(b, first, r)
				}
				t1 := time.Now()
				for range batch {
					serve(b, second, r)
				}
				t2 := time.Now()
				*d1 += t1.Sub(t0)
				*d2 += t2.Sub(t1)
				n++
			}
			reqs := float64(n * batch)
			b.ReportMetric(float64(bare.Nanoseconds())/reqs, "bare-ns/req")
			b.ReportMetric(float64(prot.Nanoseconds())/reqs, "protected-ns/req")
			b.ReportMetric(float64(bare)/float64(prot), "ratio")
		})
	}
}

// sizeStore remembers the size of what is stored under each key: key plus
// sealed value, the bytes a store must keep (its own per-entry overhead,
// such as bolt's 8-byte expiry and page headers, not counted).
type sizeStore struct {
	session.Store
	mu    sync.Mutex
	sizes map[string]int
}

func (s *sizeStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	s.sizes[key] = len(key) + len(data)
	s.mu.Unlock()
	return s.Store.Commit(ctx, key, data, expiry)
}

func (s *sizeStore) Delete(ctx context.Context, key string) error {
	s.mu.Lock()
	delete(s.sizes, key)
	s.mu.Unlock()
	return s.Store.Delete(ctx, key)
}

// total sums the sizes under keys starting with prefix ("" for all).
func (s *sizeStore) total(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.sizes {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

// BenchmarkSessionBytes reports what one signed-in user costs in the
// session store (bytes/user: the session record, session-bytes/user, plus
// the user's token cache, tokencache-bytes/user) and in every request's
// Cookie header (cookie-bytes, its name=value), for alice (two groups in
// her token) and erin (250 groups: the overage, so her token has no
// groups list). Its loop is a protected request as that user on a memory
// store.
func BenchmarkSessionBytes(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	key := make([]byte, session.KeySize)
	rand.Read(key)
	for _, user := range []string{"alice", "erin"} {
		store := &sizeStore{Store: memstore.New(), sizes: map[string]int{}}
		cfg := testConfig(srv)
		cfg.Store = store
		cfg.Session.Key = entraweb.Secret(base64.StdEncoding.EncodeToString(key))
		auth, r, cookie := signedIn(b, srv, cfg, user)
		h := auth.RequireLogin(bareHandler)
		b.Run(user, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, r)
			}
			b.ReportMetric(float64(store.total("")), "bytes/user")
			b.ReportMetric(float64(store.total("s:")), "session-bytes/user")
			b.ReportMetric(float64(store.total("tc:")), "tokencache-bytes/user")
			b.ReportMetric(float64(len(cookie.Name)+1+len(cookie.Value)), "cookie-bytes")
		})
	}
}
