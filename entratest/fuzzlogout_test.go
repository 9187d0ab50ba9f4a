package entratest

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	fuzzRefreshRE = regexp.MustCompile(`<meta http-equiv="refresh" content="1; url=([^"]*)">`)
	fuzzFrameRE   = regexp.MustCompile(`<iframe [^>]*src="([^"]*)"`)
)

// FuzzLogout: whatever the logout request says, the browser is only sent
// on (by redirect or by the page's refresh) to a URI an app registered,
// and the page frames only registered front-channel logout URLs.
func FuzzLogout(f *testing.F) {
	s, h := fuzzServer(f)
	const fc = "https://localhost/auth/frontchannel-logout"
	if err := s.Update(func(c *Config) { c.Tenants[0].Apps[0].FrontChannelLogoutURL = fc }); err != nil {
		f.Fatal(err)
	}
	wd := s.world.Load()
	alice := wd.users["alice@contoso.onmicrosoft.com"]
	sso := s.seal.seal("sso", ssoState{OID: alice.ObjectID, TID: alice.tenant.ID, SID: "sid", AuthTime: fuzzNow.Unix(),
		Expires: fuzzNow.Add(time.Hour).Unix(), Apps: []string{DemoClientID}})
	plru := func(u string, kv ...string) string {
		q := url.Values{"post_logout_redirect_uri": {u}}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q.Encode()
	}
	f.Add(plru("http://localhost/"), true)
	f.Add(plru("http://localhost/", "state", `a"b<c`), false)
	f.Add(plru("http://localhost:8080/auth/callback"), true)
	f.Add(plru("http://localhost:99999/"), true)
	f.Add(plru("http://localhost:09/"), false)
	f.Add(plru("https://evil.example/"), true)
	f.Add(plru("https://evil.example/", "client_id", DemoClientID), false)
	f.Add(plru("http://localhost/", "id_token_hint", "a.b.c"), true)
	f.Add("post_logout_redirect_uri=%zz", true)
	f.Add("", true)
	f.Fuzz(func(t *testing.T, query string, session bool) {
		req := httptest.NewRequest(http.MethodGet, "/"+DemoTenantID+"/oauth2/v2.0/logout", nil)
		req.URL.RawQuery = query
		if session {
			req.AddCookie(&http.Cookie{Name: ssoCookie, Value: sso})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("HTTP %d: %.300s", rec.Code, rec.Body)
		}
		body := rec.Body.String()
		for _, m := range fuzzFrameRE.FindAllStringSubmatch(body, -1) {
			if src := html.UnescapeString(m[1]); !session || !strings.HasPrefix(src, fc+"?") {
				t.Fatalf("framed %q", src)
			}
		}
		dest := rec.Header().Get("Location")
		if m := fuzzRefreshRE.FindStringSubmatch(body); m != nil {
			dest = html.UnescapeString(m[1])
		}
		if dest == "" {
			return
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("sent the browser to %q for an unparsable query", dest)
		}
		target := q.Get("post_logout_redirect_uri")
		app := wd.apps[DemoClientID] // the only app with redirect URIs
		if !loopbackOrExact(app.RedirectURIs, target) && !loopbackOrExact(app.PostLogoutRedirectURIs, target) {
			t.Fatalf("sent the browser to %q: %q is not registered", dest, target)
		}
		if q.Get("state") == "" && dest != target {
			t.Fatalf("sent the browser to %q, not to the post_logout_redirect_uri %q", dest, target)
		}
	})
}
