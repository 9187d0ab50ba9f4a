package entraweb_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb"
	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/session"
	"github.com/entraweb/entraweb/session/memstore"

	_ "github.com/entraweb/entraweb/session/boltstore"
)

const alice = "alice@contoso.onmicrosoft.com"

// noFollow is a client that shows each redirect instead of following it.
func noFollow(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func navigate(t testing.TB, c *http.Client, method, u string, form url.Values) *http.Response {
	t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// startLogin asks the app to start a sign-in and returns the authorize
// URL it redirected to; the pending cookie lands in jar.
func startLogin(t testing.TB, jar http.CookieJar, appURL, ret string) string {
	t.Helper()
	resp := navigate(t, noFollow(jar), "GET", appURL+"/auth/login?return="+url.QueryEscape(ret), nil)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

// callbackURL signs in at the emulator and returns the app callback URL
// it sent the browser to.
func callbackURL(t *testing.T, srv *entratest.Server, b *entratest.Browser, authURL, user string) string {
	t.Helper()
	cb, err := b.SignIn(context.Background(), authURL, user, entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	return cb.URL.String() + "?" + cb.Params.Encode()
}

func sessionCookie(jar http.CookieJar, appURL string) *http.Cookie {
	u, _ := url.Parse(appURL)
	for _, c := range jar.Cookies(u) {
		if strings.HasSuffix(c.Name, "entraweb_session") {
			return c
		}
	}
	return nil
}

func TestSessionFixation(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	// The attacker signs in and plants their session cookie in the victim's browser.
	attacker := srv.Browser()
	if _, _, err := attacker.Visit(ctx, a.url+"/", "bob@contoso.onmicrosoft.com", entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	planted := sessionCookie(attacker.AppClient().Jar, a.url)
	if planted == nil {
		t.Fatal("attacker has no session cookie")
	}
	victim := srv.Browser()
	u, _ := url.Parse(a.url)
	victim.AppClient().Jar.SetCookies(u, []*http.Cookie{{Name: planted.Name, Value: planted.Value, Path: "/"}})
	// The planted session is the attacker's: the app shows it...
	if _, body, _ := victim.Visit(ctx, a.url+"/", "", ""); !strings.Contains(body, "Bob") {
		t.Fatalf("planted cookie not in use: %q", body)
	}
	// ...until the victim signs in, which must start a fresh session.
	victim.AppClient().Jar.SetCookies(u, []*http.Cookie{{Name: planted.Name, Value: planted.Value, Path: "/"}})
	resp := navigate(t, noFollow(victim.AppClient().Jar), "GET", callbackURL(t, srv, victim, startLogin(t, victim.AppClient().Jar, a.url, "/"), alice), nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("callback: %d", resp.StatusCode)
	}
	now := sessionCookie(victim.AppClient().Jar, a.url)
	if now == nil || now.Value == planted.Value {
		t.Fatal("the session id was not rotated at sign-in")
	}
	// The planted id no longer opens any session, so the attacker is out.
	c := noFollow(nil)
	req, _ := http.NewRequest("GET", a.url+"/auth/me", nil)
	req.AddCookie(&http.Cookie{Name: planted.Name, Value: planted.Value})
	r2, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("the planted session still works after the victim's sign-in: %d", r2.StatusCode)
	}
}

func TestCookieAttributes(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	for _, tt := range []struct {
		name       string
		publicBase string
		cookie     string
		secure     bool
	}{
		{"http", "", "entraweb_session", false},
		{"https", "https://localhost", "__Host-entraweb_session", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(srv)
			cfg.PublicBaseURL = tt.publicBase
			a := newApp(t, srv, cfg)
			jar, _ := cookiejar.New(nil)
			authURL := startLogin(t, jar, a.url, "/")
			cb := callbackURL(t, srv, srv.Browser(), authURL, alice)
			// The callback goes to the app itself whatever its public URL.
			cbu, _ := url.Parse(cb)
			appu, _ := url.Parse(a.url)
			cbu.Scheme, cbu.Host = appu.Scheme, appu.Host
			req, _ := http.NewRequest("GET", cbu.String(), nil)
			for _, c := range jar.Cookies(appu) {
				req.AddCookie(c)
			}
			// The pending cookie is Secure on https, so the jar would not
			// send it over the test's plain http: pass it by hand.
			resp, err := noFollow(nil).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			var sc *http.Cookie
			for _, c := range resp.Cookies() {
				if c.Name == tt.cookie {
					sc = c
				}
			}
			if resp.StatusCode != http.StatusSeeOther || sc == nil {
				t.Fatalf("callback %d, cookies %v", resp.StatusCode, resp.Header["Set-Cookie"])
			}
			if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Secure != tt.secure || sc.Domain != "" {
				t.Errorf("cookie attributes: %+v", sc)
			}
			if len(sc.Value) != 43 || len(sc.Name)+1+len(sc.Value) > 100 {
				t.Errorf("cookie %s=%s is not a bare 256-bit id under 100 bytes", sc.Name, sc.Value)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	ctx := context.Background()
	b := srv.Browser()
	if _, _, err := b.Visit(ctx, a.url+"/", alice, entratest.DemoPassword); err != nil {
		t.Fatal(err)
	}
	jar := b.AppClient().Jar
	// GET only asks.
	resp, body, _ := b.Visit(ctx, a.url+"/auth/logout", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `name="csrf"`) {
		t.Fatalf("confirm page: %d %.300s", resp.StatusCode, body)
	}
	if resp, _, _ := b.Visit(ctx, a.url+"/", "", ""); resp.Request.URL.Path != "/" {
		t.Fatal("a GET of /auth/logout signed the user out")
	}
	// A POST without the CSRF token is refused and changes nothing.
	if resp := navigate(t, noFollow(jar), "POST", a.url+"/auth/logout", url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged sign-out: %d", resp.StatusCode)
	}
	csrf := between(body, `name="csrf" value="`, `"`)
	resp = navigate(t, noFollow(jar), "POST", a.url+"/auth/logout", url.Values{"csrf": {csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if !strings.HasPrefix(loc.String(), srv.Authority()+"/oauth2/v2.0/logout") || loc.Query().Get("post_logout_redirect_uri") != a.url+"/" {
		t.Errorf("sign-out redirect: %s", loc)
	}
	r2, err := b.AppClient().Get(a.url + "/auth/me")
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("/auth/me after sign-out: %d", r2.StatusCode)
	}
	// Entra's sign-out brings the browser back to the app, and the next
	// visit needs a new sign-in (the emulator's SSO ended too).
	resp = navigate(t, b.HTTPClient(), "GET", loc.String(), nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != a.url+"/" {
		t.Errorf("Entra's sign-out answered %d, to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	r3 := navigate(t, b.HTTPClient(), "GET", startLogin(t, jar, a.url, "/"), nil)
	if r3.StatusCode != 200 {
		t.Errorf("the emulator signed the user in silently after sign-out: %d", r3.StatusCode)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestOpenRedirectsRefused(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	b := srv.Browser()
	for _, evil := range []string{"//evil.example/", "/\\evil.example", "https://evil.example/", "/%2F%2Fevil.example", "/%5Cevil.example", "javascript:alert(1)", "/\r\nLocation: https://evil.example"} {
		t.Run(evil, func(t *testing.T) {
			resp, _, err := b.Visit(context.Background(), a.url+"/auth/login?return="+url.QueryEscape(evil), alice, entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Request.URL; got.Host != strings.TrimPrefix(a.url, "http://") || got.Path != "/" {
				t.Errorf("return %q landed on %s", evil, got)
			}
		})
	}
}

func TestCallbackFailures(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	a := newApp(t, srv, testConfig(srv))
	newJar := func() http.CookieJar { j, _ := cookiejar.New(nil); return j }

	t.Run("unknown state", func(t *testing.T) {
		jar := newJar()
		cb := callbackURL(t, srv, srv.Browser(), startLogin(t, jar, a.url, "/"), alice)
		u, _ := url.Parse(cb)
		q := u.Query()
		q.Set("state", "x"+q.Get("state"))
		u.RawQuery = q.Encode()
		cb = u.String()
		if resp := navigate(t, noFollow(jar), "GET", cb, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("tampered state: %d", resp.StatusCode)
		}
	})
	t.Run("state from another browser", func(t *testing.T) {
		cb := callbackURL(t, srv, srv.Browser(), startLogin(t, newJar(), a.url, "/"), alice)
		if resp := navigate(t, noFollow(newJar()), "GET", cb, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("state without its pending cookie: %d", resp.StatusCode)
		}
	})
	t.Run("replayed callback and code reuse", func(t *testing.T) {
		jar := newJar()
		cb := callbackURL(t, srv, srv.Browser(), startLogin(t, jar, a.url, "/"), alice)
		appu, _ := url.Parse(a.url)
		saved := jar.Cookies(appu)
		if resp := navigate(t, noFollow(jar), "GET", cb, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("first callback: %d", resp.StatusCode)
		}
		// Same browser: the pending sign-in was used up.
		if resp := navigate(t, noFollow(jar), "GET", cb, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
		// An attacker holding the old pending cookie: the code is spent.
		old := newJar()
		old.SetCookies(appu, saved)
		resp := navigate(t, noFollow(old), "GET", cb, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("code reuse: %d", resp.StatusCode)
		}
	})
	t.Run("provider error with meaning", func(t *testing.T) {
		srv.FailNextSignIn(50105)
		resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "has not been given access") || strings.Contains(body, "AADSTS50105") {
			t.Errorf("AADSTS50105: %d %.400s", resp.StatusCode, body)
		}
	})
	for _, f := range []entratest.TokenFault{entratest.FaultExpired, entratest.FaultBadSignature, entratest.FaultUnsigned, entratest.FaultWrongNonce, entratest.FaultWrongAudience} {
		t.Run("id token "+f.String(), func(t *testing.T) {
			srv.FaultNextIDTokens(f, 1)
			resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "could not be verified") {
				t.Errorf("%s: %d %.300s", f, resp.StatusCode, body)
			}
		})
	}
	t.Run("token endpoint down, then back", func(t *testing.T) {
		srv.FailNext(entratest.EndpointToken, 1, http.StatusServiceUnavailable)
		b := srv.Browser()
		resp, body, err := b.Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "Sign in again") {
			t.Fatalf("token endpoint 503: %d %.300s", resp.StatusCode, body)
		}
		retry := between(body, `<a class="button" href="`, `"`)
		resp, body, err = b.Visit(context.Background(), strings.ReplaceAll(retry, "&amp;", "&"), "", "")
		if err != nil || resp.StatusCode != 200 || !strings.Contains(body, "hello Alice") {
			t.Errorf("after recovery: %v %d %.200s", err, resp.StatusCode, body)
		}
	})
	t.Run("key rotation", func(t *testing.T) {
		if err := srv.RotateKeys(); err != nil {
			t.Fatal(err)
		}
		resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", alice, entratest.DemoPassword)
		if err != nil || resp.StatusCode != 200 || !strings.Contains(body, "hello Alice") {
			t.Errorf("sign-in after key rotation: %v %d %.200s", err, resp.StatusCode, body)
		}
	})
}

func TestTwoTabsAndLoginFlood(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	store := memstore.New()
	cfg := testConfig(srv)
	cfg.Store = store
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	a := newApp(t, srv, cfg)
	jar, _ := cookiejar.New(nil)
	b := srv.Browser()
	first := startLogin(t, jar, a.url, "/one")
	second := startLogin(t, jar, a.url, "/two")
	cb2 := callbackURL(t, srv, b, second, alice)
	cb1 := callbackURL(t, srv, b, first, alice)
	for _, tc := range []struct{ cb, want string }{{cb2, "/two"}, {cb1, "/one"}} {
		resp := navigate(t, noFollow(jar), "GET", tc.cb, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.want {
			t.Errorf("tab returning to %s: %d %s", tc.want, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// A flood of sign-in starts grows neither the store nor the cookie.
	before := store.Len()
	flood, _ := cookiejar.New(nil)
	for range 200 {
		startLogin(t, flood, a.url, "/")
	}
	if store.Len() != before {
		t.Errorf("store grew from %d to %d entries on anonymous sign-in starts", before, store.Len())
	}
	appu, _ := url.Parse(a.url)
	total := 0
	for _, c := range flood.Cookies(appu) {
		total += len(c.Name) + len(c.Value)
	}
	if total > 2048 {
		t.Errorf("pending cookies reached %d bytes after 200 starts", total)
	}
}

func TestMinimumRole(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.MinimumRole = "DemoApp.Read"
	cfg.AccessContact = "the DemoApp owners"
	a := newApp(t, srv, cfg)
	resp, body, err := srv.Browser().Visit(context.Background(), a.url+"/", "dave@contoso.onmicrosoft.com", entratest.DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "DemoApp.Read") || !strings.Contains(body, "the DemoApp owners") {
		t.Fatalf("dave: %d %.400s", resp.StatusCode, body)
	}
	if c := sessionCookie(srv.Browser().AppClient().Jar, a.url); c != nil {
		t.Error("a session was started for a user without the minimum role")
	}
	if resp, _, _ := srv.Browser().Visit(context.Background(), a.url+"/", "carol@contoso.onmicrosoft.com", entratest.DemoPassword); resp.StatusCode != 200 {
		t.Errorf("carol (Read): %d", resp.StatusCode)
	}
}

func TestBoltStoreKeepsUsersSignedInAcrossRestarts(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	dir := t.TempDir()
	cfg := testConfig(srv)
	cfg.Session.Store = "bolt"
	cfg.Session.Path = filepath.Join(dir, "sessions.db")
	first := newApp(t, srv, cfg)
	b := srv.Browser()
	if resp, _, err := b.Visit(context.Background(), first.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v", err)
	}
	cookie := sessionCookie(b.AppClient().Jar, first.url)
	first.auth.Close()

	second := newApp(t, srv, cfg) // a restarted process: same file, same generated key
	req, _ := http.NewRequest("GET", second.url+"/auth/me", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after a restart the session is gone: %d", resp.StatusCode)
	}
}

// TestLinkedBoltStoreChangesNoDefault: this test binary links the bolt
// store (see the imports); with no store configured, sessions still live in
// memory, and nothing is written to the working directory.
func TestLinkedBoltStoreChangesNoDefault(t *testing.T) {
	if _, ok := session.Opener("bolt"); !ok {
		t.Fatal("the bolt store is not linked into this test: the test proves nothing")
	}
	srv := entratest.NewServer(t, nil)
	dir := t.TempDir()
	t.Chdir(dir)
	cfg := testConfig(srv)
	cfg.Session = entraweb.SessionConfig{}
	first := newApp(t, srv, cfg)
	b := srv.Browser()
	if resp, _, err := b.Visit(context.Background(), first.url+"/", alice, entratest.DemoPassword); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign-in: %v", err)
	}
	cookie := sessionCookie(b.AppClient().Jar, first.url)
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("files written to the working directory: %v", entries)
	}
	// A second instance with the same configuration does not know the
	// session: it was in the first one's memory.
	second := newApp(t, srv, cfg)
	req, _ := http.NewRequest("GET", second.url+"/auth/me", nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("another instance knew the session (HTTP %d): it was not in memory", resp.StatusCode)
	}
}

// failingStore stands for a store that is down.
type failingStore struct{ session.Store }

var errDown = errors.New("store down")

func (failingStore) Find(context.Context, string) ([]byte, bool, error) { return nil, false, errDown }
func (failingStore) Commit(context.Context, string, []byte, time.Time) error {
	return errDown
}
func (failingStore) Delete(context.Context, string) error { return errDown }

func TestStoreDownIsNotSignedOut(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.Store = failingStore{}
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	a := newApp(t, srv, cfg)
	req, _ := http.NewRequest("GET", a.url+"/", nil)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.AddCookie(&http.Cookie{Name: "entraweb_session", Value: strings.Repeat("A", 43)})
	resp, err := noFollow(nil).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("store down: %d, want 503 (not a redirect to sign in)", resp.StatusCode)
	}
}

// TestRetryLinkStaysOnTheApp: routers that do not clean "//" in the
// path (chi, gin) pass it to the handler as is; the 503 page's "Try
// again" link must not turn it into a link to another host.
func TestRetryLinkStaysOnTheApp(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	cfg.Store = failingStore{}
	cfg.Session.Key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	h := auth.RequireLogin(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, target := range []string{"//evil.example/x", "/x/../%2F%2Fevil.example", "/\\evil.example"} {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.AddCookie(&http.Cookie{Name: "entraweb_session", Value: strings.Repeat("A", 43)})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.String()
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: %d", target, w.Code)
		}
		for _, bad := range []string{`href="//`, `href="/\`, `href="/%2F%2F`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the retry link leaves the app: %s", target, body)
			}
		}
	}
}

var _ = entraweb.UserFrom

// TestHostHeader: an invalid Host is refused where URLs are built from
// it, and a Host taken as sent (nothing configured) is noted once.
func TestHostHeader(t *testing.T) {
	srv := entratest.NewServer(t, nil)
	cfg := testConfig(srv)
	var logs syncBuffer
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	auth, err := entraweb.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer auth.Close()
	routes := auth.Routes()
	for _, host := range []string{"evil.example/x@y", "a b", "[::1", "x:99999999"} {
		r := httptest.NewRequest("GET", "/auth/login", nil)
		r.Host = host
		w := httptest.NewRecorder()
		routes.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest {
			t.Errorf("Host %q: %d %s", host, w.Code, w.Header().Get("Location"))
		}
	}
	for range 3 {
		r := httptest.NewRequest("GET", "/auth/login", nil)
		r.Host = "app.example"
		w := httptest.NewRecorder()
		routes.ServeHTTP(w, r)
		if w.Code != http.StatusFound || !strings.Contains(w.Header().Get("Location"), url.QueryEscape("http://app.example/auth/callback")) {
			t.Fatalf("%d %s", w.Code, w.Header().Get("Location"))
		}
	}
	if n := strings.Count(logs.String(), "Host header as each request sends it"); n != 1 {
		t.Errorf("the Host note was logged %d times, want once:\n%s", n, logs.String())
	}
}
