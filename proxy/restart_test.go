package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/redistest"
	"github.com/entraweb/entraweb/proxy"
	_ "github.com/entraweb/entraweb/session/boltstore"
	_ "github.com/entraweb/entraweb/session/redisstore"
)

// A proxy restart keeps users signed in and keeps their token caches,
// with sessions in a bolt file or in Redis (restarted too): the access
// token sent to the upstream after the restart is the one from before,
// and the token endpoint is not asked again.
func TestProxyRestartKeepsSessionsAndTokens(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			srv := newEmulator(t)
			up := newUpstream(t)
			cfg := proxy.Config{Entra: testEntraConfig(srv, nil), Upstream: up.URL, AccessTokenScopes: []string{"User.Read"}}
			cfg.Entra.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
			var rs *redistest.Server
			switch store {
			case "bolt":
				cfg.Entra.Session = entraweb.SessionConfig{Store: "bolt", Path: filepath.Join(t.TempDir(), "sessions.db"), Key: cfg.Entra.Session.Key}
			case "redis":
				rs = redistest.Start(t, redistest.Options{})
				cfg.Entra.Session = entraweb.SessionConfig{Store: "redis", RedisURL: entraweb.Secret(rs.URL()), Key: cfg.Entra.Session.Key}
			}
			// One listener for both processes, so the browser's cookies
			// and the redirect URI stay the same across the restart.
			var current http.Handler
			ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { current.ServeHTTP(w, r) }))
			t.Cleanup(ps.Close)
			start := func() *proxy.Handler {
				h, err := proxy.New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				current = h
				return h
			}
			first := start()
			e := &env{srv: srv, up: up, h: first, proxy: ps, url: ps.URL}
			// /readyz asks the store the proxy has open, and opens no
			// other: with Redis, no new connection (each INFO below is one
			// of its own).
			conns := func() int {
				if rs == nil {
					return 0
				}
				info, err := rs.Do("INFO", "stats")
				if err != nil {
					t.Fatal(err)
				}
				_, v, _ := strings.Cut(info, "total_connections_received:")
				n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(v, "\n", 2)[0]))
				return n
			}
			before := conns()
			resp, body := do(t, client(nil), "GET", e.url+"/readyz")
			if resp.StatusCode != 200 || !strings.Contains(string(body), `"session store":"ok"`) {
				t.Errorf("/readyz with the %s store: %d %s", store, resp.StatusCode, body)
			}
			if rs != nil {
				if n := conns() - before; n != 1 {
					t.Errorf("/readyz opened %d connections to Redis of its own", n-1)
				}
			}
			b := e.signIn(t, alice)
			resp, body = do(t, client(b), "GET", e.url+"/page", fetchHeaders...)
			tokBefore := echoed(t, resp, body).Header.Get("X-Ms-Token-Aad-Access-Token")
			if resp.StatusCode != 200 || tokBefore == "" {
				t.Fatalf("before the restart: %d, token %v", resp.StatusCode, tokBefore != "")
			}
			first.Close()
			if rs != nil {
				rs.Stop()
				rs.Restart()
			}

			second := start()
			t.Cleanup(func() { second.Close() })
			calls := srv.Calls(entratest.EndpointToken)
			resp, body = do(t, client(b), "GET", e.url+"/page", fetchHeaders...)
			if resp.StatusCode != 200 {
				t.Fatalf("after the restart: %d %s, want still signed in", resp.StatusCode, body)
			}
			if after := echoed(t, resp, body).Header.Get("X-Ms-Token-Aad-Access-Token"); after != tokBefore || srv.Calls(entratest.EndpointToken) != calls {
				t.Errorf("after the restart the token was fetched again (same: %v, token calls +%d)", after == tokBefore, srv.Calls(entratest.EndpointToken)-calls)
			}
		})
	}
}
