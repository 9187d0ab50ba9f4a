package proxy_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestSignOutNeedsItsCSRFTokenAndIsFinal (ASVS V4.2.2, V3.3.1): a POST
// to /.auth/logout without this session's CSRF token (a form on another
// site, or the token of another user's session) signs nobody out; the
// real one does, and a copy of the session cookie kept from before then
// reaches nothing behind the proxy.
func TestSignOutNeedsItsCSRFTokenAndIsFinal(t *testing.T) {
	e := newEnv(t, nil)
	victim, attacker := e.signIn(t, alice), e.signIn(t, carol)
	token := func(c *http.Client) string {
		_, body := do(t, c, "GET", e.url+"/.auth/logout", navigationHeaders...)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("no confirmation form: %.300s", body)
		}
		return string(m[1])
	}
	post := func(c *http.Client, form url.Values) *http.Response {
		req, _ := http.NewRequest("POST", e.url+"/.auth/logout", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	vc := client(victim)
	u, _ := url.Parse(e.url)
	old := vc.Jar.Cookies(u)
	for _, form := range []url.Values{{}, {"csrf": {""}}, {"csrf": {token(client(attacker))}}} {
		if resp := post(vc, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("sign-out with csrf %q: %d, want 403", form.Get("csrf"), resp.StatusCode)
		}
		if resp, _ := do(t, vc, "GET", e.url+"/private", fetchHeaders...); resp.StatusCode != 200 {
			t.Fatalf("the victim was signed out by a forged request: %d", resp.StatusCode)
		}
	}
	if resp := post(vc, url.Values{"csrf": {token(vc)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out with the session's token: %d", resp.StatusCode)
	}
	replay := client(nil)
	replay.Jar.SetCookies(u, old)
	if resp, _ := do(t, replay, "GET", e.url+"/private", fetchHeaders...); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session cookie kept from before sign-out: %d, want 401", resp.StatusCode)
	}
}
