package entraweb_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session/memstore"
)

// graphApp is an app with a page that calls Microsoft Graph (the
// emulator's) with the user's access token.
func graphApp(t testing.TB, srv *entratest.Server, cfg entraweb.Config) (*app, *memstore.Store) {
	var store *memstore.Store
	if cfg.Session.Store == "" || cfg.Session.Store == "memory" {
		// A store of the test's own, so the test can look into it.
		store = memstore.New()
		cfg.Store = store
	}
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	a := newApp(t, srv, cfg)
	mux := http.NewServeMux()
	mux.Handle("/auth/", a.auth.Routes())
	profile := func(scope string) http.Handler {
		return a.auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := a.auth.AccessToken(r, scope)
			if a.auth.Challenge(w, r, err) {
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), "GET", srv.GraphURL()+"/v1.0/me", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := srv.Client().Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			if err := a.auth.ClaimsChallenge(resp, scope); err != nil {
				a.auth.Challenge(w, r, err)
				return
			}
			var me map[string]any
			json.NewDecoder(resp.Body).Decode(&me)
			fmt.Fprintf(w, "graph %d %v", resp.StatusCode, me["displayName"])
		}))
	}
	mux.Handle("/profile", profile("User.Read"))
	mux.Handle("/mail", profile("Mail.Read"))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	a.url = hs.URL
	return a, store
}

func graphConfig(srv *entratest.Server) entraweb.Config {
	cfg := testConfig(srv)
	cfg.Scopes = []string{"User.Read"}
	return cfg
}

func TestAccessTokenForGraph(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a, store := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if resp, body, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
		t.Fatalf("profile: %v %v %q", err, resp, body)
	}
	// The token from the sign-in is cached: no call to the token endpoint.
	before := srv.Calls(entratest.EndpointToken)
	for range 5 {
		if _, body, _ := b.Visit(ctx, a.url+"/profile", "", ""); body != "graph 200 Alice Admin" {
			t.Fatalf("profile again: %q", body)
		}
	}
	if got := srv.Calls(entratest.EndpointToken); got != before {
		t.Errorf("cached token: %d token endpoint calls", got-before)
	}
	// Sign-out deletes the user's tokens from the store.
	if store.Len() < 3 {
		t.Fatalf("store holds %d entries, want a session and a token cache", store.Len())
	}
	_, body, _ := b.Visit(ctx, a.url+"/auth/logout", "", "")
	csrf := between(body, `name="csrf" value="`, `"`)
	navigate(t, noFollow(b.AppClient().Jar), "POST", a.url+"/auth/logout", map[string][]string{"csrf": {csrf}})
	if store.Len() != 0 {
		t.Errorf("store entries after sign-out: %d, want none (session and token cache gone)", store.Len())
	}
}

// TestSignOutEndsOnlyThisBrowsersTokens: the same user in two browsers;
// signing out in one leaves the other its refresh token.
func TestSignOutEndsOnlyThisBrowsersTokens(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a, _ := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	laptop, phone := srv.Browser(), srv.Browser()
	for _, b := range []*entratest.Browser{laptop, phone} {
		if _, body, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil || body != "graph 200 Alice Admin" {
			t.Fatalf("sign-in: %v %q", err, body)
		}
	}
	_, body, _ := laptop.Visit(ctx, a.url+"/auth/logout", "", "")
	csrf := between(body, `name="csrf" value="`, `"`)
	navigate(t, noFollow(laptop.AppClient().Jar), "POST", a.url+"/auth/logout", map[string][]string{"csrf": {csrf}})
	// A token the phone never had needs its refresh token.
	tok, err := a.auth.AccessToken(requestAs(t, phone, a.url), "api://"+entratest.DemoClientID+"/access_as_user")
	if err != nil || tok == "" {
		t.Fatalf("the other browser lost its tokens at sign-out: %v", err)
	}
	if _, err := a.auth.AccessToken(requestAs(t, laptop, a.url), "User.Read"); !errors.Is(err, entraweb.ErrNotSignedIn) {
		t.Errorf("the signed-out browser: %v", err)
	}
}

