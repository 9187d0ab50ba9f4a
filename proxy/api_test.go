package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

const daemonSecret = "emu~daemon-secret-for-proxy-tests"

var (
	writerDaemon = entratest.StableID("app:proxy-writer-daemon")
	idleDaemon   = entratest.StableID("app:proxy-idle-daemon")
)

// apiEmulator is newEmulator's world plus two daemons: one granted
// DemoApp.Write as an application permission, one granted nothing.
func apiEmulator(t *testing.T) *entratest.Server {
	t.Helper()
	cfg := entratest.Default()
	ten := &cfg.Tenants[0]
	app := &ten.Apps[0]
	app.RedirectURIs = append(app.RedirectURIs, "http://127.0.0.1"+proxy.CallbackPath)
	for i := range app.AppRoles {
		app.AppRoles[i].AllowedMemberTypes = []string{"User", "Application"}
	}
	ten.Apps = append(ten.Apps,
		entratest.App{ClientID: writerDaemon, DisplayName: "Writer daemon", Secrets: []entratest.Secret{{Value: daemonSecret}},
			ApplicationPermissions: []string{"api://" + entratest.DemoClientID + "/DemoApp.Write"}},
		entratest.App{ClientID: idleDaemon, DisplayName: "Idle daemon", Secrets: []entratest.Secret{{Value: daemonSecret}}},
	)
	return entratest.NewServer(t, &entratest.Options{Config: cfg})
}

// appToken is what a daemon gets with MSAL Go's client credentials.
func appToken(t *testing.T, srv *entratest.Server, clientID string) string {
	t.Helper()
	cred, err := confidential.NewCredFromSecret(daemonSecret)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := confidential.New(srv.AuthorityFor(entratest.DemoTenantID), clientID, cred,
		confidential.WithHTTPClient(srv.Client()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.AcquireTokenByCredential(context.Background(), []string{"api://" + entratest.DemoClientID + "/.default"})
	if err != nil {
		t.Fatal(err)
	}
	return res.AccessToken
}

// TestAPIPathsTakeBearerTokens: on Proxy:ApiPaths a daemon's and a
// user's access tokens for the app are accepted in place of a cookie,
// with the minimum role and the path rules applied to the caller, and
// the caller's identity passed on; bad tokens get RFC 6750's answers,
// never a redirect, and never reach the upstream.
func TestAPIPathsTakeBearerTokens(t *testing.T) {
	srv := apiEmulator(t)
	up := newUpstream(t)
	cfg := proxy.Config{
		Entra:      testEntraConfig(srv, nil),
		Upstream:   up.URL,
		ApiPaths:   []string{"/api"},
		ApiScope:   "access_as_user",
		ApiAppRole: "DemoApp.Write",
		Rules:      []proxy.Rule{{Path: "/api/admin", Role: "DemoApp.Admin"}},
		Headers:    []string{proxy.HeadersEasyAuth, proxy.HeadersOAuth2Proxy},
	}
	cfg.Entra.MinimumRole = "DemoApp.Read"
	h, err := proxy.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ps := httptest.NewServer(h)
	t.Cleanup(ps.Close)
	e := &env{srv: srv, up: up, h: h, proxy: ps, url: ps.URL}

	// A user's delegated token for the API, from a sign-in through a
	// proxy without the minimum role (dave has no role); a Graph token
	// of the same user.
	minter := newEnv(t, func(c *proxy.Config) { c.Entra = testEntraConfig(srv, nil) })
	minter.srv = srv
	userToken := func(username, scope string) string {
		b := minter.signIn(t, username)
		u, _ := url.Parse(minter.url)
		r := httptest.NewRequest("GET", minter.url+"/", nil)
		for _, c := range b.AppClient().Jar.Cookies(u) {
			r.AddCookie(c)
		}
		tok, err := minter.h.Auth().AccessToken(r, scope)
		if err != nil {
			t.Fatalf("%s's token for %s: %v", username, scope, err)
		}
		return tok
	}
	apiScope := "api://" + entratest.DemoClientID + "/access_as_user"
	carolTok := userToken(carol, apiScope)
	aliceTok := userToken(alice, apiScope)
	daveTok := userToken(dave, apiScope)
	graphTok := userToken(carol, "User.Read")
	writer := appToken(t, srv, writerDaemon)
	idle := appToken(t, srv, idleDaemon)

	noCookies := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range []struct {
		name, path, auth string
		want             int
		challenge        string // in WWW-Authenticate
		caller           string // the oid the upstream must see, "" for none
		app              bool
	}{
		{"daemon with DemoApp.Write", "/api/orders", "Bearer " + writer, 200, "", "app", true},
		{"user with the scope", "/api/orders", "Bearer " + carolTok, 200, "", carol, false},
		{"scheme in another case", "/api/orders", "bearer " + carolTok, 200, "", carol, false},
		{"user under a rule they meet", "/api/admin/x", "Bearer " + aliceTok, 200, "", alice, false},
		{"user under a rule they do not meet", "/api/admin/x", "Bearer " + carolTok, 403, `error="insufficient_scope"`, "", false},
		{"rule path spelled otherwise", "/API//admin/./x", "Bearer " + carolTok, 403, `error="insufficient_scope"`, "", false},
		{"user below the minimum role", "/api/orders", "Bearer " + daveTok, 403, `error="insufficient_scope"`, "", false},
		{"daemon granted nothing", "/api/orders", "Bearer " + idle, 401, `error="invalid_token"`, "", false},
		{"Graph token", "/api/orders", "Bearer " + graphTok, 401, `error="invalid_token"`, "", false},
		{"tampered token", "/api/orders", "Bearer " + carolTok[:len(carolTok)-4] + "AAAA", 401, `error="invalid_token"`, "", false},
		{"not a token", "/api/orders", "Bearer nonsense", 401, `error="invalid_token"`, "", false},
		{"bearer off the API paths", "/page", "Bearer " + carolTok, 401, "", "", false},
		{"no token, no cookie", "/api/orders", "", 401, "", "", false},
		{"another scheme on an API path", "/api/orders", "Basic Y2Fyb2w6cHc=", 401, "Bearer", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.url+tt.path, nil)
			req.Header.Set("Accept", "application/json")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			req.Header.Set("X-MS-CLIENT-PRINCIPAL-ID", "forged")
			resp, err := noCookies.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d: %v", resp.StatusCode, tt.want, body)
			}
			if !strings.Contains(resp.Header.Get("WWW-Authenticate"), tt.challenge) {
				t.Errorf("WWW-Authenticate %q, want %q", resp.Header.Get("WWW-Authenticate"), tt.challenge)
			}
			if tt.want != 200 {
				if _, ok := body["headers"]; ok {
					t.Errorf("a refused call reached the upstream: %v", body)
				}
				return
			}
			var s seen
			b, _ := json.Marshal(body)
			json.Unmarshal(b, &s)
			got := s.Header.Get("X-Ms-Client-Principal-Id")
			if got == "" || got == "forged" {
				t.Fatalf("the upstream saw principal id %q", got)
			}
			if !tt.app && s.Header.Get("X-Ms-Client-Principal-Name") != tt.caller {
				t.Errorf("the upstream saw %q, want %s", s.Header.Get("X-Ms-Client-Principal-Name"), tt.caller)
			}
			if s.Header.Get("Authorization") != tt.auth {
				t.Error("the bearer token was not passed on to the upstream")
			}
			v := proxy.NewAssertionVerifier(e.url+proxy.KeysPath, up.URL, nil)
			c, err := v.VerifyToken(context.Background(), s.Header.Get(proxy.AssertionHeader))
			if err != nil {
				t.Fatalf("assertion: %v", err)
			}
			if c.ObjectID != got || (c.IdentityType == "app") != tt.app {
				t.Errorf("assertion oid %s idtyp %q, principal id %s, app %v", c.ObjectID, c.IdentityType, got, tt.app)
			}
		})
	}
}

