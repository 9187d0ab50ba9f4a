package entraweb

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"

	_ "github.com/entraweb/entraweb/session/boltstore"
	_ "github.com/entraweb/entraweb/session/redisstore"
)

// The signed-in request at every scale: RequireLogin in front of a bare
// handler, on each store, in four cases.
//
//   - hit: one session asked again and again, as a busy user's requests
//     are: its record is the very bytes seen before, so neither it nor
//     its user is decoded again.
//   - touch: the record changed since it was last seen (the request after
//     a last-seen write, or after another instance wrote it): it is
//     decrypted and decoded; its user is not (the same user text).
//   - miss: every request decrypts and decodes record and user, as the
//     first request of each session on a fresh instance does.
//   - sessions=N: N sessions of N different users in the store, asked at
//     random: the caches hold 10,000, so most requests miss.
//
// Each variant checks that it exercises what its name says (cache hits
// and decodes are counted) and reports allocations per request.

var hotBare = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })

func hotConfig(srv *entratest.Server, store, path, redisURL string) Config {
	cfg := Config{
		Instance: srv.URL + "/", TenantID: entratest.DemoTenantID, ClientID: entratest.DemoClientID,
		ClientSecret: entratest.DemoClientSecret, HTTPClient: srv.Client(),
		Logger:              slog.New(slog.DiscardHandler),
		SkipCredentialCheck: true,
		Session:             SessionConfig{Store: store, Path: path, Key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
	}
	if store == "redis" {
		cfg.Session.RedisURL = Secret(redisURL)
	}
	return cfg
}

// hotSessions starts n sessions of n different users directly in the
// store (a sign-in's result without the sign-in) and returns a request
// carrying each one's cookie.
func hotSessions(b *testing.B, a *Auth, n int) []*http.Request {
	b.Helper()
	reqs := make([]*http.Request, n)
	for i := range n {
		u := &User{Name: fmt.Sprintf("User %d", i), Username: fmt.Sprintf("user%d@contoso.example", i),
			ObjectID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), TenantID: entratest.DemoTenantID,
			AssignedRoles: []string{"DemoApp.Read"}, Groups: []string{"g1", "g2"}, SignedInAt: time.Now().UTC().Truncate(time.Second),
			tokens: randomToken()}
		raw := encodeUser(u)
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
		if _, err := a.sessions.Start(context.Background(), w, r, map[string]string{valUser: raw, valCSRF: randomToken()}); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
		req.Header.Set("Accept", "text/html")
		for _, c := range w.Result().Cookies() {
			req.AddCookie(c)
		}
		reqs[i] = req
	}
	return reqs
}

func hotServe(b *testing.B, h http.Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("status %d: %.200s", w.Code, w.Body)
	}
}

func BenchmarkHotBare(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "http://app.test/", nil)
	r.Header.Set("Accept", "text/html")
	b.ReportAllocs()
	for b.Loop() {
		hotServe(b, hotBare, r)
	}
}

func BenchmarkHotProtected(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	stores := []struct{ name, store string }{{"memory", "memory"}, {"bolt", "bolt"}, {"redis", "redis"}}
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			var redisURL string
			if st.store == "redis" {
				redisURL = redistest.Start(b, redistest.Options{}).URL()
			}
			path := ""
			if st.store == "bolt" {
				path = filepath.Join(b.TempDir(), "sessions.db")
			}
			a, err := New(context.Background(), hotConfig(srv, st.store, path, redisURL))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { a.Close() })
			h := a.RequireLogin(hotBare)
			one := hotSessions(b, a, 1)[0]
			for _, c := range []struct {
				name               string
				sessions, userHits bool // caches on
			}{{"hit", true, true}, {"touch", false, true}, {"miss", false, false}} {
				b.Run(c.name, func(b *testing.B) {
					if !c.sessions {
						a.sessions.OpenedCacheSize = -1
					}
					a.users.off = !c.userHits
					defer func() { a.sessions.OpenedCacheSize, a.users.off = 0, false }()
					hotServe(b, h, one) // warm what this case keeps warm
					decodes := a.users.decodes.Load()
					b.ReportAllocs()
					for b.Loop() {
						hotServe(b, h, one)
					}
					b.StopTimer()
					perReq := float64(a.users.decodes.Load()-decodes) / float64(b.N)
					if (c.userHits && perReq > 0) || (!c.userHits && perReq < 1) {
						b.Fatalf("%s: %.2f user decodes per request: the case does not run as named", c.name, perReq)
					}
				})
			}
			n := 100_000
			if st.store == "bolt" {
				n = 20_000 // each bolt commit syncs the file: 100,000 take minutes to set up
			}
			b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
				reqs := hotSessions(b, a, n)
				rnd := rand.New(rand.NewPCG(1, 2))
				decodes := a.users.decodes.Load()
				b.ReportAllocs()
				for b.Loop() {
					hotServe(b, h, reqs[rnd.IntN(n)])
				}
				b.StopTimer()
				b.ReportMetric(float64(a.users.decodes.Load()-decodes)/float64(b.N), "user-decodes/req")
			})
		})
	}
}