func TestIncrementalConsent(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a, _ := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if _, _, err := b.Visit(ctx, a.url+"/profile", "bob@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	// Mail.Read was never consented: the page sends the browser to sign in
	// again asking for it; the emulator shows its consent page, the browser
	// accepts, and the page then gets its token (Graph answers 200: the
	// token carries Mail.Read, and /me accepts any user scope the emulator knows).
	resp, body, err := b.Visit(ctx, a.url+"/mail", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.Request.URL.Path != "/mail" || !strings.HasPrefix(body, "graph ") {
		t.Fatalf("after consent: %s %q", resp.Request.URL, body)
	}
	// An API call gets 401 JSON with a login URL instead of a redirect.
	b2 := srv.Browser()
	if _, _, err := b2.Visit(ctx, a.url+"/profile", "carol@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.url+"/mail", nil)
	req.Header.Set("Accept", "application/json")
	r2, err := noFollow(b2.AppClient().Jar).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var j map[string]string
	json.NewDecoder(r2.Body).Decode(&j)
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized || j["error"] != "interaction_required" || !strings.Contains(j["login_url"], "req=") {
		t.Errorf("API call needing consent: %d %v", r2.StatusCode, j)
	}
	// The step-up link is bound to carol's session: it asks for Mail.Read
	// in her browser, and is a plain sign-in in anyone else's.
	authorizeScope := func(c *http.Client) string {
		t.Helper()
		resp, err := noFollow(c.Jar).Get(j["login_url"])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		return loc.Query().Get("scope")
	}
	if sc := authorizeScope(b2.AppClient()); !strings.Contains(sc, "Mail.Read") {
		t.Errorf("in the session that asked, the sign-in asks for %q", sc)
	}
	b3 := srv.Browser()
	if _, _, err := b3.Visit(ctx, a.url+"/profile", "dave@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*http.Client{"another user's session": b3.AppClient(), "no session": srv.Browser().AppClient()} {
		if sc := authorizeScope(c); strings.Contains(sc, "Mail.Read") {
			t.Errorf("%s: the step-up link still asks for %q", name, sc)
		}
	}
}

func TestRevokedRefreshTokenMeansSignIn(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a, _ := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if _, _, err := b.Visit(ctx, a.url+"/profile", alice, entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	srv.RevokeUser(alice)
	// A token for another resource needs the (revoked) refresh token.
	tok, err := a.auth.AccessToken(requestAs(t, b, a.url), "api://"+entratest.DemoClientID+"/access_as_user")
	if tok != "" || !errorsIsInteraction(err) {
		t.Fatalf("after revocation: %q %v", tok, err)
	}
}

func errorsIsInteraction(err error) bool {
	var ire *entraweb.InteractionRequiredError
	return errors.Is(err, entraweb.ErrInteractionRequired) && errors.As(err, &ire) && len(ire.Scopes) == 1
}

// requestAs is a request carrying the browser's cookies for the app.
func requestAs(t testing.TB, b *entratest.Browser, appURL string) *http.Request {
	r := httptest.NewRequest("GET", appURL+"/", nil)
	u := r.URL
	for _, c := range b.AppClient().Jar.Cookies(u) {
		r.AddCookie(c)
	}
	return r
}

// Many users at once: every token belongs to its user, and a resource
// none of them had a token for is fetched once per user, not once per call.
func TestConcurrentUsersGetTheirOwnTokens(t *testing.T) {
	cfg := entratest.Default()
	const users = 100
	for i := range users {
		cfg.Tenants[0].Users = append(cfg.Tenants[0].Users, entratest.User{
			DisplayName: fmt.Sprintf("Load User %03d", i), Username: fmt.Sprintf("load%03d@contoso.onmicrosoft.com", i),
			Password: entratest.DemoPassword, AppRoles: map[string][]string{entratest.DemoClientID: {"DemoApp.Read"}},
		})
	}
	srv := entratest.NewServer(t, &entratest.Options{Config: cfg})
	a, _ := graphApp(t, srv, graphConfig(srv))
	ctx := context.Background()
	reqs := make([]*http.Request, users)
	oids := make([]string, users)
	for i := range users {
		b := srv.Browser()
		name := fmt.Sprintf("load%03d@contoso.onmicrosoft.com", i)
		if _, body, err := b.Visit(ctx, a.url+"/profile", name, entratest.DemoPassword); err != nil || !strings.HasPrefix(body, "graph 200") {
			t.Fatalf("%s: %v %q", name, err, body)
		}
		reqs[i] = requestAs(t, b, a.url)
		oids[i] = entratest.StableID("user:" + name)
	}
	api := "api://" + entratest.DemoClientID + "/access_as_user"
	calls := 1000
	if testing.Short() {
		calls = 100
	}
	before := srv.Calls(entratest.EndpointToken)
	var errs, wrong atomic.Int64
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range calls {
				scope := "User.Read"
				if j%2 == 1 {
					scope = api
				}
				tok, err := a.auth.AccessToken(reqs[i], scope)
				if err != nil {
					errs.Add(1)
					continue
				}
				if oidOf(tok) != oids[i] {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if errs.Load() != 0 || wrong.Load() != 0 {
		t.Errorf("%d errors, %d tokens of another user", errs.Load(), wrong.Load())
	}
	if got := srv.Calls(entratest.EndpointToken) - before; got != users {
		t.Errorf("token endpoint calls = %d, want %d (one refresh per user for the API token)", got, users)
	}
}

func oidOf(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return ""
	}
	b, _ := base64URLDecode(parts[1])
	var c struct {
		OID string `json:"oid"`
	}
	json.Unmarshal(b, &c)
	return c.OID
}

func base64URLDecode(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(s)
}