// On an API path, an Authorization header is always checked: a signed-in
// browser's request with another scheme, or a bearer token spelled
// loosely, is refused and never reaches the upstream, so what arrives
// there in Authorization was validated. Elsewhere the header passes
// through to the app unchecked, as documented.
func TestAPIPathsCheckEveryAuthorizationHeader(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.ApiPaths = []string{"/api"} })
	c := client(e.signIn(t, carol))
	for _, auth := range []string{"Basic Y2Fyb2w6cHc=", "Bearer\tforged.token.x", "Token forged", "Bearer "} {
		resp, body := do(t, c, "GET", e.url+"/api/orders", "Authorization", auth, "Accept", "application/json")
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "headers") {
			t.Errorf("%q on an API path with a session: %d %s, want 401 and no upstream", auth, resp.StatusCode, body)
		}
	}
	resp, body := do(t, c, "GET", e.url+"/api/orders", "Accept", "application/json")
	if resp.StatusCode != 200 {
		t.Errorf("the session alone on an API path: %d %s", resp.StatusCode, body)
	}
	resp, body = do(t, c, "GET", e.url+"/page", "Authorization", "Basic Y2Fyb2w6cHc=")
	if resp.StatusCode != 200 || echoed(t, resp, body).Header.Get("Authorization") != "Basic Y2Fyb2w6cHc=" {
		t.Errorf("off the API paths the header passes through: %d", resp.StatusCode)
	}
}

func TestAPIPathsConfig(t *testing.T) {
	for _, tt := range []struct {
		cfg  proxy.Config
		want string
	}{
		{proxy.Config{ApiPaths: []string{"api"}}, "Proxy:ApiPaths:0"},
		{proxy.Config{ApiPaths: []string{"/.auth/x"}}, "Proxy:ApiPaths:0"},
		{proxy.Config{ApiScope: "a b"}, "Proxy:ApiScope"},
		{proxy.Config{ApiAppRole: "A,B"}, "Proxy:ApiAppRole"},
		{proxy.Config{MetricsAddress: "9090"}, "Proxy:MetricsAddress"},
		{proxy.Config{MetricsAddress: "127.0.0.1:"}, "Proxy:MetricsAddress"},
	} {
		tt.cfg.Upstream = "http://127.0.0.1:1"
		tt.cfg.Entra = entraweb.Config{TenantID: entratest.DemoTenantID, ClientID: entratest.DemoClientID, ClientSecret: "x"}
		if err := tt.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}
