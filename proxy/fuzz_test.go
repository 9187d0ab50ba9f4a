package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/entraweb/entraweb/proxy"
)

// recordingTransport answers every upstream request at once and keeps
// the last one's headers.
type recordingTransport struct {
	mu   sync.Mutex
	n    int
	last http.Header
}

func (t *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.n++
	t.last = r.Header.Clone()
	t.mu.Unlock()
	return &http.Response{StatusCode: 200, ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{},
		Body: io.NopCloser(strings.NewReader("ok")), ContentLength: 2, Request: r}, nil
}

func (t *recordingTransport) take() (int, http.Header) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, h := t.n, t.last
	t.n, t.last = 0, nil
	return n, h
}

// FuzzProxy sends requests with any path, method and one header of any
// name and value, anonymously and as a signed-in user without the Admin
// role, through the whole handler, and checks what must always hold:
// nobody reaches the upstream without signing in (public paths aside),
// the user never reaches /admin, a header the client sent never arrives
// as identity, /.auth/verify never redirects, and nothing panics.
func FuzzProxy(f *testing.F) {
	for _, s := range []struct{ method, path, name, value string }{
		{"GET", "/page", "Accept", "text/html"},
		{"GET", "/admin/x", "X-Ms-Client-Principal-Name", "alice@contoso.onmicrosoft.com"},
		{"GET", "/static/../admin", "x_ms_client_principal_id", "1"},
		{"GET", "/page", "x_ms_client_principal_name", "alice@contoso.onmicrosoft.com"},
		{"GET", "/static/app.js", "X-FORWARDED-GROUPS", "admins"},
		{"POST", "/.auth/verify", "X-Original-URL", "/admin"},
		{"GET", "/ADMIN;x=1/y", "X-Forwarded-User", "alice"},
		{"GET", "/static/app.js", "X-Entraweb-Assertion", "e30.e30.x"},
		{"GET", "//admin", "X-Forwarded-Uri", "/static/x"},
		{"GET", "/%2e%2e/admin", "Sec-Fetch-Mode", "cors"},
		{"OPTIONS", "/.auth/me", "Origin", "http://evil.example"},
		{"GET", "/.auth/login/aad", "Cookie", "entraweb_session=x"},
	} {
		f.Add(s.method, s.path, s.name, s.value, false)
		f.Add(s.method, s.path, s.name, s.value, true)
	}
	rt := &recordingTransport{}
	e := newEnv(f, func(c *proxy.Config) {
		c.Transport = rt
		c.AccessLog = false
		c.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
		c.PublicPaths = []string{"/static/"}
		c.Headers = []string{proxy.HeadersEasyAuth, proxy.HeadersOAuth2Proxy}
	})
	b := e.signIn(f, carol)
	base, _ := url.Parse(e.url)
	var cookies []*http.Cookie
	for _, c := range b.AppClient().Jar.Cookies(base) {
		if strings.Contains(c.Name, "entraweb_session") {
			cookies = append(cookies, c)
		}
	}
	const marker = "fuzz-injected-identity"

	f.Fuzz(func(t *testing.T, method, path, name, value string, signedIn bool) {
		if !validToken(method) || !validToken(name) || strings.ContainsAny(value, "\r\n\x00") || len(path) > 2048 {
			t.Skip()
		}
		if strings.ContainsAny(path, " \t\r\n\x00#?") || !strings.HasPrefix(path, "/") {
			t.Skip()
		}
		// As net/http's server reads a request line.
		u, err := url.ParseRequestURI(path)
		if err != nil {
			t.Skip()
		}
		r := httptest.NewRequest("GET", e.url+"/", nil)
		r.Method = method
		r.URL = u
		r.RequestURI = path
		r.Header.Set(name, value+marker)
		if signedIn {
			for _, c := range cookies {
				r.AddCookie(c)
			}
		}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		n, got := rt.take()

		if strings.HasPrefix(strings.ToLower(proxy.CleanPath(u.Path)), "/.auth/verify") && w.Code >= 300 && w.Code < 400 {
			t.Fatalf("/.auth/verify answered %d", w.Code)
		}
		if n == 0 {
			return
		}
		for k, vs := range got {
			for _, v := range vs {
				if strings.Contains(v, marker) && isIdentityName(k) {
					t.Fatalf("the client's %s: %q arrived as %s: %q", name, value, k, v)
				}
			}
		}
		principal := got.Get("X-Ms-Client-Principal-Name")
		if !signedIn && principal != "" {
			t.Fatalf("an anonymous request arrived as %q", principal)
		}
		// Public: under /static/ as sent and once cleaned as an upstream
		// might ("/static/" itself, the directory, cleans to "/static").
		if !signedIn && (!strings.HasPrefix(u.Path, "/static/") || !strings.HasPrefix(proxy.CleanPath(u.Path)+"/", "/static/")) {
			t.Fatalf("an anonymous request for %q (%s) reached the upstream", path, method)
		}
		if signedIn && principal != carol {
			t.Fatalf("a signed-in request arrived as %q", principal)
		}
		if signedIn {
			// Reaching the upstream is fine only when the path, cleaned as
			// an upstream might, is not under /admin.
			if p := strings.ToLower(proxy.CleanPath(u.Path)); p == "/admin" || strings.HasPrefix(p, "/admin/") {
				t.Fatalf("carol reached %q (clean %q) without the Admin role", path, p)
			}
		}
	})
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// isIdentityName is whether the upstream takes a header of this name for
// identity, spelled any way.
func isIdentityName(k string) bool {
	k = strings.ReplaceAll(strings.ToLower(k), "_", "-")
	for _, p := range []string{"x-ms-client-principal", "x-ms-token-", "x-forwarded-user", "x-forwarded-email",
		"x-forwarded-preferred-username", "x-forwarded-groups", "x-forwarded-roles", "x-auth-request-", "x-entraweb-assertion"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
