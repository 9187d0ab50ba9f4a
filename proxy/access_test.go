package proxy_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/entraweb/entraweb/proxy"
)

func TestPathRules(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) {
		c.Rules = []proxy.Rule{
			{Path: "/admin", Role: "DemoApp.Admin"},
			{Path: "/write/", Role: "DemoApp.Write"},
			{Path: "/team", Group: staffGroup},
		}
		c.PublicPaths = []string{"/public/", "/favicon.ico"}
	})
	browsers := map[string]*http.Client{"": client(nil)}
	for _, u := range []string{alice, carol, dave} {
		browsers[u] = client(e.signIn(t, u))
	}
	tests := []struct {
		user, path string
		want       int
	}{
		{"", "/public/app.js", 200},
		{"", "/favicon.ico", 200},
		{"", "/public", 401},
		{"", "/PUBLIC/app.js", 401},
		{"", "/public/../admin", 401},
		{"", "/public/%2e%2e/admin", 401},
		{"", "/public/..;/admin", 401},
		{"", "/public//app.js", 401},
		{"", "/public/a%2Fb", 401},
		{"", "/favicon.icon", 401},
		{"", "/other", 401},
		{carol, "/admin", 403},
		{carol, "/admin/", 403},
		{carol, "/admin/x", 403},
		{carol, "/ADMIN/x", 403},
		{carol, "//admin/x", 403},
		{carol, "/x/../admin/x", 403},
		{carol, "/x/%2e%2e/admin", 403},
		{carol, "/admin;jsessionid=1/x", 403},
		{carol, "/admin%2Fx", 403},
		{carol, "/admin%5Cx", 403},
		{carol, "/write", 403},
		{carol, "/administrator", 200},
		{carol, "/team/board", 200},
		{carol, "/public/app.js", 200},
		{dave, "/team", 403},
		{dave, "/other", 200},
		{alice, "/admin/x", 200},
		{alice, "/write/x", 200}, // Admin implies Write
		{alice, "/team", 200},
	}
	for _, tt := range tests {
		name := tt.user
		if name == "" {
			name = "anonymous"
		}
		t.Run(name+" "+tt.path, func(t *testing.T) {
			resp, body := do(t, browsers[tt.user], "GET", e.url+tt.path, fetchHeaders...)
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d: %.300s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 200 {
				h := echoed(t, resp, body).Header
				if hasIdentity := h.Get("X-Ms-Client-Principal-Name") != ""; hasIdentity != (tt.user != "") {
					t.Errorf("identity headers present: %v, signed in: %v", hasIdentity, tt.user != "")
				}
			}
		})
	}
	t.Run("a browser is shown the role it lacks", func(t *testing.T) {
		resp, body := do(t, browsers[carol], "GET", e.url+"/admin/x", navigationHeaders...)
		if resp.StatusCode != 403 || !strings.Contains(string(body), "DemoApp.Admin") || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})
	t.Run("/.auth/ never reaches the upstream", func(t *testing.T) {
		for _, p := range []string{"/.auth/unknown", "/.AUTH/me", "/.auth", "//.auth/me", "/x/../.auth/me"} {
			resp, body := do(t, browsers[alice], "GET", e.url+p, fetchHeaders...)
			if resp.StatusCode != 404 {
				t.Errorf("%s: %d %.200s, want 404 from the proxy", p, resp.StatusCode, body)
			}
		}
	})
}

