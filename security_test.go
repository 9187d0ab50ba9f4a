package entraweb_test

// Tests that hold entraweb to the OWASP ASVS and OpenID Connect
// relying-party rules docs/security.md maps, where no other test did.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"
)

const testSessionKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// get sends a request with only the given cookie, as someone holding a
// copy of it would, and returns the response.
func getWithCookie(t *testing.T, u string, c *http.Cookie, navigation bool) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if navigation {
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
	}
	req.AddCookie(c)
	resp, err := noFollow(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestSignedOutCookieOpensNothing (ASVS V3.3.1): after sign-out, a copy
// of the session cookie taken before (the back button, a stolen cookie)
// opens nothing: the session is deleted on the server, not only in the
// browser.
func TestSignedOutCookieOpensNothing(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if resp, _, err := b.Visit(ctx, a.url+"/admin", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v", err)
	}
	old := sessionCookie(b.AppClient().Jar, a.url)
	if old == nil {
		t.Fatal("no session cookie")
	}
	if resp := getWithCookie(t, a.url+"/auth/me", old, false); resp.StatusCode != 200 {
		t.Fatalf("before sign-out, the cookie does not work: %d", resp.StatusCode)
	}
	_, body, _ := b.Visit(ctx, a.url+"/auth/logout", "", "")
	resp := navigate(t, noFollow(b.AppClient().Jar), "POST", a.url+"/auth/logout", url.Values{"csrf": {between(body, `name="csrf" value="`, `"`)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	expired := false
	for _, c := range resp.Cookies() {
		if c.Name == old.Name && c.MaxAge < 0 {
			expired = true
		}
	}
	if !expired {
		t.Errorf("sign-out did not expire the cookie in the browser: %q", resp.Header["Set-Cookie"])
	}
	if resp := getWithCookie(t, a.url+"/auth/me", old, false); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/auth/me with the old cookie after sign-out: %d, want 401", resp.StatusCode)
	}
	resp = getWithCookie(t, a.url+"/admin", old, true)
	if resp.StatusCode != http.StatusFound || !strings.Contains(resp.Header.Get("Location"), "/auth/login") {
		t.Errorf("/admin with the old cookie after sign-out: %d to %q, want a sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestSignOutCSRFTokenIsPerSession (ASVS V4.2.2): the CSRF token of the
// sign-out form belongs to one session. An attacker who signs in and
// reads the token of their own form cannot use it to sign a victim out.
func TestSignOutCSRFTokenIsPerSession(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	victim, attacker := srv.Browser(), srv.Browser()
	for who, b := range map[string]*entratest.Browser{alice: victim, "bob@contoso.onmicrosoft.com": attacker} {
		if resp, _, err := b.Visit(ctx, a.url+"/", who, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign-in of %s: %v", who, err)
		}
	}
	victimCookie := sessionCookie(victim.AppClient().Jar, a.url)
	_, page, _ := attacker.Visit(ctx, a.url+"/auth/logout", "", "")
	theirs := between(page, `name="csrf" value="`, `"`)
	_, page, _ = victim.Visit(ctx, a.url+"/auth/logout", "", "")
	mine := between(page, `name="csrf" value="`, `"`)
	if theirs == "" || mine == "" || theirs == mine {
		t.Fatalf("CSRF tokens: attacker %q, victim %q; want two different tokens", theirs, mine)
	}
	for _, forged := range []url.Values{{"csrf": {theirs}}, {"csrf": {""}}, {}} {
		if resp := navigate(t, noFollow(victim.AppClient().Jar), "POST", a.url+"/auth/logout", forged); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with csrf %q: %d, want 403", forged.Get("csrf"), resp.StatusCode)
		}
	}
	if resp := getWithCookie(t, a.url+"/auth/me", victimCookie, false); resp.StatusCode != 200 {
		t.Errorf("the victim was signed out by a forged request: %d", resp.StatusCode)
	}
}

// TestSessionIDNeverInURL (ASVS V3.1.1): the session id travels in the
// cookie only: no redirect of the sign-in or sign-out, and no page or
// JSON answer of entraweb, carries it.
func TestSessionIDNeverInURL(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	b := srv.Browser()
	jar := b.AppClient().Jar
	var seen []string // every URL and body of the flow
	authURL := startLogin(t, jar, a.url, "/")
	cb := callbackURL(t, srv, b, authURL, alice)
	resp := navigate(t, noFollow(jar), "GET", cb, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	seen = append(seen, authURL, cb, resp.Header.Get("Location"))
	id := sessionCookie(jar, a.url)
	if id == nil {
		t.Fatal("no session cookie")
	}
	for _, path := range []string{"/", "/auth/me", "/admin", "/auth/logout"} {
		resp := navigate(t, noFollow(jar), "GET", a.url+path, nil)
		body, _ := io.ReadAll(resp.Body)
		seen = append(seen, resp.Header.Get("Location"), string(body))
		if path == "/auth/logout" {
			out := navigate(t, noFollow(jar), "POST", a.url+path, url.Values{"csrf": {between(string(body), `name="csrf" value="`, `"`)}})
			seen = append(seen, out.Header.Get("Location"))
			if out.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-out: %d", out.StatusCode)
			}
			break
		}
	}
	for _, s := range seen {
		if strings.Contains(s, id.Value) {
			t.Errorf("the session id appears in %.200q", s)
		}
	}
}

// recordingStore keeps a copy of everything committed to the store it
// wraps: what a reader of the store (a backup, a replica, a dump) sees.
type recordingStore struct {
	session.Store
	mu      sync.Mutex
	commits map[string][]byte
}

func (s *recordingStore) Commit(ctx context.Context, key string, data []byte, expiry time.Time) error {
	s.mu.Lock()
	s.commits[key] = bytes.Clone(data)
	s.mu.Unlock()
	return s.Store.Commit(ctx, key, data, expiry)
}

// TestTokensEncryptedAtRest: the session records, the token cache
// partitions (refresh token, access and ID tokens, MSAL's account) and
// the front-channel logout index reach the store sealed. A reader of the
// store finds no token, no claim and no MSAL cache field in the clear.
func TestTokensEncryptedAtRest(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	store := &recordingStore{Store: memstore.New(), commits: map[string][]byte{}}
	cfg := testConfig(srv)
	cfg.Store = store
	cfg.Session.Key = testSessionKey
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	var tok string
	mux := http.NewServeMux()
	mux.Handle("/auth/", auth.Routes())
	mux.Handle("/", auth.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error
		tok, err = auth.AccessToken(r, "User.Read")
		fmt.Fprint(w, err)
	})))
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	resp, body, err := srv.Browser().Visit(context.Background(), hs.URL+"/", alice, entratest.DemoPassword)
	if err != nil || resp.StatusCode != 200 || body != "<nil>" || strings.Count(tok, ".") != 2 {
		t.Fatalf("sign-in and access token: %v %d %q", err, resp.StatusCode, body)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	kinds := map[string]bool{}
	for key, data := range store.commits {
		kinds[strings.SplitN(key, ":", 2)[0]] = true
		for _, clear := range []string{
			tok, tok[:40], // the access token, and the start of it (the JWT header)
			"RefreshToken", "AccessToken", "IdToken", "Account", // MSAL's cache fields
			alice, "Alice Admin", entratest.DemoTenantID, "DemoApp.Admin", // claims
		} {
			if bytes.Contains(data, []byte(clear)) {
				t.Errorf("the record %s holds %.40q in the clear", key, clear)
			}
		}
	}
	if len(store.commits) < 3 {
		t.Errorf("only %d records committed (%v); the test expects the session, the token cache and its index", len(store.commits), kinds)
	}
}

// TestMinimumRoleCheckedOnEveryRequest (ASVS V4.1.1, V4.1.3): the
// minimum role is enforced on each request, on the server, not only when
// a session starts: a session of a user without it (started when the
// app did not ask for it, here by a second instance sharing the store)
// reaches no protected handler.
func TestMinimumRoleCheckedOnEveryRequest(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	shared := memstore.New()
	open := testConfig(srv)
	open.Store, open.Session.Key = shared, testSessionKey
	strict := open
	strict.MinimumRole = "DemoApp.Read"
	before, after := newApp(t, srv, open), newApp(t, srv, strict)
	for _, tt := range []struct {
		user string
		want int
	}{
		{"dave@contoso.onmicrosoft.com", http.StatusForbidden}, // no role at all
		{"carol@contoso.onmicrosoft.com", http.StatusOK},       // DemoApp.Read
	} {
		b := srv.Browser()
		if resp, _, err := b.Visit(context.Background(), before.url+"/", tt.user, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s signs in where no role is needed: %v", tt.user, err)
		}
		c := sessionCookie(b.AppClient().Jar, before.url)
		for _, path := range []string{"/", "/api/data", "/read"} {
			if resp := getWithCookie(t, after.url+path, c, true); resp.StatusCode != tt.want {
				t.Errorf("%s on %s where DemoApp.Read is the minimum: %d, want %d", tt.user, path, resp.StatusCode, tt.want)
			}
		}
	}
}

// formCapture records the form of each token endpoint request the app
// sends, then passes it on.
type formCapture struct {
	base  http.RoundTripper
	mu    sync.Mutex
	forms []url.Values
}

func (c *formCapture) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token") && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
		f, _ := url.ParseQuery(string(body))
		c.mu.Lock()
		c.forms = append(c.forms, f)
		c.mu.Unlock()
	}
	return c.base.RoundTrip(r)
}

// TestAuthorizationRequest (OIDC Core §3.1.2.1, RFC 9700 §2.1.1, §4.1,
// RFC 7636): every sign-in is the authorization code flow (no implicit
// or hybrid response type, the code in the query), with a fresh 256-bit
// state and nonce, and PKCE with S256 whose verifier, sent only to the
// token endpoint, hashes to the challenge; the redirect URI of the code
// redemption is exactly the one of the authorization request.
func TestAuthorizationRequest(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	capture := &formCapture{base: srv.Client().Transport}
	cfg := testConfig(srv)
	cfg.HTTPClient = &http.Client{Transport: capture, Timeout: 30 * time.Second}
	a := newApp(t, srv, cfg)
	b := srv.Browser()
	seen := map[string]bool{}
	var first url.Values
	for i := range 2 {
		authURL := startLogin(t, b.AppClient().Jar, a.url, "/")
		u, err := url.Parse(authURL)
		if err != nil || !strings.HasPrefix(authURL, srv.Authority()+"/oauth2/v2.0/authorize?") {
			t.Fatalf("authorize URL %q", authURL)
		}
		q := u.Query()
		if i == 0 {
			first = q
		}
		for k, want := range map[string]string{
			"response_type": "code", "response_mode": "query", "code_challenge_method": "S256",
			"client_id": entratest.DemoClientID, "redirect_uri": a.url + "/auth/callback",
		} {
			if q.Get(k) != want {
				t.Errorf("%s = %q, want %q", k, q.Get(k), want)
			}
		}
		if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
			t.Errorf("scope %q has no openid", q.Get("scope"))
		}
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := q.Get(k)
			if raw, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(raw) < 32 {
				t.Errorf("%s %q is not 256 bits of base64url", k, v)
			}
			if seen[v] {
				t.Errorf("%s %q reused by a second sign-in", k, v)
			}
			seen[v] = true
		}
	}
	// Finish the first sign-in: both are pending in this browser.
	cb := callbackURL(t, srv, b, srv.Authority()+"/oauth2/v2.0/authorize?"+first.Encode(), alice)
	if resp := navigate(t, noFollow(b.AppClient().Jar), "GET", cb, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	capture.mu.Lock()
	defer capture.mu.Unlock()
	var redeem url.Values
	for _, f := range capture.forms {
		if f.Get("grant_type") == "authorization_code" {
			redeem = f
		}
	}
	if redeem == nil {
		t.Fatal("no code redemption seen")
	}
	v := redeem.Get("code_verifier")
	sum := sha256.Sum256([]byte(v))
	if len(v) < 43 || len(v) > 128 || base64.RawURLEncoding.EncodeToString(sum[:]) != first.Get("code_challenge") {
		t.Errorf("code_verifier %q (%d chars) does not hash to the challenge %q", v, len(v), first.Get("code_challenge"))
	}
	if strings.Contains(first.Encode(), v) || strings.Contains(cb, v) {
		t.Error("the verifier travelled through the browser")
	}
	if redeem.Get("redirect_uri") != first.Get("redirect_uri") {
		t.Errorf("redeemed with redirect_uri %q, authorized with %q", redeem.Get("redirect_uri"), first.Get("redirect_uri"))
	}
}

