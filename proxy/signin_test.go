package proxy_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entraweb/entraweb/entratest"
	"github.com/entraweb/entraweb/proxy"
)

func TestSignInThroughProxy(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	t.Run("a page load is sent to sign in and comes back", func(t *testing.T) {
		resp, _ := do(t, client(nil), "GET", e.url+"/reports?year=2026", navigationHeaders...)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Path != "/.auth/login" || loc.Query().Get("return") != "/reports?year=2026" {
			t.Fatalf("%d to %q, want 302 to /.auth/login", resp.StatusCode, resp.Header.Get("Location"))
		}
		b := e.srv.Browser()
		resp, body, err := b.Visit(ctx, e.url+"/reports?year=2026", bob, entratest.DemoPassword)
		if err != nil {
			t.Fatal(err)
		}
		s := echoed(t, resp, []byte(body))
		if s.Path != "/reports" || resp.Request.URL.RawQuery != "year=2026" {
			t.Errorf("landed on %s", resp.Request.URL)
		}
		if got := s.Header.Get("X-Ms-Client-Principal-Name"); got != bob {
			t.Errorf("X-MS-CLIENT-PRINCIPAL-NAME = %q, want %q", got, bob)
		}
	})

	b := e.srv.Browser()
	tests := []struct {
		name, redirect, want string
	}{
		{"a path", "/landing?a=1", "/landing?a=1"},
		{"an absolute URL of the app", e.url + "/absolute?b=2", "/absolute?b=2"},
		{"another site", "https://evil.example/steal", "/"},
		{"a scheme-relative URL", "//evil.example/steal", "/"},
		{"a backslash trick", "/\\evil.example", "/"},
	}
	for i, tt := range tests {
		t.Run("post_login_redirect_uri is "+tt.name, func(t *testing.T) {
			user := alice
			if i > 0 {
				user = "" // the emulator's SSO session signs in again silently
			}
			resp, body, err := b.Visit(ctx, e.url+"/.auth/login/aad?post_login_redirect_uri="+url.QueryEscape(tt.redirect), user, entratest.DemoPassword)
			if err != nil {
				t.Fatal(err)
			}
			echoed(t, resp, []byte(body))
			if got := resp.Request.URL.RequestURI(); got != tt.want || resp.Request.URL.Host != strings.TrimPrefix(e.url, "http://") {
				t.Errorf("landed on %s, want %s on the app", resp.Request.URL, tt.want)
			}
		})
	}
}