func TestScriptsGet401JSONNotARedirect(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name    string
		method  string
		headers []string
		want    int
	}{
		{"navigation", "GET", navigationHeaders, http.StatusFound},
		{"fetch", "GET", fetchHeaders, http.StatusUnauthorized},
		{"fetch asking for HTML", "GET", []string{"Sec-Fetch-Mode", "cors", "Accept", "text/html"}, http.StatusUnauthorized},
		{"XHR", "GET", []string{"X-Requested-With", "XMLHttpRequest", "Accept", "application/json"}, http.StatusUnauthorized},
		{"API client", "GET", []string{"Accept", "application/json"}, http.StatusUnauthorized},
		{"form post", "POST", navigationHeaders, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, client(nil), tt.method, e.url+"/dash/_dash-update-component?x=1", tt.headers...)
			if resp.StatusCode != tt.want {
				t.Fatalf("%d, want %d", resp.StatusCode, tt.want)
			}
			if tt.want != http.StatusUnauthorized {
				return
			}
			if resp.Header.Get("Location") != "" {
				t.Errorf("401 with Location %q", resp.Header.Get("Location"))
			}
			if tt.method == "POST" {
				// A browser's form post gets a page with a sign-in link.
				if !strings.Contains(string(body), "/.auth/login?return=") {
					t.Errorf("401 page without a sign-in link: %s", body)
				}
				return
			}
			var got map[string]string
			if json.Unmarshal(body, &got) != nil || got["error"] != "login_required" || !strings.Contains(got["login_url"], "/.auth/login") {
				t.Errorf("401 body %s", body)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	rules := func(c *proxy.Config) {
		c.Rules = []proxy.Rule{{Path: "/admin", Role: "DemoApp.Admin"}}
		c.PublicPaths = []string{"/public/"}
		c.Headers = []string{proxy.HeadersEasyAuth, proxy.HeadersOAuth2Proxy}
	}
	type call struct {
		name    string
		user    string
		headers []string
		want    int
	}
	check := func(t *testing.T, e *env, browsers map[string]*http.Client, tt call) {
		t.Helper()
		resp, body := do(t, browsers[tt.user], "GET", e.url+"/.auth/verify", append(slices.Clone(navigationHeaders), tt.headers...)...)
		if resp.StatusCode != tt.want {
			t.Fatalf("%d, want %d: %s", resp.StatusCode, tt.want, body)
		}
		if resp.Header.Get("Location") != "" {
			t.Errorf("verify answered with a Location: %s", resp.Header.Get("Location"))
		}
		switch tt.want {
		case 200:
			name := resp.Header.Get("X-Ms-Client-Principal-Name")
			if name != tt.user || resp.Header.Get("X-Auth-Request-Preferred-Username") != tt.user {
				t.Errorf("identity headers name %q, want %q", name, tt.user)
			}
			if tt.user != "" && principal(t, resp.Header).AuthTyp != "aad" {
				t.Error("no principal")
			}
		case 401:
			var got map[string]string
			if json.Unmarshal(body, &got) != nil || !strings.Contains(got["login_url"], "/.auth/login/aad?post_login_redirect_uri=") {
				t.Errorf("401 body %s", body)
			}
		}
	}

	t.Run("from a peer that is not trusted", func(t *testing.T) {
		e := newEnv(t, rules)
		browsers := map[string]*http.Client{"": client(nil), alice: client(e.signIn(t, alice)), carol: client(e.signIn(t, carol))}
		for _, tt := range []call{
			{"anonymous", "", nil, 401},
			{"anonymous claiming a public path", "", []string{"X-Original-URL", "/public/x"}, 401},
			{"alice", alice, nil, 200},
			// Without a believable URL every rule applies.
			{"carol, path unknown", carol, nil, 403},
			{"carol claiming another path", carol, []string{"X-Forwarded-Uri", "/docs"}, 403},
		} {
			t.Run(tt.name, func(t *testing.T) { check(t, e, browsers, tt) })
		}
	})
	t.Run("from a trusted proxy", func(t *testing.T) {
		e := newEnv(t, func(c *proxy.Config) {
			rules(c)
			c.Entra.TrustedProxies = []string{"127.0.0.0/8"}
		})
		browsers := map[string]*http.Client{"": client(nil), alice: client(e.signIn(t, alice)), carol: client(e.signIn(t, carol))}
		for _, tt := range []call{
			{"anonymous on a public path", "", []string{"X-Forwarded-Uri", "/public/app.js"}, 200},
			{"anonymous", "", []string{"X-Original-URL", "https://app.example/docs?q=1"}, 401},
			{"carol on docs", carol, []string{"X-Forwarded-Uri", "/docs"}, 200},
			{"carol on admin", carol, []string{"X-Original-URL", "https://app.example/Admin/../admin/x"}, 403},
			{"alice on admin", alice, []string{"X-Original-URL", "/admin/x"}, 200},
		} {
			t.Run(tt.name, func(t *testing.T) { check(t, e, browsers, tt) })
		}
		resp, body := do(t, browsers[""], "GET", e.url+"/.auth/verify", "X-Original-URL", "/docs?q=1")
		var got map[string]string
		json.Unmarshal(body, &got)
		if resp.StatusCode != 401 || !strings.HasSuffix(got["login_url"], "post_login_redirect_uri="+url.QueryEscape("/docs?q=1")) {
			t.Errorf("login_url %q does not come back to the original URL", got["login_url"])
		}
	})
}