// TestOperatorMistakesStopTheApp: configurations that would weaken the
// security model make New fail with the key to fix, rather than run: a
// plain-http authority, a store built in code without a session key, and
// a provider whose discovery document points tokens or keys at plain
// http.
func TestOperatorMistakesStopTheApp(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	// A provider of the test's own whose metadata sends keys and tokens
	// over plain http.
	var bad *httptest.Server
	bad = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := bad.URL + "/" + entratest.DemoTenantID
		fmt.Fprintf(w, `{"issuer":%q,"authorization_endpoint":%q,"token_endpoint":%q,"jwks_uri":%q}`,
			base+"/v2.0", base+"/oauth2/v2.0/authorize", strings.Replace(base, "https:", "http:", 1)+"/oauth2/v2.0/token",
			strings.Replace(base, "https:", "http:", 1)+"/discovery/v2.0/keys")
	}))
	t.Cleanup(bad.Close)
	tests := []struct {
		name   string
		change func(*entraweb.Config)
		want   string
	}{
		{"http authority", func(c *entraweb.Config) { c.Instance = strings.Replace(srv.URL, "https:", "http:", 1) + "/" }, "AzureAd:Instance"},
		{"store in code without a key", func(c *entraweb.Config) { c.Store = memstore.New() }, "Session:Key is required"},
		{"tokens and keys over http", func(c *entraweb.Config) { c.Instance, c.HTTPClient = bad.URL+"/", bad.Client() }, "no valid https token_endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(srv)
			tt.change(&cfg)
			auth, err := entraweb.New(context.Background(), cfg)
			if err == nil {
				auth.Close()
				t.Fatal("New accepted the configuration")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v; want it to mention %q", err, tt.want)
			}
		})
	}
}

// TestSignOutPageCannotBeFramed: the confirmation page, whose one button
// signs the user out, cannot be framed by another site (a click on a
// hidden frame would be a CSRF by other means), posts only to this app,
// and is never cached.
func TestSignOutPageCannotBeFramed(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	b := srv.Browser()
	resp, _, err := b.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v", err)
	}
	resp, body, err := b.Visit(context.Background(), a.url+"/auth/logout", "", "")
	if err != nil || !strings.Contains(body, `name="csrf"`) {
		t.Fatalf("no confirmation page: %v %.200s", err, body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "form-action 'self' ", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// TestCallbackErrorNeedsItsState (OIDC Core §3.1.2.7): an error answer
// at the callback counts only for a sign-in this browser started; one
// with a made-up state is refused like any other unknown state, so
// another site cannot show the user a forged provider error.
func TestCallbackErrorNeedsItsState(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	b := srv.Browser()
	startLogin(t, b.AppClient().Jar, a.url, "/")
	q := url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent."}, "state": {"made-up"}}
	resp := navigate(t, noFollow(b.AppClient().Jar), "GET", a.url+"/auth/callback?"+q.Encode(), nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "did not start in this browser") {
		t.Errorf("%d %.300s", resp.StatusCode, body)
	}
}