func TestClientPrincipalDecodesAsAppService(t *testing.T) {
	e := newEnv(t, nil)
	b := e.signIn(t, alice)
	resp, body := do(t, client(b), "GET", e.url+"/whoami", fetchHeaders...)
	h := echoed(t, resp, body).Header
	p := principal(t, h)
	if p.AuthTyp != "aad" || p.NameTyp != "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress" ||
		p.RoleTyp != "http://schemas.microsoft.com/ws/2008/06/identity/claims/role" {
		t.Errorf("principal types = %q %q %q", p.AuthTyp, p.NameTyp, p.RoleTyp)
	}
	oid := h.Get("X-Ms-Client-Principal-Id")
	one := func(typ, want string) {
		t.Helper()
		if got := claimVals(p.Claims, typ); len(got) != 1 || got[0] != want {
			t.Errorf("claim %s = %q, want [%q]", typ, got, want)
		}
	}
	one("aud", entratest.DemoClientID)
	one("iss", e.srv.Issuer(entratest.DemoTenantID))
	one("name", "Alice Admin")
	one("preferred_username", alice)
	one("http://schemas.microsoft.com/identity/claims/objectidentifier", oid)
	one("http://schemas.microsoft.com/identity/claims/tenantid", entratest.DemoTenantID)
	one(p.NameTyp, alice)
	if got, want := claimVals(p.Claims, "roles"), []string{"DemoApp.Admin", "DemoApp.Read", "DemoApp.Write"}; !slices.Equal(got, want) {
		t.Errorf("roles = %v, want %v (expanded through the hierarchy)", got, want)
	}
	if !slices.Contains(claimVals(p.Claims, "groups"), staffGroup) {
		t.Errorf("groups lack staff: %v", claimVals(p.Claims, "groups"))
	}
	if !entratest.IsGUID(oid) || h.Get("X-Ms-Client-Principal-Name") != alice || h.Get("X-Ms-Client-Principal-Idp") != "aad" {
		t.Errorf("ID %q, NAME %q, IDP %q", oid, h.Get("X-Ms-Client-Principal-Name"), h.Get("X-Ms-Client-Principal-Idp"))
	}
	for _, k := range []string{"X-Forwarded-User", "X-Ms-Token-Aad-Access-Token", "X-Ms-Token-Aad-Id-Token"} {
		if v := h.Values(k); len(v) > 0 {
			t.Errorf("%s sent without being configured: %q", k, v)
		}
	}

	t.Run("many groups give way to the overage marker", func(t *testing.T) {
		resp, body := do(t, client(e.signIn(t, gina)), "GET", e.url+"/whoami", fetchHeaders...)
		h := echoed(t, resp, body).Header
		p := principal(t, h)
		if n := len(h.Get("X-Ms-Client-Principal")); n > 8000 || len(claimVals(p.Claims, "groups")) != 0 || !slices.Equal(claimVals(p.Claims, "hasgroups"), []string{"true"}) {
			t.Errorf("gina's principal: %d bytes, %d groups, hasgroups %v", n, len(claimVals(p.Claims, "groups")), claimVals(p.Claims, "hasgroups"))
		}
	})

	// /.auth/me carries the same claims.
	resp, body = do(t, client(b), "GET", e.url+"/.auth/me", fetchHeaders...)
	var me []struct {
		UserClaims []proxy.Claim `json:"user_claims"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &me) != nil || len(me) != 1 || !slices.Equal(me[0].UserClaims, p.Claims) {
		t.Errorf("/.auth/me claims differ from the principal's: %d %s", resp.StatusCode, body)
	}
}

var dotnetTimeRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$`)

func TestMeAsAppService(t *testing.T) {
	t.Run("no tokens unless configured", func(t *testing.T) {
		e := newEnv(t, nil)
		resp, body := do(t, client(nil), "GET", e.url+"/.auth/me", navigationHeaders...)
		var refusal map[string]string
		if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal(body, &refusal) != nil || !strings.Contains(refusal["login_url"], "/.auth/login/aad") {
			t.Errorf("anonymous /.auth/me: %d %s, want 401 JSON with a login_url", resp.StatusCode, body)
		}
		b := e.signIn(t, carol)
		resp, body = do(t, client(b), "GET", e.url+"/.auth/me", fetchHeaders...)
		var me []map[string]json.RawMessage
		if resp.StatusCode != 200 || json.Unmarshal(body, &me) != nil || len(me) != 1 {
			t.Fatalf("/.auth/me: %d %s", resp.StatusCode, body)
		}
		var keys []string
		for k := range me[0] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := []string{"expires_on", "provider_name", "user_claims", "user_id"}; !slices.Equal(keys, want) {
			t.Errorf("/.auth/me keys = %v, want %v (no tokens unless configured)", keys, want)
		}
		var provider, user, expires string
		json.Unmarshal(me[0]["provider_name"], &provider)
		json.Unmarshal(me[0]["user_id"], &user)
		json.Unmarshal(me[0]["expires_on"], &expires)
		if provider != "aad" || user != carol || !dotnetTimeRE.MatchString(expires) {
			t.Errorf("provider_name %q, user_id %q, expires_on %q", provider, user, expires)
		}
	})

	t.Run("access token when configured", func(t *testing.T) {
		e := newEnv(t, func(c *proxy.Config) {
			c.AccessTokenScopes = []string{"User.Read"}
			c.TokensInMe = true
		})
		b := e.signIn(t, alice)
		resp, body := do(t, client(b), "GET", e.url+"/.auth/me", fetchHeaders...)
		var me []struct {
			AccessToken string `json:"access_token"`
			ExpiresOn   string `json:"expires_on"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &me) != nil || len(me) != 1 {
			t.Fatalf("/.auth/me: %d %s", resp.StatusCode, body)
		}
		if strings.Count(me[0].AccessToken, ".") != 2 || !dotnetTimeRE.MatchString(me[0].ExpiresOn) {
			t.Errorf("access_token %.20q…, expires_on %q", me[0].AccessToken, me[0].ExpiresOn)
		}
		exp, _ := time.Parse(time.RFC3339Nano, me[0].ExpiresOn)
		if d := time.Until(exp); d < 10*time.Minute || d > 3*time.Hour {
			t.Errorf("expires_on %s is %v away", me[0].ExpiresOn, d)
		}
		resp, body = do(t, client(b), "GET", e.url+"/api", fetchHeaders...)
		h := echoed(t, resp, body).Header
		if h.Get("X-Ms-Token-Aad-Access-Token") != me[0].AccessToken || h.Get("X-Ms-Token-Aad-Expires-On") != me[0].ExpiresOn {
			t.Errorf("upstream token headers %.20q… %q, want /.auth/me's", h.Get("X-Ms-Token-Aad-Access-Token"), h.Get("X-Ms-Token-Aad-Expires-On"))
		}
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.PublicPaths = []string{"/public/"} })
	b := e.signIn(t, alice)
	c := client(b)

	resp, body := do(t, c, "GET", e.url+"/.auth/logout?post_logout_redirect_uri="+url.QueryEscape("/public/bye"), navigationHeaders...)
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET /.auth/logout: %d, no confirmation form: %.300s", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("POST", e.url+"/.auth/logout", strings.NewReader(url.Values{"csrf": {string(m[1])}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	endSession := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(endSession, "post_logout_redirect_uri="+url.QueryEscape(e.url+proxy.SignedOutPath)) {
		t.Fatalf("POST /.auth/logout: %d to %s", resp.StatusCode, endSession)
	}
	resp, body = do(t, b.HTTPClient(), "GET", endSession)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != e.url+proxy.SignedOutPath {
		t.Fatalf("the emulator's sign-out: %d to %q: %.300s", resp.StatusCode, loc, body)
	}
	resp, _ = do(t, c, "GET", e.url+proxy.SignedOutPath, navigationHeaders...)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "/public/bye" {
		t.Errorf("/.auth/logout/done: %d to %q, want /public/bye", resp.StatusCode, loc)
	}
	if resp, _ := do(t, c, "GET", e.url+"/.auth/me", fetchHeaders...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/.auth/me after sign-out: %d", resp.StatusCode)
	}
	resp, body = do(t, c, "GET", e.url+proxy.SignedOutPath, navigationHeaders...)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "signed out") {
		t.Errorf("/.auth/logout/done a second time: %d %.200s", resp.StatusCode, body)
	}
	for _, evil := range []string{"https://evil.example/", "/#/../%2F%2Fevil.example"} {
		resp, _ = do(t, c, "GET", e.url+"/.auth/logout?post_logout_redirect_uri="+url.QueryEscape(evil), navigationHeaders...)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != proxy.SignedOutPath {
			t.Errorf("signed-out user's /.auth/logout to %q: %d to %q", evil, resp.StatusCode, loc)
		}
	}
}

func TestRefresh(t *testing.T) {
	e := newEnv(t, func(c *proxy.Config) { c.AccessTokenScopes = []string{"User.Read"} })
	if resp, _ := do(t, client(nil), "GET", e.url+"/.auth/refresh", fetchHeaders...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", resp.StatusCode)
	}
	b := e.signIn(t, alice)
	if resp, body := do(t, client(b), "GET", e.url+"/.auth/refresh", fetchHeaders...); resp.StatusCode != 200 {
		t.Errorf("alice: %d %s", resp.StatusCode, body)
	}
}
