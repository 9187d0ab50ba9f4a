package entraweb_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"

	_ "github.com/entraweb/entraweb/session/boltstore"
)

// signedInRequest signs alice in to an app and returns a request that
// carries her session, for calling the library directly.
func signedInRequest(b *testing.B, srv *entratest.Server, cfg entraweb.Config) (*entraweb.Auth, *http.Request) {
	a, _ := graphApp(b, srv, cfg)
	br := srv.Browser()
	if _, body, err := br.Visit(context.Background(), a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		b.Fatalf("sign-in: %v %q", err, body)
	}
	// Inside RequireLogin the user is in the request's context already.
	r := requestAs(b, br, a.url)
	u, err := a.auth.User(r)
	if err != nil || u == nil {
		b.Fatalf("no user: %v", err)
	}
	return a.auth, r.WithContext(entraweb.WithUser(r.Context(), u))
}

// BenchmarkAccessTokenCached is AccessToken for a token already cached:
// one store read, one decryption, no MSAL and no network.
func BenchmarkAccessTokenCached(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	for _, store := range []string{"memory", "bolt"} {
		b.Run(store, func(b *testing.B) {
			cfg := graphConfig(srv)
			cfg.Session.Store = store
			path := filepath.Join(b.TempDir(), "s.db")
			if store == "bolt" {
				cfg.Session.Path = path
			}
			auth, r := signedInRequest(b, srv, cfg)
			calls := srv.Calls(entratest.EndpointToken)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := auth.AccessToken(r, "User.Read"); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if srv.Calls(entratest.EndpointToken) != calls {
				b.Fatal("a cached token went to the network")
			}
			// The variant runs on the store it is named after.
			if fi, err := os.Stat(path); (store == "bolt") != (err == nil && fi.Size() > 0) {
				b.Fatalf("%s: the bolt file %s: %v", store, path, err)
			}
		})
	}
}

// userBytesStore records the size of what is committed under each key.
type userBytesStore struct {
	session.Store
	mu    sync.Mutex
	sizes map[string]int
}

func (s *userBytesStore) Commit(ctx context.Context, key string, data []byte, exp time.Time) error {
	s.mu.Lock()
	s.sizes[key] = len(data)
	s.mu.Unlock()
	return s.Store.Commit(ctx, key, data, exp)
}

func (s *userBytesStore) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.sizes {
		n += v
	}
	return n
}

// BenchmarkBytesPerUser signs a user in per iteration (a browser of
// their own, so a session, a token partition and a front-channel index
// entry each) and gets tokens for one resource or three; it reports what
// the store holds per signed-in user.
func BenchmarkBytesPerUser(b *testing.B) {
	srv := entratest.NewServer(b, nil)
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			ss := &userBytesStore{Store: memstore.New(), sizes: map[string]int{}}
			a := newApp(b, srv, withStore(graphConfig(srv), ss))
			scopes := []string{"User.Read", "api://" + entratest.DemoClientID + "/access_as_user", "GroupMember.Read.All"}
			users := 0
			for b.Loop() {
				br := srv.Browser()
				if _, _, err := br.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword); err != nil {
					b.Fatal(err)
				}
				r := requestAs(b, br, a.url)
				for _, sc := range scopes[:n] {
					if _, err := a.auth.AccessToken(r, sc); err != nil {
						b.Fatal(err)
					}
				}
				users++
			}
			b.ReportMetric(float64(ss.total())/float64(users), "bytes/user")
		})
	}
}

func withStore(cfg entraweb.Config, s session.Store) entraweb.Config {
	cfg.Store = s
	cfg.Session.Store = ""
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	return cfg
}
