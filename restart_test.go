package entraweb_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/internal/oidc"
	"github.com/entraweb/entraweb/internal/redistest"
	_ "github.com/entraweb/entraweb/session/redisstore"
)

// An app restart (and, for Redis, a Redis restart too) keeps users
// signed in and keeps their token caches: the token fetched before the
// restart is served after it without a call to the token endpoint.
func TestRestartKeepsSessionsAndTokens(t *testing.T) {
	for _, store := range []string{"bolt", "redis"} {
		t.Run(store, func(t *testing.T) {
			srv := entratest.NewServer(t, nil)
			cfg := testConfig(srv)
			cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
			var rs *redistest.Server
			switch store {
			case "bolt":
				cfg.Session.Store, cfg.Session.Path = "bolt", filepath.Join(t.TempDir(), "sessions.db")
			case "redis":
				rs = redistest.Start(t, redistest.Options{})
				cfg.Session.Store, cfg.Session.RedisURL = "redis", entraweb.Secret(rs.URL())
			}
			first := newApp(t, srv, cfg)
			b := srv.Browser()
			if resp, _, err := b.Visit(context.Background(), first.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
				t.Fatalf("sign-in: %v %v", err, resp)
			}
			before, err := first.auth.AccessToken(requestAs(t, b, first.url), apiScope)
			if err != nil {
				t.Fatal(err)
			}
			first.auth.Close()
			if rs != nil {
				rs.Stop()
				rs.Restart()
			}

			second := newApp(t, srv, cfg)
			calls := srv.Calls(entratest.EndpointToken)
			resp, err := b.AppClient().Get(second.url + "/auth/me")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("after the restart /auth/me answered %d: the session is gone", resp.StatusCode)
			}
			after, err := second.auth.AccessToken(requestAs(t, b, second.url), apiScope)
			if err != nil {
				t.Fatal(err)
			}
			if after != before || srv.Calls(entratest.EndpointToken) != calls {
				t.Errorf("after the restart the token was fetched again (same token: %v, token calls +%d): the token cache was lost",
					after == before, srv.Calls(entratest.EndpointToken)-calls)
			}
			// The refresh token came through the restart too: a token for
			// another resource is one refresh, not a new sign-in.
			if _, err := second.auth.AccessToken(requestAs(t, b, second.url), "User.Read"); err != nil {
				t.Errorf("a new token after the restart: %v", err)
			}
		})
	}
}

// During a full outage of the identity provider, signed-in users keep
// working: pages, /auth/me and cached access tokens need no provider. A
// token that must be refreshed fails as an outage (never as "sign in
// again"), and succeeds once the provider is back, for a user who is
// still signed in.
func TestProviderOutageKeepsSignedInUsersWorking(t *testing.T) {
	for _, outage := range []entratest.Outage{entratest.Outage503, entratest.OutageReset} {
		t.Run(outageName(outage), func(t *testing.T) {
			srv := entratest.NewServer(t, nil)
			a := newApp(t, srv, testConfig(srv))
			b := srv.Browser()
			if resp, _, err := b.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
				t.Fatalf("sign-in: %v %v", err, resp)
			}
			cached, err := a.auth.AccessToken(requestAs(t, b, a.url), apiScope)
			if err != nil {
				t.Fatal(err)
			}

			srv.SetOutage(outage)
			for _, page := range []string{"/", "/read", "/admin", "/auth/me"} {
				resp, err := b.AppClient().Get(a.url + page)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s during the outage: %d", page, resp.StatusCode)
				}
			}
			if tok, err := a.auth.AccessToken(requestAs(t, b, a.url), apiScope); err != nil || tok != cached {
				t.Errorf("the cached token during the outage: %v (same: %v)", err, tok == cached)
			}
			_, err = a.auth.AccessToken(requestAs(t, b, a.url), "User.Read")
			if !errors.Is(err, oidc.ErrProviderUnavailable) || errors.Is(err, entraweb.ErrInteractionRequired) {
				t.Errorf("a refresh during the outage: %v, want the provider's outage (and not a sign-in)", err)
			}

			srv.SetOutage(entratest.OutageNone)
			if _, err := a.auth.AccessToken(requestAs(t, b, a.url), "User.Read"); err != nil {
				t.Errorf("the refresh once the provider is back: %v", err)
			}
			resp, err := b.AppClient().Get(a.url + "/auth/me")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("after the outage: %d, want still signed in", resp.StatusCode)
			}
		})
	}
}

func outageName(o entratest.Outage) string {
	switch o {
	case entratest.Outage503:
		return "503"
	case entratest.OutageReset:
		return "reset"
	}
	return "none"
}
